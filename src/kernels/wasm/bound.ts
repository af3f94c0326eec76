// The wasm32 ceiling. A WebAssembly memory addresses at most 2^32 bytes (65,536 pages of 64 KiB),
// and every array an attention call touches is staged inside it: q, k, v and out (plus, for a
// backward, dOut, dq, dk and dv). So a call needs
//
//   bytes(L) = 4 · [B·H · (Lq·(d + Dv) + Lk·(d + Dv)) · (1 forward, 2 backward) + B·Lk (mask) + 2·m·d (W, packed)]
//
// plus scratch that does not grow with L (per thread, per chunk; RESERVE covers it). Checking this
// from the shapes, before any allocation, turns "wasm heap: cannot grow by 131009 pages" into an
// answer: the largest L that fits these shapes, or how many heads fit per call at this L.

import type { WasmHeap } from './heap.js';

/** Bytes a wasm32 memory can address. */
export const WASM32_MAX_BYTES = 2 ** 32;
/** Room kept for what does not grow with the length: per-thread scratch, states, descriptors, fragmentation. */
export const RESERVE_BYTES = 64 * 2 ** 20;

export interface AttentionCallDims {
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number;
  /** FAVOR+ random features (0 for exact attention). */
  m: number;
  mask: boolean;
  backward: boolean;
}

export class WasmMemoryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'WasmMemoryError';
  }
}

/** Bytes the call's length-dependent arrays (and projection) take in the heap. */
export function attentionCallBytes(a: AttentionCallDims): number {
  const copies = a.backward ? 2 : 1;
  return 4 * (a.B * a.H * (a.Lq + a.Lk) * (a.d + a.Dv) * copies + (a.mask ? a.B * a.Lk : 0) + 2 * a.m * a.d);
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * Throws WasmMemoryError when the call cannot fit in `available` bytes of heap (default: a whole
 * wasm32 memory less RESERVE_BYTES), saying the largest length that fits these shapes and how many
 * heads per call fit at this length. `what` names the call ("wasm favor").
 */
export function checkAttentionFits(
  what: string, a: AttentionCallDims, available = WASM32_MAX_BYTES - RESERVE_BYTES, inUse = 0, capacity = WASM32_MAX_BYTES,
): void {
  const need = attentionCallBytes(a);
  if (need <= available) return;
  const copies = a.backward ? 2 : 1;
  const fixed = 4 * 2 * a.m * a.d;
  const heads = a.B * a.H;
  const self = a.Lq === a.Lk;
  // bytes(L) is linear in the length: fixed + L·perL (self-attention: Lq = Lk = L; else Lk = L at this Lq).
  const perL = 4 * (heads * (a.d + a.Dv) * copies * (self ? 2 : 1) + (a.mask ? a.B : 0));
  const base = fixed + (self ? 0 : 4 * heads * a.Lq * (a.d + a.Dv) * copies);
  const maxL = Math.floor((available - base) / perL);
  const perHead = 4 * (a.Lq + a.Lk) * (a.d + a.Dv) * copies;
  const maxHeads = Math.floor((available - fixed - (a.mask ? 4 * a.B * a.Lk : 0)) / perHead);
  const shape = `B=${a.B}, H=${a.H}, ${self ? `L=${a.Lq}` : `Lq=${a.Lq}, Lk=${a.Lk}`}, d=${a.d}, Dv=${a.Dv}${a.m ? `, m=${a.m}` : ''}`;
  const longest = maxL >= 1 ? `the largest ${self ? 'L' : 'Lk'} that fits these shapes is ${maxL.toLocaleString('en-US')}` : 'no length fits these shapes';
  const options = [
    maxHeads >= heads ? longest
      : maxHeads >= 1 ? `${longest}, or run at most ${maxHeads} of the B·H = ${heads} heads per call`
        : `${longest} (fewer heads per call do not help at this length: one head needs ${gib(fixed + perHead)})`,
    'or use the WebGPU engine (planned)',
  ];
  throw new WasmMemoryError(
    `${what}: ${shape} needs ${gib(need)} of WebAssembly memory${a.backward ? ' (backward)' : ''}, but its memory holds at most ` +
    `${gib(capacity)}${inUse > 0 ? ` (${gib(inUse)} of it already in use)` : ''}; ${options.join(', ')}`,
  );
}

/** checkAttentionFits against what `heap` has left (arrays of the call already in the heap are not counted twice). */
export function checkHeapFits(heap: WasmHeap, what: string, a: AttentionCallDims, arrays: ReadonlyArray<ArrayBufferView | undefined>): void {
  let owned = 0;
  for (const arr of arrays) if (arr && heap.owns(arr)) owned += arr.byteLength;
  const inUse = Math.max(0, heap.usedBytes() - owned);
  checkAttentionFits(what, a, heap.capacity - inUse - Math.min(RESERVE_BYTES, heap.capacity / 64), inUse, heap.capacity);
}
