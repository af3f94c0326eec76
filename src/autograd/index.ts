// Reverse-mode autodiff: Var, the tape and the differentiable ops (which run on their inputs' engine).
export { Var, alloc } from './var.js';
export type { Floats } from '../tensor/floats.js';
export { backward, noGrad, isGradEnabled, clearTape, tapeLength, record, recording } from './tape.js';
export {
  matmul, add, mul, scale, sum, reshape, transpose, splitHeads, mergeHeads, gelu, layerNorm, embedding, dropout,
  crossEntropy, meanPool, rope, ropeApply, type MatmulOptions,
} from './ops.js';
export { tokenShift } from './token-shift.js';
export { favorAttentionOp, exactAttentionOp, type FavorAttentionOpOptions, type ExactAttentionOpOptions } from './attention.js';
export { engineOf } from './engine-of.js';
