// Causal FAVOR+ as a recurrence (docs/MATH.md, "Recurrent"): the state (S, z, M) per batch and head
// holds everything the past contributes, so each new token costs O(m'·Dv) time and memory,
// whatever the context length. Generation uses this.
import type { FeatureMap } from '../kernels/backend.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { ALL_FEATURE_MAPS, featureCount, isFeatureMap } from '../kernels/backend.js';
import { resolveOprfA } from './oprf.js';
import { featureRow } from '../kernels/reference/features.js';
import { writeRow } from '../kernels/reference/favor.js';
import { FavorState } from '../kernels/reference/state.js';
import { assertFinite } from './validate.js';

export interface RecurrentOptions {
  batch: number;
  heads: number;
  valueDim: number; // Dv
  projection: Tensor; // W [m, d], the same one the chunked path uses
  featureMap?: FeatureMap;
  /** softmax++: FAVOR++'s A, [H] or [batch·H], fixed for the whole sequence (required: a recurrence
   *  cannot take A from positions it has not seen). */
  oprfA?: ArrayLike<number>;
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
  /** One carried state (S [m', Dv], z [m'], M) per batch·head. */
  private readonly states: FavorState[];
  private readonly u: Float64Array;
  private readonly num: Float64Array;
  private readonly kappa: Float32Array;
  private readonly rho: Float32Array;
  private readonly oprfA: Float64Array;
  private steps = 0;

  constructor(opts: RecurrentOptions) {
    const { batch, heads, valueDim, projection, featureMap = 'softmax' } = opts;
    if (!isFeatureMap(featureMap)) throw new Error(`unknown feature map '${featureMap}' (${ALL_FEATURE_MAPS.join('|')})`);
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
    this.states = Array.from({ length: batch * heads }, () => new FavorState(this.features, valueDim));
    this.u = new Float64Array(this.m);
    this.num = new Float64Array(valueDim);
    this.kappa = new Float32Array(this.features);
    this.rho = new Float32Array(this.features);
    this.oprfA = featureMap === 'softmax++' ? resolveOprfA({ B: batch, H: heads }, true, opts.oprfA, () => new Float64Array(0)) : new Float64Array(batch * heads);
  }

  /** Tokens consumed so far. */
  get length(): number {
    return this.steps;
  }

  /** Bytes of state, independent of how many tokens have been consumed. */
  get stateBytes(): number {
    return this.states.length * (this.features * this.valueDim + this.features + 1) * 8; // S, z and M in float64
  }

  reset(): void {
    for (const st of this.states) st.reset();
    this.steps = 0;
  }

  /**
   * Consumes one position: q, k [B, H, d], v [B, H, Dv], optional keyMask [B] (0 = this key is
   * padding). Returns out [B, H, Dv] for this position, attending to every kept key so far.
   */
  step(q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor): Tensor {
    const { batch: B, heads: H, dim: d, valueDim: Dv, m, featureMap, w } = this;
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
        const st = this.states[bh]!;
        const A = this.oprfA[bh]!;
        if (kept) st.addKey(this.kappa, featureRow(featureMap, w, m, d, k.data, bh * d, this.kappa, 0, this.u, A), v.data, bh * Dv);
        featureRow(featureMap, w, m, d, q.data, bh * d, this.rho, 0, this.u, A);
        writeRow(out.data, bh * Dv, this.num, st.readOut(this.rho, 0, 1, this.num));
      }
    }
    this.steps++;
    return out;
  }
}
