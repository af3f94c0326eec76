import { assertValidShape, formatShape, sizeOf, type Shape } from './shape.js';
import { defaultDevice, type Device } from './storage.js';

/**
 * A float32 tensor: a shape and row-major storage on one device (engine), by default the
 * process-wide default engine. On a CPU engine the storage is a Float32Array (possibly a view into
 * the wasm memory, from the wasm backend's `alloc`, so kernels use it in place) and `data` is that
 * array; on a device engine `data` throws and `await read()` brings the values back.
 */
export class Tensor {
  readonly shape: Shape;
  readonly device: Device;
  /** The device's handle to the values (on a CPU engine, the Float32Array itself). */
  readonly storage: unknown;

  constructor(shape: Shape, data?: Float32Array, device: Device = defaultDevice()) {
    assertValidShape(shape);
    const n = sizeOf(shape);
    if (data && data.length !== n) {
      throw new Error(`tensor of shape ${formatShape(shape)} needs ${n} values, got ${data.length}`);
    }
    this.shape = [...shape];
    this.device = device;
    this.storage = data ? device.upload(data) : device.zeros(n, 'float32');
    if (device.dtype(this.storage) !== 'float32') throw new Error(`tensor ${formatShape(shape)}: storage is not float32`);
  }

  /** A tensor over existing storage of `device` (no copy). */
  static fromStorage(shape: Shape, device: Device, storage: unknown): Tensor {
    const t = Object.create(Tensor.prototype) as { shape: Shape; device: Device; storage: unknown };
    const n = sizeOf(shape);
    if (device.size(storage) !== n) throw new Error(`tensor of shape ${formatShape(shape)} needs ${n} values, got ${device.size(storage)}`);
    t.shape = [...shape];
    t.device = device;
    t.storage = storage;
    return t as Tensor;
  }

  static zeros(shape: Shape, device?: Device): Tensor {
    return new Tensor(shape, undefined, device);
  }

  static from(shape: Shape, values: ArrayLike<number>, device?: Device): Tensor {
    return new Tensor(shape, Float32Array.from(values), device);
  }

  /** The values, synchronously: the storage itself on a CPU engine; throws on a device engine. */
  get data(): Float32Array {
    return this.device.readSync(this.storage) as Float32Array;
  }

  /** The values as a host Float32Array, once the work enqueued on the device has finished. */
  async read(): Promise<Float32Array> {
    return (await this.device.read(this.storage)) as Float32Array;
  }

  /** This tensor on `device`: itself when already there; shares the array between CPU engines; else a copy. */
  async to(device: Device): Promise<Tensor> {
    if (device === this.device) return this;
    if (device.host && this.device.host) return Tensor.fromStorage(this.shape, device, this.storage);
    return new Tensor(this.shape, await this.read(), device);
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  reshape(shape: Shape): Tensor {
    return Tensor.fromStorage(shape, this.device, this.storage);
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}`;
  }
}
