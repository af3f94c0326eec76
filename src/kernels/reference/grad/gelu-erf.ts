// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (Hendrycks & Gimpel 2016), which PyTorch's nn.GELU
// computes, and the gated form GEGLU (Shazeer 2020, performer-pytorch's ff_glu), forward and backward.
//   gelu:  y = x·Φ(x),                    dy/dx = Φ(x) + x·φ(x), φ the standard normal density
//   geglu: h = [a, b] (halves of the last dim), y = act(a)·b;  da = dy·b·act'(a), db = dy·act(a)
import type { GegluArgs, GegluBwdArgs, GeluBwdArgs, GeluFwdArgs, GeluKind } from '../../engine.js';

/**
 * erf to float64 accuracy: the Maclaurin series for |x| < 2.5 (largest term < e^6.25, so ~1e-13
 * absolute after cancellation), else 1 − erfc by its continued fraction (Lentz), which converges
 * fast there.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = ax + a * D; D = Math.abs(D) < tiny ? tiny : D; D = 1 / D;
    C = ax + a / C; C = Math.abs(C) < tiny ? tiny : C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const GELU_C = Math.sqrt(2 / Math.PI), GELU_A = 0.044715, INV_SQRT2 = Math.SQRT1_2, INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** act(x) and act'(x) for either GELU. */
export function geluValue(kind: GeluKind, x: number): [number, number] {
  if (kind === 'erf') {
    const cdf = 0.5 * (1 + erf(x * INV_SQRT2));
    return [x * cdf, cdf + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)];
  }
  const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
  return [0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x)];
}

export function tsGeluErfForward({ x, y }: GeluFwdArgs): void {
  for (let i = 0; i < x.length; i++) y[i] = geluValue('erf', x[i]!)[0];
}

export function tsGeluErfBackward({ x, dy: g, dx: gx }: GeluBwdArgs): void {
  for (let i = 0; i < x.length; i++) gx[i] = gx[i]! + g[i]! * geluValue('erf', x[i]!)[1];
}

export function tsGegluForward({ h, y, rows, H, kind }: GegluArgs): void {
  const D2 = 2 * H;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < H; c++) y[r * H + c] = geluValue(kind, h[r * D2 + c]!)[0] * h[r * D2 + H + c]!;
  }
}

export function tsGegluBackward({ h, dy: g, dh: gh, rows, H, kind }: GegluBwdArgs): void {
  const D2 = 2 * H;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < H; c++) {
      const [act, dact] = geluValue(kind, h[r * D2 + c]!);
      const gy = g[r * H + c]!;
      gh[r * D2 + c] = gh[r * D2 + c]! + gy * h[r * D2 + H + c]! * dact;
      gh[r * D2 + H + c] = gh[r * D2 + H + c]! + gy * act;
    }
  }
}
