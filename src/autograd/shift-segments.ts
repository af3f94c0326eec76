// Token shift by segments, as performer-pytorch's PreShiftTokens does it: with n = shifts.length
// and f = ⌊D/n⌋, channels [i·f, (i+1)·f) move by shifts[i] positions (+1: taken from the previous
// position, −1: from the next one, 0: kept), zeros shifted in at the ends; channels from n·f on
// are kept. Causal models use (0, 1), bidirectional ones (−1, 0, 1). With a key mask, padded
// positions pass on zeros (their values are zeroed before shifting, as performer-pytorch does).
// The math is in src/kernels/reference/grad/shift-segments.ts; the op runs on its input's engine.
import { formatShape } from '../tensor/shape.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

export function shiftSegments(x: Var, shifts: readonly number[], keyMask?: ArrayLike<number>): Var {
  if (x.rank !== 3) throw new Error(`shiftSegments: expected x [B, L, D], got ${formatShape(x.shape)}`);
  const [B, L, D] = x.shape as [number, number, number];
  if (shifts.length < 1 || shifts.some((s) => !Number.isInteger(s))) throw new Error(`shiftSegments: shifts must be integers, got ${JSON.stringify(shifts)}`);
  if (keyMask && keyMask.length !== B * L) throw new Error(`shiftSegments: keyMask needs ${B * L} values for x ${formatShape(x.shape)}, got ${keyMask.length}`);
  const e = engineOf('shiftSegments', x);
  const y = output(e, x.shape, x.dtype, recording(x));
  const dims = { B, L, D, shifts, keyMask };
  e.shiftSegmentsForward({ ...dims, x: x.storage, y: y.storage });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      e.shiftSegmentsBackward({ ...dims, dy, dx: x.gradBuf() });
    });
  }
  return y;
}
