// The one interface every compute engine implements: where tensors live (storage), and every kernel
// the library runs on them (attention forwards for inference, and the forward and backward of every
// differentiable op, the optimiser update included). See docs/MATH.md for the math of each kernel.
//
// Storage. `S` is the engine's handle for one array. A CPU engine's storage is the Float32Array or
// Float64Array itself (so its kernels run synchronously, in place, at full speed); a GPU engine's is
// an opaque object over one or more device buffers, read back with the asynchronous `read`. Kernels
// only enqueue work: they never read a result back, so a training step on a device engine downloads
// nothing but its loss. Integer inputs (token ids, targets, dropout masks) are host arrays that the
// engine uploads as it needs.
import type { Device } from '../tensor/storage.js';
import type { FeatureMap } from './backend.js';

export type { DType, Device } from '../tensor/storage.js';
export type { Floats } from '../tensor/floats.js';
import type { Floats } from '../tensor/floats.js';

/**
 * batch × (C[M,N] = op(A) op(B)) with op(X) = Xᵀ when the trans flag is set. A is stored [M,K]
 * (or [K,M] when transA), B is stored [K,N] (or [N,K] when transB). Matrix t of the batch starts at
 * t·stride in each array; stride 0 broadcasts one matrix. With accumulate, C += instead of C =.
 */
export interface MatmulArgs<S = Floats> {
  a: S; b: S; c: S;
  M: number; N: number; K: number;
  transA: boolean; transB: boolean;
  batch: number; strideA: number; strideB: number; strideC: number;
  accumulate: boolean;
}

/** FAVOR+ forward as in docs/MATH.md: q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → out [B,H,Lq,Dv]. */
export interface FavorFwdArgs<S = Floats> {
  q: S; k: S; v: S; out: S;
  projection: S; keyMask?: S | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; m: number;
  featureMap: FeatureMap; causal: boolean; chunk: number;
  oprfA?: S | undefined; // [B·H], FAVOR++'s A (softmax++ only; 0 when absent)
}

/** Gradients of FAVOR+: given out (the forward output) and dOut = dL/dout, ADDS into dq, dk, dv. */
export interface FavorBwdArgs<S = Floats> extends FavorFwdArgs<S> {
  dOut: S; dq: S; dk: S; dv: S;
}

/** Exact softmax attention, scores q·k/√d. */
export interface ExactFwdArgs<S = Floats> {
  q: S; k: S; v: S; out: S; keyMask?: S | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; causal: boolean;
}

export interface ExactBwdArgs<S = Floats> extends ExactFwdArgs<S> {
  dOut: S; dq: S; dk: S; dv: S;
}

/** GELU, tanh approximation, elementwise over x.length values: y = ½x(1 + tanh(c(x + 0.044715x³))). */
export interface GeluFwdArgs<S = Floats> { x: S; y: S }

/** ADDS dy·GELU′(x) into dx. */
export interface GeluBwdArgs<S = Floats> { x: S; dy: S; dx: S }

/** LayerNorm over `rows` rows of D: y = (x − μ)·r⊙γ + β, r = 1/√(var + eps); writes μ and r per row. */
export interface LayerNormFwdArgs<S = Floats> {
  x: S; gamma: S; beta: S; y: S; mean: S; rstd: S;
  rows: number; D: number; eps: number;
}

/** ADDS dL/dx, dL/dγ, dL/dβ into dx, dGamma, dBeta (null: not wanted) given dy and the forward's μ, r. */
export interface LayerNormBwdArgs<S = Floats> {
  x: S; gamma: S; mean: S; rstd: S; dy: S;
  dx: S | null; dGamma: S | null; dBeta: S | null;
  rows: number; D: number;
}

/** out[i, :] = table[ids[i], :] for a table of rows of D; every id is a valid row. */
export interface EmbeddingFwdArgs<S = Floats> { table: S; ids: Int32Array; out: S; D: number }

/** dTable[ids[i], :] += dOut[i, :]; each entry's additions happen in token order (deterministic). */
export interface EmbeddingBwdArgs<S = Floats> { dOut: S; ids: Int32Array; dTable: S; D: number }

/** Inverted dropout with a given keep mask (1 keep, 0 drop): y = x·scale where kept, 0 elsewhere. */
export interface DropoutFwdArgs<S = Floats> { x: S; mask: Uint8Array; scale: number; y: S }

/** ADDS dy·scale into dx where kept. */
export interface DropoutBwdArgs<S = Floats> { dy: S; mask: Uint8Array; scale: number; dx: S }

/** Softmax cross-entropy of `rows` rows of V logits; rows whose target is ignoreIndex do not count.
 *  The forward writes each counted row's log-sum-exp into lse and returns the mean loss (0 when no
 *  row counts); every counted target is in [0, V). */
export interface CrossEntropyFwdArgs<S = Floats> {
  logits: S; targets: Int32Array; lse: S;
  rows: number; V: number; ignoreIndex: number;
}

/** ADDS (softmax − onehot(target))·dLoss/n into dLogits on the n counted rows. */
export interface CrossEntropyBwdArgs<S = Floats> extends CrossEntropyFwdArgs<S> { dLoss: number; dLogits: S }

/** The engine-level cross-entropy: the mean loss is written into `loss` [1], not returned, so a
 *  device engine need not read it back; the backward reads dL/dloss from `dLoss` [1]. */
export interface CrossEntropyLossArgs<S = Floats> extends CrossEntropyFwdArgs<S> { loss: S }
export interface CrossEntropyGradArgs<S = Floats> extends CrossEntropyFwdArgs<S> { dLoss: S; dLogits: S }

/** out = a ∘ b over n values, b broadcast as a suffix: out[i] = a[i] ∘ b[i mod nb]. */
export interface BinaryArgs<S = Floats> { op: 'add' | 'mul'; a: S; b: S; out: S; n: number; nb: number }

/** ADDS the gradients of BinaryArgs' op: da[i] += dOut[i]·∂/∂a, db[i mod nb] += dOut[i]·∂/∂b (null: not wanted). */
export interface BinaryBwdArgs<S = Floats> { op: 'add' | 'mul'; a: S; b: S; dOut: S; da: S | null; db: S | null; n: number; nb: number }

/** y = c·x over n values, or y += c·x with accumulate. */
export interface ScaleArgs<S = Floats> { x: S; y: S; c: number; n: number; accumulate: boolean }

/** out[0] = Σ x (n values); the backward ADDS dOut[0] to every dx[i]. */
export interface SumArgs<S = Floats> { x: S; out: S; n: number }
export interface SumBwdArgs<S = Floats> { dOut: S; dx: S; n: number }

/** dst = src with axes d1, d2 of `shape` swapped (src has `shape`); with accumulate, dst +=. */
export interface TransposeArgs<S = Floats> { src: S; dst: S; shape: readonly number[]; d1: number; d2: number; accumulate: boolean }

/** out[b, :] = Σ_l w[b, l]·x[b, l, :] for x [B, L, D]; the backward ADDS w[b, l]·dOut[b, :] into dx[b, l, :]. */
export interface MeanPoolArgs<S = Floats> { x: S; weights: Float64Array; out: S; B: number; L: number; D: number }
export interface MeanPoolBwdArgs<S = Floats> { dOut: S; weights: Float64Array; dx: S; B: number; L: number; D: number }

/** RoPE rotation of every row of src [rows, dh] (rows cycle over L positions from `offset`) into dst;
 *  sign −1 rotates back (the backward); with accumulate, dst += the rotated rows. */
export interface RopeArgs<S = Floats> {
  src: S; dst: S; n: number; L: number; dh: number; offset: number; base: number; sign: 1 | -1; accumulate: boolean;
}

/** Token shift of x [B, L, D]: the last `channels` features come from the previous position (zeros
 *  at t = 0 and after a padded position of keyMask [B, L]). The backward ADDS into dx. */
export interface TokenShiftArgs<S = Floats> { x: S; y: S; B: number; L: number; D: number; channels: number; keyMask?: ArrayLike<number> | undefined }
export interface TokenShiftBwdArgs<S = Floats> { dy: S; dx: S; B: number; L: number; D: number; channels: number; keyMask?: ArrayLike<number> | undefined }

/** One AdamW update of p given its gradient dp and moments m, v (Loshchilov & Hutter, Algorithm 2):
 *  m ← β1 m + (1−β1) dp, v ← β2 v + (1−β2) dp², p ← p − lr·(m/c1)/(√(v/c2) + ε) − decay·p
 *  with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ and decay = lr·λ (0 when the parameter is not decayed). */
export interface AdamWArgs<S = Floats> {
  p: S; dp: S; m: S; v: S; n: number;
  lr: number; beta1: number; beta2: number; eps: number; c1: number; c2: number; decay: number;
}

/** norm[0] = √(Σ over every gradient array of Σ d²), summed in float64 (norm is a float64 array on CPU engines). */
export interface GradNormArgs<S = Floats> { grads: S[]; norm: S }

/** Scales every gradient by maxNorm/norm[0] when norm[0] > maxNorm (global-norm clipping). */
export interface ClipArgs<S = Floats> { grads: S[]; norm: S; maxNorm: number }

/** Which GELU: the tanh approximation or the exact x·Φ(x) with erf. */
export type GeluKind = 'tanh' | 'erf';

/** GEGLU over rows of h [rows, 2H] → y [rows, H]: y = act(h[:, :H]) ⊙ h[:, H:]; the backward ADDS into dh. */
export interface GegluArgs<S = Floats> { h: S; y: S; rows: number; H: number; kind: GeluKind }
export interface GegluBwdArgs<S = Floats> { h: S; dy: S; dh: S; rows: number; H: number; kind: GeluKind }

/** ScaleNorm over rows of D: y = g[0]·x/n, n = max(‖x‖, eps), written into norms [rows] (float64 on
 *  CPU engines); the backward ADDS into dx and dg (null: not wanted). */
export interface ScaleNormArgs<S = Floats> { x: S; g: S; y: S; norms: S; rows: number; D: number; eps: number }
export interface ScaleNormBwdArgs<S = Floats> { x: S; g: S; norms: S; dy: S; dx: S | null; dg: S | null; rows: number; D: number; eps: number }

/** ReZero's gate y = g[0]·x over n values; the backward ADDS into dx and dg (null: not wanted). */
export interface GateArgs<S = Floats> { x: S; g: S; y: S; n: number }
export interface GateBwdArgs<S = Floats> { x: S; g: S; dy: S; dx: S | null; dg: S | null; n: number }

/** Token shift by segments of x [B, L, D] (performer-pytorch's PreShiftTokens); the backward ADDS into dx. */
export interface ShiftSegmentsArgs<S = Floats> { x: S; y: S; B: number; L: number; D: number; shifts: readonly number[]; keyMask?: ArrayLike<number> | undefined }
export interface ShiftSegmentsBwdArgs<S = Floats> { dy: S; dx: S; B: number; L: number; D: number; shifts: readonly number[]; keyMask?: ArrayLike<number> | undefined }

/** Every kernel an engine runs. Backwards ADD into their gradient arrays. */
/** Block-local exact attention of local heads (docs/MATH.md, (L1)–(L5); kernels/reference/local.ts). */
export interface LocalFwdArgs<S = Floats> {
  q: S; k: S; v: S; out: S; keyMask?: S | undefined; // q, k [B, H, L, d], v and out [B, H, L, Dv], keyMask [B, L]
  B: number; H: number; L: number; d: number; Dv: number;
  window: number; causal: boolean;
  offset?: number; // absolute position of row 0 (rotary angles), default 0
  paddedRows?: boolean; // (L5), performer-pytorch numerics
}

/** Gradients of local attention: given out and dOut, ADDS into dq, dk, dv. */
export interface LocalBwdArgs<S = Floats> extends LocalFwdArgs<S> {
  dOut: S; dq: S; dk: S; dv: S;
}

/** Per batch b < B: dst[b·dstStride + dstOff + i] (+)= src[b·srcStride + srcOff + i], i < n (head groups). */
export interface HeadCopyArgs<S = Floats> {
  src: S; dst: S; B: number; srcStride: number; srcOff: number; dstStride: number; dstOff: number; n: number; accumulate: boolean;
}

export interface Kernels<S = Floats> {
  localForward(a: LocalFwdArgs<S>): void;
  localBackward(a: LocalBwdArgs<S>): void;
  headCopy(a: HeadCopyArgs<S>): void;
  matmul(a: MatmulArgs<S>): void;
  /** Also the inference entry point of favorAttention (float32). */
  favorForward(a: FavorFwdArgs<S>): void;
  favorBackward(a: FavorBwdArgs<S>): void;
  /** Also the inference entry point of exactAttention (float32). */
  exactForward(a: ExactFwdArgs<S>): void;
  exactBackward(a: ExactBwdArgs<S>): void;
  geluForward(a: GeluFwdArgs<S>): void;
  geluBackward(a: GeluBwdArgs<S>): void;
  layerNormForward(a: LayerNormFwdArgs<S>): void;
  layerNormBackward(a: LayerNormBwdArgs<S>): void;
  embeddingForward(a: EmbeddingFwdArgs<S>): void;
  embeddingBackward(a: EmbeddingBwdArgs<S>): void;
  dropoutForward(a: DropoutFwdArgs<S>): void;
  dropoutBackward(a: DropoutBwdArgs<S>): void;
  crossEntropyForward(a: CrossEntropyLossArgs<S>): void;
  crossEntropyBackward(a: CrossEntropyGradArgs<S>): void;
  binary(a: BinaryArgs<S>): void;
  binaryBackward(a: BinaryBwdArgs<S>): void;
  scale(a: ScaleArgs<S>): void;
  sum(a: SumArgs<S>): void;
  sumBackward(a: SumBwdArgs<S>): void;
  transpose(a: TransposeArgs<S>): void;
  meanPool(a: MeanPoolArgs<S>): void;
  meanPoolBackward(a: MeanPoolBwdArgs<S>): void;
  rope(a: RopeArgs<S>): void;
  tokenShift(a: TokenShiftArgs<S>): void;
  tokenShiftBackward(a: TokenShiftBwdArgs<S>): void;
  /** GELU with the exact erf, x·Φ(x) (performer-pytorch models). */
  geluErfForward(a: GeluFwdArgs<S>): void;
  geluErfBackward(a: GeluBwdArgs<S>): void;
  gegluForward(a: GegluArgs<S>): void;
  gegluBackward(a: GegluBwdArgs<S>): void;
  scaleNormForward(a: ScaleNormArgs<S>): void;
  scaleNormBackward(a: ScaleNormBwdArgs<S>): void;
  gateForward(a: GateArgs<S>): void;
  gateBackward(a: GateBwdArgs<S>): void;
  shiftSegmentsForward(a: ShiftSegmentsArgs<S>): void;
  shiftSegmentsBackward(a: ShiftSegmentsBwdArgs<S>): void;
  adamw(a: AdamWArgs<S>): void;
  gradNorm(a: GradNormArgs<S>): void;
  clip(a: ClipArgs<S>): void;
}

/**
 * A compute engine: one object with its storage (Device) and every kernel. `useEngine` in
 * ./registry.ts creates one by name and makes it the process-wide default.
 */
export interface Engine<S = unknown> extends Device<S>, Kernels<S> {
  /** The registry name, e.g. 'wasm'. */
  readonly name: string;
  /** What runs where, e.g. "wasm-relaxed (every kernel; float64 on reference)". */
  readonly kernels: string;
  /** Threads its kernels use. */
  readonly threads: number;
  /** Frees what the engine holds (worker threads); it cannot be used afterwards. */
  dispose(): void;
}

/** True for an Engine (a Device that also has kernels). */
export function isEngine(d: Device): d is Engine {
  return typeof (d as Partial<Engine>).matmul === 'function';
}
