// The compute kernels behind the differentiable ops, as one small interface so a faster backend
// (the WebAssembly SIMD one in src/kernels/wasm) can replace them for float32 data. The plain-TS
// implementations (./kernels-ts) accept float32 or float64 arrays and always serve float64 data, so
// gradient checks exercise exactly the code that runs in training.
import type { Kernel } from '../kernels/backend.js';
import type { Arr } from './var.js';
import { tsMatmul } from './kernels-ts/matmul.js';
import { tsFavorBackward, tsFavorForward } from './kernels-ts/favor.js';
import { tsExactBackward, tsExactForward } from './kernels-ts/exact.js';
import { defaultBackend } from '../kernels/default.js';

/**
 * batch × (C[M,N] = op(A) op(B)) with op(X) = Xᵀ when the trans flag is set. A is stored [M,K]
 * (or [K,M] when transA), B is stored [K,N] (or [N,K] when transB). Matrix t of the batch starts at
 * t·stride in each array; stride 0 broadcasts one matrix. With accumulate, C += instead of C =.
 */
export interface MatmulArgs {
  a: Arr; b: Arr; c: Arr;
  M: number; N: number; K: number;
  transA: boolean; transB: boolean;
  batch: number; strideA: number; strideB: number; strideC: number;
  accumulate: boolean;
}

/** FAVOR+ forward as in docs/MATH.md (same fields as the Backend's FavorArgs, any float arrays). */
export interface FavorFwdArgs {
  q: Arr; k: Arr; v: Arr; out: Arr;
  projection: Arr; keyMask?: Arr | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number; m: number;
  kernel: Kernel; causal: boolean; chunk: number;
}

/** Gradients of FAVOR+: given out (the forward output) and gOut = dL/dout, ADDS into dq, dk, dv. */
export interface FavorBwdArgs extends FavorFwdArgs {
  gOut: Arr; dq: Arr; dk: Arr; dv_: Arr;
}

export interface ExactFwdArgs {
  q: Arr; k: Arr; v: Arr; out: Arr; keyMask?: Arr | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number; causal: boolean;
}

export interface ExactBwdArgs extends ExactFwdArgs {
  gOut: Arr; dq: Arr; dk: Arr; dv_: Arr;
}

export interface GradKernels {
  readonly name: string;
  matmul(a: MatmulArgs): void;
  favorForward(a: FavorFwdArgs): void;
  favorBackward(a: FavorBwdArgs): void;
  exactForward(a: ExactFwdArgs): void;
  exactBackward(a: ExactBwdArgs): void;
}

/** Plain TypeScript, float32 or float64, inner sums in float64. */
export const tsKernels: GradKernels = {
  name: 'ts',
  matmul: tsMatmul,
  favorForward: tsFavorForward,
  favorBackward: tsFavorBackward,
  exactForward: tsExactForward,
  exactBackward: tsExactBackward,
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
export function kernelsFor(x: Arr): GradKernels {
  return x instanceof Float64Array ? tsKernels : f32Kernels;
}
