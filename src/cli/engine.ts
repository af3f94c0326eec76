// The CLI's engine flags, shared by every command: --engine NAME, --threads N, --simd VARIANT.
// Each command calls startEngine(flags) once at start-up; it installs the engine through the
// library's one entry point (useEngine) and returns it. If the engine cannot start, the command
// fails with the reason; it never falls back silently.
import { availableParallelism } from 'node:os';
import type { Engine } from '../kernels/engine.js';
import { ENGINE_NAMES, useEngine, type EngineName, type EngineOptions } from '../kernels/registry.js';
import { UsageError } from './args.js';

export const SIMD_VARIANTS = ['auto', 'relaxed', 'plain'] as const;

/** The flags every command takes; `defaultEngine` is the command's default for --engine. */
export function engineFlags<const D extends EngineName>(defaultEngine: D) {
  return {
    engine: {
      type: 'enum', values: ENGINE_NAMES, default: defaultEngine,
      help: 'compute engine: wasm (WebAssembly SIMD + threads) or reference (plain TypeScript, one thread, float64 sums)',
    },
    threads: { type: 'int', min: 1, help: `threads of the wasm engine (default: all cores, here ${availableParallelism()})` },
    simd: { type: 'enum', values: SIMD_VARIANTS, help: 'wasm engine: SIMD build, relaxed (FMA), plain (mul + add) or auto (default: relaxed where supported)' },
  } as const;
}

export interface EngineFlags {
  engine: EngineName;
  threads?: number | undefined;
  simd?: (typeof SIMD_VARIANTS)[number] | undefined;
}

/** The engine options these flags ask for; wasm-only options with another engine are a usage error. */
export function engineOptions(f: EngineFlags, extra: { referenceBackward?: boolean } = {}): EngineOptions {
  if (f.engine !== 'wasm') {
    if (f.threads !== undefined && f.threads !== 1) throw new UsageError(`--threads: the ${f.engine} engine runs on one thread, got ${f.threads}`);
    if (f.simd !== undefined) throw new UsageError(`--simd: only the wasm engine has SIMD variants (engine is ${f.engine})`);
    return {};
  }
  return {
    threads: f.threads ?? availableParallelism(),
    ...(f.simd !== undefined ? { simd: f.simd } : {}),
    ...(extra.referenceBackward ? { referenceBackward: true } : {}),
  };
}

/** Installs the engine the flags name (once per process; the same flags again return it). */
export function startEngine(f: EngineFlags): Promise<Engine> {
  return useEngine(f.engine, engineOptions(f));
}

/** One line for logs, e.g. "engine wasm: wasm-relaxed (…), 2 threads". */
export function describeEngine(e: Engine): string {
  return `engine ${e.name}: ${e.kernels}, ${e.threads} thread${e.threads === 1 ? '' : 's'}`;
}
