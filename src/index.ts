/** papers-from-scratch: the public API. */
export { Tensor, Storage } from './tensor/tensor.js';
export type { CreateOptions, RandomOptions, NestedArray } from './tensor/tensor.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/rng.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/mode.js';
export { gradcheck } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './autograd/gradcheck.js';
export { useBackend, availableBackends, backendInfo, registerBackend } from './backend/registry.js';
export type { Kernels, KernelName } from './backend/kernels.js';
export { ops, NON_DIFFERENTIABLE } from './ops/index.js';
export type { OpName } from './ops/index.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/linalg.js';
export * from './ops/shape.js';
export * from './ops/indexing.js';
export * from './ops/conv.js';
export * from './tensor/factories.js';
