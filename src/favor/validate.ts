// Shape and value checks shared by the attention entry points. Errors name the tensor and shapes.
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface AttentionDims {
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number;
}

function rank(t: Tensor, name: string, r: number, layout: string): void {
  if (t.rank !== r) throw new Error(`${name} must have shape ${layout}, got ${formatShape(t.shape)}`);
}

export function attentionDims(q: Tensor, k: Tensor, v: Tensor, keyMask: Tensor | undefined, causal: boolean): AttentionDims {
  rank(q, 'q', 4, '[B, H, Lq, d]');
  rank(k, 'k', 4, '[B, H, Lk, d]');
  rank(v, 'v', 4, '[B, H, Lk, Dv]');
  const [B, H, Lq, d] = q.shape as [number, number, number, number];
  const [kB, kH, Lk, kd] = k.shape as [number, number, number, number];
  const [vB, vH, vL, Dv] = v.shape as [number, number, number, number];
  if (kB !== B || kH !== H || kd !== d) {
    throw new Error(`k ${formatShape(k.shape)} does not match q ${formatShape(q.shape)} (need the same B, H and d)`);
  }
  if (vB !== B || vH !== H || vL !== Lk) {
    throw new Error(`v ${formatShape(v.shape)} does not match k ${formatShape(k.shape)} (need the same B, H and Lk)`);
  }
  if (d < 1 || Dv < 1) throw new Error(`head dimensions must be positive, got d=${d}, Dv=${Dv}`);
  if (causal && Lq !== Lk) throw new Error(`causal attention needs Lq = Lk, got Lq=${Lq}, Lk=${Lk}`);
  if (keyMask) {
    if (keyMask.rank !== 2 || keyMask.shape[0] !== B || keyMask.shape[1] !== Lk) {
      throw new Error(`key mask must have shape [B, Lk] = [${B}, ${Lk}], got ${formatShape(keyMask.shape)}`);
    }
  }
  return { B, H, Lq, Lk, d, Dv };
}

export function assertFinite(t: Tensor, name: string): void {
  const a = t.data;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) {
      throw new Error(`${name} has a non-finite value (${a[i]}) at flat index ${i} of ${formatShape(t.shape)}`);
    }
  }
}
