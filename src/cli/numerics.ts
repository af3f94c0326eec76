// The --numerics flag of forward, eval and generate: how a checkpoint's FAVOR+ layers are evaluated
// (src/nn/attention.ts Numerics). Default: what the checkpoint stores ('favor' unless imported).

import { NUMERICS, type Numerics } from '../nn/attention.js';
import type { TrainModel } from '../train/config.js';
import type { FlagSpec } from './args.js';

export const numericsFlag = {
  type: 'enum', values: NUMERICS,
  help: "favor (our estimator) or performer-pytorch (its formulas, full sequences only); default: the checkpoint's",
} as const satisfies FlagSpec;

/** Applies --numerics (or the checkpoint's) to the model and returns the one in use. */
export function applyNumerics(model: TrainModel, flag: string | undefined): Numerics {
  const n = (flag ?? model.cfg.numerics ?? 'favor') as Numerics;
  model.setNumerics(n);
  return n;
}
