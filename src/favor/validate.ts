// Checks of the Tensor entry points: the shape rules of src/kernels/attention-shape.ts, and finite values.
import { attentionDims, checkKeyMaskShape, type AttentionDims } from '../kernels/attention-shape.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** q, k, v and an optional key mask against the layouts of attention; returns the dims. */
export function attentionTensorDims(q: Tensor, k: Tensor, v: Tensor, keyMask: Tensor | undefined, causal: boolean): AttentionDims {
  const dims = attentionDims(q.shape, k.shape, v.shape, causal);
  if (keyMask) checkKeyMaskShape(dims, keyMask.shape);
  return dims;
}

export function assertFinite(t: Tensor, name: string): void {
  const a = t.data;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) {
      throw new Error(`${name} has a non-finite value (${a[i]}) at flat index ${i} of ${formatShape(t.shape)}`);
    }
  }
}
