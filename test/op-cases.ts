/**
 * The TypeScript side of the op fixtures: for each case of test/fixtures/ops.json (written by
 * test/fixtures/gen_ops.py), the same computation in our API, under the same name. The inputs arrive
 * in the order the generator lists them; multi-output ops (split, chunk) concatenate their pieces in
 * reverse order, as the generator does. Shared by ops.test.ts and gradcheck.test.ts.
 */
import { readFileSync } from 'node:fs';
import {
  add, adaptiveAvgPool2d, avgPool2d, batchNorm, cat, gruGates, gruUpdate, layerNorm, lstmCell, conv2d, div, logicalAnd, logicalOr, maximum, maxPool2d, minimum, oneHot, pad,
  pow, stack, sub, Tensor, where,
} from '../src/index.js';
import type { DType } from '../src/index.js';

export type OpCase = (xs: Tensor[]) => Tensor;

/** See rev_cat in gen_ops.py. */
const revCat = (pieces: Tensor[], dim: number): Tensor => cat([...pieces].reverse(), dim);

export const opCases: Record<string, OpCase> = {
  // elementwise arithmetic
  add_same: ([a, b]) => a.add(b),
  add_broadcast_both: ([a, b]) => a.add(b),
  add_scalar: ([a]) => a.add(2.5),
  add_scalar_left: ([a]) => add(2.5, a),
  add_0d: ([a, b]) => a.add(b),
  add_transposed: ([a, b]) => a.T.add(b),
  sub_broadcast: ([a, b]) => a.sub(b),
  sub_scalar_left: ([a]) => sub(1.5, a),
  mul_broadcast: ([a, b]) => a.mul(b),
  mul_scalar: ([a]) => a.mul(-3),
  mul_permuted: ([a, b]) => a.permute([2, 0, 1]).mul(b),
  div_broadcast: ([a, b]) => a.div(b),
  div_both_broadcast: ([a, b]) => a.div(b),
  div_scalar: ([a]) => a.div(4),
  div_scalar_left: ([a]) => div(2, a),
  pow_scalar: ([a]) => a.pow(2.5),
  pow_int_exponent: ([a]) => a.pow(3),
  pow_tensor: ([a, b]) => a.pow(b),
  pow_scalar_base: ([a]) => pow(2, a),

  // elementwise unary
  neg: ([a]) => a.neg(),
  exp: ([a]) => a.exp(),
  exp_transposed: ([a]) => a.T.exp(),
  log: ([a]) => a.log(),
  sqrt: ([a]) => a.sqrt(),
  abs: ([a]) => a.abs(),
  sign: ([a]) => a.sign(),
  sigmoid: ([a]) => a.sigmoid(),
  tanh: ([a]) => a.tanh(),
  relu: ([a]) => a.relu(),
  relu_sliced: ([a]) => a.slice(0, 1).slice(1, 0, undefined, 2).relu(),

  // elementwise max/min and clamp
  maximum_same: ([a, b]) => maximum(a, b),
  maximum_broadcast: ([a, b]) => a.maximum(b),
  minimum_same: ([a, b]) => minimum(a, b),
  minimum_broadcast: ([a, b]) => a.minimum(b),
  clamp_both: ([a]) => a.clamp(-0.5, 0.5),
  clamp_min: ([a]) => a.clamp(-0.3),
  clamp_max: ([a]) => a.clamp(null, 0.2),

  // where
  where_broadcast: ([c, a, b]) => where(c, a, b),
  where_scalar: ([c, a]) => a.where(c, 0),

  // comparisons and logic
  eq: ([a, b]) => a.eq(b),
  eq_broadcast: ([a, b]) => a.eq(b),
  ne: ([a, b]) => a.ne(b),
  lt: ([a, b]) => a.lt(b),
  lt_scalar: ([a]) => a.lt(1),
  le: ([a, b]) => a.le(b),
  gt: ([a, b]) => a.gt(b),
  ge: ([a, b]) => a.ge(b),
  ge_scalar: ([a]) => a.ge(1),
  eq_int: ([a, b]) => a.eq(b),
  logical_and: ([a, b]) => logicalAnd(a, b),
  logical_or: ([a, b]) => logicalOr(a, b),
  logical_not: ([a]) => a.logicalNot(),
  logical_and_float: ([a, b]) => logicalAnd(a, b),
  logical_or_float: ([a, b]) => logicalOr(a, b),
  logical_not_float: ([a]) => a.logicalNot(),

  // reductions
  sum_all: ([a]) => a.sum(),
  sum_dim: ([a]) => a.sum(1),
  sum_dims_keepdim: ([a]) => a.sum([0, 2], true),
  sum_negative_dim: ([a]) => a.sum(-1),
  sum_transposed: ([a]) => a.T.sum(1),
  sum_int: ([a]) => a.sum(0),
  sum_row_sliced: ([a]) => a.slice(0, 2).sum(1),
  mean_all: ([a]) => a.mean(),
  mean_dim: ([a]) => a.mean(-2),
  mean_dims_keepdim: ([a]) => a.mean([0, 1], true),
  max_all: ([a]) => a.max(),
  max_dim: ([a]) => a.max(1),
  max_dims_keepdim: ([a]) => a.max([0, 2], true),
  min_all: ([a]) => a.min(),
  min_dim: ([a]) => a.min(-1),
  min_dims_keepdim: ([a]) => a.min([1, 2], true),
  max_row_sliced: ([a]) => a.slice(0, 1).max(0),
  argmax_all: ([a]) => a.argmax(),
  argmax_dim: ([a]) => a.argmax(1),
  argmax_keepdim: ([a]) => a.argmax(-1, true),
  argmin_all: ([a]) => a.argmin(),
  argmin_dim: ([a]) => a.argmin(0),
  argmin_row_sliced: ([a]) => a.slice(0, 1).argmin(1),
  var_all: ([a]) => a.var(),
  var_dim_correction0: ([a]) => a.var(1, { correction: 0 }),
  var_dims_keepdim: ([a]) => a.var([0, 2], { correction: 1, keepdim: true }),
  logsumexp: ([a]) => a.logsumexp(1),
  logsumexp_keepdim_large: ([a]) => a.logsumexp(0, true),
  softmax_last: ([a]) => a.softmax(-1),
  softmax_dim0: ([a]) => a.softmax(0),
  log_softmax: ([a]) => a.logSoftmax(1),
  log_softmax_large: ([a]) => a.logSoftmax(-1),

  // matmul
  matmul_1d_1d: ([a, b]) => a.matmul(b),
  matmul_1d_2d: ([a, b]) => a.matmul(b),
  matmul_2d_1d: ([a, b]) => a.matmul(b),
  matmul_2d: ([a, b]) => a.matmul(b),
  matmul_transposed: ([a, b]) => a.T.matmul(b.T),
  matmul_batched: ([a, b]) => a.matmul(b),
  matmul_batched_2d: ([a, b]) => a.matmul(b),
  matmul_broadcast_batch: ([a, b]) => a.matmul(b),
  matmul_batched_1d: ([a, b]) => a.matmul(b),

  // shape ops
  contiguous: ([a]) => a.T.contiguous(),
  clone: ([a]) => a.clone(),
  view: ([a]) => a.view([2, -1]),
  reshape_transposed: ([a]) => a.T.reshape([2, 6]),
  reshape_flat: ([a]) => a.reshape([-1]),
  flatten_from1: ([a]) => a.flatten(1),
  flatten_0_1: ([a]) => a.flatten(0, 1),
  permute: ([a]) => a.permute([2, 0, 1]),
  transpose: ([a]) => a.transpose(0, 2),
  squeeze_all: ([a]) => a.squeeze(),
  squeeze_dim: ([a]) => a.squeeze(2),
  unsqueeze: ([a]) => a.unsqueeze(1),
  unsqueeze_last: ([a]) => a.unsqueeze(-1),
  expand: ([a]) => a.expand([2, 3, 4]),
  expand_keep: ([a]) => a.expand([4, -1]),
  slice_step: ([a]) => a.slice(1, 1, 6, 2),
  slice_negative: ([a]) => a.slice(0, -3),
  slice_clipped: ([a]) => a.slice(1, 2, 100),
  slice_of_transposed: ([a]) => a.T.slice(0, 0, undefined, 3),
  narrow: ([a]) => a.narrow(1, 1, 3),
  cat_dim0: ([a, b, c]) => cat([a, b, c], 0),
  cat_dim1: ([a, b]) => cat([a, b], 1),
  stack: ([a, b, c]) => stack([a, b, c], 1),
  stack_last: ([a, b]) => stack([a, b], -1),
  split_size: ([a]) => revCat(a.split(2, 0), 0),
  split_sizes: ([a]) => revCat(a.split([1, 3, 2], 1), 1),
  chunk: ([a]) => revCat(a.chunk(3, 0), 0),
  chunk_fewer: ([a]) => revCat(a.chunk(4, 1), 1),
  pad_last: ([a]) => a.pad([1, 2]),
  pad_two_dims: ([a]) => pad(a, [1, 0, 2, 1], -0.5),
  pad_three_dims: ([a]) => a.pad([0, 1, 1, 1, 1, 0]),

  // indexing
  index_select_dim0: ([a, i]) => a.indexSelect(0, i),
  index_select_dim1: ([a, i]) => a.indexSelect(1, i),
  gather_dim1_smaller: ([a, i]) => a.gather(1, i),
  gather_dim0: ([a, i]) => a.gather(0, i),
  scatter_add_dim1: ([a, i, s]) => a.scatterAdd(1, i, s),
  scatter_add_dim0: ([a, i, s]) => a.scatterAdd(0, i, s),
  masked_fill: ([a, m]) => a.maskedFill(m, 2.5),
  masked_fill_broadcast: ([a, m]) => a.maskedFill(m, -1.5),
  one_hot: ([i]) => oneHot(i, 5),

  // convolution and pooling
  conv2d_bias: ([x, w, b]) => conv2d(x, w, b),
  conv2d_stride_padding: ([x, w, b]) => conv2d(x, w, b, { stride: 2, padding: 1 }),
  conv2d_asymmetric: ([x, w]) => conv2d(x, w, null, { stride: [2, 1], padding: [1, 0] }),
  conv2d_dilation: ([x, w, b]) => conv2d(x, w, b, { padding: 1, dilation: 2 }),
  conv2d_groups: ([x, w, b]) => conv2d(x, w, b, { padding: 1, groups: 2 }),
  max_pool2d: ([x]) => maxPool2d(x, 2),
  max_pool2d_stride_padding: ([x]) => maxPool2d(x, 3, 2, 1),
  max_pool2d_overlap: ([x]) => maxPool2d(x, [2, 3], [1, 2]),
  avg_pool2d: ([x]) => avgPool2d(x, 2),
  avg_pool2d_padding_included: ([x]) => avgPool2d(x, 3, 2, 1),
  avg_pool2d_padding_excluded: ([x]) => avgPool2d(x, 3, 2, 1, false),
  avg_pool2d_rect: ([x]) => avgPool2d(x, [2, 3], [1, 2], [1, 1]),
  adaptive_avg_pool2d_divisible: ([x]) => adaptiveAvgPool2d(x, [2, 3]),
  adaptive_avg_pool2d_uneven: ([x]) => adaptiveAvgPool2d(x, [3, 4]),
  adaptive_avg_pool2d_to_1: ([x]) => adaptiveAvgPool2d(x, 1),

  // batch normalisation, training mode
  batch_norm_2d: ([x, w, b]) => batchNorm(x, null, null, w, b, { training: true }),
  batch_norm_1d_no_affine: ([x]) => batchNorm(x, null, null, null, null, { training: true }),
  batch_norm_3d_eps: ([x, w, b]) => batchNorm(x, null, null, w, b, { training: true, eps: 0.1 }),
  layer_norm_affine: ([x, w, b]) => layerNorm(x, 5, w, b),
  layer_norm_2d_no_affine: ([x]) => layerNorm(x, [3, 4]),
  layer_norm_weight_only_eps: ([x, w]) => layerNorm(x, [6], w, null, 0.1),
  lstm_cell: ([z, c]) => lstmCell(z, c),
  lstm_cell_wide: ([z, c]) => lstmCell(z, c),
  gru_gates: ([a, rz, h]) => gruGates(a, rz, h),
  gru_update: ([xh, m, z, h]) => gruUpdate(xh, m, z, h),
};

/** The function of a case, with a clear error when op-cases.ts lacks it. */
export function caseFn(name: string): OpCase {
  const fn = opCases[name];
  if (!fn) throw new Error(`no TypeScript side for fixture case ${name}: add it to test/op-cases.ts`);
  return fn;
}

// ---------- the fixture file ----------

export interface FixtureTensor {
  dtype: DType;
  shape: number[];
  values: number[];
}

export interface FixtureCase {
  name: string;
  /** The key of `ops` (src/ops/index.ts) this case tests. */
  op: string;
  inputs: FixtureTensor[];
  output: FixtureTensor;
  /** Present for differentiable ops with a floating input: the upstream gradient fed to backward... */
  upstream?: FixtureTensor;
  /** ...and torch's gradient of each input (null for integer and bool inputs). */
  grads?: (FixtureTensor | null)[];
}

/** Reads test/fixtures/ops.json (found from the compiled test in dist/test/ or from the source in test/). */
export function loadOpFixtures(): FixtureCase[] {
  const url = new URL(import.meta.url.includes('/dist/test/') ? '../../test/fixtures/ops.json' : './fixtures/ops.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: FixtureCase[] }).cases;
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

/** A fixture tensor as a Tensor; floating ones in `floatDType` (the fixture holds float64 values). */
export function toTensor(t: FixtureTensor, floatDType: 'float32' | 'float64' = 'float64'): Tensor {
  return Tensor.from(t.values, { shape: t.shape, dtype: isFloat(t.dtype) ? floatDType : t.dtype });
}
