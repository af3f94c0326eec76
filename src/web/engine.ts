// The page's compute engine: the wasm engine from the library's browser entry, on all cores when
// the page is cross-origin isolated (performer serve sends COOP/COEP), else on one thread — and
// the page says which, and why.
import { useEngine, type WasmEngine } from '../index.js';

export interface EngineStatus {
  /** The kernel build, e.g. "wasm-relaxed". */
  name: string;
  threads: number;
  crossOriginIsolated: boolean;
  /** One sentence for the page. */
  note: string;
  wasm: WasmEngine;
}

export async function startEngine(): Promise<EngineStatus> {
  const isolated = globalThis.crossOriginIsolated === true;
  // Without isolation there is no SharedArrayBuffer, hence no worker threads on one memory.
  const engine = (await useEngine('wasm', isolated ? {} : { threads: 1 })) as WasmEngine;
  const { name, threads } = engine.backend;
  const note = isolated
    ? `${name} on ${threads} thread${threads === 1 ? '' : 's'} (cross-origin isolated page)`
    : `${name} on 1 thread: this page is not cross-origin isolated (no COOP/COEP headers), so there is no SharedArrayBuffer for worker threads; performer serve sends them`;
  return { name, threads, crossOriginIsolated: isolated, note, wasm: engine };
}

/** WebGPU is not an engine of this library yet; the page says so instead of pretending. */
export function webGpuNote(): string {
  const gpu = (navigator as { gpu?: unknown }).gpu !== undefined;
  return `WebGPU: not yet available in this library (the wasm engine runs everything here)${gpu ? '; this browser has navigator.gpu' : ''}.`;
}
