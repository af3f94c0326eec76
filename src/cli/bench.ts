// `performer bench`: speed and memory of FAVOR+ against exact attention, one child process a case.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic-node.js';
import { caseFlops, type BenchCase } from './bench-case.js';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';
import { benchPlotSvg } from './bench-plot.js';
import { engineFlags, engineOptions } from './engine.js';

const IMPLS = ['favor', 'exact'] as const;
const MODES = ['bidirectional', 'causal'] as const;

const flags = defineFlags({
  ...engineFlags('wasm'),
  impl: { type: 'string', default: 'favor,exact', metavar: 'favor,exact', help: 'implementations to run' },
  mode: { type: 'string', default: 'bidirectional,causal', metavar: 'bidirectional,causal', help: 'attention modes' },
  L: { type: 'ints', min: 1, default: [1024, 4096, 16384, 65536], help: 'sequence lengths' },
  heads: { type: 'int', min: 1, default: 8, help: 'heads H' },
  d: { type: 'int', min: 1, default: 64, help: 'head dimension (d = Dv)' },
  features: { type: 'int', min: 1, default: 256, help: 'random features m (FAVOR+ softmax kernel)' },
  batch: { type: 'int', min: 1, default: 1, help: 'batch B' },
  seconds: { type: 'number', positive: true, default: 2, help: 'time each case for about this long after warm-up' },
  'exact-max-L': { type: 'int', min: 1, default: 16384, help: 'exact attention is not run above this L (it is quadratic: minutes per call at 65536)' },
  timeout: { type: 'number', positive: true, default: 600, help: 'seconds before a case is stopped and reported as an error' },
  backward: { type: 'boolean', help: 'time forward + backward (the gradients of q, k, v; on the wasm engine the backward runs threaded in wasm)' },
  'ts-backward': { type: 'boolean', help: 'wasm engine option, with --backward: the attention backwards on the reference kernels (plain TS, single-threaded), for comparison' },
  json: { type: 'boolean', help: 'one JSON line per case' },
  plot: { type: 'string', metavar: 'FILE.svg', help: 'write time and peak memory against L, log-log' },
});

const description = `
Each case (impl × mode × L) runs in its own child process: inputs are allocated in the WebAssembly
memory, one warm-up call, then timed repeats until --seconds have passed (at least one). Reports the median time, the
achieved GFLOP/s and the peak resident memory of the case's process. FLOPs per head:
favor 4·L·m·d + 4·L·m·Dv (features of Q and K, then S = Σκvᵀ and ρᵀS), in both modes;
exact 4·L²·d (QKᵀ and AV), halved when causal; with --backward, 3× the forward count (the
usual convention: a backward costs about two forwards). A case that fails (out of memory, time-out)
reports "error" and the run goes on.`;

export interface BenchRow extends Omit<BenchCase, 'seconds' | 'simd' | 'tsBackward'> {
  ms?: number; gflops?: number; peak_mb?: number; backend?: string; error?: string;
}

function list<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim());
  for (const it of items) {
    if (!(allowed as readonly string[]).includes(it)) throw new UsageError(`--${name}: expected a list of ${allowed.join(', ')}, got "${it}"`);
  }
  return items as T[];
}

/** The child entry: bench-child.ts under tsx, bench-child.js once compiled. */
function childPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.replace(/bench\.(ts|js)$/, 'bench-child.$1');
}

function runChild(c: BenchCase, timeoutS: number): Promise<{ ms?: number; peak_mb?: number; backend?: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, childPath(), JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (b: Buffer) => { out += b; });
    child.stderr.on('data', (b: Buffer) => { err += b; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { ms?: number; peak_mb?: number; backend?: string; error?: string };
        if (r.error || code === 0) return resolve(r);
      } catch { /* fall through to the exit status */ }
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutS} s or was killed (out of memory?)` : `exited with ${signal ?? code}`;
      const last = err.trim().split('\n').filter(Boolean).pop();
      resolve({ error: last ? `${why}: ${last}` : why });
    });
  });
}

function table(rows: BenchRow[]): string {
  const head = ['impl', 'mode', 'L', 'heads', 'd', 'm', 'batch', 'threads', 'ms', 'GFLOP/s', 'peak MB'];
  const body = rows.map((r) => [r.impl, r.mode, r.L, r.heads, r.d, r.features, r.batch, r.threads,
    r.error ? `error: ${r.error}` : r.ms!.toFixed(2), r.error ? '' : r.gflops!.toFixed(1), r.error ? '' : r.peak_mb!.toFixed(0)].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === 8 && b[i]!.startsWith('error') ? 0 : b[i]!.length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [fmt(head), ...body.map(fmt)].join('\n') + '\n';
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(benchUsage());
    return 0;
  }
  const f = parsed.flags;
  const impls = list('impl', f.impl, IMPLS);
  const modes = list('mode', f.mode, MODES);
  if (f['ts-backward'] && !f.backward) throw new UsageError('--ts-backward times the backward: it needs --backward');
  if (f['ts-backward'] && f.engine !== 'wasm') throw new UsageError(`--ts-backward: a wasm engine option (engine is ${f.engine})`);
  const opts = engineOptions(f, { referenceBackward: f['ts-backward'] });
  const rows: BenchRow[] = [];
  for (const impl of impls) {
    for (const mode of modes) {
      for (const L of f.L) {
        const c: BenchCase = { impl, mode, L, heads: f.heads, d: f.d, features: f.features, batch: f.batch, engine: f.engine, threads: opts.threads ?? 1, seconds: f.seconds, simd: opts.simd, backward: f.backward, tsBackward: f['ts-backward'] };
        if (io.stderr.isTTY) io.stderr.write(`running ${impl} ${mode} L=${L} ...\n`);
        const r = impl === 'exact' && L > f['exact-max-L']
          ? { error: `not run: exact attention above --exact-max-L ${f['exact-max-L']}` }
          : await runChild(c, f.timeout);
        const { seconds: _s, simd: _v, tsBackward: _t, ...shape } = c;
        const row: BenchRow = r.error ? { ...shape, error: r.error }
          : { ...shape, ms: r.ms!, gflops: (c.backward ? 3 : 1) * caseFlops(c) / (r.ms! * 1e6), peak_mb: r.peak_mb!, backend: r.backend! };
        rows.push(row);
        if (f.json) io.stdout.write(JSON.stringify(row) + '\n');
      }
    }
  }
  if (!f.json) io.stdout.write(table(rows));
  if (f.plot) await writeFileAtomic(f.plot, benchPlotSvg(rows));
  return 0;
}

export function benchUsage(): string {
  return formatUsage('performer bench [options]', description, flags);
}

export const benchCommand: Command = { name: 'bench', summary: 'speed and memory of FAVOR+ against exact attention', usage: benchUsage, run };
