// Optimisation: AdamW, global gradient-norm clipping, learning-rate schedules.
export { AdamW, clipGradNorm, clipGradNormVar, type AdamWOptions, type AdamWState, type HasParameters } from './adamw.js';
export { learningRate, type ScheduleOptions } from './schedule.js';
