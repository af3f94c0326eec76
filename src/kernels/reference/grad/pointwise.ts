// Elementwise ops, forward and backward: GELU (tanh approximation) and inverted dropout.
//   GELU: y = ½x(1 + t), t = tanh(c(x + 0.044715x³)), c = √(2/π);
//         dy/dx = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²).
//   dropout: y = x·scale where mask = 1, 0 where mask = 0; dx = dy·scale where mask = 1.
import type { DropoutBwdArgs, DropoutFwdArgs, GeluBwdArgs, GeluFwdArgs } from '../../engine.js';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

export function tsGeluForward({ x, y }: GeluFwdArgs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
  }
}

/** Differentiates (G1) of docs/MATH.md, y = ½x(1 + tanh(c(x + 0.044715x³))), by (G2): dx += dy·GELU′(x). */
export function tsGeluBackward({ x, dy, dx }: GeluBwdArgs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
    const dydx = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    dx[i] = dx[i]! + dy[i]! * dydx;
  }
}

export function tsDropoutForward({ x, mask, scale, y }: DropoutFwdArgs): void {
  for (let i = 0; i < x.length; i++) y[i] = mask[i] ? x[i]! * scale : 0;
}

/** Differentiates (D1) of docs/MATH.md, y = x·scale where mask = 1, by (D2): dx += dy·scale where mask = 1. */
export function tsDropoutBackward({ dy, mask, scale, dx }: DropoutBwdArgs): void {
  for (let i = 0; i < dy.length; i++) if (mask[i]) dx[i] = dx[i]! + dy[i]! * scale;
}
