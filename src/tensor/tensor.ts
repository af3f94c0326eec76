import { assertValidShape, formatShape, sizeOf, type Shape } from './shape.js';

/**
 * A float32 tensor: a shape and a row-major Float32Array. The array may be a view into a
 * backend's memory (e.g. the WebAssembly backend's shared memory, via its `alloc`), so kernels
 * can read and write it in place.
 */
export class Tensor {
  readonly shape: Shape;
  readonly data: Float32Array;

  constructor(shape: Shape, data?: Float32Array) {
    assertValidShape(shape);
    const n = sizeOf(shape);
    if (data && data.length !== n) {
      throw new Error(`tensor of shape ${formatShape(shape)} needs ${n} values, got ${data.length}`);
    }
    this.shape = [...shape];
    this.data = data ?? new Float32Array(n);
  }

  static zeros(shape: Shape): Tensor {
    return new Tensor(shape);
  }

  static from(shape: Shape, values: ArrayLike<number>): Tensor {
    return new Tensor(shape, Float32Array.from(values));
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  reshape(shape: Shape): Tensor {
    return new Tensor(shape, this.data);
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}`;
  }
}
