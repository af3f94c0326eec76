// Token shift (performer-pytorch's shift_tokens), forward and backward; s = channels:
//   y[b,t,c] = x[b,t,c] for c < D − s;  y[b,t,c] = x[b,t−1,c] (0 at t = 0 or after a pad) for c ≥ D − s
//   dx[b,t,c] += dy[b,t,c] for c < D − s;  dx[b,t,c] += dy[b,t+1,c] (where t passes on) for c ≥ D − s
import type { TokenShiftArgs, TokenShiftBwdArgs } from '../../engine.js';

/** Whether position t of row b hands its features to t + 1 (not before the start, not a pad). */
function passes(keyMask: ArrayLike<number> | undefined, L: number, b: number, t: number): boolean {
  return t >= 0 && (!keyMask || keyMask[b * L + t] !== 0);
}

export function tsTokenShift({ x: xs, y: ys, B, L, D, channels, keyMask }: TokenShiftArgs): void {
  const keep = D - channels;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      const row = (b * L + t) * D;
      ys.set(xs.subarray(row, row + keep), row);
      if (passes(keyMask, L, b, t - 1)) ys.set(xs.subarray(row - D + keep, row), row + keep);
    }
  }
}

export function tsTokenShiftBackward({ dy: g, dx: gx, B, L, D, channels, keyMask }: TokenShiftBwdArgs): void {
  const keep = D - channels;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      const row = (b * L + t) * D;
      for (let c = 0; c < keep; c++) gx[row + c] += g[row + c]!;
      if (t + 1 < L && passes(keyMask, L, b, t)) for (let c = keep; c < D; c++) gx[row + c] += g[row + D + c]!;
    }
  }
}
