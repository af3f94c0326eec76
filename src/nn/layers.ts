// Basic layers: Embedding, Linear, LayerNorm, ScaleNorm, FeedForward.
import { add, embedding, gelu, layerNorm, matmul } from '../autograd/ops.js';
import { geglu, geluErf, type GeluKind } from '../autograd/gelu-erf.js';
import { scaleNorm } from '../autograd/scale-norm.js';
import type { Var } from '../autograd/var.js';
import type { Shape } from '../tensor/shape.js';
import { Module, type DType } from './module.js';

export class Embedding extends Module {
  readonly weight: Var;
  constructor(readonly num: number, readonly dim: number, opts: { std?: number; dtype?: DType } = {}) {
    super(opts.dtype);
    this.weight = this.param('weight', [num, dim], 'embedding', { kind: 'normal', std: opts.std ?? 0.02 });
  }
  forward(ids: Int32Array | readonly number[], shape: Shape): Var {
    return embedding(this.weight, ids, shape);
  }
}

/** y = x Wᵀ + b with W [out, in] (PyTorch layout), b [out]. */
export class Linear extends Module {
  readonly weight: Var;
  readonly bias: Var | undefined;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; std?: number; dtype?: DType } = {}) {
    super(opts.dtype);
    this.weight = this.param('weight', [outFeatures, inFeatures], 'weight', { kind: 'normal', std: opts.std ?? 0.02 });
    this.bias = opts.bias ?? true ? this.param('bias', [outFeatures], 'bias', { kind: 'zeros' }) : undefined;
  }
  forward(x: Var): Var {
    const y = matmul(x, this.weight, { transB: true });
    return this.bias ? add(y, this.bias) : y;
  }
}

export class LayerNorm extends Module {
  readonly weight: Var;
  readonly bias: Var;
  constructor(readonly dim: number, opts: { eps?: number; dtype?: DType } = {}) {
    super(opts.dtype);
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.param('weight', [dim], 'norm', { kind: 'ones' });
    this.bias = this.param('bias', [dim], 'norm', { kind: 'zeros' });
  }
  readonly eps: number;
  forward(x: Var): Var {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** y = g·x/max(‖x‖, eps) with one learned gain g (Nguyen & Salazar 2019). */
export class ScaleNorm extends Module {
  readonly weight: Var;
  constructor(readonly eps = 1e-5, opts: { dtype?: DType } = {}) {
    super(opts.dtype);
    this.weight = this.param('weight', [1], 'norm', { kind: 'ones' });
  }
  forward(x: Var): Var {
    return scaleNorm(x, this.weight, this.eps);
  }
}

/**
 * Position-wise MLP: fc2(GELU(fc1(x))), hidden = mult·dim (default 4). With glu, fc1 has 2·hidden
 * outputs [a, b] and the activation is GELU(a)⊙b (GEGLU). gelu: 'tanh' (default) or 'erf' (exact).
 */
export class FeedForward extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly glu: boolean;
  readonly gelu: GeluKind;
  constructor(dim: number, opts: { mult?: number; outStd?: number; glu?: boolean; gelu?: GeluKind; dtype?: DType } = {}) {
    super(opts.dtype);
    const hidden = (opts.mult ?? 4) * dim;
    this.glu = opts.glu ?? false;
    this.gelu = opts.gelu ?? 'tanh';
    this.fc1 = this.child('fc1', new Linear(dim, this.glu ? 2 * hidden : hidden, { dtype: opts.dtype }));
    this.fc2 = this.child('fc2', new Linear(hidden, dim, { dtype: opts.dtype, std: opts.outStd }));
  }
  forward(x: Var): Var {
    const h = this.fc1.forward(x);
    const a = this.glu ? geglu(h, this.gelu) : this.gelu === 'erf' ? geluErf(h) : gelu(h);
    return this.fc2.forward(a);
  }
}
