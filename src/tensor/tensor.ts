/**
 * Tensor: a strided view over a typed-array storage, with a dtype, an optional gradient and the tape
 * node that made it. Methods mirror PyTorch's names in camelCase; each one calls the function of the
 * same name in src/ops, where the forward and backward live. Tensors are freed by the garbage collector.
 */
import { runBackward, BackwardOptions } from '../autograd/backward.js';
import type { Node } from '../autograd/node.js';
import { isGradEnabled } from '../autograd/mode.js';
import * as E from '../ops/elementwise.js';
import * as I from '../ops/indexing.js';
import * as L from '../ops/linalg.js';
import * as R from '../ops/reduce.js';
import * as S from '../ops/shape.js';
import { record, type TensorLike } from '../ops/core.js';
import { allocate, checkDType, DType, dtypeOfArray, INT32_MAX, INT32_MIN, isFloating, storedValue, TypedArray } from './dtype.js';
import { defaultGenerator, Generator } from './rng.js';
import { checkShape, contiguousStrides, numel, shapeStr } from './shape.js';

/** The buffer behind one or more views, with a version counter bumped by every in-place change. */
export class Storage {
  version = 0;
  constructor(readonly data: TypedArray) {}
}

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Gradient accumulated by backward() (leaves, or tensors that called retainGrad()). */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor; null for leaves. */
  gradFn: Node | null = null;
  retainsGrad = false;
  private _requiresGrad = false;

  /**
   * Low-level constructor: wraps a storage (or a typed array) without copying. Prefer the factories
   * (Tensor.from, zeros, randn, ...).
   */
  constructor(storage: Storage | TypedArray, shape: readonly number[], dtype?: DType, strides?: readonly number[], offset = 0) {
    this.storage = storage instanceof Storage ? storage : new Storage(storage);
    this.dtype = dtype ?? dtypeOfArray(this.storage.data);
    if (dtypeOfArray(this.storage.data) !== this.dtype) {
      throw new TypeError(`Tensor: a ${dtypeOfArray(this.storage.data)} buffer cannot back a ${this.dtype} tensor`);
    }
    this.shape = Object.freeze(checkShape(shape, 'Tensor'));
    this.strides = Object.freeze([...(strides ?? contiguousStrides(shape))]);
    this.offset = offset;
    if (strides === undefined && offset + numel(shape) > this.storage.data.length) {
      throw new RangeError(`Tensor: shape ${shapeStr(shape)} needs ${numel(shape)} elements, the buffer has ${this.storage.data.length - offset}`);
    }
  }

  // ---------- factories ----------

  /**
   * From a nested array (shape inferred) or a flat array/typed array with a shape. The dtype defaults
   * to float32 (int32 for an Int32Array, bool for booleans, float64 for a Float64Array; other typed
   * arrays, such as a Uint8Array of pixels, give float32: pass { dtype: 'bool' } for a bool tensor).
   */
  static from(values: NestedArray | ArrayLike<number>, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
    let flat: ArrayLike<number>;
    let shape: number[];
    let inferred: DType = 'float32';
    if (ArrayBuffer.isView(values)) {
      flat = values as unknown as ArrayLike<number>;
      if (values instanceof Float64Array) inferred = 'float64';
      else if (values instanceof Int32Array) inferred = 'int32';
      shape = opts.shape ? [...opts.shape] : [flat.length];
    } else if (typeof values === 'number' || typeof values === 'boolean') {
      flat = [Number(values)];
      shape = [];
      if (typeof values === 'boolean') inferred = 'bool';
    } else {
      const out: number[] = [];
      shape = opts.shape ? [...opts.shape] : inferNestedShape(values as NestedArray[]);
      let sawBool = false;
      flattenInto(values as NestedArray, out, () => (sawBool = true));
      if (sawBool) inferred = 'bool';
      flat = out;
      if (!opts.shape && out.length !== numel(shape)) throw new RangeError('Tensor.from: the nested array is ragged');
    }
    checkShape(shape, 'Tensor.from');
    if (flat.length !== numel(shape)) {
      throw new RangeError(`Tensor.from: ${flat.length} values do not fill shape ${shapeStr(shape)} (${numel(shape)} elements)`);
    }
    const dtype = opts.dtype ? checkDType(opts.dtype) : inferred;
    const data = allocate(dtype, flat.length, shape, 'Tensor.from');
    for (let i = 0; i < flat.length; i++) data[i] = storedValue(dtype, flat[i], 'Tensor.from');
    return new Tensor(data, shape, dtype).requiresGrad_(opts.requiresGrad ?? false);
  }

  static scalar(v: number, dtype: DType = 'float32'): Tensor {
    const data = allocate(dtype, 1);
    data[0] = storedValue(dtype, v, 'scalar');
    return new Tensor(data, [], dtype);
  }

  static full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
    return filled(shape, value, opts, 'full');
  }

  static zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
    return filled(shape, 0, opts, 'zeros');
  }

  static ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
    return filled(shape, 1, opts, 'ones');
  }

  /** Values start, start+step, ... below end (as torch.arange); int32 when all arguments are integers. */
  static arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
    if (end === undefined) [start, end] = [0, start];
    if (step === 0 || !Number.isFinite(step)) throw new RangeError(`arange: step must be a finite non-zero number, got ${step}`);
    const n = Math.max(0, Math.ceil((end - start) / step));
    const allInt = [start, end, step].every(Number.isInteger);
    const dtype = checkDType(opts.dtype ?? (allInt ? 'int32' : 'float32'));
    const data = allocate(dtype, n, [n], 'arange');
    for (let i = 0; i < n; i++) data[i] = storedValue(dtype, start + i * step, 'arange');
    return new Tensor(data, [n], dtype).requiresGrad_(opts.requiresGrad ?? false);
  }

  /** `steps` evenly spaced values from start to end inclusive. */
  static linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
    if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
    const dtype = checkDType(opts.dtype ?? 'float32');
    const data = allocate(dtype, steps, [steps], 'linspace');
    const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
    // Symmetric formula, as PyTorch: the second half counts back from end.
    for (let i = 0; i < steps; i++) data[i] = storedValue(dtype, i < steps / 2 ? start + i * delta : end - (steps - 1 - i) * delta, 'linspace');
    return new Tensor(data, [steps], dtype).requiresGrad_(opts.requiresGrad ?? false);
  }

  static eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
    const t = filled([n, m], 0, opts, 'eye');
    for (let i = 0; i < Math.min(n, m); i++) t.storage.data[i * m + i] = 1;
    return t;
  }

  /** Uniform in [0, 1). */
  static rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
    const g = opts.generator ?? defaultGenerator;
    const dtype = checkDType(opts.dtype ?? 'float32');
    if (!isFloating(dtype)) throw new TypeError(`rand: dtype must be floating, got ${dtype}`);
    const data = allocate(dtype, numel(checkShape(shape, 'rand')), shape, 'rand');
    for (let i = 0; i < data.length; i++) data[i] = dtype === 'float64' ? g.uniform53() : g.uniform();
    return new Tensor(data, shape, dtype).requiresGrad_(opts.requiresGrad ?? false);
  }

  /** Standard normal. */
  static randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
    const g = opts.generator ?? defaultGenerator;
    const dtype = checkDType(opts.dtype ?? 'float32');
    if (!isFloating(dtype)) throw new TypeError(`randn: dtype must be floating, got ${dtype}`);
    const data = allocate(dtype, numel(checkShape(shape, 'randn')), shape, 'randn');
    for (let i = 0; i < data.length; i++) data[i] = g.normal();
    return new Tensor(data, shape, dtype).requiresGrad_(opts.requiresGrad ?? false);
  }

  /** Integers in [low, high), int32. */
  static randint(low: number, high: number, shape: readonly number[], opts: { generator?: Generator } = {}): Tensor {
    const g = opts.generator ?? defaultGenerator;
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < INT32_MIN || high > INT32_MAX + 1 || !(high > low)) {
      throw new RangeError(`randint: expected whole numbers ${INT32_MIN} ≤ low < high ≤ ${INT32_MAX + 1} (int32 values), got [${low}, ${high})`);
    }
    const data = allocate('int32', numel(checkShape(shape, 'randint')), shape, 'randint');
    for (let i = 0; i < data.length; i++) data[i] = g.randint(low, high);
    return new Tensor(data, shape, 'int32');
  }

  // ---------- properties ----------

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    return numel(this.shape);
  }

  size(dim?: number): number | readonly number[] {
    return dim === undefined ? this.shape : this.shape[dim < 0 ? dim + this.ndim : dim];
  }

  get version(): number {
    return this.storage.version;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad || this.gradFn !== null;
  }

  set requiresGrad(v: boolean) {
    this.requiresGrad_(v);
  }

  /** Mark a leaf as requiring grad (only floating tensors can). Returns this. */
  requiresGrad_(v = true): this {
    if (v && !isFloating(this.dtype)) {
      throw new TypeError(`only floating-point tensors can require gradients, got ${this.dtype}`);
    }
    if (!v && this.gradFn !== null) {
      throw new Error('requiresGrad: cannot turn it off on a non-leaf tensor; use detach()');
    }
    this._requiresGrad = v;
    return this;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Keep .grad on this non-leaf tensor during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  isContiguous(): boolean {
    let s = 1;
    for (let i = this.ndim - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  // ---------- autograd ----------

  backward(grad?: Tensor, opts?: BackwardOptions): void {
    runBackward(this, grad, opts);
  }

  /** The same data, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype, this.strides, this.offset);
  }

  // ---------- data access ----------

  /** A contiguous copy of the elements as a typed array. */
  toTypedArray(): TypedArray {
    const c = this.contiguous();
    return c.storage.data.slice(c.offset, c.offset + c.numel);
  }

  /** Nested JS arrays (a number for a 0-d tensor; booleans for bool). */
  toArray(): NestedArray {
    const flat = Array.from(this.toTypedArray() as ArrayLike<number>, (v) => (this.dtype === 'bool' ? v !== 0 : v));
    const build = (d: number, at: number): NestedArray => {
      if (d === this.ndim) return flat[at] as NestedArray;
      const stride = numel(this.shape.slice(d + 1));
      return Array.from({ length: this.shape[d] }, (_, i) => build(d + 1, at + i * stride));
    };
    return build(0, 0);
  }

  /**
   * The values, read back asynchronously: a contiguous copy in row-major order, as toTypedArray gives.
   * The CPU backends have the values at once; a backend whose reads are asynchronous (WebGPU) needs
   * this form, so code meant to run there reads with `await t.data()` instead of item()/toTypedArray().
   */
  async data(): Promise<TypedArray> {
    return this.toTypedArray();
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new RangeError(`item: the tensor has ${this.numel} elements, expected 1 (shape ${shapeStr(this.shape)})`);
    return this.storage.data[this.offset];
  }

  /** item(), read back asynchronously (see data()). */
  async itemAsync(): Promise<number> {
    if (this.numel !== 1) throw new RangeError(`itemAsync: the tensor has ${this.numel} elements, expected 1 (shape ${shapeStr(this.shape)})`);
    return (await this.data())[0];
  }

  /** Convert to another dtype (a copy; recorded, so gradients flow between float types). */
  to(dtype: DType): Tensor {
    checkDType(dtype);
    if (dtype === this.dtype) return this;
    if (dtype === 'bool') return E.ne(this, 0); // non-zero → true (a plain copy would store 2 or 255)
    const out = E.mapUnary('copy', this, dtype);
    if (!isFloating(dtype)) return out;
    return recordCast(out, this);
  }

  float(): Tensor {
    return this.to('float32');
  }

  double(): Tensor {
    return this.to('float64');
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---------- in-place (bump the version; refused where autograd would be corrupted) ----------

  private checkInPlace(op: string): void {
    if (isGradEnabled() && this.requiresGrad) {
      throw new Error(
        `${op}: in-place change of a tensor that requires grad ${this.isLeaf ? '(a leaf)' : '(part of a graph)'}; ` +
          'wrap it in noGrad() (as optimisers do) or use the out-of-place op',
      );
    }
  }

  /** Copy src (broadcast to this shape, cast to this dtype) into this tensor's elements. */
  copy_(src: Tensor): this {
    this.checkInPlace('copy_');
    if (isGradEnabled() && src.requiresGrad) {
      throw new Error(
        'copy_: the source requires grad, and an in-place copy is not recorded, so its gradient would be lost; ' +
          'use the source itself (or src.clone()), or wrap the copy in noGrad() when no gradient should flow',
      );
    }
    // The same view of the same memory: nothing to copy (PyTorch's a.copy_(a) is a no-op too).
    if (sameView(this, src)) {
      this.storage.version++;
      return this;
    }
    let v = src.expand(this.shape).to(this.dtype).contiguous();
    // Overlap: when the source still reads this tensor's buffer (a.T.copy_(a)), a strided write
    // would read elements it has already overwritten. Such copies go through a temporary, so they
    // give what copying from a snapshot of the source gives (PyTorch refuses partial overlaps; a
    // copy is never wrong and never refuses views that share a buffer without sharing elements).
    // A contiguous destination is written by TypedArray.set, which already copies through a
    // temporary when both arrays share a buffer.
    if (!this.isContiguous() && v.storage.data.buffer === this.storage.data.buffer) v = v.clone();
    const sd = v.storage.data;
    if (this.isContiguous()) this.storage.data.set(sd.subarray(v.offset, v.offset + this.numel), this.offset);
    else writeStrided(this, (i) => sd[v.offset + i]);
    this.storage.version++;
    return this;
  }

  fill_(value: number): this {
    this.checkInPlace('fill_');
    const v = storedValue(this.dtype, value, 'fill_');
    writeStrided(this, () => v);
    this.storage.version++;
    return this;
  }

  zero_(): this {
    return this.fill_(0);
  }

  add_(other: TensorLike, alpha = 1): this {
    const o = typeof other === 'number' ? other * alpha : alpha === 1 ? other : other.mul(alpha);
    return E.binaryInPlace(this, 'add', o) ? this : this.copy_(this.add(o));
  }

  sub_(other: TensorLike): this {
    return E.binaryInPlace(this, 'sub', other) ? this : this.copy_(this.sub(other));
  }

  mul_(other: TensorLike): this {
    return E.binaryInPlace(this, 'mul', other) ? this : this.copy_(this.mul(other));
  }

  div_(other: TensorLike): this {
    return E.binaryInPlace(this, 'div', other) ? this : this.copy_(this.div(other));
  }

  // ---------- ops (see src/ops) ----------

  add(o: TensorLike): Tensor { return E.add(this, o); }
  sub(o: TensorLike): Tensor { return E.sub(this, o); }
  mul(o: TensorLike): Tensor { return E.mul(this, o); }
  div(o: TensorLike): Tensor { return E.div(this, o); }
  pow(o: TensorLike): Tensor { return E.pow(this, o); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  abs(): Tensor { return E.abs(this); }
  sign(): Tensor { return E.sign(this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  tanh(): Tensor { return E.tanh(this); }
  relu(): Tensor { return E.relu(this); }
  maximum(o: Tensor): Tensor { return E.maximum(this, o); }
  minimum(o: Tensor): Tensor { return E.minimum(this, o); }
  clamp(min?: number | null, max?: number | null): Tensor { return E.clamp(this, min, max); }
  eq(o: TensorLike): Tensor { return E.eq(this, o); }
  ne(o: TensorLike): Tensor { return E.ne(this, o); }
  lt(o: TensorLike): Tensor { return E.lt(this, o); }
  le(o: TensorLike): Tensor { return E.le(this, o); }
  gt(o: TensorLike): Tensor { return E.gt(this, o); }
  ge(o: TensorLike): Tensor { return E.ge(this, o); }
  logicalNot(): Tensor { return E.logicalNot(this); }
  where(cond: Tensor, other: TensorLike): Tensor { return E.where(cond, this, other); }

  sum(dims?: R.Dims, keepdim = false): Tensor { return R.sum(this, dims, keepdim); }
  mean(dims?: R.Dims, keepdim = false): Tensor { return R.mean(this, dims, keepdim); }
  max(dims?: R.Dims, keepdim = false): Tensor { return R.max(this, dims, keepdim); }
  min(dims?: R.Dims, keepdim = false): Tensor { return R.min(this, dims, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  var(dims?: R.Dims, opts?: { correction?: number; keepdim?: boolean }): Tensor { return R.variance(this, dims, opts); }
  logsumexp(dim: number, keepdim = false): Tensor { return R.logsumexp(this, dim, keepdim); }
  softmax(dim: number): Tensor { return R.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return R.logSoftmax(this, dim); }

  matmul(o: Tensor): Tensor { return L.matmul(this, o); }

  contiguous(): Tensor { return S.contiguous(this); }
  clone(): Tensor { return S.clone(this); }
  view(shape: readonly number[]): Tensor { return S.view(this, shape); }
  reshape(shape: readonly number[]): Tensor { return S.reshape(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return S.flatten(this, startDim, endDim); }
  permute(dims: readonly number[]): Tensor { return S.permute(this, dims); }
  transpose(d0: number, d1: number): Tensor { return S.transpose(this, d0, d1); }
  /** Transpose of a 2-D tensor (as .T). */
  get T(): Tensor {
    if (this.ndim > 2) throw new RangeError(`T: expected at most 2 dims, got shape ${shapeStr(this.shape)}; use permute`);
    return this.ndim < 2 ? this : S.transpose(this, 0, 1);
  }
  squeeze(dim?: number): Tensor { return S.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return S.unsqueeze(this, dim); }
  expand(shape: readonly number[]): Tensor { return S.expand(this, shape); }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return S.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return S.narrow(this, dim, start, length); }
  split(sizes: number | readonly number[], dim = 0): Tensor[] { return S.split(this, sizes, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return S.chunk(this, chunks, dim); }
  pad(pads: readonly number[], value = 0): Tensor { return S.pad(this, pads, value); }
  indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return I.scatterAdd(this, dim, index, src); }
  maskedFill(mask: Tensor, value: number): Tensor { return I.maskedFill(this, mask, value); }
}

/** zeros, ones, full, eye: a tensor of one value; `op` names the function called, in errors. */
function filled(shape: readonly number[], value: number, opts: CreateOptions, op: string): Tensor {
  const dtype = checkDType(opts.dtype ?? 'float32');
  const v = storedValue(dtype, value, op);
  const data = allocate(dtype, numel(checkShape(shape, op)), shape, op);
  if (!Object.is(v, 0)) data.fill(v); // allocate's array is zero-filled already (−0 still needs the fill)
  return new Tensor(data, shape, dtype).requiresGrad_(opts.requiresGrad ?? false);
}

function recordCast(out: Tensor, src: Tensor): Tensor {
  return record(out, 'to', [src], [], (g) => [g.to(src.dtype)]);
}

/** Whether a and b are the same elements of the same memory in the same layout. */
function sameView(a: Tensor, b: Tensor): boolean {
  const da = a.storage.data;
  const db = b.storage.data;
  return (
    da.buffer === db.buffer && a.dtype === b.dtype &&
    da.byteOffset + a.offset * da.BYTES_PER_ELEMENT === db.byteOffset + b.offset * db.BYTES_PER_ELEMENT &&
    a.ndim === b.ndim && a.shape.every((s, i) => s === b.shape[i] && (s === 1 || a.strides[i] === b.strides[i]))
  );
}

/** Write f(i) into element i (row-major order) of a possibly strided tensor. */
function writeStrided(t: Tensor, f: (i: number) => number): void {
  const d = t.storage.data;
  const n = t.numel;
  const idx = new Array<number>(t.ndim).fill(0);
  let off = t.offset;
  for (let i = 0; i < n; i++) {
    d[off] = f(i);
    for (let k = t.ndim - 1; k >= 0; k--) {
      off += t.strides[k];
      if (++idx[k] < t.shape[k]) break;
      off -= t.strides[k] * t.shape[k];
      idx[k] = 0;
    }
  }
}

function inferNestedShape(v: NestedArray[]): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenInto(v: NestedArray, out: number[], sawBool: () => void): void {
  if (Array.isArray(v)) {
    for (const x of v) flattenInto(x, out, sawBool);
  } else if (typeof v === 'boolean') {
    sawBool();
    out.push(v ? 1 : 0);
  } else if (typeof v === 'number') {
    out.push(v);
  } else {
    throw new TypeError(`Tensor.from: expected numbers, booleans or arrays of them, got ${typeof v}`);
  }
}

/** PyTorch-like printing: tensor([[1.0000, 2.0000], ...], dtype=float64, requiresGrad=true). */
function formatTensor(t: Tensor): string {
  const flat = Array.from(t.toTypedArray() as ArrayLike<number>);
  const isFloat = isFloating(t.dtype);
  const fmt = (v: number): string => {
    if (t.dtype === 'bool') return v ? 'true' : 'false';
    if (!isFloat) return String(v);
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e5 || a < 1e-4) ? v.toExponential(4) : v.toFixed(4);
  };
  const summarize = t.numel > 1000;
  const cells = flat.map(fmt);
  const width = Math.max(0, ...cells.map((c) => c.length));
  const rec = (d: number, at: number, indent: string): string => {
    if (t.numel === 0) return '[]';
    if (d === t.ndim) return cells[at].padStart(width);
    const stride = numel(t.shape.slice(d + 1));
    const n = t.shape[d];
    const pick = summarize && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const parts = pick.map((i) => (i < 0 ? '...' : rec(d + 1, at + i * stride, indent + ' ')));
    const sep = d === t.ndim - 1 ? ', ' : ',\n' + '\n'.repeat(Math.max(0, t.ndim - d - 2)) + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  const extras: string[] = [];
  // an empty tensor prints as [] whatever its shape, so the shape is given (as PyTorch does)
  if (t.numel === 0 && t.ndim !== 1) extras.push(`size=${shapeStr(t.shape)}`);
  if (t.dtype !== 'float32') extras.push(`dtype=${t.dtype}`);
  if (t.gradFn) extras.push(`gradFn=${t.gradFn.name}`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${rec(0, 0, '       ')}${extras.length ? ', ' + extras.join(', ') : ''})`;
}
