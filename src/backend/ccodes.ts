/**
 * What the native and wasm backends share about the C kernels (src/backend/csrc): the numbering of
 * pfs_unary_op / pfs_binary_op / pfs_reduce_op in csrc/pfs.h, and the most dims its strided walker
 * takes. Ops missing from UNARY go to ref.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from './kernels.js';

export const UNARY: Partial<Record<UnaryOp, number>> = {
  copy: 0, neg: 1, exp: 2, log: 3, sqrt: 4, abs: 5, sign: 6, sigmoid: 7, tanh: 8, relu: 9,
};
export const BINARY: Record<BinaryOp, number> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12, and: 13, or: 14,
};
export const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 };
/** Views with more dims than the C walker takes (PFS_MAX_DIMS) go to ref. */
export const MAX_DIMS = 16;
