// Which backend the library uses when a call names none. It starts as the reference backend;
// `useBackend` switches it (the CLI installs the WebAssembly backend at start-up, and says so).
import type { Backend } from './backend.js';
import { referenceBackend } from './reference/index.js';

let current: Backend = referenceBackend;

export function defaultBackend(): Backend {
  return current;
}

export function useBackend(backend: Backend): void {
  current = backend;
}
