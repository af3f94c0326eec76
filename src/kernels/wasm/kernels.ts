// The kernel module as seen from JS: the typed surface of its exports (assembly/index.ts) and how
// to instantiate it. Addresses and sizes are plain numbers (wasm i32, read as unsigned).

export type SimdVariant = 'relaxed' | 'plain';

/** Every task has this shape: (descriptor address, item index, thread index). */
export type TaskFn = (desc: number, item: number, tid: number) => void;

export interface KernelExports {
  heapBase(): number;
  expMap(src: number, dst: number, n: number): void;
  sinCosMap(src: number, n: number, dstSin: number, dstCos: number): void;
  favorBidirHead: TaskFn;
  favorKeyPart: TaskFn;
  favorReduce: TaskFn;
  favorQueryPart: TaskFn;
  favorCausalHead: TaskFn;
  favorCausalCarry: TaskFn;
  favorCausalPart: TaskFn;
  favorScratchBytes(desc: number): number;
  favorStateBytes(desc: number): number;
  packProjection(w: number, m: number, d: number, dst: number): void;
  packedProjectionBytes(m: number, d: number): number;
  exactBlock: TaskFn;
  exactScratchBytes(desc: number): number;
  exactRowsPerItem(): number;
  exactBwdHead: TaskFn;
  exactBwdScratchBytes(desc: number): number;
  matmulTile: TaskFn;
  matmulScratchBytes(): number;
  favorBwdBidirHead: TaskFn;
  favorBwdCausalHead: TaskFn;
  favorBwdScratchBytes(desc: number): number;
  geluForward: TaskFn;
  geluBackward: TaskFn;
  dropoutForward: TaskFn;
  dropoutBackward: TaskFn;
  layerNormForwardRows: TaskFn;
  layerNormBackwardRows: TaskFn;
  layerNormReduceCols: TaskFn;
  embeddingGatherRows: TaskFn;
  embeddingScatterCols: TaskFn;
  crossEntropyForwardRows: TaskFn;
  crossEntropyBackwardRows: TaskFn;
}

/** Task exports, by index: the worker protocol sends the index. */
export const TASKS = [
  'favorBidirHead', 'favorKeyPart', 'favorReduce', 'favorQueryPart',
  'favorCausalHead', 'favorCausalCarry', 'favorCausalPart', 'exactBlock', 'exactBwdHead', 'matmulTile',
  'favorBwdBidirHead', 'favorBwdCausalHead',
  'geluForward', 'geluBackward', 'dropoutForward', 'dropoutBackward',
  'layerNormForwardRows', 'layerNormBackwardRows', 'layerNormReduceCols',
  'embeddingGatherRows', 'embeddingScatterCols', 'crossEntropyForwardRows', 'crossEntropyBackwardRows',
] as const;
export type TaskName = (typeof TASKS)[number];

/** Instantiates the module on `memory` (each thread does this once with the same memory). */
export async function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
