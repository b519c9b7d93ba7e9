/**
 * Shape ops. reshape (of contiguous data), permute, transpose, squeeze, unsqueeze, expand and slice
 * are views: they share storage and copy nothing. cat, stack, pad and the indexing ops copy.
 */
import type { PartialGrad } from '../autograd/node.js';
import { K } from '../backend/registry.js';
import { storedValue } from '../tensor/dtype.js';
import { checkShape, contiguousStrides, normDim, numel, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { empty, record } from './core.js';
import { mapUnary } from './elementwise.js';

/** A view sharing x's storage. */
function alias(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.storage, shape, x.dtype, strides, offset);
}

/** Resolve one -1 in a requested shape. */
function inferShape(x: Tensor, shape: readonly number[], op: string): number[] {
  const free = shape.filter((s) => s === -1).length;
  if (free > 1) throw new RangeError(`${op}: only one dim can be -1, got ${shapeStr(shape)}`);
  if (shape.some((s) => s !== -1 && (!Number.isInteger(s) || s < 0))) {
    throw new RangeError(`${op}: shape must hold non-negative integers (and at most one -1), got ${shapeStr(shape)}`);
  }
  const known = shape.reduce((p, s) => (s === -1 ? p : p * s), 1);
  if (free === 1 && known === 0) {
    throw new RangeError(`${op}: cannot infer the -1 in ${shapeStr(shape)} for a tensor of shape ${shapeStr(x.shape)}: with another dim 0, any size fits`);
  }
  const out = shape.map((s) => (s === -1 ? x.numel / known : s));
  // (a -1 that does not divide evenly would give a fractional size: reported as a wrong shape)
  if (numel(out) !== x.numel || (free === 1 && known !== 0 && x.numel % known !== 0)) {
    throw new RangeError(`${op}: shape ${shapeStr(shape)} is invalid for a tensor of shape ${shapeStr(x.shape)} (${x.numel} elements)`);
  }
  return out;
}

/** Copy into a new contiguous tensor, recorded (gradient passes through). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return clone(x);
}

export function clone(x: Tensor): Tensor {
  return record(mapUnary('copy', x), 'clone', [x], [], (g) => [g]);
}

/** A view with a new shape; x must be contiguous (else use reshape). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(x, shape, 'view');
  if (!x.isContiguous()) {
    throw new Error(`view: the tensor of shape ${shapeStr(x.shape)} is not contiguous; use reshape (which copies) or call contiguous() first`);
  }
  const out = alias(x, s, contiguousStrides(s), x.offset);
  return record(out, 'view', [x], [], (g) => [g.reshape(x.shape)]);
}

/** reshape: a view when x is contiguous, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return view(contiguous(x), inferShape(x, shape, 'reshape'));
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return x.reshape([1]);
  const s = normDim(startDim, x.ndim, 'flatten');
  const e = normDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new RangeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const size = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return x.reshape([...x.shape.slice(0, s), size, ...x.shape.slice(e + 1)]);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new RangeError(`permute: expected ${x.ndim} dims for a tensor of shape ${shapeStr(x.shape)}, got [${dims.join(', ')}]`);
  }
  const d = dims.map((v) => normDim(v, x.ndim, 'permute'));
  if (new Set(d).size !== d.length) throw new RangeError(`permute: dims [${dims.join(', ')}] repeat a dim`);
  const out = alias(x, d.map((i) => x.shape[i]), d.map((i) => x.strides[i]), x.offset);
  const inverse = new Array<number>(d.length);
  d.forEach((v, i) => (inverse[v] = i));
  return record(out, 'permute', [x], [], (g) => [g.permute(inverse)], { dims: d });
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim(dim0, x.ndim, 'transpose');
  const b = normDim(dim1, x.ndim, 'transpose');
  const dims = x.shape.map((_, i) => i);
  if (x.ndim === 0) return x;
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Remove size-1 dims (all of them, or the given one if it has size 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  const keep =
    dim === undefined
      ? x.shape.map((s, i) => (s === 1 ? -1 : i)).filter((i) => i >= 0)
      : (() => {
          const d = normDim(dim, x.ndim, 'squeeze');
          return x.shape.map((_, i) => i).filter((i) => i !== d || x.shape[i] !== 1);
        })();
  const out = alias(x, keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset);
  return record(out, 'squeeze', [x], [], (g) => [g.reshape(x.shape)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  const out = alias(x, shape, strides, x.offset);
  return record(out, 'unsqueeze', [x], [], (g) => [g.reshape(x.shape)]);
}

/** Broadcast to a larger shape without copying (-1 keeps a size); gradient sums back. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new RangeError(`expand: target shape ${shapeStr(shape)} has fewer dims than the tensor's ${shapeStr(x.shape)}`);
  }
  const lead = shape.length - x.ndim;
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((s, i) => {
    const src = i >= lead ? x.shape[i - lead] : 1;
    const size = s === -1 && i >= lead ? src : s;
    if (size !== src && src !== 1) {
      throw new RangeError(`expand: cannot expand shape ${shapeStr(x.shape)} to ${shapeStr(shape)} (dim ${i}: ${src} → ${s})`);
    }
    outShape.push(size);
    strides.push(i < lead || (src === 1 && size !== 1) ? 0 : x.strides[i - lead]);
  });
  checkShape(outShape, 'expand');
  const out = alias(x, outShape, strides, x.offset);
  return record(out, 'expand', [x], [], (g) => {
    const dims = outShape.map((_, i) => i).filter((i) => i < lead || (x.shape[i - lead] === 1 && outShape[i] !== 1));
    const r = dims.length ? g.sum(dims, true) : g;
    return [r.reshape(x.shape)];
  });
}

/**
 * x[start:end:step] along dim, as a view (negative start/end count from the end; out-of-range bounds
 * are clipped, as Python slicing). Gradient: scattered back into zeros.
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim(dim, x.ndim, 'slice');
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const n = x.shape[d];
  const clip = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clip(start);
  const e = Math.max(clip(end ?? n), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[d] = len;
  const strides = [...x.strides];
  strides[d] = x.strides[d] * step;
  const out = alias(x, shape, strides, x.offset + (len > 0 ? s * x.strides[d] : 0));
  return record(out, 'slice', [x], [], (g) => {
    const idx = new Int32Array(len);
    for (let i = 0; i < len; i++) idx[i] = s + i * step;
    return [rowsGrad(x.shape, d, idx, g)];
  }, { dim: d, start: s, end: e, step });
}

/** narrow(dim, start, length): x[start:start+length] along dim, with bounds checked strictly. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, 'narrow');
  const n = x.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new RangeError(`narrow: start ${start} and length ${length} fall outside dim ${dim} of size ${n}`);
  }
  return slice(x, d, s, s + length);
}

/** (outer, n, inner) sizes around dim for a contiguous layout. */
export function around(shape: readonly number[], d: number): [number, number, number] {
  return [numel(shape.slice(0, d)), shape[d], numel(shape.slice(d + 1))];
}

/** The gradient zeros(shape) with g added at rows idx of dim d, left for backward to place (PartialGrad). */
function rowsGrad(shape: readonly number[], d: number, idx: Int32Array, g: Tensor): PartialGrad {
  return {
    shape,
    dtype: g.dtype,
    sources: [g],
    materialize: () => indexAddInto(shape, d, idx, g),
    addInto(target: Tensor) {
      const [outer, n, inner] = around(shape, d);
      const gc = g.contiguous();
      K.indexAdd(gc.storage.data.subarray(gc.offset), outer, n, inner, idx, target.storage.data.subarray(target.offset));
    },
  };
}

/** zeros(shape) with src (outer, idx.length, inner) added at rows idx of dim d (recorded: differentiable in src). */
export function indexAddInto(shape: readonly number[], d: number, idx: Int32Array, src: Tensor): Tensor {
  const [outer, n, inner] = around(shape, d);
  const out = Tensor.zeros(shape, { dtype: src.dtype });
  const sc = src.contiguous();
  K.indexAdd(sc.storage.data.subarray(sc.offset), outer, n, inner, idx, out.storage.data);
  const idxT = new Tensor(idx, [idx.length], 'int32');
  return record(out, 'indexAdd', [src], [], (g) => [g.indexSelect(d, idxT)]);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const d = normDim(dim, first.ndim, 'cat');
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new TypeError(`cat: tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new RangeError(`cat: tensor ${i} has shape ${shapeStr(t.shape)}, which does not match tensor 0's ${shapeStr(first.shape)} except at dim ${d}`);
    }
  });
  const sizes = tensors.map((t) => t.shape[d]);
  const shape = [...first.shape];
  shape[d] = sizes.reduce((a, b) => a + b, 0);
  const [outer, total, inner] = around(shape, d);
  const out = empty(shape, first.dtype);
  const od = out.storage.data;
  let at = 0;
  for (const t of tensors) {
    const c = t.contiguous();
    const src = c.storage.data.subarray(c.offset);
    const block = t.shape[d] * inner;
    for (let o = 0; o < outer; o++) od.set(src.subarray(o * block, (o + 1) * block), o * total * inner + at * inner);
    at += t.shape[d];
  }
  return record(out, 'cat', [...tensors], [], (g) => {
    let s = 0;
    return sizes.map((n) => {
      const r = g.narrow(d, s, n);
      s += n;
      return r;
    });
  }, { dim: d });
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expected a non-empty list of tensors');
  const d = normDim(dim, tensors[0].ndim + 1, 'stack');
  tensors.forEach((t, i) => {
    if (t.ndim !== tensors[0].ndim || t.shape.some((s, k) => s !== tensors[0].shape[k])) {
      throw new RangeError(`stack: tensor ${i} has shape ${shapeStr(t.shape)}, tensor 0 has ${shapeStr(tensors[0].shape)}; all must be equal`);
    }
  });
  return cat(tensors.map((t) => t.unsqueeze(d)), d);
}

/** Split into pieces of `size` (the last may be smaller) or of the listed sizes, as views. */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, 'split');
  const n = x.shape[d];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1) throw new RangeError(`split: size must be a positive integer, got ${sizes}`);
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = [...sizes];
    if (list.reduce((a, b) => a + b, 0) !== n) {
      throw new RangeError(`split: sizes [${list.join(', ')}] do not add up to dim ${dim}'s size ${n}`);
    }
  }
  let s = 0;
  return list.map((len) => {
    const r = narrow(x, d, s, len);
    s += len;
    return r;
  });
}

/** Split into `chunks` pieces of ceil(n / chunks) (as torch.chunk: possibly fewer pieces). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim(dim, x.ndim, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/**
 * Constant padding as torch.nn.functional.pad: `pads` lists (before, after) pairs starting from the
 * last dim. Gradient: the matching slice.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new RangeError(`pad: expected an even number of pads, at most 2 per dim (${2 * x.ndim}), got [${pads.join(', ')}]`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new RangeError(`pad: pads must be non-negative integers, got [${pads.join(', ')}]`);
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    before[x.ndim - 1 - i] = pads[2 * i];
    after[x.ndim - 1 - i] = pads[2 * i + 1];
  }
  const shape = x.shape.map((s, i) => s + before[i] + after[i]);
  const out = empty(shape, x.dtype);
  out.storage.data.fill(storedValue(x.dtype, value, 'pad'));
  // Write x into the interior: a strided walk over x's rows.
  const src = x.contiguous();
  const sd = src.storage.data;
  const od = out.storage.data;
  const ostr = contiguousStrides(shape);
  const rowLen = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  const rows = rowLen === 0 ? 0 : x.numel / rowLen;
  const idx = new Array<number>(Math.max(x.ndim - 1, 0)).fill(0);
  for (let r = 0; r < rows; r++) {
    let o = x.ndim === 0 ? 0 : before[x.ndim - 1];
    for (let k = 0; k < idx.length; k++) o += (idx[k] + before[k]) * ostr[k];
    od.set(sd.subarray(src.offset + r * rowLen, src.offset + (r + 1) * rowLen), o);
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < x.shape[k]) break;
      idx[k] = 0;
    }
  }
  return record(out, 'pad', [x], [], (g) => {
    let r = g;
    for (let k = 0; k < x.ndim; k++) if (before[k] || after[k]) r = r.narrow(k, before[k], x.shape[k]);
    return [r];
  }, { before, after, value });
}
