// The compute kernels behind the differentiable ops, as one small interface so a faster backend
// (the WebAssembly SIMD one in src/kernels/wasm) can replace them for float32 data. The plain-TS
// implementations (./kernels-ts) accept float32 or float64 arrays and always serve float64 data, so
// gradient checks exercise exactly the code that runs in training.
import type { Floats } from '../tensor/floats.js';
import type { CrossEntropyBwdArgs, CrossEntropyFwdArgs, DropoutBwdArgs, DropoutFwdArgs, EmbeddingBwdArgs,
  EmbeddingFwdArgs, ExactBwdArgs, ExactFwdArgs, FavorBwdArgs, FavorFwdArgs, GeluBwdArgs, GeluFwdArgs, LayerNormBwdArgs,
  LayerNormFwdArgs, MatmulArgs } from '../kernels/engine.js';
export type { CrossEntropyBwdArgs, CrossEntropyFwdArgs, DropoutBwdArgs, DropoutFwdArgs, EmbeddingBwdArgs,
  EmbeddingFwdArgs, ExactBwdArgs, ExactFwdArgs, FavorBwdArgs, FavorFwdArgs, GeluBwdArgs, GeluFwdArgs, LayerNormBwdArgs,
  LayerNormFwdArgs, MatmulArgs } from '../kernels/engine.js';
import { tsMatmul } from '../kernels/reference/grad/matmul.js';
import { tsFavorBackward, tsFavorForward } from '../kernels/reference/grad/favor.js';
import { tsExactBackward, tsExactForward } from '../kernels/reference/grad/exact.js';
import { tsDropoutBackward, tsDropoutForward, tsGeluBackward, tsGeluForward } from '../kernels/reference/grad/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from '../kernels/reference/grad/layernorm.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from '../kernels/reference/grad/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from '../kernels/reference/grad/cross-entropy.js';
import { defaultBackend } from '../kernels/default.js';

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
