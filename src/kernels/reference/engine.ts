// The reference engine: every kernel in plain TypeScript, single-threaded, inner sums in float64,
// on float32 or float64 host arrays (the float64 path is what the finite-difference checks run).
// It is the oracle the other engines are tested against, and the float64 fallback of the wasm engine.
import type { ExactArgs } from '../backend.js';
import type { Floats, Engine, Kernels } from '../engine.js';
import { hostDevice } from '../../tensor/storage.js';
import { referenceExact } from './exact.js';
import { tsMatmul } from './grad/matmul.js';
import { tsFavorBackward, tsFavorForward } from './grad/favor.js';
import { tsExactBackward, tsExactForward } from './grad/exact.js';
import { tsDropoutBackward, tsDropoutForward, tsGeluBackward, tsGeluForward } from './grad/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from './grad/layernorm.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from './grad/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from './grad/cross-entropy.js';
import { tsBinary, tsBinaryBackward, tsScale, tsSum, tsSumBackward } from './grad/elementwise.js';
import { tsMeanPool, tsMeanPoolBackward, tsTranspose } from './grad/layout.js';
import { tsRope } from './grad/rope.js';
import { headCopy, localBackward, localForward } from './local.js';
import { tsTokenShift, tsTokenShiftBackward } from './grad/token-shift.js';
import { tsAdamW, tsClip, tsGradNorm } from './grad/adamw.js';
import { tsGegluBackward, tsGegluForward, tsGeluErfBackward, tsGeluErfForward } from './grad/gelu-erf.js';
import { tsGateBackward, tsGateForward, tsScaleNormBackward, tsScaleNormForward } from './grad/scale-norm.js';
import { tsShiftSegmentsBackward, tsShiftSegmentsForward } from './grad/shift-segments.js';

/** Every kernel on host arrays: the reference engine's, and the fallback of faster CPU engines. */
export const referenceKernels: Kernels<Floats> = {
  localForward, localBackward, headCopy,
  matmul: tsMatmul,
  favorForward: tsFavorForward,
  favorBackward: tsFavorBackward,
  exactForward(a) {
    if (a.q instanceof Float64Array) tsExactForward(a);
    else referenceExact(a as ExactArgs);
  },
  exactBackward: tsExactBackward,
  geluForward: tsGeluForward,
  geluBackward: tsGeluBackward,
  layerNormForward: tsLayerNormForward,
  layerNormBackward: tsLayerNormBackward,
  embeddingForward: tsEmbeddingForward,
  embeddingBackward: tsEmbeddingBackward,
  dropoutForward: tsDropoutForward,
  dropoutBackward: tsDropoutBackward,
  crossEntropyForward(a) { a.loss[0] = tsCrossEntropyForward(a); },
  crossEntropyBackward(a) { tsCrossEntropyBackward({ ...a, dLoss: a.dLoss[0]! }); },
  binary: tsBinary,
  binaryBackward: tsBinaryBackward,
  scale: tsScale,
  sum: tsSum,
  sumBackward: tsSumBackward,
  transpose: tsTranspose,
  meanPool: tsMeanPool,
  meanPoolBackward: tsMeanPoolBackward,
  rope: tsRope,
  tokenShift: tsTokenShift,
  tokenShiftBackward: tsTokenShiftBackward,
  geluErfForward: tsGeluErfForward,
  geluErfBackward: tsGeluErfBackward,
  gegluForward: tsGegluForward,
  gegluBackward: tsGegluBackward,
  scaleNormForward: tsScaleNormForward,
  scaleNormBackward: tsScaleNormBackward,
  gateForward: tsGateForward,
  gateBackward: tsGateBackward,
  shiftSegmentsForward: tsShiftSegmentsForward,
  shiftSegmentsBackward: tsShiftSegmentsBackward,
  adamw: tsAdamW,
  gradNorm: tsGradNorm,
  clip: tsClip,
};

export const referenceEngine: Engine<Floats> = {
  ...hostDevice,
  ...referenceKernels,
  name: 'reference',
  kernels: 'reference (plain TypeScript, float64 sums)',
  threads: 1,
  dispose() { /* nothing held */ },
};
