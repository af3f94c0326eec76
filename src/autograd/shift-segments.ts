// Token shift by segments, as performer-pytorch's PreShiftTokens does it: with n = shifts.length
// and f = ⌊D/n⌋, channels [i·f, (i+1)·f) move by shifts[i] positions (+1: taken from the previous
// position, −1: from the next one, 0: kept), zeros shifted in at the ends; channels from n·f on
// are kept. Causal models use (0, 1), bidirectional ones (−1, 0, 1). With a key mask, padded
// positions pass on zeros (their values are zeroed before shifting, as performer-pytorch does).
//   forward:  y[b,t,c] = x[b,t−s,c]·keep(b,t−s) for c in segment s (0 outside [0, L))
//   backward: dx[b,t,c] += dy[b,t+s,c]·keep(b,t) for c in segment s
import { formatShape } from '../tensor/shape.js';
import { record, recording } from './tape.js';
import { alloc, Var } from './var.js';

export function shiftSegments(x: Var, shifts: readonly number[], keyMask?: ArrayLike<number>): Var {
  if (x.rank !== 3) throw new Error(`shiftSegments: expected x [B, L, D], got ${formatShape(x.shape)}`);
  const [B, L, D] = x.shape as [number, number, number];
  if (shifts.length < 1 || shifts.some((s) => !Number.isInteger(s))) throw new Error(`shiftSegments: shifts must be integers, got ${JSON.stringify(shifts)}`);
  if (keyMask && keyMask.length !== B * L) throw new Error(`shiftSegments: keyMask needs ${B * L} values for x ${formatShape(x.shape)}, got ${keyMask.length}`);
  const f = Math.floor(D / shifts.length);
  const shiftOf = (c: number): number => (c < f * shifts.length ? shifts[Math.floor(c / f)]! : 0);
  const passes = (b: number, t: number, s: number): boolean => t >= 0 && t < L && (s === 0 || !keyMask || keyMask[b * L + t] !== 0);
  const y = new Var(x.shape, alloc(x.data, x.size), recording(x));
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < D; c++) {
        const s = shiftOf(c), src = t - s;
        y.data[(b * L + t) * D + c] = passes(b, src, s) ? x.data[(b * L + src) * D + c]! : 0;
      }
    }
  }
  if (y.requiresGrad) {
    record(() => {
      const g = y.grad;
      if (!g) return;
      const gx = x.gradData();
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < L; t++) {
          for (let c = 0; c < D; c++) {
            const s = shiftOf(c), dst = t + s;
            if (dst >= 0 && dst < L && passes(b, t, s)) gx[(b * L + t) * D + c] = gx[(b * L + t) * D + c]! + g[(b * L + dst) * D + c]!;
          }
        }
      }
    });
  }
  return y;
}
