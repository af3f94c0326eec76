// Training Performer models from the library: build a model from a config, train with AdamW and a
// warmup + cosine schedule, evaluate, and save / resume / init-from crash-safe checkpoints.
// `performer train`, `eval`, `generate` and `showcase` are thin command-line layers over this.
export {
  TRAIN_DEFAULTS, MODEL_KINDS, makeModelSpec, makeTrainHyper, validateModelSpec, validateTrainHyper, buildModel, weightShapes,
  describeModel, formatCount, type ModelKind, type ModelSpec, type ModelOptions, type TrainHyper, type TrainModel,
} from './config.js';
export { scheduledLearningRate } from './schedule.js';
export { evaluateLM, evaluateMLM, evaluateModel, MLM_EVAL_GROUPS, type EvalOptions, type EvalResult } from './evaluate.js';
export {
  loadTrainedModel, parseModelSpec, specFromConfig, configFromSpec, parseTrainingState, type TrainedModel, type TrainingState, type EvalRecord, type DataInfo,
} from './checkpoint-node.js';
export { Trainer, TrainingError, SPLIT_SEED, dataInfo, tokensSha256, type StepResult } from './trainer-node.js';
export { runTraining, defaultEvalInterval, type LoopOptions, type LoopResult } from './loop.js';
