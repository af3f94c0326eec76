// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2):
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ)
//   p ← p − lr·(m̂/(√v̂ + ε) + λ p)      (the decay λ is NOT folded into the gradient)
// Weight decay applies only to parameters whose kind is in `decayKinds`, by default ['weight']
// (Linear matrices): biases, LayerNorm gains/shifts and embeddings are not decayed unless listed
// (add 'embedding' to decay the token/position tables, which the tied LM head shares).
import type { Var } from '../autograd/var.js';
import type { ParamInfo, ParamKind } from '../autograd/param.js';

export interface AdamWOptions {
  lr?: number; // default 1e-3 (a schedule may pass its own value to step())
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
  weightDecay?: number; // λ, default 0.01
  decayKinds?: ParamKind[]; // default ['weight']
}

/** Anything that enumerates named parameters (every nn Module does). */
export interface HasParameters {
  namedParameters(): [string, Var, ParamInfo][];
}

interface Slot { name: string; p: Var; decay: boolean; m: Float64Array | Float32Array; v: Float64Array | Float32Array }

export interface AdamWState {
  step: number;
  /** `${param}.m` and `${param}.v` moment tensors, float32, shaped like the parameter. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class AdamW {
  readonly opts: Required<AdamWOptions>;
  private readonly slots: Slot[];
  /** Number of updates done (t in the bias corrections). */
  step_ = 0;

  constructor(model: HasParameters, opts: AdamWOptions = {}) {
    this.opts = {
      lr: opts.lr ?? 1e-3, beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? 0.01, decayKinds: opts.decayKinds ?? ['weight'],
    };
    this.slots = model.namedParameters().map(([name, p, info]) => ({
      name, p, decay: this.opts.decayKinds.includes(info.kind),
      m: p.data instanceof Float64Array ? new Float64Array(p.size) : new Float32Array(p.size),
      v: p.data instanceof Float64Array ? new Float64Array(p.size) : new Float32Array(p.size),
    }));
  }

  get stepCount(): number {
    return this.step_;
  }

  /** One update of every parameter that has a gradient. */
  step(lr = this.opts.lr): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.opts;
    const t = ++this.step_;
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
    for (const s of this.slots) {
      const g = s.p.grad;
      if (!g) continue;
      const p = s.p.data, m = s.m, v = s.v;
      const decay = s.decay ? lr * wd : 0;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] = p[i]! - lr * (mi / c1 / (Math.sqrt(vi / c2) + eps)) - decay * p[i]!;
      }
    }
  }

  zeroGrad(): void {
    for (const s of this.slots) s.p.zeroGrad();
  }

  exportState(): AdamWState {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const s of this.slots) {
      tensors.set(`${s.name}.m`, { shape: [...s.p.shape], data: Float32Array.from(s.m) });
      tensors.set(`${s.name}.v`, { shape: [...s.p.shape], data: Float32Array.from(s.v) });
    }
    return { step: this.step_, tensors };
  }

  importState(state: AdamWState): void {
    for (const s of this.slots) {
      for (const [key, dst] of [[`${s.name}.m`, s.m], [`${s.name}.v`, s.v]] as const) {
        const t = state.tensors.get(key);
        if (!t) throw new Error(`optimiser state is missing '${key}'`);
        if (t.data.length !== dst.length) throw new Error(`optimiser state '${key}' has ${t.data.length} values, expected ${dst.length}`);
        dst.set(t.data);
      }
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimiser step must be a non-negative integer, got ${state.step}`);
    this.step_ = state.step;
  }
}

/**
 * Scales all gradients by min(1, maxNorm/‖g‖) with ‖g‖ the global L2 norm over every parameter's
 * gradient. Returns ‖g‖ before clipping.
 */
export function clipGradNorm(params: Var[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const f = maxNorm / norm;
    for (const p of params) {
      const g = p.grad;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * f;
    }
  }
  return norm;
}
