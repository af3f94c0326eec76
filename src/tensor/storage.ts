// Where a tensor's values live. A Device makes, fills and reads back storage: on a CPU engine the
// storage is the Float32Array/Float64Array itself; on a GPU engine an opaque handle over device
// buffers whose values come back only through the asynchronous `read` (like TF.js's data()/dataSync()).
// Every Tensor and Var carries its storage and the device (engine) it lives on; moving between
// devices is explicit (`to`). The process-wide default device is the one new tensors land on.

import type { Floats } from './floats.js';

export type DType = 'float32' | 'float64';

export interface Device<S = unknown> {
  readonly name: string;
  /** true when storage is the host array itself, so readSync is free (the CPU engines). */
  readonly host: boolean;
  /** n zeros. */
  zeros(n: number, dtype: DType): S;
  /** Storage holding the values of `a` (a host device returns `a` itself: no copy). */
  upload(a: Floats): S;
  /** The values as a host array, once every kernel enqueued before has finished. */
  read(s: S): Promise<Floats>;
  /** The values now; throws on a device that cannot read back synchronously. */
  readSync(s: S): Floats;
  size(s: S): number;
  dtype(s: S): DType;
}

export function dtypeOf(a: Floats): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

/** A zero host array of dtype `dtype`. */
export function hostZeros(n: number, dtype: DType): Floats {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Host storage without kernels: where tensors live before an engine is chosen. */
export const hostDevice: Device<Floats> = {
  name: 'host',
  host: true,
  zeros: hostZeros,
  upload: (a) => a,
  read: (a) => Promise.resolve(a),
  readSync: (a) => a,
  size: (a) => a.length,
  dtype: dtypeOf,
};

let current: Device = hostDevice;

/** The device new tensors land on when none is named (set by useEngine). */
export function defaultDevice(): Device {
  return current;
}

export function setDefaultDevice(d: Device): void {
  current = d;
}
