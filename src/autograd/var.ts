// A Var is a value tensor plus its gradient. Values are row-major float32 for training, or float64
// (every op keeps the dtype of its inputs), which the tests use for float64-accurate gradient checks.
import { formatShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Floats } from '../tensor/floats.js';
import { Tensor } from '../tensor/tensor.js';


/** A zero array of the same element type as `like`. */
export function alloc(like: Floats, n: number): Floats {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

export class Var {
  data: Floats;
  readonly shape: number[];
  /** dL/dvalue, allocated lazily (null = no gradient has reached this Var yet). */
  grad: Floats | null = null;
  /** Leaves with requiresGrad are parameters (or gradient-checked inputs); op outputs inherit it. */
  requiresGrad: boolean;
  name: string | undefined;

  constructor(shape: Shape, data?: Floats, requiresGrad = false) {
    const n = sizeOf(shape);
    if (data && data.length !== n) throw new Error(`Var of shape ${formatShape(shape)} needs ${n} values, got ${data.length}`);
    this.shape = [...shape];
    this.data = data ?? new Float32Array(n);
    this.requiresGrad = requiresGrad;
  }

  static fromTensor(t: Tensor, requiresGrad = false): Var {
    return new Var(t.shape, t.data, requiresGrad);
  }

  static from(shape: Shape, values: ArrayLike<number>, opts: { f64?: boolean; requiresGrad?: boolean } = {}): Var {
    const data = opts.f64 ? Float64Array.from(values) : Float32Array.from(values);
    return new Var(shape, data, opts.requiresGrad ?? false);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The gradient buffer, allocated as zeros on first use. */
  gradBuf(): Floats {
    if (!this.grad) this.grad = alloc(this.data, this.data.length);
    return this.grad;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** A float32 Tensor view of the value (copies only when the Var holds float64). */
  tensor(): Tensor {
    return new Tensor(this.shape, this.data instanceof Float32Array ? this.data : Float32Array.from(this.data));
  }

  /** The single value of a one-element Var (e.g. a loss). */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item() needs a one-element Var, got ${formatShape(this.shape)}`);
    return this.data[0]!;
  }

  toString(): string {
    return `Var${formatShape(this.shape)}${this.data instanceof Float64Array ? ' f64' : ''}`;
  }
}
