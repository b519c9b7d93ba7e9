/**
 * The op registry: every public op, as a function, with whether gradients flow through it. The tests
 * enumerate this table, so an op added here without a fixture and (if differentiable) a gradcheck
 * case makes them fail.
 */
import * as C from './conv.js';
import * as E from './elementwise.js';
import * as I from './indexing.js';
import * as L from './linalg.js';
import * as N from './norm.js';
import * as Rnn from './rnn.js';
import * as R from './reduce.js';
import * as S from './shape.js';

export const ops = {
  // elementwise
  add: E.add, sub: E.sub, mul: E.mul, div: E.div, pow: E.pow, neg: E.neg, exp: E.exp, log: E.log,
  sqrt: E.sqrt, abs: E.abs, sign: E.sign, maximum: E.maximum, minimum: E.minimum, clamp: E.clamp,
  sigmoid: E.sigmoid, tanh: E.tanh, relu: E.relu, where: E.where,
  eq: E.eq, ne: E.ne, lt: E.lt, le: E.le, gt: E.gt, ge: E.ge,
  logicalAnd: E.logicalAnd, logicalOr: E.logicalOr, logicalNot: E.logicalNot,
  // reductions
  sum: R.sum, mean: R.mean, max: R.max, min: R.min, argmax: R.argmax, argmin: R.argmin, var: R.variance,
  logsumexp: R.logsumexp, softmax: R.softmax, logSoftmax: R.logSoftmax,
  // linear algebra
  matmul: L.matmul,
  // shape
  contiguous: S.contiguous, clone: S.clone, view: S.view, reshape: S.reshape, flatten: S.flatten, permute: S.permute,
  transpose: S.transpose, squeeze: S.squeeze, unsqueeze: S.unsqueeze, expand: S.expand, slice: S.slice,
  narrow: S.narrow, cat: S.cat, stack: S.stack, split: S.split, chunk: S.chunk, pad: S.pad,
  // indexing
  indexSelect: I.indexSelect, gather: I.gather, scatterAdd: I.scatterAdd, maskedFill: I.maskedFill, oneHot: I.oneHot,
  // convolution and pooling
  conv2d: C.conv2d, maxPool2d: C.maxPool2d, avgPool2d: C.avgPool2d, adaptiveAvgPool2d: C.adaptiveAvgPool2d,
  // normalisation
  batchNorm: N.batchNorm, layerNorm: N.layerNorm,
  // recurrent cells
  lstmCell: Rnn.lstmCell, gruGates: Rnn.gruGates, gruUpdate: Rnn.gruUpdate,
} as const;

export type OpName = keyof typeof ops;

/** Ops whose output carries no gradient (comparisons, argmax, one-hot). */
export const NON_DIFFERENTIABLE: ReadonlySet<OpName> = new Set<OpName>([
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot', 'argmax', 'argmin', 'oneHot',
]);
