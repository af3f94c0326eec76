// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (Hendrycks & Gimpel 2016), which PyTorch's nn.GELU
// computes, and its gated form GEGLU (Shazeer 2020, performer-pytorch's ff_glu). The model's default
// GELU is the tanh approximation (./ops.ts); the two differ by up to ~5e-4, which is why a
// performer-pytorch model needs this one to reproduce its logits.
//   gelu:  y = x·Φ(x),                    dy/dx = Φ(x) + x·φ(x), φ the standard normal density
//   geglu: h = [a, b] (halves of the last dim), y = act(a)·b;  da = dy·b·act'(a), db = dy·act(a)
import { formatShape } from '../tensor/shape.js';
import { record, recording } from './tape.js';
import { alloc, Var } from './var.js';

export type GeluKind = 'tanh' | 'erf';

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

/** Exact (erf) GELU, elementwise. */
export function geluErf(x: Var): Var {
  const y = new Var(x.shape, alloc(x.data, x.size), recording(x));
  for (let i = 0; i < x.size; i++) y.data[i] = geluValue('erf', x.data[i]!)[0];
  if (y.requiresGrad) {
    record(() => {
      const g = y.grad;
      if (!g) return;
      const gx = x.gradData();
      for (let i = 0; i < x.size; i++) gx[i] = gx[i]! + g[i]! * geluValue('erf', x.data[i]!)[1];
    });
  }
  return y;
}

/** h [..., 2H] → act(h[..., :H]) ⊙ h[..., H:]  [..., H]. */
export function geglu(h: Var, kind: GeluKind): Var {
  const D2 = h.shape[h.rank - 1]!;
  if (h.rank < 1 || D2 % 2 !== 0) throw new Error(`geglu needs an even last dim, got ${formatShape(h.shape)}`);
  const H = D2 / 2, rows = h.size / D2;
  const y = new Var([...h.shape.slice(0, -1), H], alloc(h.data, rows * H), recording(h));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < H; c++) y.data[r * H + c] = geluValue(kind, h.data[r * D2 + c]!)[0] * h.data[r * D2 + H + c]!;
  }
  if (y.requiresGrad) {
    record(() => {
      const g = y.grad;
      if (!g) return;
      const gh = h.gradData();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < H; c++) {
          const [act, dact] = geluValue(kind, h.data[r * D2 + c]!);
          const gy = g[r * H + c]!;
          gh[r * D2 + c] = gh[r * D2 + c]! + gy * h.data[r * D2 + H + c]! * dact;
          gh[r * D2 + H + c] = gh[r * D2 + H + c]! + gy * act;
        }
      }
    });
  }
  return y;
}
