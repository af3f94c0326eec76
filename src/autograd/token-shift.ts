// Token shift: the last `channels` features of each position are replaced by those of the
// position before it (zeros at position 0), the rest are kept. A causal, parameter-free way to
// hand every layer the previous token directly (performer-pytorch's `shift_tokens`, RWKV's time
// mix), so attention need not learn the sharp "previous token" pattern that FAVOR+'s positive
// random features estimate with a variance growing like exp(‖q̂ + k̂‖²) (docs/MATH.md).
//   forward:  y[b,t,c] = x[b,t,c]            for c < D − s
//             y[b,t,c] = x[b,t−1,c] (0 at t=0) for c ≥ D − s
//   backward: dx[b,t,c] += dy[b,t,c]          for c < D − s
//             dx[b,t,c] += dy[b,t+1,c] (nothing at t = L−1) for c ≥ D − s
// With a key mask, a padded position passes nothing on (zeros instead), so padding never reaches a
// real position, wherever it stands.
import { formatShape } from '../tensor/shape.js';
import { record, recording } from './tape.js';
import { alloc, Var } from './var.js';

/**
 * x [B, L, D] → [B, L, D] with the last `channels` features taken from the previous position.
 * keyMask [B, L] (0 = pad): padded positions shift in zeros.
 */
export function tokenShift(x: Var, channels: number, keyMask?: ArrayLike<number>): Var {
  if (x.rank !== 3) throw new Error(`tokenShift: expected x [B, L, D], got ${formatShape(x.shape)}`);
  const [B, L, D] = x.shape as [number, number, number];
  if (!Number.isInteger(channels) || channels < 0 || channels > D) throw new Error(`tokenShift: channels must be an integer in [0, ${D}], got ${channels}`);
  if (keyMask && keyMask.length !== B * L) throw new Error(`tokenShift: keyMask needs ${B * L} values for x ${formatShape(x.shape)}, got ${keyMask.length}`);
  const keep = D - channels;
  const passes = (b: number, t: number): boolean => t >= 0 && (!keyMask || keyMask[b * L + t] !== 0);
  const y = new Var(x.shape, alloc(x.data, x.size), recording(x));
  const xs = x.data, ys = y.data;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      const row = (b * L + t) * D;
      ys.set(xs.subarray(row, row + keep), row);
      if (passes(b, t - 1)) ys.set(xs.subarray(row - D + keep, row), row + keep);
    }
  }
  if (y.requiresGrad) {
    record(() => {
      const dy = y.grad;
      if (!dy) return;
      const dx = x.gradBuf();
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < L; t++) {
          const row = (b * L + t) * D;
          for (let c = 0; c < keep; c++) dx[row + c] += dy[row + c]!;
          if (t + 1 < L && passes(b, t)) for (let c = keep; c < D; c++) dx[row + c] += dy[row + D + c]!;
        }
      }
    });
  }
  return y;
}
