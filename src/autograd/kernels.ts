// The compute kernels behind the differentiable ops, as one small interface so a faster backend
// (the WebAssembly SIMD one in src/kernels/wasm) can replace them for float32 data. The plain-TS
// implementations (./kernels-ts) accept float32 or float64 arrays and always serve float64 data, so
// gradient checks exercise exactly the code that runs in training.
import type { FeatureMap } from '../kernels/backend.js';
import type { Floats } from '../tensor/floats.js';
import { tsMatmul } from './kernels-ts/matmul.js';
import { tsFavorBackward, tsFavorForward } from './kernels-ts/favor.js';
import { tsExactBackward, tsExactForward } from './kernels-ts/exact.js';
import { tsDropoutBackward, tsDropoutForward, tsGeluBackward, tsGeluForward } from './kernels-ts/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from './kernels-ts/layernorm.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from './kernels-ts/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from './kernels-ts/cross-entropy.js';
import { defaultBackend } from '../kernels/default.js';

/**
 * batch × (C[M,N] = op(A) op(B)) with op(X) = Xᵀ when the trans flag is set. A is stored [M,K]
 * (or [K,M] when transA), B is stored [K,N] (or [N,K] when transB). Matrix t of the batch starts at
 * t·stride in each array; stride 0 broadcasts one matrix. With accumulate, C += instead of C =.
 */
export interface MatmulArgs {
  a: Floats; b: Floats; c: Floats;
  M: number; N: number; K: number;
  transA: boolean; transB: boolean;
  batch: number; strideA: number; strideB: number; strideC: number;
  accumulate: boolean;
}

/** FAVOR+ forward as in docs/MATH.md (same fields as the Backend's FavorArgs, any float arrays). */
export interface FavorFwdArgs {
  q: Floats; k: Floats; v: Floats; out: Floats;
  projection: Floats; keyMask?: Floats | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; m: number;
  featureMap: FeatureMap; causal: boolean; chunk: number;
}

/** Gradients of FAVOR+: given out (the forward output) and dOut = dL/dout, ADDS into dq, dk, dv. */
export interface FavorBwdArgs extends FavorFwdArgs {
  dOut: Floats; dq: Floats; dk: Floats; dv: Floats;
}

export interface ExactFwdArgs {
  q: Floats; k: Floats; v: Floats; out: Floats; keyMask?: Floats | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; causal: boolean;
}

export interface ExactBwdArgs extends ExactFwdArgs {
  dOut: Floats; dq: Floats; dk: Floats; dv: Floats;
}

/** GELU, tanh approximation, elementwise over x.length values: y = ½x(1 + tanh(c(x + 0.044715x³))). */
export interface GeluFwdArgs { x: Floats; y: Floats }

/** ADDS dy·GELU′(x) into dx. */
export interface GeluBwdArgs { x: Floats; dy: Floats; dx: Floats }

/** LayerNorm over `rows` rows of D: y = (x − μ)·r⊙γ + β, r = 1/√(var + eps); writes μ and r per row. */
export interface LayerNormFwdArgs {
  x: Floats; gamma: Floats; beta: Floats; y: Floats; mean: Floats; rstd: Floats;
  rows: number; D: number; eps: number;
}

/** ADDS dL/dx, dL/dγ, dL/dβ into dx, dGamma, dBeta (null: not wanted) given dy and the forward's μ, r. */
export interface LayerNormBwdArgs {
  x: Floats; gamma: Floats; mean: Floats; rstd: Floats; dy: Floats;
  dx: Floats | null; dGamma: Floats | null; dBeta: Floats | null;
  rows: number; D: number;
}

/** out[i, :] = table[ids[i], :] for a table of rows of D; every id is a valid row. */
export interface EmbeddingFwdArgs { table: Floats; ids: Int32Array; out: Floats; D: number }

/** dTable[ids[i], :] += dOut[i, :]; each entry's additions happen in token order (deterministic). */
export interface EmbeddingBwdArgs { dOut: Floats; ids: Int32Array; dTable: Floats; D: number }

/** Inverted dropout with a given keep mask (1 keep, 0 drop): y = x·scale where kept, 0 elsewhere. */
export interface DropoutFwdArgs { x: Floats; mask: Uint8Array; scale: number; y: Floats }

/** ADDS dy·scale into dx where kept. */
export interface DropoutBwdArgs { dy: Floats; mask: Uint8Array; scale: number; dx: Floats }

/** Softmax cross-entropy of `rows` rows of V logits; rows whose target is ignoreIndex do not count.
 *  The forward writes each counted row's log-sum-exp into lse and returns the mean loss (0 when no
 *  row counts); every counted target is in [0, V). */
export interface CrossEntropyFwdArgs {
  logits: Floats; targets: Int32Array; lse: Floats;
  rows: number; V: number; ignoreIndex: number;
}

/** ADDS (softmax − onehot(target))·dLoss/n into dLogits on the n counted rows. */
export interface CrossEntropyBwdArgs extends CrossEntropyFwdArgs { dLoss: number; dLogits: Floats }

export interface GradKernels {
  readonly name: string;
  matmul(a: MatmulArgs): void;
  favorForward(a: FavorFwdArgs): void;
  favorBackward(a: FavorBwdArgs): void;
  exactForward(a: ExactFwdArgs): void;
  exactBackward(a: ExactBwdArgs): void;
  geluForward(a: GeluFwdArgs): void;
  geluBackward(a: GeluBwdArgs): void;
  layerNormForward(a: LayerNormFwdArgs): void;
  layerNormBackward(a: LayerNormBwdArgs): void;
  embeddingForward(a: EmbeddingFwdArgs): void;
  embeddingBackward(a: EmbeddingBwdArgs): void;
  dropoutForward(a: DropoutFwdArgs): void;
  dropoutBackward(a: DropoutBwdArgs): void;
  crossEntropyForward(a: CrossEntropyFwdArgs): number;
  crossEntropyBackward(a: CrossEntropyBwdArgs): void;
}

/** Plain TypeScript, float32 or float64, inner sums in float64. */
export const tsKernels: GradKernels = {
  name: 'ts',
  matmul: tsMatmul,
  favorForward: tsFavorForward,
  favorBackward: tsFavorBackward,
  exactForward: tsExactForward,
  exactBackward: tsExactBackward,
  geluForward: tsGeluForward,
  geluBackward: tsGeluBackward,
  layerNormForward: tsLayerNormForward,
  layerNormBackward: tsLayerNormBackward,
  embeddingForward: tsEmbeddingForward,
  embeddingBackward: tsEmbeddingBackward,
  dropoutForward: tsDropoutForward,
  dropoutBackward: tsDropoutBackward,
  crossEntropyForward: tsCrossEntropyForward,
  crossEntropyBackward: tsCrossEntropyBackward,
};

/**
 * The float32 default: plain-TS kernels, except that the attention forwards go through the
 * library's current Backend (so installing the wasm Backend speeds them up with no change here).
 */
const backendKernels: GradKernels = {
  ...tsKernels,
  name: 'backend+ts',
  favorForward(a) {
    if (a.q instanceof Float32Array && a.k instanceof Float32Array && a.v instanceof Float32Array &&
        a.out instanceof Float32Array && a.projection instanceof Float32Array &&
        (a.keyMask === undefined || a.keyMask instanceof Float32Array)) {
      defaultBackend().favor({ ...a, q: a.q, k: a.k, v: a.v, out: a.out, projection: a.projection, keyMask: a.keyMask });
    } else tsFavorForward(a);
  },
  exactForward(a) {
    if (a.q instanceof Float32Array && a.k instanceof Float32Array && a.v instanceof Float32Array &&
        a.out instanceof Float32Array && (a.keyMask === undefined || a.keyMask instanceof Float32Array)) {
      defaultBackend().exact({ ...a, q: a.q, k: a.k, v: a.v, out: a.out, keyMask: a.keyMask });
    } else tsExactForward(a);
  },
};

let f32Kernels: GradKernels = backendKernels;

/** Installs kernels for float32 data (missing entries keep the plain-TS ones). */
export function useGradKernels(k: Partial<GradKernels> & { name: string }): void {
  f32Kernels = { ...backendKernels, ...k };
}

export function currentGradKernels(): GradKernels {
  return f32Kernels;
}

/** Float64 data always runs the plain-TS kernels (the float64 path is for checks, not speed). */
export function kernelsFor(x: Floats): GradKernels {
  return x instanceof Float64Array ? tsKernels : f32Kernels;
}
