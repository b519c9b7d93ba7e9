/** matmul with PyTorch's semantics: 1-D operands, 2-D, and batched with broadcast batch dims. */
import type { PartialGrad } from '../autograd/node.js';
import { transposedInPass } from '../autograd/pass.js';
import { K } from '../backend/registry.js';
import { broadcastShapes, numel, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastView, empty, record, sumTo } from './core.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError('matmul: expected two Tensors');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul: both operands need at least 1 dim, got shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  if (a.dtype !== b.dtype) {
    throw new TypeError(`matmul: expected both operands to have the same dtype, got ${a.dtype} and ${b.dtype}`);
  }
  if (a.dtype === 'bool') throw new TypeError('matmul: not defined for bool tensors');
  // 1-D operands: a vector is a row (on the left) or a column (on the right), removed afterwards.
  if (a.ndim === 1 && b.ndim === 1) return mm(a.unsqueeze(0), b.unsqueeze(1), a, b).reshape([]);
  if (a.ndim === 1) return mm(a.unsqueeze(0), b, a, b).squeeze(-2);
  if (b.ndim === 1) return mm(a, b.unsqueeze(1), a, b).squeeze(-1);
  // (..., m, k) @ (k, n), a Linear layer on a batch of sequences: one product (… · m, k)(k, n) rather than
  // a batch of thin ones, and b's gradient is one product too, not a batch of (k, n) summed afterwards.
  if (b.ndim === 2 && a.ndim > 2) {
    if (a.shape[a.ndim - 1] !== b.shape[0]) mm(a, b, a, b); // throws the shape error
    return mm(a.reshape([-1, b.shape[0]]), b, a, b).reshape([...a.shape.slice(0, -1), b.shape[1]]);
  }
  return mm(a, b, a, b);
}

/** (..., m, k) @ (..., k, n) → (broadcast ..., m, n); the transposed operands of backward are read in place. */
function mm(a: Tensor, b: Tensor, a0: Tensor, b0: Tensor): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2];
  const n = b.shape[b.ndim - 1];
  if (k !== k2) {
    throw new RangeError(
      `matmul: shapes ${shapeStr(a0.shape)} and ${shapeStr(b0.shape)} cannot be multiplied (${k} columns vs ${k2} rows)`,
    );
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch dims)');
  const batch = numel(batchShape);
  const av = broadcastView(a, [...batchShape, m, k]);
  const bv = broadcastView(b, [...batchShape, k, n]);
  const out = empty([...batchShape, m, n], a.dtype);
  K.gemm({
    batch, m, n, k,
    a: av.data, aOffsets: batchOffsets(batchShape, av.strides, av.offset), aRowStride: av.strides[av.strides.length - 2], aColStride: av.strides[av.strides.length - 1],
    b: bv.data, bOffsets: batchOffsets(batchShape, bv.strides, bv.offset), bRowStride: bv.strides[bv.strides.length - 2], bColStride: bv.strides[bv.strides.length - 1],
    out: out.storage.data,
  });
  // An operand that is a transposed view of a contiguous matrix (Linear's W.transpose(0, 1)) gets
  // its gradient computed transposed, (gᵀa)ᵀ instead of aᵀg, so the view's backward hands its leaf
  // a contiguous gradient rather than a strided one that must be copied.
  return record(out, 'matmul', [a, b], [a, b], (g, [a, b]) => g.ndim === 2 ? [
    // 2-D: each gradient a product that backward may add into a running sum by itself (productGrad);
    // bᵀ contiguous from b's second product in this backward pass (a recurrent weight: autograd/pass.ts)
    !a.requiresGrad ? null : aGrad(g, b, transposedInPass(b), isTransposed(a)),
    !b.requiresGrad ? null : productGrad(a.transpose(0, 1), g, () => isTransposed(b) ? mm(g.transpose(0, 1), a, g, a).transpose(0, 1) : mm(a.transpose(0, 1), g, a, g)),
  ] : [
    !a.requiresGrad ? null : sumTo(mm(g, b.transpose(-1, -2), g, b), a.shape),
    !b.requiresGrad ? null : sumTo(mm(a.transpose(-1, -2), g, a, g), b.shape),
  ]);
}

/** The gradient g · bᵀ of a 2-D product's first operand, through bt (bᵀ contiguous) where there is one. */
function aGrad(g: Tensor, b: Tensor, bt: Tensor | null, transposedA: boolean): PartialGrad {
  if (bt !== null) return productGrad(g, bt, () => mm(g, bt, g, bt));
  return productGrad(g, b.transpose(0, 1), () => transposedA ? mm(b, g.transpose(0, 1), b, g).transpose(0, 1) : mm(g, b.transpose(0, 1), g, b));
}

/**
 * The gradient x·y of a 2-D product (x, y 2-D views), left for backward to place (PartialGrad):
 * `make` gives it as a tensor (recorded); addInto adds it into a running sum with one accumulating
 * product, which spares a (m, n) tensor and a pass adding it wherever a matrix is used many times
 * (a recurrent weight, at every step).
 */
function productGrad(x: Tensor, y: Tensor, make: () => Tensor): PartialGrad {
  return {
    shape: [x.shape[0], y.shape[1]],
    dtype: x.dtype,
    sources: [x, y],
    materialize: make,
    addInto(target: Tensor) {
      K.gemm({
        batch: 1, m: x.shape[0], n: y.shape[1], k: x.shape[1],
        a: x.storage.data, aOffsets: [x.offset], aRowStride: x.strides[0], aColStride: x.strides[1],
        b: y.storage.data, bOffsets: [y.offset], bRowStride: y.strides[0], bColStride: y.strides[1],
        out: target.storage.data, accumulate: true,
      });
    },
  };
}

/** Whether t is a 2-D matrix laid out column by column (the transpose of a contiguous one). */
function isTransposed(t: Tensor): boolean {
  return t.ndim === 2 && t.shape[0] > 1 && t.shape[1] > 1 && t.strides[0] === 1 && t.strides[1] === t.shape[0];
}

/** Offsets of each matrix of a batch, in row-major order of the batch dims. */
function batchOffsets(batchShape: readonly number[], strides: readonly number[], offset: number): number[] {
  const total = numel(batchShape);
  const offs = new Array<number>(total);
  const idx = new Array<number>(batchShape.length).fill(0);
  let o = offset;
  for (let i = 0; i < total; i++) {
    offs[i] = o;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      idx[d]++;
      o += strides[d];
      if (idx[d] < batchShape[d]) break;
      o -= strides[d] * batchShape[d];
      idx[d] = 0;
    }
  }
  return offs;
}
