// Token shift by segments, as performer-pytorch's PreShiftTokens does it: with n = shifts.length
// and f = ⌊D/n⌋, channels [i·f, (i+1)·f) move by shifts[i] positions (+1: taken from the previous
// position, −1: from the next one, 0: kept), zeros shifted in at the ends; channels from n·f on
// are kept. With a key mask, padded positions pass on zeros.
//   forward:  y[b,t,c] = x[b,t−s,c]·keep(b,t−s) for c in segment s (0 outside [0, L))
//   backward: dx[b,t,c] += dy[b,t+s,c]·keep(b,t) for c in segment s
import type { ShiftSegmentsArgs, ShiftSegmentsBwdArgs } from '../../engine.js';

type Dims = Pick<ShiftSegmentsArgs, 'B' | 'L' | 'D' | 'shifts' | 'keyMask'>;

/** The shift of channel c, and whether position t of row b passes its values on under shift s. */
function rules({ L, D, shifts, keyMask }: Dims) {
  const f = Math.floor(D / shifts.length);
  return {
    shiftOf: (c: number): number => (c < f * shifts.length ? shifts[Math.floor(c / f)]! : 0),
    passes: (b: number, t: number, s: number): boolean => t >= 0 && t < L && (s === 0 || !keyMask || keyMask[b * L + t] !== 0),
  };
}

export function tsShiftSegmentsForward(a: ShiftSegmentsArgs): void {
  const { x, y, B, L, D } = a;
  const { shiftOf, passes } = rules(a);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < D; c++) {
        const s = shiftOf(c), src = t - s;
        y[(b * L + t) * D + c] = passes(b, src, s) ? x[(b * L + src) * D + c]! : 0;
      }
    }
  }
}

export function tsShiftSegmentsBackward(a: ShiftSegmentsBwdArgs): void {
  const { dy: g, dx: gx, B, L, D } = a;
  const { shiftOf, passes } = rules(a);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < D; c++) {
        const s = shiftOf(c), dst = t + s;
        if (dst >= 0 && dst < L && passes(b, t, s)) gx[(b * L + t) * D + c] = gx[(b * L + t) * D + c]! + g[(b * L + dst) * D + c]!;
      }
    }
  }
}
