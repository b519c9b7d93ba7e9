/** Optimisers, learning-rate schedules and gradient clipping. */
export { Optimizer, rangeProblem, boolProblem } from './optimizer.js';
export type { BaseOptions, OptionValue, ParamGroup, ParamGroupSpec, ParamsArg, ParamState, OptimizerStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { Adadelta } from './adadelta.js';
export type { AdadeltaOptions } from './adadelta.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearLR, SequentialLR } from './schedulers.js';
export { clipGradNorm } from './clip.js';
