// The carried FAVOR+ state of one head (docs/MATH.md, "Causal" and "Recurrent"):
//   S = Σ_j e^{s_j − M} κ_j v_jᵀ  [m', Dv],   z = Σ_j e^{s_j − M} κ_j  [m'],
// summed in float64 over the keys taken in so far, and referenced to M, the largest log-weight s_j
// among them, so that every weight e^{s_j − M} is ≤ 1 and nothing overflows. The bidirectional
// pass, the causal chunks (forward and backward) and the token-by-token recurrence all move it with
// the same two steps (re-reference to a new maximum, add keys) and read it out the same way.
import type { Floats } from '../../tensor/floats.js';

export class FavorState {
  /** S [m', Dv] row-major and z [m'] (views into a caller's larger arrays if given). */
  readonly S: Float64Array;
  readonly z: Float64Array;
  /** The reference log-weight; −∞ while no key has been added (S and z are then zero). */
  M = -Infinity;

  constructor(readonly features: number, readonly Dv: number, S?: Float64Array, z?: Float64Array) {
    this.S = S ?? new Float64Array(features * Dv);
    this.z = z ?? new Float64Array(features);
  }

  reset(): void {
    this.S.fill(0);
    this.z.fill(0);
    this.M = -Infinity;
  }

  /** Re-references the state to Mnew ≥ M: (S, z) ← e^{M − Mnew}·(S, z), M ← Mnew. */
  rescale(Mnew: number): void {
    const { S, z } = this;
    const r = this.M === -Infinity ? 0 : Math.exp(this.M - Mnew);
    for (let x = 0; x < S.length; x++) S[x] = S[x]! * r;
    for (let x = 0; x < z.length; x++) z[x] = z[x]! * r;
    this.M = Mnew;
  }

  /**
   * S += Σ_j e^{s_j − M} κ_j v_jᵀ, z += Σ_j e^{s_j − M} κ_j over the keys j < n of a chunk: κ_j at
   * kappa[j·m' ..), v_j at v[vOff + j·Dv ..), s_j = s[j] (−∞: a masked key, skipped). M must
   * already be at least every s_j (rescale first).
   */
  addKeys(kappa: Floats, s: ArrayLike<number>, n: number, v: Floats, vOff: number): void {
    const { S, z, M, Dv } = this;
    const mf = this.features;
    for (let j = 0; j < n; j++) {
      if (s[j] === -Infinity) continue;
      const omega = Math.exp(s[j]! - M);
      const kRow = j * mf, vRow = vOff + j * Dv;
      for (let l = 0; l < mf; l++) {
        const c = omega * kappa[kRow + l]!;
        z[l] = z[l]! + c;
        for (let e = 0; e < Dv; e++) S[l * Dv + e] = S[l * Dv + e]! + c * v[vRow + e]!;
      }
    }
  }

  /** One key (κ = kappa[0 .. m'), log-weight s, value v[vOff ..)), moving M up to s if s exceeds it. */
  addKey(kappa: Floats, s: number, v: Floats, vOff: number): void {
    if (s > this.M) this.rescale(s);
    ONE[0] = s;
    this.addKeys(kappa, ONE, 1, v, vOff);
  }

  /**
   * The state's share of query row ρ = rho[rOff .. rOff+m') scaled by α: writes num = α·ρᵀS and
   * returns α·ρ·z (out = num/den once every other term is added; α = e^{M − M(i)} in causal rows).
   */
  readOut(rho: Floats, rOff: number, alpha: number, num: Float64Array): number {
    const { S, z, Dv } = this;
    const mf = this.features;
    num.fill(0);
    let den = 0;
    for (let l = 0; l < mf; l++) {
      const r = alpha * rho[rOff + l]!;
      den += r * z[l]!;
      for (let e = 0; e < Dv; e++) num[e] = num[e]! + r * S[l * Dv + e]!;
    }
    return den;
  }
}

const ONE = new Float64Array(1);
