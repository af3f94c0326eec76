// A Var is a value plus its gradient, both stored on one engine (docs: src/tensor/storage.ts).
// Values are row-major float32 for training, or float64 (every op keeps the dtype of its inputs),
// which the tests use for float64-accurate gradient checks. On a CPU engine `data` and `grad` are
// the arrays themselves (read and written in place, synchronously); on a device engine they throw,
// and `read()`, `readGrad()` bring the values back.
import { formatShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Floats } from '../tensor/floats.js';
import { defaultDevice, type Device, type DType } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';

/** A zero array of the same element type as `like`. */
export function alloc(like: Floats, n: number): Floats {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

export class Var {
  readonly shape: number[];
  readonly size: number;
  /** The engine the value and gradient live on. */
  device: Device;
  /** The engine's handle to the value (on a CPU engine, the Float32Array/Float64Array itself). */
  storage: unknown;
  /** The engine's handle to dL/dvalue, allocated lazily (null = no gradient has reached this Var yet). */
  gradStorage: unknown = null;
  /** Leaves with requiresGrad are parameters (or gradient-checked inputs); op outputs inherit it. */
  requiresGrad: boolean;
  name: string | undefined;

  /**
   * A Var of `shape` on `device` (default: the default engine) holding `data` (zeros if absent),
   * or, given `storage`, over that storage of `device` (no copy).
   */
  constructor(shape: Shape, data?: Floats, requiresGrad = false, device: Device = defaultDevice(), storage?: unknown) {
    const n = sizeOf(shape);
    if (data && data.length !== n) throw new Error(`Var of shape ${formatShape(shape)} needs ${n} values, got ${data.length}`);
    this.shape = [...shape];
    this.size = n;
    this.device = device;
    this.storage = storage ?? (data ? device.upload(data) : device.zeros(n, 'float32'));
    if (storage !== undefined && device.size(storage) !== n) throw new Error(`Var of shape ${formatShape(shape)} needs ${n} values, got ${device.size(storage)}`);
    this.requiresGrad = requiresGrad;
  }

  /** A Var over existing storage of `device` (no copy). */
  static fromStorage(shape: Shape, device: Device, storage: unknown, requiresGrad = false): Var {
    return new Var(shape, undefined, requiresGrad, device, storage);
  }

  static fromTensor(t: Tensor, requiresGrad = false): Var {
    return Var.fromStorage(t.shape, t.device, t.storage, requiresGrad);
  }

  static from(shape: Shape, values: ArrayLike<number>, opts: { f64?: boolean; requiresGrad?: boolean; device?: Device } = {}): Var {
    const data = opts.f64 ? Float64Array.from(values) : Float32Array.from(values);
    return new Var(shape, data, opts.requiresGrad ?? false, opts.device);
  }

  get rank(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    return this.device.dtype(this.storage);
  }

  /** The value, synchronously (CPU engines: the array itself, writable in place). */
  get data(): Floats {
    return this.device.readSync(this.storage);
  }

  /** Replaces the value (same size); the values are uploaded to this Var's engine. */
  set data(a: Floats) {
    if (a.length !== this.size) throw new Error(`Var ${formatShape(this.shape)} needs ${this.size} values, got ${a.length}`);
    this.storage = this.device.upload(a);
  }

  /** dL/dvalue, synchronously (null = none yet). */
  get grad(): Floats | null {
    return this.gradStorage === null ? null : this.device.readSync(this.gradStorage);
  }

  set grad(g: Floats | null) {
    if (g && g.length !== this.size) throw new Error(`gradient of Var ${formatShape(this.shape)} needs ${this.size} values, got ${g.length}`);
    this.gradStorage = g === null ? null : this.device.upload(g);
  }

  /** The value as a host array, once the work enqueued on the engine has finished. */
  read(): Promise<Floats> {
    return this.device.read(this.storage);
  }

  /** The gradient as a host array (null = none yet). */
  readGrad(): Promise<Floats | null> {
    return this.gradStorage === null ? Promise.resolve(null) : this.device.read(this.gradStorage);
  }

  /** The gradient storage, allocated as zeros on first use. */
  gradBuf(): unknown {
    if (this.gradStorage === null) this.gradStorage = this.device.zeros(this.size, this.dtype);
    return this.gradStorage;
  }

  zeroGrad(): void {
    this.gradStorage = null;
  }

  /** A new leaf Var with this value on `device` (itself when already there; the array is shared between CPU engines). */
  async to(device: Device): Promise<Var> {
    if (device === this.device) return this;
    const storage = device.host && this.device.host ? this.storage : device.upload(await this.read());
    const v = Var.fromStorage(this.shape, device, storage, this.requiresGrad);
    v.name = this.name;
    return v;
  }

  /** A float32 Tensor view of the value (copies only when the Var holds float64). */
  tensor(): Tensor {
    if (this.dtype === 'float32') return Tensor.fromStorage(this.shape, this.device, this.storage);
    return new Tensor(this.shape, Float32Array.from(this.data), this.device);
  }

  /** The single value of a one-element Var (e.g. a loss), synchronously (CPU engines). */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element Var, got ${formatShape(this.shape)}`);
    return this.data[0]!;
  }

  /** The single value of a one-element Var, read back from any engine. */
  async readItem(): Promise<number> {
    if (this.size !== 1) throw new Error(`readItem() needs a one-element Var, got ${formatShape(this.shape)}`);
    return (await this.read())[0]!;
  }

  toString(): string {
    return `Var${formatShape(this.shape)}${this.dtype === 'float64' ? ' f64' : ''}`;
  }
}
