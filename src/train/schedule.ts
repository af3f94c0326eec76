// The learning-rate schedule of `performer train`: linear warmup over a fixed number of steps, then a
// cosine decay from lr to minLrRatio·lr that ends at step `scheduleSteps`, then flat.
//
// The schedule deliberately does not depend on the run's planned number of steps (--steps): that is
// what makes "train --steps 40, then train --resume --steps 80" identical to "train --steps 80"
// (both follow the same curve at every step). Set --schedule-steps to the total you plan (the default,
// 2000, is the default --steps) to get a full cosine; a run that goes past it continues at the floor.
import { learningRate } from '../optim/schedule.js';
import type { TrainHyper } from './config.js';

/** The learning rate of step `step` (0-based: the update about to be made). */
export function scheduledLearningRate(step: number, h: Pick<TrainHyper, 'lr' | 'warmup' | 'scheduleSteps' | 'minLrRatio'>): number {
  return learningRate(step, { lr: h.lr, warmup: h.warmup, total: h.scheduleSteps, decay: 'cosine', minLr: h.minLrRatio * h.lr });
}
