// Cutting a dispatch at binding boundaries. A kernel works on `heads` × `positions` (heads: B·H, or a
// matmul's batch; positions: sequence rows, or matrix rows). Each tensor it reads or writes is a view
// into a GpuTensor: position p of head h starts at h·headStride + p·posStride and spans `span` values.
// A piece is a block of heads × positions whose values lie, for every view, in one part, so one
// dispatch can bind one buffer per view. When every tensor has one part (the usual case) the whole
// problem is one piece; otherwise pieces are cut per head at part boundaries.
import type { GpuTensor } from './storage.js';

export interface View {
  t: GpuTensor;
  name: string;
  headStride: number;
  posStride: number;
  span: number;
}

export interface Binding {
  buffer: GPUBuffer;
  /** Index, inside `buffer`, of the first value of (head bh0, position p0). */
  base: number;
}

export interface Piece {
  bh0: number;
  nbh: number;
  p0: number;
  p1: number;
  binds: Binding[];
}

export function pieces(views: readonly View[], heads: number, positions: number): Piece[] {
  if (heads === 0 || positions === 0) return [];
  if (views.every((v) => v.t.parts.length === 1)) {
    return [{ bh0: 0, nbh: heads, p0: 0, p1: positions, binds: views.map((v) => ({ buffer: v.t.parts[0]!, base: 0 })) }];
  }
  const out: Piece[] = [];
  for (let bh = 0; bh < heads; bh++) {
    for (let p = 0; p < positions;) {
      let p1 = positions;
      const binds: Binding[] = [];
      for (const v of views) {
        const start = bh * v.headStride + p * v.posStride;
        const part = Math.floor(start / v.t.partLength);
        const end = Math.min((part + 1) * v.t.partLength, v.t.length); // one past this part's last value
        const fit = v.posStride === 0
          ? (start + v.span <= end ? positions : p)
          : Math.floor((end - bh * v.headStride - v.span) / v.posStride) + 1;
        if (fit <= p) {
          throw new Error(`webgpu: ${v.name}: ${v.span * 4} bytes that one workgroup reads together cross a boundary between parts of ${v.t.partLength * 4} bytes (the storage-binding limit); allocate it with a row length that matches its rows`);
        }
        p1 = Math.min(p1, fit);
        binds.push({ buffer: v.t.parts[part]!, base: start - part * v.t.partLength });
      }
      out.push({ bh0: bh, nbh: 1, p0: p, p1, binds });
      p = p1;
    }
  }
  return out;
}

/** The one buffer holding all of `t`, or an error naming the limit it exceeds. */
export function whole(t: GpuTensor, name: string): GPUBuffer {
  if (t.parts.length !== 1) {
    throw new Error(`webgpu: ${name} (${t.length * 4} bytes) must fit one storage binding of ${t.partLength * 4} bytes`);
  }
  return t.parts[0]!;
}
