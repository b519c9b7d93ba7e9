/**
 * The one marshalling layer of the fast backends. For each kernel with a C version, `pack` checks a
 * call's arguments and packs them as pfs_call (csrc/pfs.h) takes them: a Float64Array `meta`
 * ([kernel, the pfs_dtype of each array, the kernel's integers]) and the arrays, each with the element
 * range the kernel touches. csrc/call.c unpacks them, the same layout case by case. `fastKernels`
 * turns a backend's way of running a packed call (native/index.ts: pass the arrays to the addon;
 * wasm/index.ts: copy them into the module's memory) into a kernel table that falls back to `ref`
 * whenever the call is declined.
 *
 * Every check on a call's geometry happens here, once, for both backends: numbers whole, sizes ≥ 0,
 * each array long enough, each view inside its array. The C side trusts them; it checks only the
 * indices that are data (a max-pool backward's argmax, the indexing kernels' idx: PFS_EBADINDEX).
 * Offsets in meta are relative to the start of their array's range, which is where the backend's
 * pointer for that array points.
 */
import type { TypedArray } from '../tensor/dtype.js';
import { BINARY_OPS, REDUCE_OPS, SOFTMAX_KINDS, UNARY_OPS, type Conv2dGeom, type Kernels, type Pool2dGeom, type View } from './kernels.js';
import { refKernels } from './ref/index.js';

/** The most threads a kernel call may be given (PFS_MAX_THREADS). */
export const MAX_THREADS = 64;

/** pfs_kernel: the kernels with a C version, in pfs.h's order (PFS_CALL_<name in UPPER_SNAKE>). */
export const C_KERNELS = [
  'gemm', 'conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight',
  'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward',
  'unary', 'binary', 'where', 'reduce',
  'bnStats', 'channelAffine', 'bnBackward',
  'indexSelect', 'indexAdd', 'gather', 'scatterAdd',
  'softmax', 'softmaxBackward', 'adam', 'layerNorm', 'layerNormBackward', 'lstmCell', 'lstmCellBackward',
  'gruGates', 'gruGatesBackward', 'gruUpdate', 'gruUpdateBackward',
] as const;
export type CKernel = (typeof C_KERNELS)[number];

/** pfs_dtype: the element types of the arrays, in pfs.h's order (PFS_F32 ...). */
export const DTYPES = ['f32', 'f64', 'i32', 'u8'] as const;

/** pfs.h's status codes. */
export const STATUS = { ok: 0, unsupported: 1, enomem: -1, badIndex: -2 } as const;

/**
 * One array of a call: the kernel reads data[start, end) ('in'), writes it ('out'), or adds into it
 * ('inout': it reads the values there and writes the sums back).
 */
export interface Operand {
  data: TypedArray;
  start: number;
  end: number;
  role: 'in' | 'out' | 'inout';
}

export interface PackedCall {
  kernel: CKernel;
  meta: Float64Array;
  /** In pfs_call's order; null for an array the kernel does not use (bnBackward without a weight). */
  arrays: (Operand | null)[];
  /**
   * Elements (multiply-adds for gemm) the call processes, for a backend's small-call threshold;
   * Infinity where none applies; 0 for an indexing call that a backend copying its operands should
   * leave to ref (see indexCall).
   */
  work: number;
}

const dtypeCode = (a: TypedArray): number =>
  a instanceof Float32Array ? 0 : a instanceof Float64Array ? 1 : a instanceof Int32Array ? 2 : 3;

function fail(kernel: string, what: string): never {
  throw new RangeError(`pfs ${kernel}: ${what}`);
}

const input = (data: TypedArray, start: number, end: number): Operand => ({ data, start, end, role: 'in' });
const output = (data: TypedArray, length: number, role: 'out' | 'inout' = 'out'): Operand => ({ data, start: 0, end: length, role });

function need(kernel: string, name: string, a: TypedArray, n: number): void {
  if (a.length < n) fail(kernel, `${name} has ${a.length} elements, the geometry needs ${n}`);
}

const KERNEL_CODE = new Map<string, number>(C_KERNELS.map((k, i) => [k, i]));

/**
 * Where fastKernels' calls put their meta: one array reused from call to call (a call is packed and
 * run before the next is packed), since a new Float64Array of more than 64 bytes is a backing store
 * of its own for V8 to make and collect, on every kernel call. null: each call gets its own (pack's
 * callers outside fastKernels keep their PackedCall).
 */
let scratch: Float64Array | null = null;
let scratchOn = false;

/** meta with its head ([kernel, dtypes]) written and room for n integers after it, which start at meta[head]. */
function metaFor(kernel: CKernel, arrays: readonly (Operand | null)[], n: number): { meta: Float64Array; head: number } {
  const head = 1 + arrays.length;
  let meta: Float64Array;
  if (scratchOn) {
    if (scratch === null || scratch.length < head + n) scratch = new Float64Array(Math.max(256, 2 * (head + n)));
    meta = scratch.subarray(0, head + n);
    meta.fill(0);
  } else {
    meta = new Float64Array(head + n);
  }
  meta[0] = KERNEL_CODE.get(kernel)!;
  for (let i = 0; i < arrays.length; i++) meta[1 + i] = arrays[i] === null ? -1 : dtypeCode(arrays[i]!.data);
  return { meta, head };
}

/** A call whose integers are `ints`, checked whole and (where `sizes` says how many lead) ≥ 0. */
function call(kernel: CKernel, arrays: (Operand | null)[], ints: readonly number[], sizes: number, work: number, reals: readonly number[] = []): PackedCall {
  const { meta, head } = metaFor(kernel, arrays, ints.length + reals.length);
  for (let i = 0; i < ints.length; i++) {
    const v = ints[i];
    if (!Number.isInteger(v) || (i < sizes && v < 0)) fail(kernel, `expected whole numbers${i < sizes ? ' ≥ 0' : ''}, got ${v}`);
    meta[head + i] = v;
  }
  meta.set(reals, head + ints.length);
  return { kernel, meta, arrays, work };
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d];
  return n;
}

/** The element range [start, end) of v.data that view v reads; throws when it reaches outside the array. */
function viewSpan(kernel: string, v: View): Operand {
  let start = v.offset;
  let end = v.offset + 1;
  for (let d = 0; d < v.shape.length; d++) {
    if (!(Number.isInteger(v.shape[d]) && v.shape[d] >= 0)) fail(kernel, `expected sizes that are whole numbers ≥ 0, got ${v.shape[d]}`);
    if (v.shape[d] === 0) return input(v.data, 0, 0); // nothing is read
    const span = (v.shape[d] - 1) * v.strides[d];
    if (span < 0) start += span;
    else end += span;
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > v.data.length) {
    fail(kernel, `an operand reaches outside its array (elements ${start} to ${end - 1} of an array of ${v.data.length})`);
  }
  return input(v.data, start, end);
}

/**
 * An elementwise call: `op` (−1 for none), views of one shape, and a contiguous output; meta's
 * integers are [op?, ndim, shape, then each view's offset and strides].
 */
function elementwise(kernel: CKernel, op: number, views: readonly View[], out: TypedArray): PackedCall {
  // plain loops: this runs on every elementwise call, where a few microseconds matter
  const shape = views[0].shape;
  const nd = shape.length;
  const n = numel(shape);
  const arrays = views.map((v) => viewSpan(kernel, v));
  need(kernel, 'the output', out, n);
  arrays.push(output(out, n));
  const { meta, head } = metaFor(kernel, arrays, (op < 0 ? 0 : 1) + 1 + nd + views.length * (1 + nd));
  let p = head;
  if (op >= 0) meta[p++] = op;
  meta[p++] = nd;
  for (let d = 0; d < nd; d++) meta[p++] = shape[d];
  for (let v = 0; v < views.length; v++) {
    meta[p++] = views[v].offset - arrays[v].start;
    for (let d = 0; d < nd; d++) meta[p++] = views[v].strides[d];
  }
  return { kernel, meta, arrays, work: n };
}

/** A conv kernel's call: p and q are (x, w) forward, (dy, w) for the input gradient, (dy, x) for the weight gradient. */
function convCall(kernel: CKernel, p: TypedArray, q: TypedArray, g: Conv2dGeom, out: TypedArray): PackedCall {
  const ints = [g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups];
  if (g.strideH < 1 || g.strideW < 1 || g.dilationH < 1 || g.dilationW < 1 || g.groups < 1 || g.c % g.groups || g.o % g.groups) {
    fail(kernel, `stride and dilation must be ≥ 1 and groups must divide C and O, got stride ${g.strideH},${g.strideW} dilation ${g.dilationH},${g.dilationW} groups ${g.groups} (C ${g.c}, O ${g.o})`);
  }
  const nx = g.n * g.c * g.h * g.w;
  const nw = g.o * (g.c / g.groups) * g.kh * g.kw;
  const ny = g.n * g.o * g.oh * g.ow;
  const [np, nq, nout] = kernel === 'conv2d' ? [nx, nw, ny] : kernel === 'conv2dBackwardInput' ? [ny, nw, nx] : [ny, nx, nw];
  need(kernel, 'the first operand', p, np);
  need(kernel, 'the second operand', q, nq);
  need(kernel, 'the output', out, nout);
  return call(kernel, [input(p, 0, np), input(q, 0, nq), output(out, nout)], ints, ints.length, Infinity);
}

/** A pool call's integers, and its input and output sizes. */
function poolGeom(kernel: CKernel, g: Pool2dGeom): { ints: number[]; nx: number; ny: number } {
  if (g.strideH < 1 || g.strideW < 1) fail(kernel, `stride must be ≥ 1, got ${g.strideH},${g.strideW}`);
  const ints = [g.planes, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.countIncludePad ? 1 : 0];
  return { ints, nx: g.planes * g.h * g.w, ny: g.planes * g.oh * g.ow };
}

/** A batch-norm call over (outer, c, inner): arrays of outer·c·inner (`big`) or c values, outputs marked. */
function bnCall(kernel: CKernel, outer: number, c: number, inner: number, arrays: [TypedArray | null, 'big' | 'small', boolean][]): PackedCall {
  const n = outer * c * inner;
  const ops = arrays.map(([a, size, out]) => {
    if (a === null) return null;
    const len = size === 'big' ? n : c;
    need(kernel, size === 'big' ? 'an array' : 'a per-channel array', a, len);
    return out ? output(a, len) : input(a, 0, len);
  });
  return call(kernel, ops, [outer, c, inner], 3, n);
}

/**
 * An indexing call along the middle axis, arrays [x or src, idx, out]; meta's integers are
 * [outer, n, inner, m]. The (outer, n, inner) array is x for indexSelect and gather, and out for
 * indexAdd and scatterAdd, which add into it (read and written). idx holds m indices (indexSelect,
 * indexAdd) or one per element of the (outer, m, inner) array (gather, scatterAdd); its values are
 * data, checked in C (PFS_EBADINDEX).
 *
 * work is the elements picked, or 0 where the (outer, n, inner) array is over 3 times larger: a few
 * rows picked from a large table (an embedding lookup of a short batch), where the wasm backend
 * would spend longer copying the whole table in (and, adding, out) than ref takes for the call
 * (measured with 4000 rows of 100 picked from tables of 1000 to 64000 rows: even at 3 to 4 times).
 */
function indexCall(kernel: CKernel, x: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, m: number, out: TypedArray): PackedCall {
  const table = outer * n * inner;
  const picked = outer * m * inner;
  const adds = kernel === 'indexAdd' || kernel === 'scatterAdd';
  const nIdx = kernel === 'gather' || kernel === 'scatterAdd' ? picked : m;
  need(kernel, adds ? 'src' : 'the input', x, adds ? picked : table);
  need(kernel, 'the index', idx, nIdx);
  need(kernel, 'the output', out, adds ? table : picked);
  const arrays = [input(x, 0, adds ? picked : table), input(idx, 0, nIdx), adds ? output(out, table, 'inout') : output(out, picked)];
  return call(kernel, arrays, [outer, n, inner, m], 4, table > 3 * picked ? 0 : picked);
}

/** The unary ops with a C version: those before 'not' (PFS_UNARY_OPS). */
export const UNARY_C_OPS = UNARY_OPS.indexOf('not');

/**
 * The packer of each kernel with a C version: its arguments as a PackedCall, or null where the call
 * is known to have no C version (a unary op past pfs_unary_op); throws on arguments no kernel may
 * receive (a view outside its array, a short array, a bad geometry).
 */
export const pack: { [K in CKernel]: (...args: Parameters<Kernels[K]>) => PackedCall | null } = {
  gemm(g) {
    const { batch, m, n, k } = g;
    if (g.aOffsets.length < batch || g.bOffsets.length < batch) fail('gemm', `expected ${batch} offsets per operand, got ${g.aOffsets.length} and ${g.bOffsets.length}`);
    need('gemm', 'out', g.out, batch * m * n);
    const A = matrixSpan(g.a, g.aOffsets, batch, m, k, g.aRowStride, g.aColStride);
    const B = matrixSpan(g.b, g.bOffsets, batch, k, n, g.bRowStride, g.bColStride);
    const ints = [batch, m, n, k, g.aRowStride, g.aColStride, g.bRowStride, g.bColStride, g.accumulate ? 1 : 0];
    for (let i = 0; i < batch; i++) ints.push(g.aOffsets[i] - A.start);
    for (let i = 0; i < batch; i++) ints.push(g.bOffsets[i] - B.start);
    return call('gemm', [A, B, output(g.out, batch * m * n, g.accumulate ? 'inout' : 'out')], ints, 4, batch * m * n * k);
  },
  conv2d: (x, w, g, out) => convCall('conv2d', x, w, g, out),
  conv2dBackwardInput: (dy, w, g, dx) => convCall('conv2dBackwardInput', dy, w, g, dx),
  conv2dBackwardWeight: (dy, x, g, dw) => convCall('conv2dBackwardWeight', dy, x, g, dw),
  maxPool2d(x, g, out, argmax) {
    const { ints, nx, ny } = poolGeom('maxPool2d', g);
    need('maxPool2d', 'the input', x, nx);
    need('maxPool2d', 'the output', out, ny);
    need('maxPool2d', 'argmax', argmax, ny);
    return call('maxPool2d', [input(x, 0, nx), output(out, ny), output(argmax, ny)], ints, 11, Infinity);
  },
  maxPool2dBackward(dy, argmax, g, dx) {
    const { ints, nx, ny } = poolGeom('maxPool2dBackward', g);
    need('maxPool2dBackward', 'the input', dy, ny);
    need('maxPool2dBackward', 'argmax', argmax, ny);
    need('maxPool2dBackward', 'the output', dx, nx);
    return call('maxPool2dBackward', [input(dy, 0, ny), input(argmax, 0, ny), output(dx, nx)], ints, 11, Infinity);
  },
  avgPool2d(x, g, out) {
    const { ints, nx, ny } = poolGeom('avgPool2d', g);
    need('avgPool2d', 'the input', x, nx);
    need('avgPool2d', 'the output', out, ny);
    return call('avgPool2d', [input(x, 0, nx), output(out, ny)], ints, 11, Infinity);
  },
  avgPool2dBackward(dy, g, dx) {
    const { ints, nx, ny } = poolGeom('avgPool2dBackward', g);
    need('avgPool2dBackward', 'the input', dy, ny);
    need('avgPool2dBackward', 'the output', dx, nx);
    return call('avgPool2dBackward', [input(dy, 0, ny), output(dx, nx)], ints, 11, Infinity);
  },
  unary(op, x, out) {
    const code = UNARY_OPS.indexOf(op);
    return code < UNARY_C_OPS ? elementwise('unary', code, [x], out) : null;
  },
  binary: (op, a, b, out) => elementwise('binary', BINARY_OPS.indexOf(op), [a, b], out),
  where: (cond, a, b, out) => elementwise('where', -1, [cond, a, b], out),
  reduce(op, x, outer, n, inner, out) {
    need('reduce', 'the input', x, outer * n * inner);
    need('reduce', 'the output', out, outer * inner);
    return call('reduce', [input(x, 0, outer * n * inner), output(out, outer * inner)], [REDUCE_OPS.indexOf(op), outer, n, inner], 4, outer * n * inner);
  },
  bnStats: (x, outer, c, inner, mean, varOut) =>
    bnCall('bnStats', outer, c, inner, [[x, 'big', false], [mean, 'small', true], [varOut, 'small', true]]),
  channelAffine: (x, outer, c, inner, scale, shift, out) =>
    bnCall('channelAffine', outer, c, inner, [[x, 'big', false], [scale, 'small', false], [shift, 'small', false], [out, 'big', true]]),
  bnBackward: (g, x, outer, c, inner, mean, invstd, weight, dx, sumG, sumGX) =>
    bnCall('bnBackward', outer, c, inner, [
      [g, 'big', false], [x, 'big', false], [mean, 'small', false], [invstd, 'small', false], [weight, 'small', false],
      [dx, 'big', true], [sumG, 'small', true], [sumGX, 'small', true],
    ]),
  indexSelect: (x, outer, n, inner, idx, out) => indexCall('indexSelect', x, outer, n, inner, idx, idx.length, out),
  indexAdd: (src, outer, n, inner, idx, out) => indexCall('indexAdd', src, outer, n, inner, idx, idx.length, out),
  gather: (x, outer, n, inner, idx, m, out) => indexCall('gather', x, outer, n, inner, idx, m, out),
  scatterAdd: (src, outer, n, inner, idx, m, out) => indexCall('scatterAdd', src, outer, n, inner, idx, m, out),
  /** arrays [x, w, b, out, mean, rstd] (w, b null when absent); meta: [rows, n, then eps]. */
  layerNorm(x, rows, n, eps, w, b, out, mean, rstd) {
    const big = rows * n;
    const arrays = checkedArrays('layerNorm', [
      ['the input', x, big, 'in'], ['the weight', w, n, 'in'], ['the bias', b, n, 'in'], ['the output', out, big, 'out'],
      ['mean', mean, rows, 'out'], ['rstd', rstd, rows, 'out'],
    ]);
    return call('layerNorm', arrays, [rows, n], 2, big, [eps]);
  },
  /** arrays [g, x, mean, rstd, w, dx, dw, db] (w, dw, db null when absent); meta: [rows, n]. */
  layerNormBackward(g, x, rows, n, mean, rstd, w, dx, dw, db) {
    const big = rows * n;
    const arrays = checkedArrays('layerNormBackward', [
      ['the gradient', g, big, 'in'], ['the input', x, big, 'in'], ['mean', mean, rows, 'in'], ['rstd', rstd, rows, 'in'],
      ['the weight', w, n, 'in'], ['dx', dx, big, 'out'], ['dw', dw, n, 'out'], ['db', db, n, 'out'],
    ]);
    return call('layerNormBackward', arrays, [rows, n], 2, big);
  },
  /** arrays [z, c, out, acts]; meta: [rows, h]. */
  lstmCell(z, c, rows, h, out, acts) {
    const arrays = checkedArrays('lstmCell', [
      ['z', z, rows * 4 * h, 'in'], ['c', c, rows * h, 'in'], ['the output', out, rows * 2 * h, 'out'], ['acts', acts, rows * 4 * h, 'out'],
    ]);
    return call('lstmCell', arrays, [rows, h], 2, rows * 4 * h);
  },
  /** arrays [acts, c, out, gout, dz, dc]; meta: [rows, h]. */
  lstmCellBackward(acts, c, out, gout, rows, h, dz, dc) {
    const arrays = checkedArrays('lstmCellBackward', [
      ['acts', acts, rows * 4 * h, 'in'], ['c', c, rows * h, 'in'], ['the output', out, rows * 2 * h, 'in'], ['the gradient', gout, rows * 2 * h, 'in'],
      ['dz', dz, rows * 4 * h, 'out'], ['dc', dc, rows * h, 'out'],
    ]);
    return call('lstmCellBackward', arrays, [rows, h], 2, rows * 4 * h);
  },
  /** arrays [a, rz, H, out, acts]; meta: [rows, h]. */
  gruGates(a, rz, H, rows, h, out, acts) {
    const [n1, n2] = [rows * h, rows * 2 * h];
    const arrays = checkedArrays('gruGates', [['a', a, n2, 'in'], ['rz', rz, n2, 'in'], ['H', H, n1, 'in'], ['the output', out, n2, 'out'], ['acts', acts, n2, 'out']]);
    return call('gruGates', arrays, [rows, h], 2, n2);
  },
  /** arrays [acts, H, g, da, dH]; meta: [rows, h]. */
  gruGatesBackward(acts, H, g, rows, h, da, dH) {
    const [n1, n2] = [rows * h, rows * 2 * h];
    const arrays = checkedArrays('gruGatesBackward', [['acts', acts, n2, 'in'], ['H', H, n1, 'in'], ['the gradient', g, n2, 'in'], ['da', da, n2, 'out'], ['dH', dH, n1, 'out']]);
    return call('gruGatesBackward', arrays, [rows, h], 2, n2);
  },
  /** arrays [xh, m, Z, H, out, cand]; meta: [rows, h]. */
  gruUpdate(xh, m, Z, H, rows, h, out, cand) {
    const n = rows * h;
    const arrays = checkedArrays('gruUpdate', [['xh', xh, n, 'in'], ['m', m, n, 'in'], ['Z', Z, n, 'in'], ['H', H, n, 'in'], ['the output', out, n, 'out'], ['cand', cand, n, 'out']]);
    return call('gruUpdate', arrays, [rows, h], 2, n);
  },
  /** arrays [cand, Z, H, g, dxh, dZ, dH]; meta: [rows, h]. */
  gruUpdateBackward(cand, Z, H, g, rows, h, dxh, dZ, dH) {
    const n = rows * h;
    const arrays = checkedArrays('gruUpdateBackward', [
      ['cand', cand, n, 'in'], ['Z', Z, n, 'in'], ['H', H, n, 'in'], ['the gradient', g, n, 'in'], ['dxh', dxh, n, 'out'], ['dZ', dZ, n, 'out'], ['dH', dH, n, 'out'],
    ]);
    return call('gruUpdateBackward', arrays, [rows, h], 2, n);
  },
  softmax(kind, x, rows, n, out) {
    need('softmax', 'the input', x, rows * n);
    need('softmax', 'the output', out, rows * n);
    return call('softmax', [input(x, 0, rows * n), output(out, rows * n)], [SOFTMAX_KINDS.indexOf(kind), rows, n], 3, rows * n);
  },
  softmaxBackward(kind, y, g, rows, n, dx) {
    for (const [name, a] of [['y', y], ['the gradient', g], ['dx', dx]] as const) need('softmaxBackward', name, a, rows * n);
    return call('softmaxBackward', [input(y, 0, rows * n), input(g, 0, rows * n), output(dx, rows * n)], [SOFTMAX_KINDS.indexOf(kind), rows, n], 3, rows * n);
  },
  /** meta: [n, then β1, β2, stepSize, bc2Sqrt, eps, l2, decay] (reals, after the one integer). */
  adam(p, g, m, v, vmax, n, h) {
    const arrays = checkedArrays('adam', [['p', p, n, 'inout'], ['the gradient', g, n, 'in'], ['m', m, n, 'inout'], ['v', v, n, 'inout'], ['vmax', vmax, n, 'inout']]);
    return call('adam', arrays, [n], 1, n, [h.beta1, h.beta2, h.stepSize, h.bc2Sqrt, h.eps, h.l2, h.decay]);
  },
};

/** A call's operands, each checked long enough; a null array (layer norm without a weight, Adam without vmax) stays null. */
function checkedArrays(kernel: CKernel, spec: readonly [string, TypedArray | null, number, Operand['role']][]): (Operand | null)[] {
  return spec.map(([name, a, len, role]) => {
    if (a === null) return null;
    need(kernel, name, a, len);
    return role === 'in' ? input(a, 0, len) : output(a, len, role);
  });
}

/**
 * The range [start, end) of `data` that a batch of (rows × cols) strided matrices reads, each
 * starting at one of the first `batch` offsets; throws when it reaches outside the array.
 */
function matrixSpan(data: TypedArray, offsets: readonly number[], batch: number, rows: number, cols: number, rs: number, cs: number): Operand {
  if (batch === 0 || rows === 0 || cols === 0) return input(data, 0, 0);
  const lo = Math.min(0, (rows - 1) * rs) + Math.min(0, (cols - 1) * cs);
  const hi = Math.max(0, (rows - 1) * rs) + Math.max(0, (cols - 1) * cs);
  let start = Infinity;
  let end = -Infinity;
  for (let i = 0; i < batch; i++) {
    const o = offsets[i];
    if (!Number.isInteger(o)) fail('gemm', `offset ${o} is not a whole number`);
    start = Math.min(start, o + lo);
    end = Math.max(end, o + hi + 1);
  }
  if (start < 0 || end > data.length) {
    fail('gemm', `an operand reaches outside its array (elements ${start} to ${end - 1} of an array of ${data.length})`);
  }
  return input(data, start, end);
}

/**
 * Whether pfs_call did the work: true for PFS_OK, false where the reference kernel should run
 * instead (PFS_UNSUPPORTED; PFS_ENOMEM, no scratch memory); throws for a bad index (a max-pool
 * backward's argmax, an indexing kernel's idx).
 */
export function statusOk(status: number, kernel: string): boolean {
  if (status === STATUS.ok) return true;
  if (status === STATUS.unsupported || status === STATUS.enomem) return false;
  if (status === STATUS.badIndex) {
    fail(kernel, kernel === 'maxPool2dBackward' ? 'an argmax index lies outside its plane' : 'an index lies outside the dim it picks from');
  }
  throw new Error(`pfs ${kernel}: the kernel failed with status ${status}`);
}

/**
 * The kernel table of a fast backend: each kernel with a C version packs its call and hands it to
 * `run`, which returns whether the backend did the work; when it did not (or there is no C
 * version of the call), the reference kernel runs.
 */
export function fastKernels(run: (call: PackedCall) => boolean): Partial<Kernels> {
  const table: Record<string, (...args: unknown[]) => void> = {};
  for (const name of C_KERNELS) {
    const packer = pack[name] as (...args: unknown[]) => PackedCall | null;
    const ref = refKernels[name] as (...args: unknown[]) => void;
    table[name] = (...args) => {
      scratchOn = true;
      let c: PackedCall | null;
      try {
        c = packer(...args);
      } finally {
        scratchOn = false;
      }
      if (c === null || !run(c)) ref(...args);
    };
  }
  return table as Partial<Kernels>;
}
