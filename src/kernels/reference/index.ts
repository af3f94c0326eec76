import type { Backend } from '../backend.js';
import { referenceExact } from './exact.js';
import { referenceFavor } from './favor.js';

/** The plain-TypeScript backend: single-threaded, float64 accumulation, runs anywhere. */
export const referenceBackend: Backend = {
  name: 'reference',
  favor: referenceFavor,
  exact: referenceExact,
};
