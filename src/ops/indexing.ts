/** Indexing ops: indexSelect, gather, scatterAdd, maskedFill, oneHot. Indices are int32 and bounds-checked. */
import { K } from '../backend/registry.js';
import { storedValue } from '../tensor/dtype.js';
import { normDim, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, empty, record, traced } from './core.js';
import { mapUnary, where } from './elementwise.js';
import { around, indexAddInto } from './shape.js';

/** Checks an index tensor (int32, values in [0, n)) and returns its contiguous data. */
function indices(idx: Tensor, n: number, op: string, what = 'index'): Int32Array {
  if (!(idx instanceof Tensor)) throw new TypeError(`${op}: ${what} must be an int32 Tensor, got ${describe(idx)}`);
  if (idx.dtype !== 'int32') throw new TypeError(`${op}: ${what} must have dtype int32, got ${idx.dtype}`);
  const c = idx.contiguous();
  const data = (c.storage.data as Int32Array).subarray(c.offset, c.offset + c.numel);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || v >= n) throw new RangeError(`${op}: ${what} ${v} is out of range for a dim of size ${n}`);
  }
  return data;
}

/** Rows of x picked along dim by a 1-D index (as torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'indexSelect');
  if (index instanceof Tensor && index.ndim > 1) throw new RangeError(`indexSelect: index must be 1-D, got shape ${shapeStr(index.shape)}`);
  const idx = indices(index, x.ndim === 0 ? 1 : x.shape[d], 'indexSelect');
  const shape = x.ndim === 0 ? [] : x.shape.map((s, i) => (i === d ? idx.length : s));
  const [outer, n, inner] = x.ndim === 0 ? [1, 1, 1] : around(x.shape, d);
  const xc = x.contiguous();
  const out = empty(shape, x.dtype);
  K.indexSelect(xc.storage.data.subarray(xc.offset), outer, n, inner, idx, out.storage.data);
  return record(out, 'indexSelect', [x], [], (g) => [indexAddInto(x.shape, d, idx, g.contiguous())], { dim: d, index });
}

function checkIndexShape(x: Tensor, d: number, index: Tensor, op: string, exact: boolean): void {
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && (exact ? s !== x.shape[i] : s > x.shape[i]))) {
    throw new RangeError(
      `${op}: index of shape ${shapeStr(index.shape)} does not fit the tensor of shape ${shapeStr(x.shape)}: ` +
        `it needs the same number of dims and, except at dim ${d}, sizes ${exact ? 'equal to' : 'no larger than'} the tensor's`,
    );
  }
}

/** out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (as torch.gather); index may be smaller than x off dim. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'gather');
  if (!(index instanceof Tensor)) throw new TypeError(`gather: index must be an int32 Tensor, got ${describe(index)}`);
  checkIndexShape(x, d, index, 'gather', false);
  // Narrow x to the index's extent off dim (a differentiable view), then gather along the middle axis.
  let xs = x;
  index.shape.forEach((s, i) => {
    if (i !== d && s !== x.shape[i]) xs = xs.narrow(i, 0, s);
  });
  const idx = indices(index, x.shape[d], 'gather');
  const [outer, n, inner] = around(xs.shape, d);
  const m = index.shape[d];
  const xc = xs.contiguous();
  const out = empty(index.shape, x.dtype);
  K.gather(xc.storage.data.subarray(xc.offset), outer, n, inner, idx, m, out.storage.data);
  return record(out, 'gather', [xs], [], (g) => [scatterAdd(Tensor.zeros(xs.shape, { dtype: g.dtype }), d, index, g)]);
}

/**
 * x with src added at the positions index names along dim (as torch.scatter_add, out of place).
 * index and src must have the same shape, equal to x's except at dim.
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'scatterAdd');
  if (!(index instanceof Tensor) || !(src instanceof Tensor)) throw new TypeError('scatterAdd: index and src must be Tensors');
  checkIndexShape(x, d, index, 'scatterAdd', true);
  if (src.ndim !== index.ndim || src.shape.some((s, i) => s !== index.shape[i])) {
    throw new RangeError(`scatterAdd: src of shape ${shapeStr(src.shape)} must have the index's shape ${shapeStr(index.shape)}`);
  }
  if (src.dtype !== x.dtype) throw new TypeError(`scatterAdd: src has dtype ${src.dtype}, the tensor has ${x.dtype}`);
  const idx = indices(index, x.shape[d], 'scatterAdd');
  const [outer, n, inner] = around(x.shape, d);
  const out = mapUnary('copy', x);
  const sc = src.contiguous();
  K.scatterAdd(sc.storage.data.subarray(sc.offset), outer, n, inner, idx, index.shape[d], out.storage.data);
  return record(out, 'scatterAdd', [x, src], [], (g) => [g, src.requiresGrad ? gather(g, d, index) : null]);
}

/** x with `value` where mask (bool, broadcast to x) is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    throw new TypeError(`maskedFill: mask must be a bool tensor, got ${mask instanceof Tensor ? mask.dtype : describe(mask)}`);
  }
  const out = where(mask, Tensor.scalar(storedValue(x.dtype, value, 'maskedFill'), x.dtype), x);
  if (!out.shape.every((s, i) => s === x.shape[i]) || out.ndim !== x.ndim) {
    throw new RangeError(`maskedFill: mask of shape ${shapeStr(mask.shape)} must broadcast to the tensor's shape ${shapeStr(x.shape)}`);
  }
  return out;
}

/** One-hot encoding of int32 class indices: shape (..., numClasses), int32 (PyTorch gives int64). */
export function oneHot(index: Tensor, numClasses: number): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const idx = indices(index, numClasses, 'oneHot', 'class index');
  const out = Tensor.zeros([...index.shape, numClasses], { dtype: 'int32' });
  const od = out.storage.data;
  for (let i = 0; i < idx.length; i++) od[i * numClasses + idx[i]] = 1;
  return traced(out, 'oneHot', [index], { numClasses });
}
