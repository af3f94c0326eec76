// Learning-rate schedule: linear warmup, then cosine decay to minLr (or constant).

export interface ScheduleOptions {
  lr: number; // peak learning rate
  warmup?: number; // steps of linear warmup (default 0)
  total?: number; // steps in the run (cosine reaches minLr here); required for cosine
  decay?: 'cosine' | 'constant'; // default 'cosine'
  minLr?: number; // default 0.1·lr
}

/**
 * Learning rate for step `step` (0-based: the step about to be taken).
 *  step < warmup:  lr·(step+1)/warmup
 *  cosine:         minLr + ½(lr − minLr)(1 + cos(π·min(1, (step − warmup)/(total − warmup))))
 *  constant:       lr
 */
export function learningRate(step: number, o: ScheduleOptions): number {
  const warmup = o.warmup ?? 0;
  if (step < warmup) return (o.lr * (step + 1)) / warmup;
  if ((o.decay ?? 'cosine') === 'constant') return o.lr;
  if (o.total === undefined) throw new Error('a cosine schedule needs total steps');
  const minLr = o.minLr ?? 0.1 * o.lr;
  const span = Math.max(1, o.total - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
