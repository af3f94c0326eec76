// The SIGKILL loop of `npm run fuzz` (issue 14): a tiny `performer train` run that saves at every
// step is killed with SIGKILL at random points, again and again (at least KILLS times), each time
// continued with --resume. Every other kill is aimed at a save: it comes 0-3 ms after the run
// creates a temporary or backup file in the checkpoint directory (seen through fs.watch). After every kill the surviving checkpoint must load (weights, optimizer,
// training state) and its loss history must be, bit for bit, the first steps of an uninterrupted
// run with the same flags; at the end the resumed run's losses and weights must equal that run's
// exactly. Prints the counts (kills, kills that landed inside a save, recovered loads, stale locks).
//
//   node --import tsx scripts/kill-loop.ts [kills=50] [seed=1]

import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE } from '../src/io/run-lock-node.js';
import { loadTrainedModel, parseTrainingState } from '../src/train/checkpoint-node.js';

const KILLS = Number(process.argv[2] ?? 50);
let seed = Number(process.argv[3] ?? 1) >>> 0;
const STEPS = 4 * KILLS;
const repoRoot = resolve(import.meta.dirname, '..');

/** mulberry32: the kill delays are reproducible from the seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const tmp = await mkdtemp(join(tmpdir(), 'performer-kill-loop-'));
const data = join(tmp, 'speech.txt');
await writeFile(data, 'Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty. '.repeat(40));
const flags = (out: string): string[] => ['--data', data, '--out', out, '--layers', '1', '--dim', '16', '--heads', '2', '--seq', '16', '--batch', '2',
  '--features', '8', '--redraw', '7', '--dropout', '0.1', '--warmup', '5', '--schedule-steps', String(STEPS), '--steps', String(STEPS),
  '--eval-interval', '1', '--eval-windows', '1', '--json'];

const runner = `const { main } = await import(${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(1));`;

/**
 * performer train in a child. kill: SIGKILL `ms` after its first evaluation line, or (inSave) `ms`
 * after the next temporary or backup file appears in `dir` after that line; undefined: let it finish.
 */
function train(args: string[], dir: string, kill?: { ms: number; inSave: boolean }): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner, 'train', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  let watcher: ReturnType<typeof watch> | undefined;
  if (kill) {
    proc.stdout.once('data', () => {
      if (!kill.inSave) {
        setTimeout(() => proc.kill('SIGKILL'), kill.ms);
        return;
      }
      watcher = watch(dir, (_event, name) => {
        if (!name || !/\.tmp$|\.prev$/.test(name)) return;
        watcher?.close();
        setTimeout(() => proc.kill('SIGKILL'), kill.ms);
      });
    });
  }
  proc.stdout.resume();
  return new Promise((res) => proc.once('exit', (code, signal) => {
    watcher?.close();
    res({ code, signal, stderr });
  }));
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  const fa = Float64Array.from(a), fb = Float64Array.from(b);
  const ua = new Uint32Array(fa.buffer), ub = new Uint32Array(fb.buffer);
  return ua.every((x, i) => x === ub[i]);
}

const t0 = performance.now();
const refDir = join(tmp, 'reference');
const ref = await train(flags(refDir), refDir);
if (ref.code !== 0) throw new Error(`the reference run failed: ${ref.stderr}`);
const reference = await loadTrainedModel(refDir);
const refLosses = parseTrainingState(refDir, reference.checkpoint).losses;

const dir = join(tmp, 'killed');
let kills = 0, landedInSave = 0, recovered = 0, staleBroken = 0, runs = 0, resumedOk = 0;
const failures: string[] = [];
while (kills < KILLS) {
  const resume = existsSync(join(dir, 'checkpoint.json')) || existsSync(join(dir, 'model.safetensors.prev'));
  const inSave = runs % 2 === 1;
  const r = await train([...flags(dir), ...(resume ? ['--resume'] : [])], dir, { ms: Math.floor(random() * (inSave ? 4 : 60)), inSave });
  runs++;
  if (/breaking the lock of a run that is gone/.test(r.stderr)) staleBroken++;
  if (r.signal !== 'SIGKILL') {
    if (r.code === 0) break; // finished before the kill came
    failures.push(`run ${runs} exited ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
    break;
  }
  kills++;
  const names = existsSync(dir) ? await readdir(dir) : [];
  if (names.some((n) => n.endsWith('.tmp') || n.endsWith('.prev'))) landedInSave++;
  if (!names.includes('checkpoint.json')) continue; // killed before its first save
  try {
    const ck = await loadTrainedModel(dir, { optimizer: true });
    const st = parseTrainingState(dir, ck.checkpoint);
    if (ck.checkpoint.recovered) recovered++;
    if (!sameBits(st.losses, refLosses.slice(0, st.step))) failures.push(`kill ${kills}: the losses of steps 1..${st.step} differ from the uninterrupted run`);
    resumedOk++;
  } catch (e) {
    failures.push(`kill ${kills}: the checkpoint does not load: ${(e as Error).message}`);
  }
  if (!existsSync(join(dir, LOCK_FILE))) failures.push(`kill ${kills}: no stale lock left (SIGKILL cannot remove it)`);
}
const last = await train([...flags(dir), '--resume'], dir);
if (last.code !== 0) failures.push(`the final --resume failed: ${last.stderr.trim().split('\n').at(-1)}`);
else {
  const done = await loadTrainedModel(dir);
  const st = parseTrainingState(dir, done.checkpoint);
  if (!sameBits(st.losses, refLosses)) failures.push('the final losses differ from the uninterrupted run');
  for (const [name, t] of reference.checkpoint.weights) {
    if (!sameBits(done.checkpoint.weights.get(name)!.data, t.data)) failures.push(`weight ${name} differs from the uninterrupted run`);
  }
}
await rm(tmp, { recursive: true, force: true });
const secs = ((performance.now() - t0) / 1000).toFixed(0);
console.log(`kill loop: ${kills} SIGKILLs over ${runs} runs of ${STEPS} steps (${landedInSave} landed inside a save, ${recovered} loads recovered from .prev backups, ` +
  `${staleBroken} stale locks broken), ${resumedOk} surviving checkpoints loaded; final --resume vs uninterrupted: ` +
  `${failures.length === 0 ? 'losses and weights identical bit for bit' : 'MISMATCH'}; ${secs} s`);
if (kills < KILLS) failures.push(`only ${kills} kills (the run finished first): raise STEPS`);
if (failures.length) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
