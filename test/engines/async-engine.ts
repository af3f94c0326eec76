// A test-only engine that keeps its data behind an asynchronous read, as a GPU engine must: its
// storage is an opaque handle (the values sit in a private WeakMap), there is no synchronous read,
// and `read` resolves only on a later turn of the event loop. Its kernels run the reference kernels
// on the hidden arrays. A float32 host array reaching a kernel is an error: every float input must
// be this engine's storage, so a code path that forgets to move a tensor fails here, not on a GPU.
// It counts uploads and reads, so tests can assert that a training step reads back only its loss.
import type { Engine, Kernels } from '../../src/kernels/engine.js';
import { referenceKernels } from '../../src/kernels/reference/engine.js';
import type { Floats } from '../../src/tensor/floats.js';
import { dtypeOf, hostZeros, type DType } from '../../src/tensor/storage.js';

/** An opaque device buffer: nothing on it reveals the values. */
export class DeviceBuffer {
  constructor(readonly length: number, readonly dtype: DType) {}
}

export interface AsyncEngine extends Engine<DeviceBuffer> {
  /** Values read back so far (read calls). */
  readonly reads: number;
  /** Host arrays uploaded so far. */
  readonly uploads: number;
}

export function createAsyncEngine(): AsyncEngine {
  const hidden = new WeakMap<DeviceBuffer, Floats>();
  let reads = 0, uploads = 0;
  const make = (a: Floats): DeviceBuffer => {
    const b = new DeviceBuffer(a.length, dtypeOf(a));
    hidden.set(b, a);
    return b;
  };
  // Host inputs a kernel may take besides its buffers: integer ids, targets and masks, the mean-pool
  // weights and the token shifts' key masks (a GPU engine uploads these itself).
  const hostInput = (kernel: string, key: string): boolean => key === 'weights' || ((kernel.startsWith('tokenShift') || kernel.startsWith('shiftSegments')) && key === 'keyMask');
  const open = (key: string, v: unknown, kernel = ''): unknown => {
    if (v instanceof DeviceBuffer) {
      const a = hidden.get(v);
      if (!a) throw new Error(`async-test engine: argument ${key} is a buffer of another engine`);
      return a;
    }
    if (Array.isArray(v)) return v.map((x, i) => open(`${key}[${i}]`, x, kernel));
    if ((v instanceof Float32Array || v instanceof Float64Array) && !hostInput(kernel, key)) {
      throw new Error(`async-test engine: ${kernel} argument ${key} is a host array, not a buffer of this engine (a tensor was not moved)`);
    }
    return v;
  };
  const kernels = {} as Record<string, (a: object) => void>;
  for (const [name, fn] of Object.entries(referenceKernels) as [string, (a: object) => void][]) {
    kernels[name] = (args: object) => {
      const opened: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(args)) opened[k] = open(k, v, name);
      fn(opened);
    };
  }
  return {
    ...(kernels as unknown as Kernels<DeviceBuffer>),
    name: 'async-test',
    kernels: 'reference kernels behind opaque buffers and an asynchronous read (test stand-in for a GPU)',
    threads: 1,
    host: false,
    zeros: (n, dtype) => make(hostZeros(n, dtype)),
    upload: (a) => { uploads++; return make(a instanceof Float64Array ? Float64Array.from(a) : Float32Array.from(a)); },
    async read(b) {
      reads++;
      const a = open('read', b) as Floats;
      await new Promise((resolve) => setImmediate(resolve)); // a later turn, like mapAsync
      return a instanceof Float64Array ? Float64Array.from(a) : Float32Array.from(a);
    },
    readSync: () => { throw new Error('async-test engine: no synchronous read (use await read())'); },
    size: (b) => b.length,
    dtype: (b) => b.dtype,
    dispose() { /* nothing held */ },
    get reads() { return reads; },
    get uploads() { return uploads; },
  };
}
