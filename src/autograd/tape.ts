// The tape: every op that sees an input needing a gradient pushes its backward closure here, right
// after computing its output. `backward` seeds dL/dloss and runs the closures newest-first, then
// drops them (and the activations they captured). Ops record nothing under `noGrad`.
import { formatShape } from '../tensor/shape.js';
import { engineOf } from './engine-of.js';
import type { Var } from './var.js';

type Backward = () => void;

let entries: Backward[] = [];
let gradEnabled = true;

/** True when an op with these inputs must record its backward. */
export function recording(...inputs: (Var | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const v of inputs) if (v && v.requiresGrad) return true;
  return false;
}

/** Pushes an op's backward. The closure reads out.grad (skip if null) and adds into input grads. */
export function record(fn: Backward): void {
  entries.push(fn);
}

/** Runs fn without recording (evaluation, optimiser updates, finite differences). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Number of recorded ops not yet run backward. */
export function tapeLength(): number {
  return entries.length;
}

/** Forgets the recorded ops without running them (e.g. after an evaluation done with grad on). */
export function clearTape(): void {
  entries = [];
}

/**
 * Back-propagates from `root`: dL/droot = seed (default 1 for a scalar), then every recorded op in
 * reverse order. Gradients accumulate into `.grad` of every Var that requires one; call zeroGrad on
 * parameters between steps. The tape is emptied.
 */
export function backward(root: Var, seed?: ArrayLike<number>): void {
  if (seed) {
    if (seed.length !== root.size) throw new Error(`backward seed has ${seed.length} values for ${formatShape(root.shape)}`);
  } else if (root.size !== 1) {
    throw new Error(`backward without a seed needs a scalar root, got ${formatShape(root.shape)}`);
  }
  // dL/droot += seed: an upload of the seed (or of 1), added on the root's engine.
  const Ctor = root.dtype === 'float64' ? Float64Array : Float32Array;
  const s = root.device.upload(seed ? Ctor.from(seed) : Ctor.of(1));
  engineOf('backward', root).scale({ x: s, y: root.gradBuf(), c: 1, n: root.size, accumulate: true });
  const run = entries;
  entries = [];
  for (let i = run.length - 1; i >= 0; i--) {
    run[i]!();
    run[i] = undefined as unknown as Backward; // free captured activations as we go
  }
}
