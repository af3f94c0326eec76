// Feature detection and build selection: relaxed SIMD, shared memory, core count.
import { kernelBuilds, relaxedProbe } from './generated/binaries.js';
import type { SimdVariant } from './kernels.js';
import { decodeBase64 } from './base64.js';
import { isNode, nodeBuiltin } from './runtime.js';

/** In Node, asks V8 to compile wasm with its optimising tier right away. By default (dynamic
 *  tiering) a function is re-compiled only after it has run for a while, and a long-running call
 *  keeps its baseline code: the first calls of a backend then run ~20% slower. V8 flags are
 *  process-wide; this one only changes when wasm code gets optimised, not what it computes. */
export async function optimiseWasmEagerly(): Promise<void> {
  if (!isNode) return;
  const v8 = await nodeBuiltin<typeof import('node:v8')>('node:v8');
  v8.setFlagsFromString('--no-wasm-dynamic-tiering');
}

/** Whether this engine runs relaxed SIMD. Node 20 ships it behind a V8 flag, which must be set
 *  before a module using it is compiled; the flag is only set when the probe fails without it. */
export async function relaxedSimdAvailable(): Promise<boolean> {
  const probe = decodeBase64(relaxedProbe);
  if (WebAssembly.validate(probe)) return true;
  if (!isNode) return false;
  const v8 = await nodeBuiltin<typeof import('node:v8')>('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(probe);
}

/** Whether a shared WebAssembly.Memory can be created (browsers: only when cross-origin isolated). */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** All cores: os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers. */
export async function hardwareThreads(): Promise<number> {
  if (isNode) {
    const os = await nodeBuiltin<typeof import('node:os')>('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
}

/** The kernel build for a SIMD variant and memory kind. */
export function kernelBytes(variant: SimdVariant, shared: boolean): Uint8Array<ArrayBuffer> {
  return decodeBase64(kernelBuilds[`${variant}-${shared ? 'shared' : 'unshared'}`]);
}
