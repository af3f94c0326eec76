// The training loop: steps up to the planned total, evaluating on the validation split at fixed
// steps and saving a checkpoint at each evaluation.
//
// Evaluations happen after step k when k is a multiple of the interval (default max(1, ⌊steps/10⌋))
// or k is the final step; so a run always ends with an evaluation and a checkpoint at its last step.
// Evaluation runs in eval mode without touching any training state, so where the evaluations fall
// does not change the training losses.

import type { SaveResult } from '../io/checkpoint-node.js';
import type { EvalRecord } from './checkpoint-node.js';
import type { EvalResult } from './evaluate.js';
import type { StepResult, Trainer } from './trainer-node.js';

export interface LoopOptions {
  /** Save a checkpoint here at each evaluation (and when stopped by the signal). */
  outDir?: string;
  /** Steps between evaluations (default max(1, ⌊steps/10⌋)); the final step is always evaluated. */
  evalInterval?: number;
  /** Evaluate only the first this many validation windows (0/absent: the whole validation split). */
  evalWindows?: number;
  onStep?: (r: StepResult, trainer: Trainer) => void;
  /** Called before an evaluation starts (e.g. to say so on a progress line). */
  onEvalStart?: (step: number) => void;
  onEval?: (record: EvalRecord, result: EvalResult, trainer: Trainer) => void | Promise<void>;
  onSave?: (r: SaveResult) => void;
  /** Aborting stops after the current step; the checkpoint is then saved at that step (no evaluation). */
  signal?: AbortSignal;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface LoopResult {
  /** True when the signal stopped the run before its planned total. */
  stopped: boolean;
  /** Steps done in this call. */
  stepsRun: number;
  /** The last evaluation (if any happened in this call). */
  last?: { record: EvalRecord; result: EvalResult };
}

export function defaultEvalInterval(steps: number): number {
  return Math.max(1, Math.floor(steps / 10));
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Trains `trainer` up to trainer.hyper.steps (see the file comment). */
export async function runTraining(trainer: Trainer, opts: LoopOptions = {}): Promise<LoopResult> {
  const total = trainer.hyper.steps;
  const interval = opts.evalInterval ?? defaultEvalInterval(total);
  if (!(Number.isSafeInteger(interval) && interval >= 1)) throw new Error(`evaluation interval must be a positive integer, got ${interval}`);
  const now = opts.now ?? (() => performance.now());
  let lastEval = trainer.evals.length ? trainer.evals[trainer.evals.length - 1]!.step : 0;
  if (lastEval > trainer.step) lastEval = 0;
  let stepMs = 0, stepTokens = 0, stepsRun = 0;
  let last: LoopResult['last'];
  const save = async (): Promise<void> => {
    if (!opts.outDir) return;
    const saved = await trainer.save(opts.outDir);
    opts.onSave?.(saved);
  };
  while (trainer.step < total) {
    if (opts.signal?.aborted) {
      await save();
      return { stopped: true, stepsRun, ...(last ? { last } : {}) };
    }
    const t0 = now();
    const r = await trainer.trainStep();
    stepMs += now() - t0;
    stepTokens += r.tokens;
    stepsRun++;
    opts.onStep?.(r, trainer);
    const k = trainer.step;
    if (k % interval === 0 || k === total) {
      opts.onEvalStart?.(k);
      const result = trainer.evaluate(opts.evalWindows);
      const record: EvalRecord = {
        step: k,
        train_loss: trainer.meanLoss(lastEval, k),
        val_loss: result.loss,
        val_bits_per_token: result.bitsPerToken,
        val_accuracy: result.accuracy,
        tokens_per_s: stepMs > 0 ? stepTokens / (stepMs / 1000) : 0,
      };
      trainer.evals.push(record);
      lastEval = k;
      stepMs = 0;
      stepTokens = 0;
      last = { record, result };
      await save();
      await opts.onEval?.(record, result, trainer);
    }
    await tick(); // lets signals, timers and output through between steps
  }
  return { stopped: false, stepsRun, ...(last ? { last } : {}) };
}
