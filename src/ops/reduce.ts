/** Reductions over one or more dims, and the numerically stable softmax family composed from them. */
import { K } from '../backend/registry.js';
import type { ReduceOp, SoftmaxKind } from '../backend/kernels.js';
import { isGradEnabled } from '../autograd/mode.js';
import { DType, INT32_MAX, INT32_MIN, isFloating } from '../tensor/dtype.js';
import { normDim, normDims, numel } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { contiguousData, empty, record, requireFloating } from './core.js';
import { eq, where } from './elementwise.js';

export type Dims = number | readonly number[];

/**
 * Lay the data out for the kernel, which reduces the middle axis of an (outer, n, inner) array. When
 * x is contiguous and the reduced dims are adjacent (sum over dim 0 of a batch, over H and W), that is
 * x itself; otherwise the reduced dims are moved last into a contiguous copy (inner = 1). Returns the
 * kept shape (keepdim form) and the sizes.
 */
function prepare(x: Tensor, dims: Dims | undefined, op: string) {
  const red = normDims(dims, x.ndim, op);
  const n = red.reduce((p, d) => p * x.shape[d], 1);
  const keptShape = x.shape.map((s, i) => (red.includes(i) ? 1 : s));
  const sorted = [...red].sort((a, b) => a - b);
  const adjacent = sorted.length > 0 && sorted[sorted.length - 1] - sorted[0] === sorted.length - 1;
  if (adjacent && x.isContiguous()) {
    const inner = numel(x.shape.slice(sorted[sorted.length - 1] + 1));
    const outer = numel(x.shape.slice(0, sorted[0]));
    return { red, xp: x, n, outer, inner, keptShape };
  }
  const keep = x.shape.map((_, i) => i).filter((i) => !red.includes(i));
  const xp = x.permute([...keep, ...red]).contiguous();
  return { red, xp, n, outer: numel(x.shape) / Math.max(n, 1), inner: 1, keptShape };
}

/**
 * The reduced dims as runs of adjacent dims, last run first: [0, 2, 3] of (N, C, H, W) → [[2, 3], [0]].
 * Null when there is a single run (or nothing to reduce).
 */
function adjacentRuns(red: readonly number[]): number[][] | null {
  const sorted = [...red].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === d - 1) last.push(d);
    else runs.push([d]);
  }
  return runs.length > 1 ? runs.reverse() : null;
}

function reduceKernel(op: ReduceOp, x: Tensor, dims: Dims | undefined, keepdim: boolean, dtype: DType, name: string) {
  // A sum, max or min over dims that are not adjacent (BatchNorm's N, H, W) of a contiguous tensor:
  // reduce each run of adjacent dims in place of a transposed copy of the whole tensor, the last run
  // first (its result is contiguous again, and smaller).
  const red = normDims(dims, x.ndim, name);
  // (Not for integer sums, which must stay exact: they reduce once, from the integers themselves.)
  const runs = (op === 'sum' ? isFloating(x.dtype) : op === 'max' || op === 'min') && x.isContiguous() && x.numel > 0 ? adjacentRuns(red) : null;
  if (runs) {
    let cur = x;
    for (const run of runs) cur = reduceKernel(op, cur, run, true, dtype, name).out;
    const keptShape = cur.shape;
    return { out: keepdim ? cur : cur.reshape(x.shape.filter((_, i) => !red.includes(i))), p: { red, keptShape } };
  }
  const p = prepare(x, dims, name);
  if (p.n === 0 && op !== 'sum') throw new RangeError(`${name}: cannot reduce over an empty dim (shape [${x.shape.join(', ')}])`);
  // an empty reduced dim: every kept cell is an empty sum
  const [outer, inner] = p.n === 0 ? [numel(p.keptShape), 1] : [p.outer, p.inner];
  const out = empty(p.keptShape, dtype);
  K.reduce(op, p.xp.storage.data.subarray(p.xp.offset), outer, p.n, inner, out.storage.data);
  const shaped = keepdim ? out : out.reshape(x.shape.filter((_, i) => !p.red.includes(i)));
  return { out: shaped, p };
}

/**
 * Sum over dims (all when omitted). Integer and bool sums give int32 (PyTorch gives int64), exactly
 * or not at all: the kernel sums the integers exactly into float64 (ref's reduce), and a sum outside
 * int32's range is refused with a RangeError, never wrapped. (A bool sum always fits: a tensor has
 * at most 2**31 − 1 elements.) For a wider sum, convert first: x.double().sum().
 */
export function sum(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  if (!isFloating(x.dtype)) return intSum(x, dims, keepdim);
  const { out, p } = reduceKernel('sum', x, dims, keepdim, x.dtype, 'sum');
  return record(out, 'sum', [x], [], (g) => [g.reshape(p.keptShape).expand(x.shape)], { dims: p.red, keepdim });
}

function intSum(x: Tensor, dims: Dims | undefined, keepdim: boolean): Tensor {
  const wide = reduceKernel('sum', x, dims, keepdim, 'float64', 'sum').out;
  const d = wide.storage.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i] >= INT32_MIN && d[i] <= INT32_MAX)) {
      throw new RangeError(
        `sum: the sum ${d[i]} of this ${x.dtype} tensor does not fit in int32 (${INT32_MIN}..${INT32_MAX}), ` +
          'the dtype of integer sums here; sum in float64 instead: x.double().sum()',
      );
    }
  }
  return wide.to('int32');
}

export function mean(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  requireFloating(x, 'mean');
  const n = normDims(dims, x.ndim, 'mean').reduce((p, d) => p * x.shape[d], 1);
  return sum(x, dims, keepdim).div(n);
}

/**
 * Max over dims (all when omitted). The gradient is shared evenly among tied maxima (PyTorch's amax;
 * torch.max(x, dim) instead sends it to the one index it returns: the same when there are no ties).
 */
export function max(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  return extreme('max', x, dims, keepdim);
}

export function min(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  return extreme('min', x, dims, keepdim);
}

function extreme(op: 'max' | 'min', x: Tensor, dims: Dims | undefined, keepdim: boolean): Tensor {
  const { out, p } = reduceKernel(op, x, dims, keepdim, x.dtype, op);
  return record(out, op, [x], [x, out.detach()], (g, [x, out]) => {
    const hit = eq(x, out.reshape(p.keptShape));
    const share = hit.to(g.dtype);
    const count = share.sum(p.red, true);
    return [g.reshape(p.keptShape).div(count).mul(share)];
  }, { dims: p.red, keepdim });
}

/** Index of the max along dim (of the flattened tensor when dim is omitted), as int32; first index on ties. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme('argmax', x, dim, keepdim);
}

export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme('argmin', x, dim, keepdim);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    const r = reduceKernel(op, x.reshape([-1]), 0, false, 'int32', op).out;
    return keepdim ? r.reshape(x.shape.map(() => 1)) : r;
  }
  return reduceKernel(op, x, dim, keepdim, 'int32', op).out;
}

/** Variance with Bessel's correction by default (correction = 1), as torch.var. */
export function variance(x: Tensor, dims?: Dims, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  requireFloating(x, 'var');
  const correction = opts.correction ?? 1;
  const n = normDims(dims, x.ndim, 'var').reduce((p, d) => p * x.shape[d], 1);
  const d = x.sub(x.mean(dims, true));
  return d.mul(d).sum(dims, opts.keepdim ?? false).div(Math.max(n - correction, 0));
}

/** log Σ exp(x) along dim, stable: m + log Σ exp(x − m) with m = max (treated as a constant). */
export function logsumexp(x: Tensor, dim: number, keepdim = false): Tensor {
  return logsumexpAs(x, dim, keepdim, 'logsumexp');
}

/**
 * The composites check their dim under their own name before delegating (max, sum, sub), so that
 * a bad dim is reported as "softmax: dim 3 is out of range ...", not as the max inside it.
 */
function logsumexpAs(x: Tensor, dim: number, keepdim: boolean, op: string): Tensor {
  requireFloating(x, op);
  normDim(dim, x.ndim, op);
  const m = x.max(dim, true).detach();
  const mSafe = where(m.abs().lt(Infinity), m, 0);
  const r = x.sub(mSafe).exp().sum(dim, true).log().add(mSafe);
  return keepdim ? r : r.squeeze(dim);
}

/** exp(x − max) / Σ exp(x − max) along dim: one fused kernel forward and backward (softmaxComposed is its oracle). */
export function softmax(x: Tensor, dim: number): Tensor {
  return fusedSoftmax('softmax', x, dim);
}

/** x − logsumexp(x) along dim, fused as softmax is (logSoftmaxComposed is its oracle). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return fusedSoftmax('logSoftmax', x, dim);
}

/** softmax composed from max, sub, exp, sum and div: the definition the fused kernel is tested against. */
export function softmaxComposed(x: Tensor, dim: number): Tensor {
  requireFloating(x, 'softmax');
  normDim(dim, x.ndim, 'softmax');
  const e = x.sub(x.max(dim, true).detach()).exp();
  return e.div(e.sum(dim, true));
}

/** logSoftmax composed from logsumexp: the definition the fused kernel is tested against. */
export function logSoftmaxComposed(x: Tensor, dim: number): Tensor {
  return x.sub(logsumexpAs(x, dim, true, 'logSoftmax'));
}

/**
 * The fused softmax family: the kernel works on the rows of a contiguous (rows, n) array, so dim is
 * swapped to the end first (a view; copied only when x is not laid out that way already, as for the
 * (B, V, T) view of (B, T, V) logits, whose class dim is already the innermost in memory).
 */
function fusedSoftmax(kind: SoftmaxKind, x: Tensor, dim: number): Tensor {
  requireFloating(x, kind);
  const d = normDim(dim, x.ndim, kind);
  if (x.ndim === 0) return fusedSoftmax(kind, x.reshape([1]), 0).reshape([]);
  const last = x.ndim - 1;
  if (d !== last) return fusedSoftmax(kind, x.transpose(d, last), last).transpose(d, last);
  const xc = x.contiguous();
  const n = x.shape[last];
  const rows = n === 0 ? 0 : x.numel / n;
  const out = empty(x.shape, x.dtype);
  K.softmax(kind, contiguousData(xc), rows, n, out.storage.data);
  // the output is saved as it is, not detached, so that a recorded backward (createGraph) differentiates through it
  return record(out, kind, [xc], [out], (g, [y]) => [softmaxGrad(kind, g, y)], { dim: last });
}

/**
 * The gradient of softmax (y·(g − Σ g·y)) or log-softmax (g − exp(y)·Σ g) along the last dim from the
 * output y: the fused kernel in a plain backward, the composed ops when the backward is itself recorded.
 */
function softmaxGrad(kind: SoftmaxKind, g: Tensor, y: Tensor): Tensor {
  if (isGradEnabled() || g.dtype !== y.dtype) {
    return kind === 'softmax' ? y.mul(g.sub(g.mul(y).sum(-1, true))) : g.sub(y.exp().mul(g.sum(-1, true)));
  }
  const dx = empty(y.shape, y.dtype);
  const n = y.shape[y.ndim - 1];
  K.softmaxBackward(kind, contiguousData(y), contiguousData(g), n === 0 ? 0 : y.numel / n, n, dx.storage.data);
  return dx;
}
