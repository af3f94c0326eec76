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
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

/**
 * x [B, L, D] → [B, L, D] with the last `channels` features taken from the previous position.
 * keyMask [B, L] (0 = pad): padded positions shift in zeros.
 */
export function tokenShift(x: Var, channels: number, keyMask?: ArrayLike<number>): Var {
  if (x.rank !== 3) throw new Error(`tokenShift: expected x [B, L, D], got ${formatShape(x.shape)}`);
  const [B, L, D] = x.shape as [number, number, number];
  if (!Number.isInteger(channels) || channels < 0 || channels > D) throw new Error(`tokenShift: channels must be an integer in [0, ${D}], got ${channels}`);
  if (keyMask && keyMask.length !== B * L) throw new Error(`tokenShift: keyMask needs ${B * L} values for x ${formatShape(x.shape)}, got ${keyMask.length}`);
  const kern = engineOf('tokenShift', x);
  const y = output(kern, x.shape, x.dtype, recording(x));
  const dims = { B, L, D, channels, keyMask };
  kern.tokenShift({ ...dims, x: x.storage, y: y.storage });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      kern.tokenShiftBackward({ ...dims, dy, dx: x.gradBuf() });
    });
  }
  return y;
}
