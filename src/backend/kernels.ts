/**
 * The kernel contract: every computation on tensor data goes through one of these functions.
 *
 * Kernels see typed arrays and shapes, never Tensors, and never allocate their output: the op
 * allocates `out` (contiguous, row-major) and the kernel fills it. The `ref` backend implements the
 * whole table in plain TypeScript and is the specification; a fast backend supplies any subset and
 * the registry takes the rest from `ref` (see registry.ts).
 */
import type { TypedArray } from '../tensor/dtype.js';

/** A strided read-only view: element at index (i0, i1, ...) is data[offset + Σ ik·strides[k]]. */
export interface View {
  data: TypedArray;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}

/**
 * The ops of unary, binary and reduce. Their order is the numbering of pfs_unary_op, pfs_binary_op
 * and pfs_reduce_op in csrc/pfs.h, which the C kernels receive (test/marshal.test.ts checks it);
 * unary ops with no C version come last ('not').
 */
export const UNARY_OPS = [
  'copy', // also converts between dtypes (out's type decides)
  'neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'sigmoid', 'tanh', 'relu',
  'not',
] as const;
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or',
] as const;
export const REDUCE_OPS = ['sum', 'max', 'min', 'argmax', 'argmin'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
/** The two members of the softmax family with a fused kernel (Kernels.softmax). */
export const SOFTMAX_KINDS = ['softmax', 'logSoftmax'] as const;
export type SoftmaxKind = (typeof SOFTMAX_KINDS)[number];

/**
 * Batched matrix product out[b] = op(A[b]) · op(B[b]), out contiguous (batch, m, n); with `accumulate`,
 * out[b] += op(A[b]) · op(B[b]) (backward adds a weight's gradient into its running sum this way).
 * A[b] element (i, p) sits at a[aOffsets[b] + i·aRowStride + p·aColStride] (transposed operands are
 * read in place by swapping the strides); likewise B[b] (p, j) at b[bOffsets[b] + p·bRowStride + j·bColStride].
 */
export interface GemmArgs {
  batch: number;
  m: number;
  n: number;
  k: number;
  a: TypedArray;
  aOffsets: readonly number[];
  aRowStride: number;
  aColStride: number;
  b: TypedArray;
  bOffsets: readonly number[];
  bRowStride: number;
  bColStride: number;
  out: TypedArray;
  accumulate?: boolean;
}

/**
 * conv2d geometry: input (N, C, H, W), weight (O, C/groups, KH, KW), output (N, O, OH, OW). Output cell
 * (oy, ox) reads input row oy·strideH − padH + i·dilationH for kernel row i (columns alike); reads
 * outside the input are zeros. OH and OW are given, not derived: the padding after the input is
 * whatever they imply (conv2d crops unused kernel taps, which leaves it uneven).
 */
export interface Conv2dGeom {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  oh: number; ow: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  dilationH: number; dilationW: number;
  groups: number;
}

/** pooling geometry: input (N·C planes of H×W), output planes OH×OW; padded cells are skipped. */
export interface Pool2dGeom {
  planes: number; h: number; w: number;
  oh: number; ow: number;
  kh: number; kw: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  /** avg only: divide by the full kernel area (true) or by the cells inside the input (false). */
  countIncludePad: boolean;
}

/**
 * Aliasing: an elementwise kernel's output (unary, binary, where) may be the very array an operand
 * reads, element for element (an operand that is out itself, contiguous from 0: conv2d adds its bias
 * into its output, activationGrad reuses its buffer); every backend must then give the result it
 * gives without the overlap. No other overlap between an output and an input is allowed.
 */
export interface Kernels {
  /** out[i] = f(x[i]) over x.shape, out contiguous. */
  unary(op: UnaryOp, x: View, out: TypedArray): void;
  /** out[i] = f(a[i], b[i]); a and b already have out's shape (broadcast dims have stride 0). */
  binary(op: BinaryOp, a: View, b: View, out: TypedArray): void;
  /** out[i] = cond[i] ? a[i] : b[i]; all three views have out's shape. */
  where(cond: View, a: View, b: View, out: TypedArray): void;
  /**
   * Reduce the middle axis of a contiguous (outer, n, inner) array into out (outer, inner). An
   * int32 or bool sum goes into a Float64Array out and must be exact (sum() then refuses results
   * outside int32's range); ref does it, fast backends leave integer input to ref.
   */
  reduce(op: ReduceOp, x: TypedArray, outer: number, n: number, inner: number, out: TypedArray): void;
  gemm(args: GemmArgs): void;
  /** out (outer, idx.length, inner) = x (outer, n, inner) picked along the middle axis; idx checked by the op. */
  indexSelect(x: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, out: TypedArray): void;
  /** out (outer, n, inner) += src (outer, idx.length, inner) along the middle axis (indexSelect's adjoint); repeated indices accumulate. */
  indexAdd(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, out: TypedArray): void;
  /**
   * gather along the middle axis: out (outer, m, inner)[o, j, i] = x (outer, n, inner)[o, idx[o, j, i], i].
   * scatterAdd is its adjoint: out (outer, n, inner)[o, idx[o, j, i], i] += src[o, j, i].
   */
  gather(x: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, m: number, out: TypedArray): void;
  scatterAdd(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, m: number, out: TypedArray): void;
  conv2d(x: TypedArray, w: TypedArray, g: Conv2dGeom, out: TypedArray): void;
  /** dx (N, C, H, W) = conv2d's input gradient from dy (N, O, OH, OW). */
  conv2dBackwardInput(dy: TypedArray, w: TypedArray, g: Conv2dGeom, dx: TypedArray): void;
  /** dw (O, C/groups, KH, KW) = conv2d's weight gradient. */
  conv2dBackwardWeight(dy: TypedArray, x: TypedArray, g: Conv2dGeom, dw: TypedArray): void;
  /** Max pool; argmax (same size as out) gets the flat index within the input plane of each max. */
  maxPool2d(x: TypedArray, g: Pool2dGeom, out: TypedArray, argmax: Int32Array): void;
  maxPool2dBackward(dy: TypedArray, argmax: Int32Array, g: Pool2dGeom, dx: TypedArray): void;
  avgPool2d(x: TypedArray, g: Pool2dGeom, out: TypedArray): void;
  avgPool2dBackward(dy: TypedArray, g: Pool2dGeom, dx: TypedArray): void;
  /**
   * Batch normalisation over x (outer, c, inner), contiguous: channel k holds the outer·inner values
   * x[o·c·inner + k·inner + i]. mean[k] and the biased variance varOut[k] of each channel (outer·inner ≥ 1).
   */
  bnStats(x: TypedArray, outer: number, c: number, inner: number, mean: TypedArray, varOut: TypedArray): void;
  /** out = x·scale[k] + shift[k] over (outer, c, inner), channel k as in bnStats. */
  channelAffine(x: TypedArray, outer: number, c: number, inner: number, scale: TypedArray, shift: TypedArray, out: TypedArray): void;
  /**
   * Batch normalisation's backward pass over (outer, c, inner): with x̂ = (x − mean[k])·invstd[k] and
   * n = outer·inner, sumG[k] = Σ g and sumGX[k] = Σ g·x̂ over channel k, and
   * dx = invstd[k]·w[k]·(g − sumG[k]/n − x̂·sumGX[k]/n), w[k] = weight[k], or 1 when weight is null.
   */
  bnBackward(
    g: TypedArray, x: TypedArray, outer: number, c: number, inner: number, mean: TypedArray, invstd: TypedArray,
    weight: TypedArray | null, dx: TypedArray, sumG: TypedArray, sumGX: TypedArray,
  ): void;
  /**
   * Layer normalisation of each row of a contiguous (rows, n) float array, n ≥ 1, in double: μ the row's
   * mean, σ² its biased variance (Σ (x − μ)² / n, a second pass), r = 1/√(σ² + eps);
   * out = (x − μ)·r·w[j] + b[j], w and b of length n (null: 1 and 0). mean[i] = μ and rstd[i] = r of
   * each row are written for the backward pass.
   */
  layerNorm(
    x: TypedArray, rows: number, n: number, eps: number, w: TypedArray | null, b: TypedArray | null,
    out: TypedArray, mean: TypedArray, rstd: TypedArray,
  ): void;
  /**
   * The backward pass of layerNorm from the output gradient g, (rows, n) as x: with x̂ = (x − mean[i])·rstd[i]
   * and ĝ = g·w[j] (g when w is null), dx = rstd[i]·(ĝ − Σ_j ĝ / n − x̂·Σ_j ĝ·x̂ / n) (the row sums in
   * double); dw[j] = Σ_i g·x̂ and db[j] = Σ_i g (column sums in double, in row order), each written only
   * when it is not null.
   */
  layerNormBackward(
    g: TypedArray, x: TypedArray, rows: number, n: number, mean: TypedArray, rstd: TypedArray, w: TypedArray | null,
    dx: TypedArray, dw: TypedArray | null, db: TypedArray | null,
  ): void;
  /**
   * One LSTM step's gate arithmetic over `rows` rows of width h: z (rows, 4h) holds the
   * pre-activations [i | f | g | o] of each row, c (rows, h) the previous cell. I = σ(z_i), F = σ(z_f),
   * G = tanh(z_g), O = σ(z_o); C' = F·c + I·G; H' = O·tanh(C'). out (rows, 2h) gets [H' | C'] and acts
   * (rows, 4h) [I | F | G | O], which the backward pass reads. The fast kernels compute in the arrays'
   * precision with the unary kernels' sigmoid and tanh; ref computes in double.
   */
  lstmCell(z: TypedArray, c: TypedArray, rows: number, h: number, out: TypedArray, acts: TypedArray): void;
  /**
   * Its backward pass from acts, c, the cell C' (out's second half) and the gradient gout (rows, 2h) =
   * [dH' | dC'] (the same precision as the forward): with t = tanh(C'), dC = dC' + dH'·O·(1 − t²); dz (rows, 4h) =
   * [dC·G·I(1 − I) | dC·c·F(1 − F) | dC·I·(1 − G²) | dH'·t·O(1 − O)] and dc (rows, h) = dC·F.
   */
  lstmCellBackward(acts: TypedArray, c: TypedArray, out: TypedArray, gout: TypedArray, rows: number, h: number, dz: TypedArray, dc: TypedArray): void;
  /**
   * The two element-wise halves of a GRU step (Cho et al. 2014, the reset gate applied before the
   * product with W_hh) over `rows` rows of width h. gruGates: a and rz (rows, 2h) are the input and hidden
   * terms of [r | z], H (rows, h) the state; R = σ(a_r + rz_r), Z = σ(a_z + rz_z); out (rows, 2h) = [Z | R·H]
   * and acts (rows, 2h) = [R | Z]. gruUpdate: xh, m (rows, h) the input and hidden terms of the candidate
   * (m = (R·H) W_hh), Z and H (rows, h); C = tanh(xh + m), out = Z·H + (1 − Z)·C, and cand = C.
   * The fast kernels compute in the arrays' precision with the unary kernels' sigmoid and tanh.
   */
  gruGates(a: TypedArray, rz: TypedArray, H: TypedArray, rows: number, h: number, out: TypedArray, acts: TypedArray): void;
  /** gruGates' backward from acts, H and g = [dZ | d(R·H)]: da (rows, 2h) = [d(R·H)·H·R(1 − R) | dZ·Z(1 − Z)], dH = d(R·H)·R. */
  gruGatesBackward(acts: TypedArray, H: TypedArray, g: TypedArray, rows: number, h: number, da: TypedArray, dH: TypedArray): void;
  gruUpdate(xh: TypedArray, m: TypedArray, Z: TypedArray, H: TypedArray, rows: number, h: number, out: TypedArray, cand: TypedArray): void;
  /** gruUpdate's backward from cand, Z, H and g = dout: dxh = g·(1 − Z)·(1 − C²) (also m's), dZ = g·(H − C), dH = g·Z. */
  gruUpdateBackward(cand: TypedArray, Z: TypedArray, H: TypedArray, g: TypedArray, rows: number, h: number, dxh: TypedArray, dZ: TypedArray, dH: TypedArray): void;
  /**
   * Softmax or log-softmax of each row of a contiguous (rows, n) float array, in double: with m the row's
   * max and s = Σ exp(x − m), softmax out = exp(x − m) / s; logSoftmax out = x − (m' + log s'), where m'
   * is m, or 0 when m is not finite, and s' = Σ exp(x − m') (as the composed ops give: NaN, ±∞ alike).
   */
  softmax(kind: SoftmaxKind, x: TypedArray, rows: number, n: number, out: TypedArray): void;
  /**
   * The backward pass of softmax from its output y and output gradient g, (rows, n) each:
   * softmax dx = y·(g − Σ g·y); logSoftmax dx = g − exp(y)·Σ g (sums along the row, in double).
   */
  softmaxBackward(kind: SoftmaxKind, y: TypedArray, g: TypedArray, rows: number, n: number, dx: TypedArray): void;
  /**
   * One Adam (or AdamW) step in place over the first n elements of p, m, v (and vmax, with AMSGrad; else
   * null) from the gradient g; per element, in double, each stored value rounded once:
   * g' = g + l2·p; m = β1·m + (1 − β1)·g'; v = β2·v + (1 − β2)·g'²; vmax = max(vmax, v);
   * p = p·decay − stepSize·m / (√(vmax or v) / bc2Sqrt + eps). src/optim/adam.ts says what each number is.
   */
  adam(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vmax: TypedArray | null, n: number, h: AdamStep): void;
}

export type KernelName = keyof Kernels;

/** The numbers of one Adam step (Kernels.adam). */
export interface AdamStep {
  beta1: number;
  beta2: number;
  /** α / (1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t). */
  bc2Sqrt: number;
  eps: number;
  /** Adam's weight decay λ, added to the gradient as λ·p (0 for none, and for AdamW). */
  l2: number;
  /** AdamW's decoupled decay, the factor 1 − αλ applied to p (1 for none, and for Adam). */
  decay: number;
}
