// Exports of the kernel module. Every task has the signature (descriptor, item, thread); the JS
// worker pool hands out items. Pointers are byte addresses into the one imported memory.
export { favorBidirHead, favorKeyPart, favorReduce, favorQueryPart, favorCausalHead, favorCausalCarry,
  favorCausalPart, favorScratchBytes, favorStateBytes, packProjection, packedProjectionBytes } from './favor';
export { exactBlock, exactScratchBytes, exactRowsPerItem } from './exact';
export { exactBwdHead, exactBwdScratchBytes } from './exact-backward';
export { matmulTile, matmulScratchBytes } from './matmul';
export { favorBwdBidirHead, favorBwdCausalHead, favorBwdScratchBytes } from './favor-backward';
export { geluForward, geluBackward, dropoutForward, dropoutBackward } from './pointwise';
export { layerNormForwardRows, layerNormBackwardRows, layerNormReduceCols } from './layernorm';
export { embeddingGatherRows, embeddingScatterCols } from './embedding';
export { crossEntropyForwardRows, crossEntropyBackwardRows } from './cross-entropy';
import { expf, expv } from './exp';
import { sinCosRow } from './trig';

/** First byte the JS allocator may use (after any static data of this module). */
export function heapBase(): usize {
  return __heap_base;
}

/** dst[i] = exp(src[i]) over n floats (the vector exp of the kernels; for accuracy tests). */
export function expMap(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), expv(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), expf(load<f32>(src + (<usize>i << 2))));
}

/** sin/cos of n floats (the trig kernel's routine; for accuracy tests). */
export function sinCosMap(src: usize, n: i32, dstSin: usize, dstCos: usize): void {
  sinCosRow(src, n, 1, dstSin, dstCos);
}
