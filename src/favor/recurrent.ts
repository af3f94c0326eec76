// Causal FAVOR+ as a recurrence (docs/MATH.md, "Recurrent"): the state (S, z, M) per batch and head
// holds everything the past contributes, so each new token costs O(m'·Dv) time and memory,
// whatever the context length. Generation uses this.
import type { FeatureMap } from '../kernels/backend.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { featureCount, isFeatureMap } from '../kernels/backend.js';
import { featureRow } from '../kernels/reference/features.js';
import { assertFinite } from './validate.js';

export interface RecurrentOptions {
  batch: number;
  heads: number;
  valueDim: number; // Dv
  projection: Tensor; // W [m, d], the same one the chunked path uses
  featureMap?: FeatureMap;
}

export class FavorRecurrentState {
  readonly batch: number;
  readonly heads: number;
  readonly dim: number;
  readonly valueDim: number;
  readonly featureMap: FeatureMap;
  readonly features: number; // m'
  private readonly w: Float32Array;
  private readonly m: number;
  /** S [B·H, m', Dv], z [B·H, m'] in float64, stabilised by M [B·H]. */
  private readonly S: Float64Array;
  private readonly z: Float64Array;
  private readonly M: Float64Array;
  private readonly u: Float64Array;
  private readonly kappa: Float32Array;
  private readonly rho: Float32Array;
  private steps = 0;

  constructor(opts: RecurrentOptions) {
    const { batch, heads, valueDim, projection, featureMap = 'softmax' } = opts;
    if (!isFeatureMap(featureMap)) throw new Error(`unknown feature map '${featureMap}' (softmax|softmax-hyp|trig|relu)`);
    for (const [name, x] of [['batch', batch], ['heads', heads], ['valueDim', valueDim]] as const) {
      if (!Number.isInteger(x) || x < 1) throw new Error(`${name} must be a positive integer, got ${x}`);
    }
    if (projection.rank !== 2 || projection.shape[0]! < 1 || projection.shape[1]! < 1) {
      throw new Error(`projection must have shape [m, d] with m, d >= 1, got ${formatShape(projection.shape)}`);
    }
    assertFinite(projection, 'projection');
    this.batch = batch;
    this.heads = heads;
    this.valueDim = valueDim;
    this.featureMap = featureMap;
    this.m = projection.shape[0]!;
    this.dim = projection.shape[1]!;
    this.w = projection.data;
    this.features = featureCount(featureMap, this.m);
    const bh = batch * heads;
    this.S = new Float64Array(bh * this.features * valueDim);
    this.z = new Float64Array(bh * this.features);
    this.M = new Float64Array(bh).fill(-Infinity);
    this.u = new Float64Array(this.m);
    this.kappa = new Float32Array(this.features);
    this.rho = new Float32Array(this.features);
  }

  /** Tokens consumed so far. */
  get length(): number {
    return this.steps;
  }

  /** Bytes of state, independent of how many tokens have been consumed. */
  get stateBytes(): number {
    return (this.S.length + this.z.length + this.M.length) * 8;
  }

  reset(): void {
    this.S.fill(0);
    this.z.fill(0);
    this.M.fill(-Infinity);
    this.steps = 0;
  }

  /**
   * Consumes one position: q, k [B, H, d], v [B, H, Dv], optional keyMask [B] (0 = this key is
   * padding). Returns out [B, H, Dv] for this position, attending to every kept key so far.
   */
  step(q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor): Tensor {
    const { batch: B, heads: H, dim: d, valueDim: Dv, features: mf, m, featureMap, w } = this;
    const want = (t: Tensor, name: string, last: number): void => {
      if (t.rank !== 3 || t.shape[0] !== B || t.shape[1] !== H || t.shape[2] !== last) {
        throw new Error(`${name} must have shape [${B}, ${H}, ${last}], got ${formatShape(t.shape)}`);
      }
    };
    want(q, 'q', d);
    want(k, 'k', d);
    want(v, 'v', Dv);
    if (keyMask && (keyMask.rank !== 1 || keyMask.shape[0] !== B)) {
      throw new Error(`key mask must have shape [${B}], got ${formatShape(keyMask.shape)}`);
    }
    const out = new Tensor([B, H, Dv]);
    for (let b = 0; b < B; b++) {
      const kept = !keyMask || keyMask.data[b] !== 0;
      for (let h = 0; h < H; h++) {
        const bh = b * H + h;
        const S = this.S.subarray(bh * mf * Dv, (bh + 1) * mf * Dv);
        const z = this.z.subarray(bh * mf, (bh + 1) * mf);
        if (kept) {
          const s = featureRow(featureMap, w, m, d, k.data, bh * d, this.kappa, 0, this.u);
          const Mold = this.M[bh]!;
          if (s > Mold) {
            const r = Mold === -Infinity ? 0 : Math.exp(Mold - s);
            for (let x = 0; x < S.length; x++) S[x] = S[x]! * r;
            for (let x = 0; x < mf; x++) z[x] = z[x]! * r;
            this.M[bh] = s;
          }
          const omega = Math.exp(s - this.M[bh]!);
          for (let l = 0; l < mf; l++) {
            const c = omega * this.kappa[l]!;
            z[l] = z[l]! + c;
            for (let e = 0; e < Dv; e++) S[l * Dv + e] = S[l * Dv + e]! + c * v.data[bh * Dv + e]!;
          }
        }
        featureRow(featureMap, w, m, d, q.data, bh * d, this.rho, 0, this.u);
        let den = 0;
        for (let l = 0; l < mf; l++) den += this.rho[l]! * z[l]!;
        const inv = den === 0 ? 0 : 1 / den;
        for (let e = 0; e < Dv; e++) {
          let num = 0;
          for (let l = 0; l < mf; l++) num += this.rho[l]! * S[l * Dv + e]!;
          out.data[bh * Dv + e] = num * inv;
        }
      }
    }
    this.steps++;
    return out;
  }
}
