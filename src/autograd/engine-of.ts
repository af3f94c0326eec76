// Which engine runs an op: the engine its inputs live on. CPU engines share host arrays, so inputs
// on two of them may meet (the first input's engine runs the op); a device engine's tensors must be
// moved explicitly (`to`) before they meet another engine's. Host arrays made before any engine was
// installed run on the default engine when it is a CPU one, else on the reference engine.
import { defaultEngine } from '../kernels/registry.js';
import { referenceEngine } from '../kernels/reference/engine.js';
import { isEngine, type Engine } from '../kernels/engine.js';
import type { Floats } from '../tensor/floats.js';
import type { DType } from '../tensor/storage.js';
import { Var } from './var.js';

export function engineOf(op: string, a: Var, ...rest: (Var | undefined)[]): Engine {
  const d = a.device;
  for (const v of rest) {
    if (v && v.device !== d && !(v.device.host && d.host)) {
      throw new Error(`${op}: inputs live on engines ${d.name} and ${v.device.name}; move one with .to(engine)`);
    }
  }
  if (isEngine(d)) return d;
  const e = defaultEngine();
  return e.host ? e : referenceEngine;
}

/** A new Var of zeros on engine e. */
export function output(e: Engine, shape: readonly number[], dtype: DType, grad: boolean): Var {
  let n = 1;
  for (const s of shape) n *= s;
  return new Var(shape, undefined, grad, e, e.zeros(n, dtype));
}

/** The kernels for host arrays: float64 on the reference engine, float32 on the default engine when
 *  it is a CPU one (else the reference engine). For performer-pytorch's forward-only attention
 *  numerics (favor-pytorch.ts), which still loop over host arrays and so run on CPU engines only. */
export function hostKernels(x: Floats): Engine {
  if (x instanceof Float64Array) return referenceEngine;
  const e = defaultEngine();
  return e.host ? e : referenceEngine;
}
