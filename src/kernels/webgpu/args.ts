// Argument shapes of the kernels: field for field those of the engine interface (issue 9's
// src/kernels/engine.ts, generic in the storage type S) with S = GpuTensor, so registering this
// backend as an engine passes these objects straight through.
import type { AttentionDims, FeatureMap } from '../backend.js';
import { attentionSizes, checkCausal } from '../attention-shape.js';
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

/** FAVOR+ forward (docs/MATH.md): q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → out [B,H,Lq,Dv]. */
export interface FavorFwdArgs extends AttentionDims {
  q: GpuTensor; k: GpuTensor; v: GpuTensor; out: GpuTensor;
  projection: GpuTensor; keyMask?: GpuTensor | undefined;
  m: number; featureMap: FeatureMap; causal: boolean; chunk: number;
}

/** Exact softmax attention, scores q·k/√d. */
export interface ExactFwdArgs extends AttentionDims {
  q: GpuTensor; k: GpuTensor; v: GpuTensor; out: GpuTensor; keyMask?: GpuTensor | undefined;
  causal: boolean;
}

/** Throws unless t holds exactly `n` values. */
export function expectLength(t: GpuTensor, n: number, what: string): void {
  if (t.length !== n) throw new RangeError(`webgpu: ${what} holds ${t.length} values, expected ${n}`);
}

/** The shape rules of kernels/attention-shape.ts, applied to device tensors. */
export function checkAttention(a: ExactFwdArgs, op: string): void {
  for (const [name, x] of Object.entries({ B: a.B, H: a.H, Lq: a.Lq, Lk: a.Lk, d: a.d, Dv: a.Dv })) {
    if (!Number.isInteger(x) || x < 1) throw new RangeError(`webgpu: ${op}: ${name} = ${x} is not a positive integer`);
  }
  checkCausal(a, a.causal, `webgpu: ${op}: `);
  const n = attentionSizes(a);
  expectLength(a.q, n.q, `${op}: q [B·H·Lq·d]`);
  expectLength(a.k, n.k, `${op}: k [B·H·Lk·d]`);
  expectLength(a.v, n.v, `${op}: v [B·H·Lk·Dv]`);
  expectLength(a.out, n.out, `${op}: out [B·H·Lq·Dv]`);
  if (a.keyMask) expectLength(a.keyMask, n.keyMask, `${op}: keyMask [B·Lk]`);
}

/** GELU, tanh approximation, over x.length values: y = ½x(1 + tanh(c(x + 0.044715x³))). */
export interface GeluFwdArgs { x: GpuTensor; y: GpuTensor }
/** ADDS dy·GELU′(x) into dx. */
export interface GeluBwdArgs { x: GpuTensor; dy: GpuTensor; dx: GpuTensor }

/** LayerNorm over `rows` rows of D: y = (x − μ)·r⊙γ + β, r = 1/√(var + eps); writes μ and r per row. */
export interface LayerNormFwdArgs {
  x: GpuTensor; gamma: GpuTensor; beta: GpuTensor; y: GpuTensor; mean: GpuTensor; rstd: GpuTensor;
  rows: number; D: number; eps: number;
}
/** ADDS dL/dx, dL/dγ, dL/dβ into dx, dGamma, dBeta (null: not wanted) given dy and the forward's μ, r. */
export interface LayerNormBwdArgs {
  x: GpuTensor; gamma: GpuTensor; mean: GpuTensor; rstd: GpuTensor; dy: GpuTensor;
  dx: GpuTensor | null; dGamma: GpuTensor | null; dBeta: GpuTensor | null;
  rows: number; D: number;
}

/** Gradients of exact attention given out (the forward's) and dOut = dL/dout; ADDS into dq, dk, dv. */
export interface ExactBwdArgs extends ExactFwdArgs {
  dOut: GpuTensor; dq: GpuTensor; dk: GpuTensor; dv: GpuTensor;
}

/** One AdamW update (Loshchilov & Hutter, Algorithm 2) of n values: m ← β1 m + (1−β1) dp,
 *  v ← β2 v + (1−β2) dp², p ← p − lr·(m/c1)/(√(v/c2) + ε) − decay·p (c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ). */
export interface AdamWArgs {
  p: GpuTensor; dp: GpuTensor; m: GpuTensor; v: GpuTensor; n: number;
  lr: number; beta1: number; beta2: number; eps: number; c1: number; c2: number; decay: number;
}

/** Mean softmax cross-entropy of `rows` rows of V logits into loss [1]; rows whose target is
 *  ignoreIndex do not count (loss 0 when none does); writes each counted row's log-sum-exp into lse. */
export interface CrossEntropyLossArgs {
  logits: GpuTensor; targets: Int32Array; lse: GpuTensor; loss: GpuTensor;
  rows: number; V: number; ignoreIndex: number;
}
/** ADDS (softmax − onehot(target))·dLoss[0]/n into dLogits on the n counted rows. */
export interface CrossEntropyGradArgs {
  logits: GpuTensor; targets: Int32Array; lse: GpuTensor; dLoss: GpuTensor; dLogits: GpuTensor;
  rows: number; V: number; ignoreIndex: number;
}

/** out[i, :] = table[ids[i], :] for a table of rows of D; every id is a valid row. */
export interface EmbeddingFwdArgs { table: GpuTensor; ids: Int32Array; out: GpuTensor; D: number }
/** dTable[ids[i], :] += dOut[i, :], each entry's additions in token order (deterministic). */
export interface EmbeddingBwdArgs { dOut: GpuTensor; ids: Int32Array; dTable: GpuTensor; D: number }
