// Module tree with named parameters and buffers (names like `blocks.0.attn.wq.weight`, the keys of a
// safetensors checkpoint). Parameters get gradients and optimiser updates; buffers (e.g. the FAVOR+
// projection W) are state that is saved but never trained.
import { formatShape, sizeOf, type Shape } from '../tensor/shape.js';
import { fnv1a, Rng } from '../tensor/rng.js';
import type { Floats } from '../tensor/floats.js';
import type { Init, ParamInfo, ParamKind } from '../autograd/param.js';
import { Var } from '../autograd/var.js';

export type DType = 'float32' | 'float64';

export function allocArr(dtype: DType, n: number): Floats {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export class Module {
  training = true;
  readonly dtype: DType;
  private readonly params = new Map<string, { v: Var; info: ParamInfo }>();
  private readonly buffers = new Map<string, Var>();
  private readonly children = new Map<string, Module>();

  constructor(dtype: DType = 'float32') {
    this.dtype = dtype;
  }

  protected param(name: string, shape: Shape, kind: ParamKind, init: Init): Var {
    const v = new Var(shape, allocArr(this.dtype, sizeOf(shape)), true);
    this.params.set(name, { v, info: { kind, init } });
    return v;
  }

  protected buffer(name: string, v: Var): Var {
    v.requiresGrad = false;
    this.buffers.set(name, v);
    return v;
  }

  protected setBuffer(name: string, data: Floats): void {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`no buffer '${name}'`);
    b.data = data;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter, depth-first in registration order, with its dotted name. */
  namedParameters(prefix = ''): [string, Var, ParamInfo][] {
    const out: [string, Var, ParamInfo][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p.v, p.info]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Var[] {
    return this.namedParameters().map((e) => e[1]);
  }

  namedBuffers(prefix = ''): [string, Var][] {
    const out: [string, Var][] = [];
    for (const [n, b] of this.buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  modules(): Module[] {
    const out: Module[] = [this];
    for (const c of this.children.values()) out.push(...c.modules());
    return out;
  }

  /** Training mode: dropout active, FAVOR+ features may be redrawn. */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  /** Evaluation mode: no dropout, fixed features. */
  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Parameters and buffers by name (float32 copies when the model is float64). */
  stateDict(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, v] of [...this.namedParameters().map(([n, v]) => [n, v] as [string, Var]), ...this.namedBuffers()]) {
      out.set(n, { shape: [...v.shape], data: v.data instanceof Float32Array ? v.data : Float32Array.from(v.data) });
    }
    return out;
  }

  /** Copies values in by name; every parameter and buffer must be present with its shape (strict). */
  loadStateDict(state: Map<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    const all: [string, Var][] = [...this.namedParameters().map(([n, v]) => [n, v] as [string, Var]), ...this.namedBuffers()];
    const known = new Set(all.map((e) => e[0]));
    for (const k of state.keys()) if (!known.has(k)) throw new Error(`unexpected tensor '${k}' in state`);
    for (const [n, v] of all) {
      const s = state.get(n);
      if (!s) throw new Error(`missing tensor '${n}' in state`);
      if (s.shape.length !== v.shape.length || s.shape.some((x, i) => x !== v.shape[i])) {
        throw new Error(`tensor '${n}' has shape ${formatShape(s.shape)}, the model expects ${formatShape(v.shape)}`);
      }
      // Converted on the host, then uploaded to the Var's engine (on a CPU engine: no copy).
      const a = allocArr(v.dtype, v.size);
      for (let i = 0; i < v.size; i++) a[i] = s.data[i]!;
      v.data = a;
    }
  }
}

/**
 * Deterministic initialisation: parameter `name` is drawn from Rng(seed, fnv1a(name)), so its values
 * depend only on the seed, its name and its shape (not on construction order or other modules).
 */
export function initParameters(root: Module, seed: number): void {
  for (const [name, v, { init }] of root.namedParameters()) {
    // Filled on the host, then uploaded to the parameter's engine (on a CPU engine: no copy).
    const a = allocArr(v.dtype, v.size);
    if (init.kind === 'ones') a.fill(1);
    else if (init.kind === 'normal') new Rng(seed, fnv1a(name)).fillNormal(a, 0, init.std);
    v.data = a;
  }
}

/** Numbered children (`blocks.0`, `blocks.1`, …). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];
  push(m: M): M {
    this.child(String(this.items.length), m);
    this.items.push(m);
    return m;
  }
}
