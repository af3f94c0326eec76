// Gradient checking against central finite differences, everything in float64.
import assert from 'node:assert/strict';
import { backward, clearTape, noGrad, Var } from '../src/autograd/index.js';
import { Rng } from '../src/tensor/rng.js';

/** A float64 Var with standard-normal entries (times `std`) that requires a gradient. */
export function randVar(shape: number[], rng: Rng, std = 1, requiresGrad = true): Var {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  rng.fillNormal(data, 0, std);
  return new Var(shape, data, requiresGrad);
}

export interface GradCheckOptions {
  h?: number; // finite-difference step (default 1e-5)
  tol?: number; // relative error bound (default 1e-4)
  floor?: number; // denominators below this count as this (default 1e-5: FD round-off is ~1e-10 absolute)
  maxPerInput?: number; // check at most this many entries per input (spread evenly)
  seed?: number;
}

/**
 * Checks d(R·f)/dx for every input x against central differences, R a fixed random weighting of f's
 * output. f must be a pure function of the inputs' current values (it is re-run for each probe).
 * Returns the largest relative error found.
 */
export function gradCheck(f: () => Var, inputs: Var[], opts: GradCheckOptions = {}): number {
  const { h = 1e-5, tol = 1e-4, floor = 1e-5, maxPerInput = Infinity, seed = 12345 } = opts;
  for (const x of inputs) {
    assert.ok(x.data instanceof Float64Array, 'gradCheck needs float64 inputs');
    x.zeroGrad();
  }
  clearTape();
  const out = f();
  assert.ok(out.data instanceof Float64Array, 'op output must stay float64');
  const R = new Float64Array(out.size);
  new Rng(seed).fillNormal(R);
  backward(out, R);
  const analytic = inputs.map((x) => (x.grad ? Float64Array.from(x.grad) : new Float64Array(x.size)));
  const evalAt = (): number => noGrad(() => {
    const o = f().data;
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i]! * R[i]!;
    return s;
  });
  let worst = 0;
  inputs.forEach((x, xi) => {
    const n = x.size;
    const step = n > maxPerInput ? n / maxPerInput : 1;
    for (let t = 0; t < n; t += step) {
      const i = Math.floor(t);
      const orig = x.data[i]!;
      x.data[i] = orig + h;
      const lp = evalAt();
      x.data[i] = orig - h;
      const lm = evalAt();
      x.data[i] = orig;
      const num = (lp - lm) / (2 * h);
      const a = analytic[xi]![i]!;
      assert.ok(Number.isFinite(a), `input ${xi}[${i}]: analytic gradient ${a}`);
      const err = Math.abs(a - num) / Math.max(Math.abs(a), Math.abs(num), floor);
      if (err > worst) worst = err;
      if (err > tol) assert.fail(`input ${xi} ${x.toString()} entry ${i}: analytic ${a} vs numeric ${num} (rel err ${err.toExponential(2)})`);
    }
  });
  return worst;
}
