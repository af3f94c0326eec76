// Every differentiable op, the optimiser update and gradient clipping, once per engine of
// test/engines/list.ts: the op's float32 output and input gradients on the engine against the same
// op in float64 on the reference engine (whose gradients test/autograd.test.ts checks against finite
// differences). Inputs go to the engine and results come back through the paths every engine has
// (upload, `await read()`), so the async stand-in runs exactly what a GPU engine would.
// Error measure: relativeError = max|got − want| / max|want| (test/helpers/float64-reference.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add, backward, clearTape, crossEntropy, dropout, embedding, exactAttentionOp, favorAttentionOp, gelu, layerNorm,
  matmul, meanPool, mergeHeads, mul, reshape, rope, scale, splitHeads, sum, tokenShift, transpose, Var,
} from '../src/autograd/index.js';
import { FEATURE_MAPS } from '../src/kernels/backend.js';
import type { Engine } from '../src/kernels/engine.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { geglu, geluErf } from '../src/autograd/gelu-erf.js';
import { gate, scaleNorm } from '../src/autograd/scale-norm.js';
import { shiftSegments } from '../src/autograd/shift-segments.js';
import { AdamW, clipGradNormVar } from '../src/optim/adamw.js';
import { Rng } from '../src/tensor/rng.js';
import type { Floats } from '../src/tensor/floats.js';
import { relativeError } from './helpers/float64-reference.js';
import { randn } from './helpers/data.js';
import { disposeEngines, ENGINES } from './engines/list.js';

after(disposeEngines);

interface OpCase {
  name: string;
  /** Input shapes; every input gets a gradient. */
  shapes: number[][];
  run: (xs: Var[]) => Var;
  tol?: number;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const ids = Int32Array.from({ length: 30 }, (_, i) => (i * 7) % 11);
const targets = Int32Array.from({ length: 30 }, (_, i) => (i % 4 === 1 ? -100 : (i * 5) % 9));
const mask = Float32Array.from({ length: 2 * 15 }, (_, i) => (i % 6 === 4 ? 0 : 1));
const W = randn(8 * 4, 77, 1.2);

const CASES: OpCase[] = [
  { name: 'matmul, batched, shared weight', shapes: [[2, 5, 7], [7, 3]], run: ([a, b]) => matmul(a!, b!) },
  { name: 'matmul, transA and transB, batched', shapes: [[2, 7, 5], [2, 3, 7]], run: ([a, b]) => matmul(a!, b!, { transA: true, transB: true }) },
  { name: 'add and mul with suffix broadcasting', shapes: [[3, 4, 5], [4, 5], [5]], run: ([a, b, c]) => mul(add(a!, b!), c!) },
  { name: 'scale, reshape, transpose, sum', shapes: [[2, 3, 4]], run: ([a]) => sum(mul(transpose(reshape(scale(a!, -1.5), [6, 4]), 0, 1), transpose(reshape(a!, [6, 4]), 0, 1))) },
  { name: 'splitHeads / mergeHeads', shapes: [[2, 5, 6]], run: ([a]) => mergeHeads(gelu(splitHeads(a!, 3))) },
  { name: 'GELU', shapes: [[3000]], run: ([a]) => gelu(a!) },
  { name: 'LayerNorm', shapes: [[40, 64], [64], [64]], run: ([x, g, b]) => layerNorm(x!, g!, b!) },
  { name: 'embedding', shapes: [[11, 6]], run: ([t]) => embedding(t!, ids, [5, 6]) },
  { name: 'dropout', shapes: [[50, 60]], run: ([a]) => dropout(a!, 0.3, new Rng(5)) },
  { name: 'cross-entropy with ignored rows', shapes: [[30, 9]], run: ([z]) => crossEntropy(z!, targets) },
  { name: 'mean pool with a mask', shapes: [[2, 15, 4]], run: ([x]) => meanPool(x!, mask) },
  { name: 'rope', shapes: [[2, 3, 9, 6]], run: ([x]) => rope(x!, { offset: 3 }) },
  { name: 'token shift with a mask', shapes: [[2, 15, 6]], run: ([x]) => tokenShift(x!, 2, mask) },
  { name: 'GELU with erf', shapes: [[3000]], run: ([a]) => geluErf(a!) },
  { name: 'GEGLU (erf and tanh)', shapes: [[6, 10]], run: ([h]) => add(geglu(h!, 'erf'), geglu(h!, 'tanh')) },
  { name: 'ScaleNorm and the ReZero gate', shapes: [[7, 8], [1], [1]], run: ([x, g, r]) => gate(scaleNorm(x!, g!), r!) },
  { name: 'token shift by segments with a mask', shapes: [[2, 15, 7]], run: ([x]) => shiftSegments(x!, [-1, 0, 1], mask) },
  { name: 'exact attention, causal', shapes: [[2, 2, 15, 4], [2, 2, 15, 4], [2, 2, 15, 3]], run: ([q, k, v]) => exactAttentionOp(q!, k!, v!, { causal: true, keyMask: mask }) },
  ...FEATURE_MAPS.flatMap((featureMap) => [false, true].map((causal): OpCase => ({
    name: `FAVOR+ ${featureMap}, ${causal ? 'causal' : 'bidirectional'}, masked`,
    shapes: [[2, 2, 15, 4], [2, 2, 15, 4], [2, 2, 15, 3]],
    run: ([q, k, v]) => favorAttentionOp(q!, k!, v!, { projection: W, featureMap, causal, keyMask: mask, chunk: 4 }),
    tol: featureMap === 'trig' ? 1e-3 : 1e-4,
  }))),
];

/** The op's output and every input's gradient (dL/dout = a fixed random seed), read back to the host. */
async function outputAndGrads(c: OpCase, engine: Engine, f64: boolean): Promise<Floats[]> {
  const xs = c.shapes.map((s, i) => Var.from(s, randn(size(s), 11 + 7 * i, 0.8), { f64, requiresGrad: true, device: engine }));
  const out = c.run(xs);
  backward(out, randn(out.size, 99));
  return [await out.read(), ...(await Promise.all(xs.map(async (x) => (await x.readGrad())!)))];
}

for (const engine of ENGINES) {
  for (const c of CASES) {
    test(`${engine.name}: ${c.name} (float32) matches float64, output and gradients`, async () => {
      const want = await outputAndGrads(c, referenceEngine, true);
      const got = await outputAndGrads(c, engine, false);
      const tol = c.tol ?? 1e-5;
      got.forEach((g, i) => {
        const err = relativeError(g, want[i]!);
        assert.ok(err <= tol, `${i === 0 ? 'output' : `gradient of input ${i - 1}`}: relative error ${err}`);
      });
    });
  }

  test(`${engine.name}: gradient clipping and AdamW (float32) match float64 over three steps`, async () => {
    const run = async (e: Engine, f64: boolean): Promise<Floats[]> => {
      const params = [[4, 5], [5], [7]].map((s, i) => Var.from(s, randn(size(s), 3 + i), { f64, requiresGrad: true, device: e }));
      const model = { namedParameters: () => params.map((p, i): [string, Var, { kind: 'weight' | 'bias'; init: { kind: 'zeros' } }] => [`p${i}`, p, { kind: i === 0 ? 'weight' : 'bias', init: { kind: 'zeros' } }]) };
      const opt = new AdamW(model, { lr: 0.05, weightDecay: 0.1 });
      const norms: number[] = [];
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        params.forEach((p, i) => { if (i !== 2 || s !== 1) p.gradStorage = e.upload((f64 ? Float64Array : Float32Array).from(randn(p.size, 50 + 10 * s + i, 3))); });
        norms.push(await clipGradNormVar(params, 2).readItem());
        opt.step();
      }
      return [Float64Array.from(norms), ...(await Promise.all(params.map((p) => p.read())))];
    };
    const want = await run(referenceEngine, true), got = await run(engine, false);
    got.forEach((g, i) => {
      const err = relativeError(g, want[i]!);
      assert.ok(err <= 1e-5, `${i === 0 ? 'gradient norms' : `parameter ${i - 1}`}: relative error ${err}`);
    });
  });
}

test('engine-ops: the comparison has teeth (another dL/dout seed is detected)', async () => {
  const c = CASES[0]!;
  const want = await outputAndGrads(c, referenceEngine, true);
  const xs = c.shapes.map((s, i) => Var.from(s, randn(size(s), 11 + 7 * i, 0.8), { requiresGrad: true, device: ENGINES[1]! }));
  const out = c.run(xs);
  backward(out, randn(out.size, 98));
  assert.ok(relativeError((await xs[0]!.readGrad())!, want[1]!) > 0.1);
  clearTape();
});
