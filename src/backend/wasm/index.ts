/**
 * The wasm backend: the C kernels of src/backend/csrc compiled to WebAssembly with SIMD128 by
 * scripts/build-wasm.mjs, in two builds: pfs.wasm (one thread, its own memory) and
 * pfs-threads.wasm (atomics, an imported shared memory, worker threads running tasks beside the
 * caller); each also as a relaxed-SIMD build (pfs-relaxed.wasm, pfs-threads-relaxed.wasm) whose
 * matrix-product micro-kernel uses f32x4.relaxed_madd, a fused multiply-add where the CPU has one,
 * for engines that have relaxed SIMD (`relaxedSimdSupported()`). This module is browser-safe: it
 * turns an instantiated module into a Backend. Finding the file and starting worker threads is the
 * platform's part (node.ts for Node).
 *
 * Memory model: tensors are JavaScript typed arrays, outside the module's memory, so every kernel
 * call copies its operands into that memory (one block, reused from call to call by the module's
 * allocator), runs the kernel there, and copies the result out. The copies run at memory speed,
 * and even for one-pass kernels (elementwise, reductions) copies plus SIMD beat the reference loops
 * from a few hundred elements on; calls smaller than `minElements` stay in JavaScript. The kernels
 * without C versions (indexSelect, indexAdd, gather, scatterAdd) fall back to ref, and so does any
 * call the C kernels decline (int32 arithmetic, mixed types, too little memory left in the module,
 * operands larger than `maxBlockBytes`, 2 GiB).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { BinaryOp, Conv2dGeom, GemmArgs, Kernels, Pool2dGeom, ReduceOp, UnaryOp, View } from '../kernels.js';
import { BINARY, MAX_DIMS, REDUCE, UNARY } from '../ccodes.js';
import { refKernels } from '../ref/index.js';
import type { Backend } from '../registry.js';

/** The functions the module exports (src/backend/wasm/platform.c and exports.c); pointers are byte addresses. */
export interface WasmExports {
  /** The single-threaded build's own memory (the threaded build imports a shared one instead). */
  memory?: WebAssembly.Memory;
  /** The threaded build's stack pointer, which each worker instance sets to a stack of its own. */
  __stack_pointer?: WebAssembly.Global;
  pfs_wasm_alloc(bytes: number): number;
  pfs_wasm_free(p: number): void;
  pfs_wasm_gemm(f64: number, meta: number, a: number, aOffsets: number, b: number, bOffsets: number, out: number, nthreads: number): number;
  pfs_wasm_conv(kind: number, f64: number, meta: number, p: number, q: number, out: number, nthreads: number): number;
  pfs_wasm_pool(kind: number, f64: number, meta: number, input: number, argmax: number, out: number, nthreads: number): number;
  pfs_wasm_unary(op: number, tx: number, tout: number, meta: number, x: number, out: number, nthreads: number): number;
  pfs_wasm_binary(op: number, tin: number, tout: number, meta: number, a: number, b: number, out: number, nthreads: number): number;
  pfs_wasm_where(t: number, meta: number, cond: number, a: number, b: number, out: number, nthreads: number): number;
  pfs_wasm_reduce(op: number, tx: number, meta: number, x: number, out: number, nthreads: number): number;
  pfs_wasm_bn_stats(t: number, meta: number, x: number, mean: number, varOut: number, nthreads: number): number;
  pfs_wasm_channel_affine(t: number, meta: number, x: number, scale: number, shift: number, out: number, nthreads: number): number;
  pfs_wasm_bn_backward(
    t: number, meta: number, g: number, x: number, mean: number, invstd: number, weight: number,
    dx: number, sumG: number, sumGX: number, nthreads: number,
  ): number;
  pfs_wasm_workers_online(): number;
  /** Threaded build: the address of the count of workers online (an int32 to wait on). */
  pfs_wasm_online_address?(): number;
  /** Threaded build: tasks run on workers so far (how a test sees that threads did share the work). */
  pfs_wasm_worker_tasks?(): number;
  pfs_wasm_worker_loop?(): void;
  /** Threaded build: whether the calling thread may sleep while workers finish (Node's main thread may, a browser's may not). */
  pfs_wasm_caller_may_wait?(yes: number): void;
}

/**
 * The threaded build's memory, which JavaScript creates and every instance imports: its sizes in
 * 64 KiB pages must equal the linker's --initial-memory and --max-memory in scripts/build-wasm.mjs.
 */
export const SHARED_MEMORY = { initial: 32, maximum: 32768, shared: true } as const;
/** Bytes of stack for each worker (the main instance's stack is 1 MiB, set at link time). */
export const WORKER_STACK = 256 * 1024;
export const MAX_THREADS = 64;

/** The module's imports: the shared memory (threaded build), and Math.log / Math.pow, which the C code calls for log and pow. */
export function wasmImports(memory?: WebAssembly.Memory): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = { log: Math.log, pow: Math.pow };
  if (memory) env.memory = memory;
  return { env };
}

// pfs.h's status codes
const PFS_OK = 0;
const PFS_UNSUPPORTED = 1;
const PFS_ENOMEM = -1;

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray };

/** One piece of a call's block: `data[start, end)` copied in, or (out) the first `length` elements copied back. */
export type Part = { data: TypedArray; start: number; end: number; out: boolean };
const input = (data: TypedArray, start = 0, end = data.length): Part => ({ data, start, end, out: false });
const output = (data: TypedArray, length: number): Part => ({ data, start: 0, end: length, out: true });

/**
 * A loaded module: its exports, its memory and its threads. `spawnWorkers(n)` (threaded build
 * only) is the platform's hook that brings the number of workers up to n.
 */
export class WasmRuntime {
  /**
   * Calls smaller than this many elements (elementwise, reductions) or multiply-adds (gemm) stay
   * in JavaScript: the copies and the call cost about a microsecond, more than the reference
   * kernels take on fewer elements (measured on add, a broadcast multiply and exp: even at 256).
   */
  minElements = 256;
  /**
   * The most bytes one call may copy into the module's memory (its operands, output and geometry
   * together): 2 GiB, the threaded build's whole memory and half of wasm32's address space (the
   * allocator's size_t argument would wrap at 4 GiB). A larger call is not refused: it runs in the
   * reference kernel, as any call the module cannot hold does (the registry's fallback for missing
   * kernels, applied to one call). Tests lower it to exercise that path without gigabytes.
   */
  maxBlockBytes = 2 ** 31;
  private threads = 1;
  private workersAsked = 0;

  constructor(
    readonly exports: WasmExports,
    readonly memory: WebAssembly.Memory,
    private readonly spawnWorkers?: (n: number) => void,
  ) {}

  /** Which build this is, in words, set by the loader (node.ts): "threaded build, relaxed SIMD". */
  build = '';

  /** "WebAssembly SIMD128 (threaded build, relaxed SIMD), 2 threads", for `pfs info`. */
  describe(): string {
    const t = this.threads;
    return `WebAssembly SIMD128${this.build ? ` (${this.build})` : ''}, ${t} thread${t === 1 ? '' : 's'}`;
  }

  /** Whether this is the threaded build with a way to start workers. */
  get threaded(): boolean {
    return this.spawnWorkers !== undefined;
  }

  /** Threads the kernels use, the caller included (1 to 64; always 1 for the single-threaded build). */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
      throw new RangeError(`wasm threads: expected a whole number from 1 to ${MAX_THREADS}, got ${n}`);
    }
    this.threads = this.threaded ? n : 1;
  }

  getThreads(): number {
    return this.threads;
  }

  /** Workers that have started and wait for tasks. */
  workersOnline(): number {
    return this.exports.pfs_wasm_workers_online();
  }

  /** The thread count for a kernel call; starts the workers it needs on the first call that wants them. */
  kernelThreads(): number {
    if (this.threads > 1 && this.workersAsked < this.threads - 1) {
      this.workersAsked = this.threads - 1;
      this.spawnWorkers!(this.workersAsked);
    }
    return this.threads;
  }

  /**
   * Copies the parts into one block of the module's memory (each 64-byte aligned), calls
   * fn(addresses), copies the outputs back and frees the block. Returns true when the kernel ran,
   * false when it declined or memory ran out (the caller then runs the reference kernel).
   */
  run(parts: readonly Part[], fn: (ptrs: number[]) => number, what: string): boolean {
    const ptrs: number[] = [];
    let total = 0;
    for (const p of parts) {
      ptrs.push(total);
      total += Math.ceil(((p.end - p.start) * p.data.BYTES_PER_ELEMENT) / 64) * 64;
    }
    if (!(total <= this.maxBlockBytes)) return false; // too large for the module: the caller runs ref
    const base = this.exports.pfs_wasm_alloc(total);
    if (base === 0) return false; // the module's memory cannot hold the operands
    try {
      for (let i = 0; i < parts.length; i++) ptrs[i] += base;
      let buf = this.memory.buffer; // read after the allocation, which may have grown the memory
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (!p.out && p.end > p.start) view(buf, p.data, ptrs[i], p.end - p.start).set(p.data.subarray(p.start, p.end));
      }
      const status = fn(ptrs);
      if (status === PFS_UNSUPPORTED || status === PFS_ENOMEM) return false;
      if (status !== PFS_OK) throw new Error(`pfs wasm ${what}: the kernel failed with status ${status}`);
      buf = this.memory.buffer;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p.out && p.end > 0) p.data.set(view(buf, p.data, ptrs[i], p.end));
      }
      return true;
    } finally {
      this.exports.pfs_wasm_free(base);
    }
  }
}

/** A typed array of data's type over `length` elements of the module's memory at byte address `ptr`. */
function view(buf: ArrayBufferLike, like: TypedArray, ptr: number, length: number): TypedArray {
  return new (like.constructor as TypedArrayCtor)(buf, ptr, length);
}

/** pfs.h's pfs_dtype code of an array: 0 float32, 1 float64, 2 int32, 3 uint8 (bool). */
function dtypeCode(a: TypedArray): number {
  return a instanceof Float32Array ? 0 : a instanceof Float64Array ? 1 : a instanceof Int32Array ? 2 : 3;
}
const isFloat = (code: number): boolean => code <= 1;


/** 0 when every array is Float32Array, 1 when every one is Float64Array, −1 otherwise (left to ref). */
function floatType(...arrays: TypedArray[]): number {
  if (arrays.every((a) => a instanceof Float32Array)) return 0;
  if (arrays.every((a) => a instanceof Float64Array)) return 1;
  return -1;
}

function fail(fn: string, what: string): never {
  throw new RangeError(`pfs wasm ${fn}: ${what}`);
}

/**
 * The element range [start, end) of `data` that a batch of (rows × cols) strided matrices reads,
 * each starting at one of `offsets`; throws when it reaches outside the array.
 */
function matrixSpan(fn: string, data: TypedArray, offsets: readonly number[], rows: number, cols: number, rs: number, cs: number): { start: number; end: number } {
  if (offsets.length === 0 || rows === 0 || cols === 0) return { start: 0, end: 0 };
  const lo = Math.min(0, (rows - 1) * rs) + Math.min(0, (cols - 1) * cs);
  const hi = Math.max(0, (rows - 1) * rs) + Math.max(0, (cols - 1) * cs);
  let start = Infinity;
  let end = -Infinity;
  for (const o of offsets) {
    if (!Number.isInteger(o)) fail(fn, `offset ${o} is not a whole number`);
    start = Math.min(start, o + lo);
    end = Math.max(end, o + hi + 1);
  }
  if (start < 0 || end > data.length) {
    fail(fn, `an operand reaches outside its array (elements ${start} to ${end - 1} of an array of ${data.length})`);
  }
  return { start, end };
}

function needLength(fn: string, name: string, a: TypedArray, need: number): void {
  if (a.length < need) fail(fn, `${name} has ${a.length} elements, the geometry needs ${need}`);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d];
  return n;
}

/** The element range [start, end) of v.data that view v reads; throws when it reaches outside the array. */
function viewSpan(fn: string, v: View): { start: number; end: number } {
  let start = v.offset;
  let end = v.offset + 1;
  for (let d = 0; d < v.shape.length; d++) {
    if (v.shape[d] === 0) return { start: 0, end: 0 }; // nothing is read
    const span = (v.shape[d] - 1) * v.strides[d];
    if (span < 0) start += span;
    else end += span;
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > v.data.length) {
    fail(fn, `an operand reaches outside its array (elements ${start} to ${end - 1} of an array of ${v.data.length})`);
  }
  return { start, end };
}

/**
 * The parts and meta of an elementwise call over views of one shape: each view's span copied in, and
 * meta = [ndim, offsets within the copies, shape, strides of each view] (as pfs_wasm_unary etc. read it).
 */
function viewParts(views: readonly View[], spans: readonly { start: number; end: number }[]): Part[] {
  // plain loops: this runs on every elementwise call, where a few microseconds matter
  const shape = views[0].shape;
  const nd = shape.length;
  const nv = views.length;
  const meta = new Float64Array(1 + nv + nd * (nv + 1));
  meta[0] = nd;
  for (let d = 0; d < nd; d++) meta[1 + nv + d] = shape[d];
  const parts: Part[] = [input(meta)];
  for (let v = 0; v < nv; v++) {
    meta[1 + v] = views[v].offset - spans[v].start;
    for (let d = 0; d < nd; d++) meta[1 + nv + nd * (v + 1) + d] = views[v].strides[d];
    parts.push(input(views[v].data, spans[v].start, spans[v].end));
  }
  return parts;
}

const convMeta = (g: Conv2dGeom): Float64Array =>
  Float64Array.of(g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups);
const poolMeta = (g: Pool2dGeom): Float64Array =>
  Float64Array.of(g.planes, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.countIncludePad ? 1 : 0);

/** The kernel table over a loaded module. */
export function wasmKernels(rt: WasmRuntime): Partial<Kernels> {
  const ex = rt.exports;

  function gemm(g: GemmArgs): void {
    const t = floatType(g.a, g.b, g.out);
    const { batch, m, n, k } = g;
    if (g.aOffsets.length < batch || g.bOffsets.length < batch) fail('gemm', `expected ${batch} offsets per operand, got ${g.aOffsets.length} and ${g.bOffsets.length}`);
    const aOffsets = g.aOffsets.slice(0, batch);
    const bOffsets = g.bOffsets.slice(0, batch);
    needLength('gemm', 'out', g.out, batch * m * n);
    const A = matrixSpan('gemm', g.a, aOffsets, m, k, g.aRowStride, g.aColStride);
    const B = matrixSpan('gemm', g.b, bOffsets, k, n, g.bRowStride, g.bColStride);
    if (t < 0 || batch * m * n * k < rt.minElements) return refKernels.gemm(g);
    const meta = Float64Array.of(batch, m, n, k, g.aRowStride, g.aColStride, g.bRowStride, g.bColStride);
    const ao = Float64Array.from(aOffsets, (o) => o - A.start);
    const bo = Float64Array.from(bOffsets, (o) => o - B.start);
    const parts = [input(meta), input(ao), input(bo), input(g.a, A.start, A.end), input(g.b, B.start, B.end), output(g.out, batch * m * n)];
    const nt = rt.kernelThreads();
    const ok = rt.run(parts, ([pm, pao, pbo, pa, pb, po]) => ex.pfs_wasm_gemm(t, pm, pa, pao, pb, pbo, po, nt), 'gemm');
    if (!ok) refKernels.gemm(g);
  }

  /** kind 0: forward (p = x, q = w, out = y); 1: input gradient (p = dy, q = w, out = dx); 2: weight gradient (p = dy, q = x, out = dw). */
  function conv(kind: number, p: TypedArray, q: TypedArray, g: Conv2dGeom, out: TypedArray): boolean {
    const t = floatType(p, q, out);
    if (t < 0) return false;
    for (const [key, v] of Object.entries(g)) if (!Number.isInteger(v) || v < 0) fail('conv2d', `${key} must be a whole number ≥ 0, got ${v}`);
    if (g.strideH < 1 || g.strideW < 1 || g.dilationH < 1 || g.dilationW < 1 || g.groups < 1 || g.c % g.groups || g.o % g.groups) {
      fail('conv2d', `stride and dilation must be ≥ 1 and groups must divide C and O, got stride ${g.strideH},${g.strideW} dilation ${g.dilationH},${g.dilationW} groups ${g.groups} (C ${g.c}, O ${g.o})`);
    }
    const nx = g.n * g.c * g.h * g.w;
    const nw = g.o * (g.c / g.groups) * g.kh * g.kw;
    const ny = g.n * g.o * g.oh * g.ow;
    const [np, nq, nout] = kind === 0 ? [nx, nw, ny] : kind === 1 ? [ny, nw, nx] : [ny, nx, nw];
    needLength('conv2d', 'the first operand', p, np);
    needLength('conv2d', 'the second operand', q, nq);
    needLength('conv2d', 'the output', out, nout);
    const nt = rt.kernelThreads();
    return rt.run(
      [input(convMeta(g)), input(p, 0, np), input(q, 0, nq), output(out, nout)],
      ([pm, pp, pq, po]) => ex.pfs_wasm_conv(kind, t, pm, pp, pq, po, nt),
      'conv2d',
    );
  }

  /** kind 0: max forward; 1: max backward; 2: avg forward; 3: avg backward. */
  function pool(kind: number, x: TypedArray, argmax: Int32Array | null, g: Pool2dGeom, out: TypedArray): boolean {
    const t = floatType(x, out);
    if (t < 0) return false;
    for (const [key, v] of Object.entries(g)) {
      if (key !== 'countIncludePad' && (!Number.isInteger(v) || (v as number) < 0)) fail('pool', `${key} must be a whole number ≥ 0, got ${v}`);
    }
    if (g.strideH < 1 || g.strideW < 1) fail('pool', `stride must be ≥ 1, got ${g.strideH},${g.strideW}`);
    const nx = g.planes * g.h * g.w;
    const ny = g.planes * g.oh * g.ow;
    const backward = kind === 1 || kind === 3;
    needLength('pool', 'the input', x, backward ? ny : nx);
    needLength('pool', 'the output', out, backward ? nx : ny);
    const am = argmax ?? new Int32Array(0);
    if (argmax) needLength('pool', 'argmax', argmax, ny);
    if (kind === 1) {
      // the indices come from the forward pass; still, never write outside a plane
      const cells = g.h * g.w;
      for (let i = 0; i < ny; i++) if (!(am[i] >= 0 && am[i] < cells)) fail('pool', `argmax index ${am[i]} outside its plane of ${cells} cells`);
    }
    const parts = [input(poolMeta(g)), input(x, 0, backward ? ny : nx), kind === 1 ? input(am, 0, ny) : output(am, kind === 0 ? ny : 0), output(out, backward ? nx : ny)];
    const nt = rt.kernelThreads();
    return rt.run(parts, ([pm, px, pa, po]) => ex.pfs_wasm_pool(kind, t, pm, px, pa, po, nt), 'pool');
  }

  function unary(op: UnaryOp, x: View, out: TypedArray): void {
    const code = UNARY[op];
    const [tx, to] = [dtypeCode(x.data), dtypeCode(out)];
    const ok = op === 'copy' ? tx === to || (isFloat(tx) && isFloat(to)) : tx === to && isFloat(tx);
    const n = numel(x.shape);
    const spans = [viewSpan('unary', x)];
    if (code === undefined || !ok || x.shape.length > MAX_DIMS || n < rt.minElements) return refKernels.unary(op, x, out);
    needLength('unary', 'the output', out, n);
    const nt = rt.kernelThreads();
    const done = rt.run([...viewParts([x], spans), output(out, n)], ([pm, px, po]) => ex.pfs_wasm_unary(code, tx, to, pm, px, po, nt), 'unary');
    if (!done) refKernels.unary(op, x, out);
  }

  function binary(op: BinaryOp, a: View, b: View, out: TypedArray): void {
    const [ta, tb, to] = [dtypeCode(a.data), dtypeCode(b.data), dtypeCode(out)];
    const compare = BINARY[op] >= BINARY.eq;
    const n = numel(a.shape);
    const spans = [viewSpan('binary', a), viewSpan('binary', b)];
    if (!isFloat(ta) || tb !== ta || to !== (compare ? 3 : ta) || a.shape.length > MAX_DIMS || n < rt.minElements) return refKernels.binary(op, a, b, out);
    needLength('binary', 'the output', out, n);
    const nt = rt.kernelThreads();
    const done = rt.run([...viewParts([a, b], spans), output(out, n)], ([pm, pa, pb, po]) => ex.pfs_wasm_binary(BINARY[op], ta, to, pm, pa, pb, po, nt), 'binary');
    if (!done) refKernels.binary(op, a, b, out);
  }

  function where(c: View, a: View, b: View, out: TypedArray): void {
    const t = dtypeCode(out);
    const n = numel(c.shape);
    const spans = [viewSpan('where', c), viewSpan('where', a), viewSpan('where', b)];
    if (dtypeCode(c.data) !== 3 || dtypeCode(a.data) !== t || dtypeCode(b.data) !== t || c.shape.length > MAX_DIMS || n < rt.minElements) return refKernels.where(c, a, b, out);
    needLength('where', 'the output', out, n);
    const nt = rt.kernelThreads();
    const done = rt.run([...viewParts([c, a, b], spans), output(out, n)], ([pm, pc, pa, pb, po]) => ex.pfs_wasm_where(t, pm, pc, pa, pb, po, nt), 'where');
    if (!done) refKernels.where(c, a, b, out);
  }

  function reduce(op: ReduceOp, x: TypedArray, outer: number, n: number, inner: number, out: TypedArray): void {
    const tx = dtypeCode(x);
    const to = op === 'argmax' || op === 'argmin' ? 2 : tx;
    if (!isFloat(tx) || dtypeCode(out) !== to || outer * n * inner < rt.minElements) return refKernels.reduce(op, x, outer, n, inner, out);
    needLength('reduce', 'the input', x, outer * n * inner);
    needLength('reduce', 'the output', out, outer * inner);
    const nt = rt.kernelThreads();
    const parts = [input(Float64Array.of(outer, n, inner)), input(x, 0, outer * n * inner), output(out, outer * inner)];
    const done = rt.run(parts, ([pm, px, po]) => ex.pfs_wasm_reduce(REDUCE[op], tx, pm, px, po, nt), 'reduce');
    if (!done) refKernels.reduce(op, x, outer, n, inner, out);
  }

  /**
   * A batch-norm call over (outer, c, inner) data: `big` arrays of outer·c·inner values, `small` ones
   * of c, all of one float type; false (the caller runs ref) for other types and small calls.
   */
  function bn(what: string, outer: number, c: number, inner: number, big: TypedArray[], small: TypedArray[], outs: Set<TypedArray>, call: (t: number, nt: number, p: number[]) => number): boolean {
    const t = dtypeCode(big[0]);
    if (!isFloat(t) || [...big, ...small].some((a) => dtypeCode(a) !== t)) return false;
    const n = outer * c * inner;
    for (const a of big) needLength(what, 'an array', a, n);
    for (const a of small) needLength(what, 'a per-channel array', a, c);
    if (n < rt.minElements || outer * inner === 0) return false;
    const part = (a: TypedArray, len: number) => (outs.has(a) ? output(a, len) : input(a, 0, len));
    const parts = [input(Float64Array.of(outer, c, inner)), ...big.map((a) => part(a, n)), ...small.map((a) => part(a, c))];
    const nt = rt.kernelThreads();
    return rt.run(parts, (p) => call(t, nt, p), what);
  }

  return {
    unary,
    binary,
    where,
    reduce,
    gemm,
    bnStats(x, outer, c, inner, mean, varOut) {
      const ok = bn('bnStats', outer, c, inner, [x], [mean, varOut], new Set([mean, varOut]), (t, nt, [pm, px, pmean, pvar]) =>
        ex.pfs_wasm_bn_stats(t, pm, px, pmean, pvar, nt));
      if (!ok) refKernels.bnStats(x, outer, c, inner, mean, varOut);
    },
    channelAffine(x, outer, c, inner, scale, shift, out) {
      const ok = bn('channelAffine', outer, c, inner, [x, out], [scale, shift], new Set([out]), (t, nt, [pm, px, po, ps, pb]) =>
        ex.pfs_wasm_channel_affine(t, pm, px, ps, pb, po, nt));
      if (!ok) refKernels.channelAffine(x, outer, c, inner, scale, shift, out);
    },
    bnBackward(g, x, outer, c, inner, mean, invstd, weight, dx, sumG, sumGX) {
      const small = weight ? [mean, invstd, sumG, sumGX, weight] : [mean, invstd, sumG, sumGX];
      const ok = bn('bnBackward', outer, c, inner, [g, x, dx], small, new Set([dx, sumG, sumGX]), (t, nt, [pm, pg, px, pdx, pmean, pr, psg, psgx, pw]) =>
        ex.pfs_wasm_bn_backward(t, pm, pg, px, pmean, pr, weight ? pw : 0, pdx, psg, psgx, nt));
      if (!ok) refKernels.bnBackward(g, x, outer, c, inner, mean, invstd, weight, dx, sumG, sumGX);
    },
    conv2d(x, w, g, out) {
      if (!conv(0, x, w, g, out)) refKernels.conv2d(x, w, g, out);
    },
    conv2dBackwardInput(dy, w, g, dx) {
      if (!conv(1, dy, w, g, dx)) refKernels.conv2dBackwardInput(dy, w, g, dx);
    },
    conv2dBackwardWeight(dy, x, g, dw) {
      if (!conv(2, dy, x, g, dw)) refKernels.conv2dBackwardWeight(dy, x, g, dw);
    },
    maxPool2d(x, g, out, argmax) {
      if (!pool(0, x, argmax, g, out)) refKernels.maxPool2d(x, g, out, argmax);
    },
    maxPool2dBackward(dy, argmax, g, dx) {
      if (!pool(1, dy, argmax, g, dx)) refKernels.maxPool2dBackward(dy, argmax, g, dx);
    },
    avgPool2d(x, g, out) {
      if (!pool(2, x, null, g, out)) refKernels.avgPool2d(x, g, out);
    },
    avgPool2dBackward(dy, g, dx) {
      if (!pool(3, dy, null, g, dx)) refKernels.avgPool2dBackward(dy, g, dx);
    },
  };
}

/**
 * The smallest module that uses a relaxed-SIMD instruction: (func (param v128 v128 v128) (result
 * v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd), opcode 0xfd 0x105.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // types: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // its body
]);

/**
 * Whether this engine runs relaxed SIMD (Chrome from 114, Node from 22; Node 20 behind V8's flag
 * --experimental-wasm-relaxed-simd), and so can load pfs-relaxed.wasm and pfs-threads-relaxed.wasm.
 */
export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/** The backend over a loaded module: name 'wasm', priority 10 (above ref, below native). */
export function wasmBackend(rt: WasmRuntime): Backend {
  return { name: 'wasm', priority: 10, kernels: wasmKernels(rt) };
}

/**
 * Browser (or any platform) loading of the single-threaded build: `source` is the bytes of
 * pfs-relaxed.wasm where relaxedSimdSupported(), else of pfs.wasm, or a compiled module. Register
 * the result with registerBackend() and pick it with useBackend('wasm').
 */
export async function instantiateWasmBackend(source: BufferSource | WebAssembly.Module): Promise<{ backend: Backend; runtime: WasmRuntime }> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  if (WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')) {
    throw new Error('pfs wasm: this module imports its memory (a threaded build, pfs-threads*.wasm); load pfs.wasm or pfs-relaxed.wasm here');
  }
  const instance = await WebAssembly.instantiate(module, wasmImports());
  const exports = instance.exports as unknown as WasmExports;
  const runtime = new WasmRuntime(exports, exports.memory!);
  return { backend: wasmBackend(runtime), runtime };
}
