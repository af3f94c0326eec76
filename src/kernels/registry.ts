// The engine registry: the one place that chooses where tensors live and which kernels run.
// `await useEngine('wasm', { threads })` creates the engine and makes it the process-wide default
// (new tensors land on it; ops run on their inputs' engine). Engines coexist: `createEngine`
// makes one without installing it, and `tensor.to(engine)` moves data between them.
// A new engine is a folder beside reference/ and wasm/ exporting a factory, plus one line below.
import type { Engine } from './engine.js';
import { defaultDevice, setDefaultDevice } from '../tensor/storage.js';
import { isEngine } from './engine.js';
import { referenceEngine } from './reference/engine.js';
import { createWasmEngine } from './wasm/engine.js';

export interface EngineOptions {
  /** Threads the kernels use (wasm; default all cores). The reference engine runs on one. */
  threads?: number;
  /** WebAssembly SIMD build: 'relaxed' (FMA), 'plain' (mul + add), 'auto' (default: relaxed where supported). */
  simd?: 'auto' | 'relaxed' | 'plain';
  /** The attention backwards on the reference kernels instead (wasm; for comparison in bench). */
  referenceBackward?: boolean;
}

const ENGINES = {
  wasm: (o: EngineOptions): Promise<Engine> => createWasmEngine(o),
  reference: (o: EngineOptions): Promise<Engine> => {
    if (o.threads !== undefined && o.threads !== 1) throw new Error(`engine reference runs on one thread, got threads ${o.threads}`);
    if (o.simd !== undefined || o.referenceBackward) throw new Error('engine reference takes no simd or backward options (they are wasm options)');
    return Promise.resolve(referenceEngine);
  },
} as const;

export type EngineName = keyof typeof ENGINES;
export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];

function checkName(name: string): asserts name is EngineName {
  if (!Object.hasOwn(ENGINES, name)) throw new Error(`unknown engine '${name}' (${ENGINE_NAMES.join('|')})`);
}

function checkThreads(threads: number | undefined): void {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }
}

/** Creates engine `name`; it is not installed (pass it to tensors or `to`, or use useEngine). */
export async function createEngine(name: string, opts: EngineOptions = {}): Promise<Engine> {
  checkName(name);
  checkThreads(opts.threads);
  return ENGINES[name](opts);
}

let installed: { key: string; engine: Engine } | undefined;

/**
 * Creates engine `name` and makes it the process-wide default; returns it (its name, threads and
 * kernels say what runs). Asking again for the same engine and options returns the installed one.
 */
export async function useEngine(name: string, opts: EngineOptions = {}): Promise<Engine> {
  const key = JSON.stringify([name, opts.threads, opts.simd, opts.referenceBackward ?? false]);
  if (installed?.key === key && defaultDevice() === installed.engine) return installed.engine;
  const engine = await createEngine(name, opts);
  installEngine(engine);
  installed = { key, engine };
  return engine;
}

/** Makes an engine (a registry one, or one of the caller's, e.g. a test engine) the default. */
export function installEngine(engine: Engine): void {
  setDefaultDevice(engine);
}

/** The default engine: the installed one; the reference engine before any is installed. */
export function defaultEngine(): Engine {
  const d = defaultDevice();
  return isEngine(d) ? d : referenceEngine;
}
