// The engines every engine-generic test runs on: one list, so a new engine (webgpu) is tested by
// adding one line. Each test file that imports it calls `after(disposeEngines)`.
// Values come back through the one path every engine has, `await read()`, and are compared with the
// one error measure of test/helpers/float64-reference.ts: relativeError = max|got − want| / max|want|.
import { createEngine } from '../../src/kernels/registry.js';
import { referenceEngine } from '../../src/kernels/reference/engine.js';
import type { Engine } from '../../src/kernels/engine.js';
import { createAsyncEngine } from './async-engine.js';

export const ENGINES: readonly Engine[] = [
  referenceEngine,
  await createEngine('wasm', { threads: 2 }),
  createAsyncEngine(),
];

export function disposeEngines(): void {
  for (const e of ENGINES) e.dispose();
}
