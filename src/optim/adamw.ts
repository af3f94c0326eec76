// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2):
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ)
//   p ← p − lr·(m̂/(√v̂ + ε) + λ p)      (the decay λ is NOT folded into the gradient)
// Weight decay applies only to parameters whose kind is in `decayKinds`, by default ['weight']
// (Linear matrices): biases, LayerNorm gains/shifts and embeddings are not decayed unless listed
// (add 'embedding' to decay the token/position tables, which the tied LM head shares).
// Both the update and the clipping are engine kernels, so parameters, gradients and moments stay
// where the parameters live (a device engine trains without reading anything back).
import { engineOf, output } from '../autograd/engine-of.js';
import { Var } from '../autograd/var.js';
import type { Engine } from '../kernels/engine.js';
import type { Floats } from '../tensor/floats.js';
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

/** A parameter and its moments m, v: storage of the parameter's engine, in its dtype. */
interface Slot { name: string; p: Var; engine: Engine; decay: boolean; m: unknown; v: unknown }

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
    this.slots = model.namedParameters().map(([name, p, info]) => {
      const engine = engineOf('AdamW', p);
      return {
        name, p, engine, decay: this.opts.decayKinds.includes(info.kind),
        m: engine.zeros(p.size, p.dtype), v: engine.zeros(p.size, p.dtype),
      };
    });
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
      const dp = s.p.gradStorage;
      if (dp === null) continue;
      s.engine.adamw({
        p: s.p.storage, dp, m: s.m, v: s.v, n: s.p.size,
        lr, beta1: b1, beta2: b2, eps, c1, c2, decay: s.decay ? lr * wd : 0,
      });
    }
  }

  zeroGrad(): void {
    for (const s of this.slots) s.p.zeroGrad();
  }

  exportState(): AdamWState {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const s of this.slots) {
      tensors.set(`${s.name}.m`, { shape: [...s.p.shape], data: Float32Array.from(s.engine.readSync(s.m)) });
      tensors.set(`${s.name}.v`, { shape: [...s.p.shape], data: Float32Array.from(s.engine.readSync(s.v)) });
    }
    return { step: this.step_, tensors };
  }

  importState(state: AdamWState): void {
    const moments = new Map<Slot, [unknown, unknown]>();
    for (const s of this.slots) {
      const [m, v] = (['m', 'v'] as const).map((which) => {
        const key = `${s.name}.${which}`;
        const t = state.tensors.get(key);
        if (!t) throw new Error(`optimiser state is missing '${key}'`);
        if (t.data.length !== s.p.size) throw new Error(`optimiser state '${key}' has ${t.data.length} values, expected ${s.p.size}`);
        const host: Floats = s.p.dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data);
        return s.engine.upload(host);
      }) as [unknown, unknown];
      moments.set(s, [m, v]);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimiser step must be a non-negative integer, got ${state.step}`);
    for (const [s, [m, v]] of moments) { s.m = m; s.v = v; }
    this.step_ = state.step;
  }
}

/**
 * Scales all gradients by min(1, maxNorm/‖g‖) with ‖g‖ the global L2 norm over every parameter's
 * gradient, on the parameters' engine. Returns ‖g‖ before clipping as a one-element Var on that
 * engine (float64 on CPU engines): nothing is read back.
 */
export function clipGradNormVar(params: Var[], maxNorm: number): Var {
  const withGrad = params.filter((p) => p.gradStorage !== null);
  const first = withGrad[0] ?? params[0];
  if (!first) return new Var([1], new Float64Array(1));
  const engine = engineOf('clipGradNorm', first, ...withGrad);
  const norm = output(engine, [1], 'float64', false);
  const grads = withGrad.map((p) => p.gradStorage);
  engine.gradNorm({ grads, norm: norm.storage });
  engine.clip({ grads, norm: norm.storage, maxNorm });
  return norm;
}

/** clipGradNormVar, returning ‖g‖ as a number (a synchronous read: CPU engines). */
export function clipGradNorm(params: Var[], maxNorm: number): number {
  return clipGradNormVar(params, maxNorm).item();
}
