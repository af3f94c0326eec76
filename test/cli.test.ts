// The performer CLI, run in-process through main(argv, io). Outputs of `attention` are checked
// against float64 references written here from docs/MATH.md (no src/ code in the reference path).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseArgs, defineFlags, UsageError, formatUsage } from '../src/cli/args.js';
import { favorAttention } from '../src/favor/attention.js';
import { drawProjection } from '../src/favor/projection.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { randn } from './helpers/data.js';
import { runCli as run } from './helpers/cli.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});



// ---- float64 references ----

interface Problem {
  q: Tensor; k: Tensor; v: Tensor; mask?: Tensor; causal: boolean;
}

function dims(p: Problem) {
  const [B, H, Lq, d] = p.q.shape as number[];
  const Lk = p.k.shape[2]!;
  const Dv = p.v.shape[3]!;
  return { B: B!, H: H!, Lq: Lq!, Lk, d: d!, Dv };
}

/** out_i = Σ_j w_ij v_j / Σ_j w_ij over allowed keys, with w_ij = score(b, h, i, j). */
function weightedAverage(p: Problem, score: (b: number, h: number, i: number, j: number) => number): Float64Array {
  const { B, H, Lq, Lk, Dv } = dims(p);
  const out = new Float64Array(B * H * Lq * Dv);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Lq; i++) {
    const acc = new Float64Array(Dv);
    let norm = 0;
    for (let j = 0; j < Lk; j++) {
      if (p.causal && j > i) continue;
      if (p.mask && p.mask.data[b * Lk + j] === 0) continue;
      const w = score(b, h, i, j);
      norm += w;
      for (let c = 0; c < Dv; c++) acc[c] += w * p.v.data[((b * H + h) * Lk + j) * Dv + c]!;
    }
    for (let c = 0; c < Dv; c++) out[((b * H + h) * Lq + i) * Dv + c] = norm === 0 ? 0 : acc[c]! / norm;
  }
  return out;
}

function exact64(p: Problem): Float64Array {
  const { H, Lq, Lk, d } = dims(p);
  // Subtract the row maximum of the allowed scores (exact in float64, cancels in the ratio).
  return weightedAverage(p, (b, h, i, j) => {
    const dot = (jj: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += p.q.data[((b * H + h) * Lq + i) * d + c]! * p.k.data[((b * H + h) * Lk + jj) * d + c]!;
      return s / Math.sqrt(d);
    };
    let mx = -Infinity;
    for (let jj = 0; jj < Lk; jj++) if (!(p.causal && jj > i)) mx = Math.max(mx, dot(jj));
    return Math.exp(dot(j) - mx);
  });
}

type FeatureMap = 'softmax' | 'softmax-hyp' | 'trig' | 'relu';

/** φ(x) straight from the feature-map table of docs/MATH.md. */
function phi(kernel: FeatureMap, w: Float32Array, m: number, x: ArrayLike<number>, off: number, d: number): Float64Array {
  const xh = Array.from({ length: d }, (_, c) => x[off + c]! * d ** -0.25);
  const sq = xh.reduce((a, b) => a + b * b, 0);
  const u = Array.from({ length: m }, (_, l) => xh.reduce((a, xc, c) => a + w[l * d + c]! * xc, 0));
  switch (kernel) {
    case 'softmax': return Float64Array.from(u, (ul) => Math.exp(ul - sq / 2) / Math.sqrt(m));
    case 'softmax-hyp': return Float64Array.from([...u.map((ul) => Math.exp(ul - sq / 2)), ...u.map((ul) => Math.exp(-ul - sq / 2))], (z) => z / Math.sqrt(2 * m));
    case 'trig': return Float64Array.from([...u.map(Math.sin), ...u.map(Math.cos)], (z) => (Math.exp(sq / 2) * z) / Math.sqrt(m));
    case 'relu': return Float64Array.from(u, (ul) => Math.max(ul, 0) + 0.001);
  }
}

function favor64(p: Problem, kernel: FeatureMap, w: Tensor): Float64Array {
  const { B, H, Lq, Lk, d } = dims(p);
  const m = w.shape[0]!;
  const fq = new Map<number, Float64Array>();
  const fk = new Map<number, Float64Array>();
  for (let r = 0; r < B * H * Lq; r++) fq.set(r, phi(kernel, w.data, m, p.q.data, r * d, d));
  for (let r = 0; r < B * H * Lk; r++) fk.set(r, phi(kernel, w.data, m, p.k.data, r * d, d));
  return weightedAverage(p, (b, h, i, j) => {
    const a = fq.get((b * H + h) * Lq + i)!;
    const c = fk.get((b * H + h) * Lk + j)!;
    let s = 0;
    for (let l = 0; l < a.length; l++) s += a[l]! * c[l]!;
    return s;
  });
}

/** max |got − want| ≤ tol · max |want| (relative to the output scale), and element-wise with a floor. */
function assertClose(got: Float32Array, want: Float64Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (const x of want) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    assert.ok(err <= tol * (Math.abs(want[i]!) + 0.01 * scale), `${what}: entry ${i}: got ${got[i]}, want ${want[i]} (err ${err})`);
  }
}

// ---- files ----

let counter = 0;
function path(name: string): string {
  return join(dir, `${counter++}-${name}`);
}

async function inputFile(tensors: Record<string, Tensor>): Promise<string> {
  const p = path('in.safetensors');
  await writeFile(p, encodeSafetensors(tensors));
  return p;
}

async function readOut(p: string): Promise<{ out: Tensor; metadata: Record<string, string> }> {
  const dec = decodeSafetensors(new Uint8Array(await readFile(p)), { finite: true });
  assert.deepEqual([...dec.tensors.keys()], ['out']);
  assert.equal(dec.dtypes.get('out'), 'F32');
  return { out: dec.tensors.get('out')!, metadata: dec.metadata };
}

function problem(opts: { B?: number; H?: number; Lq: number; Lk: number; d: number; Dv: number; causal?: boolean; masked?: boolean; seed?: number; std?: number }): Problem {
  const { B = 2, H = 2, Lq, Lk, d, Dv, seed = 1, std = 0.6 } = opts;
  const p: Problem = {
    q: randn([B, H, Lq, d], seed, std),
    k: randn([B, H, Lk, d], seed + 1, std),
    v: randn([B, H, Lk, Dv], seed + 2),
    causal: opts.causal ?? false,
  };
  if (opts.masked) {
    p.mask = new Tensor([B, Lk]);
    for (let b = 0; b < B; b++) for (let j = 0; j < Lk; j++) p.mask.data[b * Lk + j] = (j * 7 + b) % 5 === 3 ? 0 : 1;
  }
  return p;
}

function tensorsOf(p: Problem, extra: Record<string, Tensor> = {}): Record<string, Tensor> {
  return { q: p.q, k: p.k, v: p.v, ...(p.mask ? { key_mask: p.mask } : {}), ...extra };
}

// ---- tests ----

describe('performer attention', () => {
  test('kernel exact matches a float64 loop (bidirectional with mask, Lq ≠ Lk; causal)', async () => {
    for (const p of [problem({ Lq: 5, Lk: 70, d: 8, Dv: 3, masked: true }), problem({ Lq: 70, Lk: 70, d: 8, Dv: 4, causal: true, masked: true, seed: 9 })]) {
      // A projection in the file is ignored by the exact kernel, even if --features disagrees.
      const inp = await inputFile(tensorsOf(p, { projection: randn([8, 8], 3) }));
      const out = path('out.safetensors');
      const r = await run(['attention', '--in', inp, '--out', out, '--kernel', 'exact', '--features', '5', ...(p.causal ? ['--causal'] : [])]);
      assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
      const got = await readOut(out);
      assert.deepEqual(got.out.shape, [2, 2, p.q.shape[2], p.v.shape[3]]);
      assertClose(got.out.data, exact64(p), 1e-5, 'exact');
      assert.equal(got.metadata.kernel, 'exact');
    }
  });

  test('kernel softmax with the projection from the file matches a float64 FAVOR reference to 1e-4', async () => {
    const cases = [
      problem({ Lq: 5, Lk: 70, d: 8, Dv: 3, masked: true }),
      problem({ Lq: 70, Lk: 70, d: 8, Dv: 3, causal: true, masked: true, seed: 5 }), // > one 64-position chunk
      problem({ B: 1, H: 3, Lq: 9, Lk: 9, d: 4, Dv: 2, seed: 11, std: 1 }),
    ];
    for (const p of cases) {
      const d = p.q.shape[3]!;
      const w = drawProjection({ features: 24, dim: d, seed: 123 });
      const inp = await inputFile(tensorsOf(p, { projection: w }));
      const out = path('out.safetensors');
      const r = await run(['attention', '--in', inp, '--out', out, '--features', '24', ...(p.causal ? ['--causal'] : [])]);
      assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
      const got = await readOut(out);
      assertClose(got.out.data, favor64(p, 'softmax', w), 1e-4, `softmax causal=${p.causal}`);
      assert.equal(got.metadata.projection, 'from input');
      assert.equal(got.metadata.features, '24');
    }
  });

  test('kernels softmax-hyp, trig and relu match the float64 reference', async () => {
    const p = problem({ Lq: 70, Lk: 70, d: 8, Dv: 3, causal: true, masked: true, seed: 21, std: 0.5 });
    const w = drawProjection({ features: 16, dim: 8, kind: 'iid', seed: 4 });
    const inp = await inputFile(tensorsOf(p, { projection: w }));
    for (const kernel of ['softmax-hyp', 'trig', 'relu'] as const) {
      const out = path(`${kernel}.safetensors`);
      const r = await run(['attention', '--in', inp, '--out', out, '--kernel', kernel, '--causal']);
      assert.equal(r.code, 0, r.stderr);
      assertClose((await readOut(out)).out.data, favor64(p, kernel, w), 1e-4, kernel);
    }
  });

  test('kernel softmax++: oprf_a from the file ([H] or [B, H]) or, bidirectional, the optimal A of q and k; equals favorAttention', async () => {
    const p = problem({ Lq: 9, Lk: 9, d: 8, Dv: 3, masked: true, seed: 31 });
    const w = drawProjection({ features: 16, dim: 8, seed: 5 });
    const lib = (causal: boolean, oprfA?: ArrayLike<number>): Float64Array =>
      Float64Array.from(favorAttention(p.q, p.k, p.v, { projection: w, featureMap: 'softmax++', causal, keyMask: p.mask, oprfA, engine: referenceEngine }).data);
    const cases: [string[], Record<string, Tensor>, Float64Array, string][] = [
      [[], {}, lib(false), 'optimal for q, k'],
      [['--causal'], { oprf_a: Tensor.from([2], [-0.05, -0.1]) }, lib(true, [-0.05, -0.1]), 'from input'],
      [['--causal'], { oprf_a: Tensor.from([2, 2], [-0.05, -0.1, -0.02, -0.3]) }, lib(true, [-0.05, -0.1, -0.02, -0.3]), 'from input'],
    ];
    for (const [extra, t, want, how] of cases) {
      const inp = await inputFile(tensorsOf(p, { projection: w, ...t }));
      const out = path('out.safetensors');
      const r = await run(['attention', '--in', inp, '--out', out, '--kernel', 'softmax++', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      const got = await readOut(out);
      assertClose(got.out.data, want, 1e-4, `softmax++ ${extra.join(' ')}`); // the CLI's wasm engine against the reference engine
      assert.equal(got.metadata.oprf_a, how);
    }
  });

  test('without a projection: drawn orthogonal W from --features/--seed (default M=256, seed 0)', async () => {
    const p = problem({ Lq: 6, Lk: 6, d: 4, Dv: 2 });
    const inp = await inputFile(tensorsOf(p));
    const outs: Float32Array[] = [];
    for (const extra of [[], ['--seed', '0', '--features', '256'], ['--seed', '1'], ['--features', '8', '--seed', '3']]) {
      const out = path('out.safetensors');
      const r = await run(['attention', '--in', inp, '--out', out, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      const got = await readOut(out);
      outs.push(got.out.data);
      if (extra.length === 0) assert.deepEqual(got.metadata, { producer: 'performer attention', kernel: 'softmax', causal: 'false', projection: 'orthogonal', seed: '0', features: '256' });
    }
    assert.deepEqual(outs[0], outs[1], 'defaults are M=256, seed 0');
    assert.notDeepEqual(outs[0], outs[2], 'the seed changes W');
    // The drawn W is drawProjection({features, dim, seed}): same result as passing it in the file.
    const w = drawProjection({ features: 8, dim: 4, seed: 3 });
    assertClose(outs[3]!, favor64(p, 'softmax', w), 1e-4, 'drawn projection');
  });

  test('--out may replace an existing file and may equal --in', async () => {
    const p = problem({ Lq: 3, Lk: 3, d: 4, Dv: 2 });
    const inp = await inputFile(tensorsOf(p));
    const r = await run(['attention', '--in', inp, '--out', inp, '--kernel', 'exact']);
    assert.equal(r.code, 0, r.stderr);
    assertClose((await readOut(inp)).out.data, exact64(p), 1e-5, 'in place');
  });

  describe('errors: exit 2, one line on stderr, no output file', () => {
    const p = problem({ Lq: 4, Lk: 4, d: 4, Dv: 2, masked: true });
    const bad = async (name: string, argv: (inp: string, out: string) => string[], tensors: Record<string, Tensor> | Uint8Array, message: RegExp) => {
      test(name, async () => {
        const inp = path('in.safetensors');
        await writeFile(inp, tensors instanceof Uint8Array ? tensors : encodeSafetensors(tensors));
        const out = path('out.safetensors');
        const r = await run(argv(inp, out));
        assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^performer attention: error: [^\n]+\n$/);
        assert.match(r.stderr, message);
        assert.ok(!existsSync(out), 'no output file');
        const leftovers = (await import('node:fs')).readdirSync(dir).filter((f) => f.endsWith('.tmp'));
        assert.deepEqual(leftovers, [], 'no temporary files');
      });
    };
    const std = (inp: string, out: string) => ['attention', '--in', inp, '--out', out];
    const good = tensorsOf(p);

    bad('unknown flag', (i, o) => [...std(i, o), '--kernal', 'trig'], good, /unknown flag --kernal \(see performer attention --help\)/);
    bad('missing value', (i, o) => [...std(i, o), '--features'], good, /missing value for --features/);
    bad('missing value (next is a flag)', (i, o) => ['attention', '--in', '--out', o], good, /missing value for --in/);
    bad('bad number', (i, o) => [...std(i, o), '--features', '12abc'], good, /--features: expected a number, got "12abc"/);
    bad('non-integer', (i, o) => [...std(i, o), '--seed', '1.5'], good, /--seed: expected an integer, got "1.5"/);
    bad('out of range', (i, o) => [...std(i, o), '--features', '0'], good, /--features: must be at least 1, got 0/);
    bad('bad --kernel', (i, o) => [...std(i, o), '--kernel', 'gaussian'], good, /--kernel: expected one of softmax, softmax-hyp, trig, relu, softmax\+\+, exact, got "gaussian"/);
    bad('missing --out', (i) => ['attention', '--in', i], good, /missing required flag --out/);
    bad('positional argument', (i, o) => [...std(i, o), 'extra'], good, /unexpected argument "extra"/);
    bad('flag twice', (i, o) => [...std(i, o), '--causal', '--causal'], good, /--causal given more than once/);
    bad('missing input file', (i, o) => ['attention', '--in', `${i}.nope`, '--out', o], good, /\.nope: cannot read \(no such file\)/);
    bad('causal softmax++ without oprf_a', (i, o) => [...std(i, o), '--kernel', 'softmax++', '--causal'], good, /--kernel softmax\+\+ --causal needs tensor "oprf_a" \(\[H\] or \[B, H\]\): A computed from the sequence would make every output depend on later positions/);
    bad('oprf_a of the wrong shape', (i, o) => [...std(i, o), '--kernel', 'softmax++'], { ...good, oprf_a: randn([3], 1) }, /tensor "oprf_a" must have shape \[H\] = \[2\] or \[B, H\] = \[2, 2\], got \[3\]/);
    bad('oprf_a with another kernel', std, { ...good, oprf_a: randn([2], 1) }, /tensor "oprf_a" is FAVOR\+\+'s A and needs --kernel softmax\+\+ \(got --kernel softmax\)/);
    bad('missing tensor', std, { q: p.q, k: p.k }, /in\.safetensors: missing tensor "v" \(have: q, k\)/);
    bad('unexpected tensor', std, { ...good, mask: p.mask! }, /unexpected tensor "mask" \(expected q, k, v, projection, key_mask, oprf_a\)/);
    bad('wrong rank', std, { ...good, q: randn([2, 2, 4], 1) }, /tensor "q" must have shape \[B, H, Lq, d\], got \[2, 2, 4\]/);
    bad('mismatched d', std, { ...good, k: randn([2, 2, 4, 5], 1) }, /tensor "k" \[2, 2, 4, 5\] does not match "q" \[2, 2, 4, 4\]/);
    bad('mismatched B', std, { ...good, v: randn([1, 2, 4, 2], 1) }, /tensor "v" \[1, 2, 4, 2\] does not match "k"/);
    bad('empty dimension', std, { ...good, q: new Tensor([2, 2, 0, 4]) }, /tensor "q" has an empty dimension/);
    bad('causal with Lq ≠ Lk', (i, o) => [...std(i, o), '--causal'], { ...good, q: randn([2, 2, 3, 4], 1) }, /--causal needs Lq = Lk/);
    bad('key_mask wrong shape', std, { ...good, key_mask: new Tensor([2, 5]) }, /tensor "key_mask" must have shape \[B, Lk\] = \[2, 4\], got \[2, 5\]/);
    bad('projection wrong shape', std, { ...good, projection: randn([8, 3], 1) }, /tensor "projection" must have shape \[M, d\] with d=4, got \[8, 3\]/);
    bad('--features disagrees with projection', (i, o) => [...std(i, o), '--features', '16'], { ...good, projection: randn([8, 4], 1) }, /--features 16 disagrees with tensor "projection" \[8, 4\]/);
    const withNaN = randn([2, 2, 4, 4], 1);
    withNaN.data[5] = NaN;
    bad('NaN in q', std, { ...good, q: withNaN }, /tensor "q": non-finite value NaN at \[0, 0, 1, 1\]/);
    const infMask = new Tensor([2, 4]).reshape([2, 4]);
    infMask.data.fill(1);
    infMask.data[2] = Infinity;
    bad('Infinity in key_mask', std, { ...good, key_mask: infMask }, /tensor "key_mask": non-finite value Infinity at \[0, 2\]/);
    const full = encodeSafetensors(good);
    bad('truncated file', std, full.subarray(0, full.length - 10), /tensor "key_mask": data_offsets .* go beyond the data buffer/);
    bad('not a safetensors file', std, new TextEncoder().encode('hello, world'), /header length \d+ goes beyond the end of the file/);

    test('an existing output file is left as it was', async () => {
      const inp = await inputFile({ q: p.q, k: p.k });
      const out = path('out.safetensors');
      await writeFile(out, 'previous');
      const r = await run(std(inp, out));
      assert.equal(r.code, 2);
      assert.equal(await readFile(out, 'utf8'), 'previous');
    });
  });
});

describe('performer main', () => {
  test('--help, help <cmd>, <cmd> --help, --version', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await run(argv);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: performer <command>/);
      assert.match(r.stdout, /attention .*\n.*approx /);
      assert.equal(r.stderr, '');
    }
    for (const argv of [['attention', '--help'], ['help', 'attention'], ['attention', '--in', 'x', '-h']]) {
      const r = await run(argv);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: performer attention --in IN\.safetensors --out OUT\.safetensors/);
      assert.match(r.stdout, /--kernel softmax\|softmax-hyp\|trig\|relu\|softmax\+\+\|exact/);
      assert.match(r.stdout, /--features M/);
    }
    const a = await run(['approx', '--help']);
    assert.equal(a.code, 0);
    assert.match(a.stdout, /^usage: performer approx/);
    assert.match(a.stdout, /--features N,N,\.\.\. +random feature counts m \(default 16,32,64,128,256\)/);
    const v = await run(['--version']);
    assert.match(v.stdout, /^performer \d+\.\d+\.\d+\n$/);
  });

  test('no command: usage on stderr, exit 2; unknown command: one line, exit 2', async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^usage: performer/);
    for (const argv of [['frobnicate'], ['help', 'frobnicate'], ['--frob']]) {
      const r = await run(argv);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^performer: error: unknown (command "frobnicate"|option "--frob") \(commands: attention, approx[^\n]*\n$/);
    }
  });
});

describe('performer approx', () => {
  const small = ['approx', '--L', '64', '--samples', '2', '--features', '16,32'];

  test('--json: 20 rows (5 kernels × 2 projections × 2 feature counts), finite MSE, variance fields, deterministic', async () => {
    const r = await run([...small, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress when stderr is not a TTY');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 20);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), ['kernel', 'projection', 'features', 'scale', 'mse', 'std', 'nmse', 'logVar', 'relVar']);
      assert.ok(Number.isFinite(row.nmse) && (row.nmse as number) > 0);
      if (row.kernel === 'relu') assert.deepEqual([row.logVar, row.relVar], [null, null], 'relu does not estimate the softmax kernel');
      else assert.ok(Number.isFinite(row.logVar) && (row.relVar as number) > 0, `${row.kernel}: ${row.logVar} ${row.relVar}`);
      assert.equal(row.scale, 0.5);
      assert.ok(Number.isFinite(row.mse) && (row.mse as number) > 0 && (row.mse as number) < 0.5, `mse ${row.mse}`);
      assert.ok(Number.isFinite(row.std) && (row.std as number) >= 0);
    }
    const combos = new Set(rows.map((x) => `${x.kernel}/${x.projection}/${x.features}`));
    assert.equal(combos.size, 20);
    for (const k of ['softmax', 'softmax-hyp', 'trig', 'relu', 'softmax++']) for (const pr of ['orthogonal', 'iid']) for (const m of [16, 32]) assert.ok(combos.has(`${k}/${pr}/${m}`));
    const again = await run([...small, '--json']);
    assert.equal(again.stdout, r.stdout, 'same seed, same numbers');
    const other = await run([...small, '--json', '--seed', '1']);
    assert.notEqual(other.stdout, r.stdout);
  });

  test('more features → smaller error for softmax (orthogonal), averaged over a few samples', async () => {
    const r = await run(['approx', '--L', '128', '--samples', '4', '--features', '8,128', '--json']);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { kernel: string; projection: string; features: number; mse: number });
    const mse = (m: number) => rows.find((x) => x.kernel === 'softmax' && x.projection === 'orthogonal' && x.features === m)!.mse;
    assert.ok(mse(128) < mse(8), `${mse(128)} < ${mse(8)}`);
  });

  test('table output and --plot writes a valid SVG', async () => {
    const svgPath = path('approx.svg');
    const r = await run([...small, '--plot', svgPath, '--scale', '0.3']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^# d=16 L=64 samples=2 scale=0.3 seed=0/);
    assert.match(lines[1]!, /^kernel +projection +features +mse +std +nmse +logvar +relvar$/);
    assert.equal(lines.length, 3 + 20);
    for (const line of lines.slice(3)) assert.match(line, /^(softmax|softmax-hyp|trig|relu|softmax\+\+) +(orthogonal|iid) +(16|32) +\d\.\d{3}e-\d+ +\d\.\d{3}e[-+]\d+ +\d\.\d{3}e[-+]\d+ +(-?\d+\.\d{3} +\d\.\d{3}e[-+]\d+|- +-)$/);
    const svg = await readFile(svgPath, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg.trimEnd(), /<\/svg>$/);
    assert.ok(!/NaN|undefined|Infinity/.test(svg));
    assert.equal((svg.match(/<polyline /g) ?? []).length, 10, 'one line per kernel and projection');
    for (const name of ['softmax (orthogonal)', 'softmax-hyp (iid)', 'trig (orthogonal)', 'relu (iid)']) assert.ok(svg.includes(`>${name}</text>`), name);
    const opens = (svg.match(/<(g|svg|text|title)[ >]/g) ?? []).length;
    const closes = (svg.match(/<\/(g|svg|text|title)>/g) ?? []).length;
    assert.equal(opens, closes, 'balanced tags');
  });

  test('progress goes to stderr only on a TTY', async () => {
    const r = await run(['approx', '--L', '16', '--samples', '2', '--features', '4', '--json'], { tty: true });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /sample 2\/2/);
    assert.equal(r.stdout.trimEnd().split('\n').length, 10);
  });

  test('errors: exit 2, one line, no plot file', async () => {
    for (const [args, message] of [
      [['--scale', '0'], /--scale: must be positive, got 0/],
      [['--features', '16,x'], /--features: expected a number, got "x"/],
      [['--features', '16,16'], /--features lists 16 more than once/],
      [['--features', ''], /--features: expected a comma-separated list of integers/],
      [['--samples', '0'], /--samples: must be at least 1/],
      [['--L', 'many'], /--L: expected a number/],
      [['--json=maybe'], /--json: expected true or false, got "maybe"/],
    ] as const) {
      const svgPath = path('never.svg');
      const r = await run(['approx', ...args, '--plot', svgPath]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^performer approx: error: [^\n]+\n$/);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(svgPath));
    }
    const r = await run(['approx', '--L', '8', '--samples', '1', '--features', '4', '--plot', join(dir, 'no', 'dir.svg')]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '', 'nothing printed when the plot cannot be written');
    assert.match(r.stderr, /^performer approx: error: \S*no\/dir\.svg: cannot write: the folder \S*no does not exist\n$/);
  });
});

describe('flag parser', () => {
  const spec = defineFlags({
    n: { type: 'number', default: 1.5, help: 'a number' },
    i: { type: 'int', min: 0, max: 10, help: 'an int' },
    list: { type: 'ints', default: [1, 2], help: 'ints' },
    mode: { type: 'enum', values: ['a', 'b'], default: 'a', help: 'enum' },
    flag: { type: 'boolean', help: 'bool' },
    name: { type: 'string', help: 'string' },
  });

  test('defaults, both value forms, booleans, negative numbers', () => {
    const p = parseArgs([], spec);
    assert.ok(!p.help);
    assert.deepEqual(p.flags, { n: 1.5, i: undefined, list: [1, 2], mode: 'a', flag: false, name: undefined });
    const q = parseArgs(['--n=-2e-3', '--i', '7', '--list', '3,4,5', '--mode=b', '--flag', '--name', 'x=y'], spec);
    assert.ok(!q.help);
    assert.deepEqual(q.flags, { n: -0.002, i: 7, list: [3, 4, 5], mode: 'b', flag: true, name: 'x=y' });
    assert.deepEqual([...q.given].sort(), ['flag', 'i', 'list', 'mode', 'n', 'name']);
    const neg = parseArgs(['--n', '-4'], spec);
    assert.ok(!neg.help && neg.flags.n === -4);
    const f = parseArgs(['--flag=false'], spec);
    assert.ok(!f.help && f.flags.flag === false);
    assert.deepEqual(parseArgs(['--bogus', '-h'], spec), { help: true });
  });

  test('errors', () => {
    for (const [argv, message] of [
      [['--x'], /^unknown flag --x$/],
      [['--i'], /^missing value for --i$/],
      [['--i', '11'], /^--i: must be at most 10, got 11$/],
      [['--i', '-1'], /^--i: must be at least 0, got -1$/],
      [['--n', 'NaN'], /^--n: expected a number, got "NaN"$/],
      [['--n', 'Infinity'], /^--n: expected a number/],
      [['--n', ' '], /^--n: expected a number/],
      [['--list', '1,,2'], /^--list: expected a number, got ""$/],
      [['--list', '1,2.5'], /^--list: expected an integer, got "2.5"$/],
      [['--mode', 'c'], /^--mode: expected one of a, b, got "c"$/],
      [['--name='], /^--name: value is empty$/],
      [['-n', '3'], /^unexpected argument "-n"$/],
      [['--', 'x'], /^unexpected argument "x"$/],
      [['--constructor', '1'], /^unknown flag --constructor$/],
    ] as const) {
      assert.throws(() => parseArgs(argv, spec), (e: Error) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    }
  });

  test('usage lists every flag with its default', () => {
    const u = formatUsage('tool [options]', 'Does things.', spec);
    assert.match(u, /^usage: tool \[options\]\n\nDoes things\.\n\noptions:\n/);
    assert.match(u, /--n X +a number \(default 1\.5\)/);
    assert.match(u, /--list N,N,\.\.\. +ints \(default 1,2\)/);
    assert.match(u, /--mode a\|b +enum \(default a\)/);
    assert.match(u, /--flag +bool\n/);
    assert.match(u, /-h, --help +show this help/);
  });
});
