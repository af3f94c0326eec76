// Argument shapes of the kernels, field for field those of the engine interface (issue 9's
// src/kernels/engine.ts, generic in the storage type S), with S = GpuTensor. Registering this backend
// as an engine is then a matter of passing these objects through.
import type { Kernel } from '../backend.js';
import type { GpuTensor } from './storage.js';

/**
 * batch × (C[M,N] = op(A) op(B)), op(X) = Xᵀ when the flag is set; A is stored [M,K] ([K,M] when
 * transA), B [K,N] ([N,K] when transB). Matrix t starts at t·stride; stride 0 broadcasts.
 */
export interface MatmulArgs {
  a: GpuTensor; b: GpuTensor; c: GpuTensor;
  M: number; N: number; K: number;
  transA: boolean; transB: boolean;
  batch: number; strideA: number; strideB: number; strideC: number;
  accumulate: boolean;
}

/** FAVOR+ forward (docs/MATH.md): q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,dv] → out [B,H,Lq,dv]. */
export interface FavorFwdArgs {
  q: GpuTensor; k: GpuTensor; v: GpuTensor; out: GpuTensor;
  projection: GpuTensor; keyMask?: GpuTensor | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number; m: number;
  kernel: Kernel; causal: boolean; chunk: number;
}

/** Exact softmax attention, scores q·k/√d. */
export interface ExactFwdArgs {
  q: GpuTensor; k: GpuTensor; v: GpuTensor; out: GpuTensor; keyMask?: GpuTensor | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number; causal: boolean;
}

/** Throws unless t holds exactly `n` values. */
export function expectLength(t: GpuTensor, n: number, what: string): void {
  if (t.length !== n) throw new Error(`webgpu: ${what} holds ${t.length} values, expected ${n}`);
}

/** Throws unless every size is a positive integer (causal attention also needs Lq = Lk). */
export function checkAttention(a: ExactFwdArgs, op: string): void {
  for (const [name, x] of Object.entries({ B: a.B, H: a.H, Lq: a.Lq, Lk: a.Lk, d: a.d, dv: a.dv })) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`webgpu: ${op}: ${name} = ${x} is not a positive integer`);
  }
  if (a.causal && a.Lq !== a.Lk) throw new Error(`webgpu: ${op}: causal attention needs Lq = Lk, got ${a.Lq} and ${a.Lk}`);
  const { B, H, Lq, Lk, d, dv } = a;
  expectLength(a.q, B * H * Lq * d, `${op}: q [B·H·Lq·d]`);
  expectLength(a.k, B * H * Lk * d, `${op}: k [B·H·Lk·d]`);
  expectLength(a.v, B * H * Lk * dv, `${op}: v [B·H·Lk·dv]`);
  expectLength(a.out, B * H * Lq * dv, `${op}: out [B·H·Lq·dv]`);
  if (a.keyMask) expectLength(a.keyMask, B * Lk, `${op}: keyMask [B·Lk]`);
}
