/**
 * Backend conformance: every backend registered besides `ref` is checked, kernel by kernel, against
 * the reference kernels (the specification) on seeded random inputs: sizes 0, 1, odd and large
 * enough to use threads; non-contiguous views (permuted, offset, broadcast with stride 0); NaN, ±∞
 * and ±0 passing through; conv2d with groups, stride, padding and dilation; batch norm's three
 * kernels; the indexing kernels on every dtype with repeated indices. Then the op level: a small conv
 * net's (with BatchNorm) loss and gradients under the backend equal those under `ref`, and so do an
 * embedding lookup's, a gather's and a scatterAdd's.
 *
 * Tolerances: results that are exact in the reference's arithmetic (copies, + − × ÷, comparisons,
 * max/min, pooling indices; the indexing kernels' sums, taken in the same order) must match exactly.
 * Sums (gemm, conv, reduce) may round differently: the error allowed is rtol times the same sum taken
 * over absolute values (a bound that does not shrink when terms cancel), with rtol 1e-5 for float32
 * and 1e-12 for float64. exp/log/tanh/sigmoid/pow come from different math libraries: a few units in
 * the last place.
 *
 * The wasm backend runs twice: its threaded build with 2 threads (the workers started before the
 * tests), and its single-threaded build (registered here as `wasm-single`, with every call going to
 * WebAssembly, small ones included, which the registered backend leaves to ref); its relaxed-SIMD
 * single-threaded build runs the same way as `wasm-relaxed-single` (V8's flag turned on for it where
 * the engine has relaxed SIMD behind one, as PFS_WASM_RELAXED=1 does).
 *
 * When neither the native addon nor the wasm module loads, the suite is skipped with the reasons,
 * so `npm test` passes on machines without a C compiler.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { nativeStatus, setWasmThreads, wasmStatus, wasmThreadsReady } from '../src/backend/auto.js';
import { getNumThreads, setNumThreads, threadsFromEnv } from '../src/backend/native/index.js';
import { loadWasmBackend } from '../src/backend/wasm/node.js';
import { K, availableBackends, registerBackend, useBackend } from '../src/backend/registry.js';
import { refKernels } from '../src/backend/ref/index.js';
import { BINARY_OPS, REDUCE_OPS, SOFTMAX_KINDS, UNARY_OPS, type Conv2dGeom, type Kernels, type Pool2dGeom, type UnaryOp, type View } from '../src/backend/kernels.js';
import { allocate, type DType, type TypedArray } from '../src/tensor/dtype.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { noGrad } from '../src/autograd/mode.js';
import { AvgPool2d, BatchNorm2d, Conv2d, crossEntropy, Embedding, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh } from '../src/nn/index.js';

// the single-threaded wasm build, beside the threaded one that auto.ts registered as 'wasm'
// (every call, however small, going to the C kernels: the registered one leaves small calls to ref)
const single = loadWasmBackend({ threaded: false });
if (single.backend) {
  single.runtime.minElements = 0;
  registerBackend({ ...single.backend, name: 'wasm-single', priority: -1 });
}
const relaxed = loadWasmBackend({ threaded: false, relaxed: 'on' });
if (relaxed.backend && relaxed.relaxed) {
  relaxed.runtime.minElements = 0;
  registerBackend({ ...relaxed.backend, name: 'wasm-relaxed-single', priority: -1 });
}
const fast = availableBackends().filter((b) => b !== 'ref');

// ------------------------------------------------------------------ inputs

type Float = 'float32' | 'float64';
const FLOATS: Float[] = ['float32', 'float64'];
const SPECIALS = [NaN, Infinity, -Infinity, 0, -0];

/** n uniform draws from [−2, 2); with `specials`, about one in eight is NaN, ±∞ or ±0. */
function randArray(g: Generator, dtype: DType, n: number, specials = false): TypedArray {
  const a = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') a[i] = g.uniform() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') a[i] = g.randint(-20, 20);
    else a[i] = specials && g.uniform() < 0.125 ? SPECIALS[g.randint(0, SPECIALS.length)] : 4 * g.uniform() - 2;
  }
  return a;
}

const numel = (shape: readonly number[]): number => shape.reduce((p, s) => p * s, 1);

function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

/** The ways a view of `shape` is laid out in its storage. */
type Layout = 'contiguous' | 'offset' | 'permuted' | 'broadcast' | 'scalar' | 'strided';

/**
 * A view of the given shape and layout over fresh random data: `offset` starts 3 elements in,
 * `permuted` stores the dims in reverse order, `broadcast` repeats along dim 0 (stride 0),
 * `scalar` is one element seen everywhere, `strided` skips every other element of the last dim.
 */
function makeView(g: Generator, dtype: DType, shape: readonly number[], layout: Layout, specials = false): View {
  const nd = shape.length;
  switch (layout) {
    case 'contiguous':
      return { data: randArray(g, dtype, numel(shape), specials), offset: 0, shape, strides: contiguousStrides(shape) };
    case 'offset':
      return { data: randArray(g, dtype, numel(shape) + 5, specials), offset: 3, shape, strides: contiguousStrides(shape) };
    case 'permuted': {
      const rev = [...shape].reverse();
      const st = contiguousStrides(rev).reverse();
      return { data: randArray(g, dtype, numel(shape), specials), offset: 0, shape, strides: st };
    }
    case 'broadcast': {
      const inner = shape.slice(1);
      const st = [0, ...contiguousStrides(inner)];
      return { data: randArray(g, dtype, Math.max(numel(inner), 1), specials), offset: 0, shape, strides: nd === 0 ? [] : st };
    }
    case 'scalar':
      return { data: randArray(g, dtype, 1, specials), offset: 0, shape, strides: shape.map(() => 0) };
    case 'strided': {
      const st = contiguousStrides(shape).map((s) => s * 2);
      return { data: randArray(g, dtype, 2 * numel(shape) + 1, specials), offset: 1, shape, strides: st };
    }
  }
}

// ------------------------------------------------------------------ comparison

interface Tol {
  rtol: number;
  /** An absolute allowance on top (for results in float32's subnormal range). */
  atol?: number;
  /** Per-element magnitude the error is relative to (for sums: the sum of absolute values); default |expected|. */
  scale?: ArrayLike<number>;
}
const EXACT: Tol = { rtol: 0 };

function checkClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, what: string): void {
  assert.equal(got.length, want.length, `${what}: output length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const e = want[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    const allowed = tol.rtol * (tol.scale ? tol.scale[i] : Math.abs(e)) + (tol.atol ?? 0);
    const err = Math.abs(a - e);
    if (!(err <= allowed)) assert.fail(`${what}: element ${i} is ${a}, expected ${e} (error ${err}, allowed ${allowed})`);
  }
}

const sumTol = (dtype: Float, scale: ArrayLike<number>): Tol => ({ rtol: dtype === 'float32' ? 1e-5 : 1e-12, scale });
/** a few units in the last place (float32: 2^−23 ≈ 1.2e-7), and a few subnormal units */
const mathTol = (dtype: Float): Tol => (dtype === 'float32' ? { rtol: 3e-7, atol: 1e-44 } : { rtol: 1e-14, atol: 1e-322 });

const absArray = (a: TypedArray): TypedArray => {
  const r = a.slice();
  for (let i = 0; i < r.length; i++) r[i] = Math.abs(r[i]);
  return r;
};
const absView = (v: View): View => ({ ...v, data: absArray(v.data) });
const outLike = (dtype: DType, n: number): TypedArray => allocate(dtype, n);
const ALL_DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool'];

/** count indices in [0, n) with repeats: every fifth is the first one again. */
function randIndex(g: Generator, count: number, n: number): Int32Array {
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i % 5 === 0 && i > 0 ? idx[0] : g.randint(0, n);
  return idx;
}

/** f's result computed with `backend` in use; ref is in use again afterwards. */
function under<T>(backend: string, f: () => T): T {
  useBackend(backend);
  try {
    return f();
  } finally {
    useBackend('ref');
  }
}

// ------------------------------------------------------------------ the suite

if (fast.length === 0) {
  const why = `native: ${nativeStatus().reason}; wasm: ${wasmStatus().reason}`;
  test('fast backends against ref', { skip: `no fast backend to test (${why})` }, () => {});
}

test('PFS_THREADS: a whole number from 1 to 64, else every core', () => {
  assert.equal(threadsFromEnv('3'), 3);
  assert.equal(threadsFromEnv(undefined), Math.min(availableParallelism(), 64));
  for (const bad of ['0', '65', '2.5', 'two']) assert.throws(() => threadsFromEnv(bad), /PFS_THREADS must be a whole number from 1 to 64/);
  assert.throws(() => setNumThreads(0), /setNumThreads: expected a whole number/);
});

// Three threads (more than this machine's cores, and an odd count) so that work is split unevenly.
if (fast.includes('native')) {
  setNumThreads(3);
  assert.equal(getNumThreads(), 3);
}
// wasm: two threads, the worker running before the first test
if (fast.includes('wasm')) {
  setWasmThreads(2);
  assert.ok(wasmThreadsReady(20_000), 'the wasm worker thread did not start within 20 s');
}

for (const name of fast) {
  useBackend(name);
  const k: Kernels = { ...K };
  useBackend('ref');
  const g = new Generator(1234);

  describe(`${name} backend against ref`, () => {
    test('unary over every op, dtype and layout, with NaN/±∞/±0', () => {
      const ops = UNARY_OPS;
      const shapes: number[][] = [[0], [1], [7], [3, 5, 4], [2, 1, 3], [300, 257]];
      const layouts: Layout[] = ['contiguous', 'offset', 'permuted', 'broadcast', 'scalar', 'strided'];
      for (const op of ops) {
        for (const dtype of FLOATS) {
          for (const shape of shapes) {
            for (const layout of layouts) {
              if (shape[0] === 300 && layout !== 'permuted' && layout !== 'contiguous') continue;
              const x = makeView(g, dtype, shape, layout, true);
              const outType: DType = op === 'not' ? 'bool' : dtype;
              const got = outLike(outType, numel(shape));
              const want = outLike(outType, numel(shape));
              k.unary(op, x, got);
              refKernels.unary(op, x, want);
              const exact = ['copy', 'neg', 'abs', 'sign', 'relu', 'not', 'sqrt'].includes(op);
              checkClose(got, want, exact ? EXACT : mathTol(dtype), `unary ${op} ${dtype} [${shape}] ${layout}`);
            }
          }
        }
      }
    });

    test('exp, log, sigmoid and tanh over a sweep of magnitudes, to overflow and the subnormals', () => {
      const vals: number[] = [];
      for (let e = -30; e <= 7; e += 0.002) vals.push(2 ** e, -(2 ** e));
      for (let x = -760; x < 760; x += 0.0731) vals.push(x);
      for (const dtype of FLOATS) {
        const x: View = { data: dtype === 'float32' ? Float32Array.from(vals) : Float64Array.from(vals), offset: 0, shape: [vals.length], strides: [1] };
        for (const op of ['exp', 'log', 'sigmoid', 'tanh'] as UnaryOp[]) {
          const got = outLike(dtype, vals.length);
          const want = outLike(dtype, vals.length);
          k.unary(op, x, got);
          refKernels.unary(op, x, want);
          checkClose(got, want, mathTol(dtype), `unary ${op} ${dtype} sweep`);
        }
      }
    });

    test('unary copy converts float32 ↔ float64 and copies int32/bool views', () => {
      const pairs: [DType, DType][] = [['float32', 'float64'], ['float64', 'float32'], ['int32', 'int32'], ['bool', 'bool'], ['int32', 'float32'], ['float32', 'int32']];
      for (const [from, to] of pairs) {
        for (const layout of ['contiguous', 'permuted', 'broadcast'] as Layout[]) {
          const x = makeView(g, from, [4, 3, 5], layout, from !== 'float32' || to !== 'int32');
          const got = outLike(to, 60);
          const want = outLike(to, 60);
          k.unary('copy', x, got);
          refKernels.unary('copy', x, want);
          checkClose(got, want, EXACT, `copy ${from}→${to} ${layout}`);
        }
      }
    });

    test('binary over every op with broadcast, permuted and scalar operands', () => {
      const ops = BINARY_OPS;
      // [shape, layout of a, layout of b]
      const cases: [number[], Layout, Layout][] = [
        [[0, 3], 'contiguous', 'contiguous'],
        [[1], 'contiguous', 'contiguous'],
        [[7], 'contiguous', 'scalar'],
        [[13], 'scalar', 'contiguous'],
        [[5, 6], 'contiguous', 'broadcast'], // row vector
        [[5, 6], 'broadcast', 'permuted'],
        [[4, 3, 5], 'permuted', 'contiguous'],
        [[4, 3, 5], 'strided', 'offset'],
        [[2, 3, 4, 5], 'contiguous', 'broadcast'],
        [[300, 257], 'contiguous', 'contiguous'],
        [[300, 257], 'permuted', 'broadcast'],
      ];
      for (const op of ops) {
        for (const dtype of FLOATS) {
          for (const [shape, la, lb] of cases) {
            const a = makeView(g, dtype, shape, la, true);
            const b = makeView(g, dtype, shape, lb, true);
            // ties for the comparisons: b reuses some of a's values where both are plain arrays
            if (la === 'contiguous' && lb === 'contiguous') for (let i = 0; i < a.data.length; i += 3) b.data[i] = a.data[i];
            const outType: DType = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or'].includes(op) ? 'bool' : dtype;
            const got = outLike(outType, numel(shape));
            const want = outLike(outType, numel(shape));
            k.binary(op, a, b, got);
            refKernels.binary(op, a, b, want);
            checkClose(got, want, op === 'pow' ? mathTol(dtype) : EXACT, `binary ${op} ${dtype} [${shape}] ${la}/${lb}`);
          }
        }
      }
    });

    test('binary on int32 and bool operands (left to ref) and a bias broadcast over NCHW', () => {
      for (const dtype of ['int32', 'bool'] as DType[]) {
        const a = makeView(g, dtype, [6, 7], 'contiguous');
        const b = makeView(g, dtype, [6, 7], 'broadcast');
        const got = outLike(dtype, 42);
        const want = outLike(dtype, 42);
        k.binary(dtype === 'bool' ? 'or' : 'add', a, b, got);
        refKernels.binary(dtype === 'bool' ? 'or' : 'add', a, b, want);
        checkClose(got, want, EXACT, `binary ${dtype}`);
      }
      // y + b.reshape(1, C, 1, 1) as conv2d's bias: strides (0, 1, 0, 0)
      const shape = [8, 6, 28, 28];
      const x = makeView(g, 'float32', shape, 'contiguous');
      const bias: View = { data: randArray(g, 'float32', 6), offset: 0, shape, strides: [0, 1, 0, 0] };
      const got = outLike('float32', numel(shape));
      const want = outLike('float32', numel(shape));
      k.binary('add', x, bias, got);
      refKernels.binary('add', x, bias, want);
      checkClose(got, want, EXACT, 'bias add');
    });

    test('where with broadcast conditions and operands of every dtype', () => {
      const cases: [number[], Layout, Layout, Layout][] = [
        [[0], 'contiguous', 'contiguous', 'contiguous'],
        [[9], 'contiguous', 'scalar', 'contiguous'],
        [[5, 6], 'broadcast', 'contiguous', 'scalar'],
        [[4, 3, 5], 'permuted', 'strided', 'offset'],
        [[300, 257], 'contiguous', 'contiguous', 'broadcast'],
        [[300, 257], 'contiguous', 'contiguous', 'scalar'], // where(mask, g, 0): relu's gradient
        [[7, 1000], 'contiguous', 'scalar', 'contiguous'],
      ];
      for (const dtype of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
        for (const [shape, lc, la, lb] of cases) {
          const c = makeView(g, 'bool', shape, lc);
          const a = makeView(g, dtype, shape, la, true);
          const b = makeView(g, dtype, shape, lb, true);
          const got = outLike(dtype, numel(shape));
          const want = outLike(dtype, numel(shape));
          k.where(c, a, b, got);
          refKernels.where(c, a, b, want);
          checkClose(got, want, EXACT, `where ${dtype} [${shape}] ${lc}/${la}/${lb}`);
        }
      }
    });

    test('reduce sum/max/min/argmax/argmin over (outer, n, inner), with NaN, ±∞ and ties', () => {
      const ops = REDUCE_OPS;
      const sizes: [number, number, number][] = [[1, 0, 1], [3, 0, 2], [1, 1, 1], [3, 7, 1], [2, 5, 3], [4, 33, 17], [1, 100_003, 1], [64, 1000, 1], [3, 40, 300]];
      for (const op of ops) {
        for (const dtype of FLOATS) {
          for (const [outer, n, inner] of sizes) {
            if (n === 0 && op !== 'sum') continue; // the op refuses an empty max
            for (const specials of [false, true]) {
              const x = randArray(g, dtype, outer * n * inner, specials);
              if (!specials) for (let i = 0; i < x.length; i += 5) x[i] = Math.round(x[i]); // ties
              const outType: DType = op.startsWith('arg') ? 'int32' : dtype;
              const got = outLike(outType, outer * inner);
              const want = outLike(outType, outer * inner);
              k.reduce(op, x, outer, n, inner, got);
              refKernels.reduce(op, x, outer, n, inner, want);
              const what = `reduce ${op} ${dtype} (${outer}, ${n}, ${inner})${specials ? ' with specials' : ''}`;
              if (op === 'sum') {
                const scale = outLike('float64', outer * inner);
                refKernels.reduce('sum', absArray(x), outer, n, inner, scale);
                checkClose(got, want, sumTol(dtype, scale), what);
              } else {
                checkClose(got, want, EXACT, what);
              }
            }
          }
        }
      }
      // an int32 sum is left to ref
      const xi = randArray(g, 'int32', 30);
      const got = new Int32Array(3);
      const want = new Int32Array(3);
      k.reduce('sum', xi, 3, 10, 1, got);
      refKernels.reduce('sum', xi, 3, 10, 1, want);
      checkClose(got, want, EXACT, 'reduce sum int32');
    });

    test('gemm: sizes 0, 1, odd and large, batches, transposed and strided operands', () => {
      // [batch, m, n, k, layout of A, layout of B, A shared across the batch]
      type Op = 'plain' | 'trans' | 'strided';
      const cases: [number, number, number, number, Op, Op, boolean][] = [
        [1, 1, 1, 1, 'plain', 'plain', false],
        [1, 7, 13, 5, 'plain', 'plain', false],
        [1, 7, 13, 5, 'trans', 'trans', false],
        [1, 65, 129, 257, 'plain', 'trans', false],
        [1, 65, 129, 257, 'trans', 'plain', false],
        [1, 0, 3, 4, 'plain', 'plain', false],
        [1, 3, 0, 4, 'plain', 'plain', false],
        [1, 3, 4, 0, 'plain', 'plain', false],
        [3, 17, 33, 9, 'plain', 'plain', false],
        [4, 17, 33, 9, 'strided', 'trans', true],
        [1, 256, 256, 256, 'plain', 'plain', false],
        [1, 300, 3, 200, 'plain', 'plain', false],
        [1, 3, 300, 200, 'trans', 'plain', false],
        [5, 40, 50, 60, 'plain', 'plain', false],
        // few rows, B read in place (gemm_impl.h's mat_small_m): k over one block, a last column sliver in part
        [1, 20, 70, 300, 'plain', 'plain', false],
        [2, 64, 100, 513, 'trans', 'plain', false],
        [1, 6, 5, 25, 'plain', 'plain', false],
      ];
      /** A batch of (rows × cols) matrices laid out as asked; returns the data, offsets and strides. */
      const operand = (dtype: Float, batch: number, rows: number, cols: number, layout: Op, shared: boolean) => {
        const count = shared ? 1 : batch;
        const size = rows * cols;
        const pad = layout === 'strided' ? 2 : 1;
        const data = randArray(g, dtype, count * size * pad + 2);
        const offsets = Array.from({ length: batch }, (_, b) => 2 + (shared ? 0 : b) * size * pad);
        const [rowStride, colStride] = layout === 'plain' ? [cols, 1] : layout === 'trans' ? [1, rows] : [cols * 2, 2];
        return { data, offsets, rowStride, colStride };
      };
      for (const dtype of FLOATS) {
        for (const [batch, m, n, kk, la, lb, shared] of cases) {
          const A = operand(dtype, batch, m, kk, la, false);
          const B = operand(dtype, batch, kk, n, lb, shared);
          const args = (a: TypedArray, b: TypedArray, out: TypedArray) => ({
            batch, m, n, k: kk, a, aOffsets: A.offsets, aRowStride: A.rowStride, aColStride: A.colStride,
            b, bOffsets: B.offsets, bRowStride: B.rowStride, bColStride: B.colStride, out,
          });
          const got = outLike(dtype, batch * m * n).fill(NaN); // every element must be written
          const want = outLike(dtype, batch * m * n);
          const scale = outLike('float64', batch * m * n);
          k.gemm(args(A.data, B.data, got));
          refKernels.gemm(args(A.data, B.data, want));
          refKernels.gemm(args(absArray(A.data), absArray(B.data), scale));
          checkClose(got, want, sumTol(dtype, scale), `gemm ${dtype} batch ${batch} ${m}×${n}×${kk} A ${la} B ${lb}${shared ? ' (B shared)' : ''}`);
          // accumulate: out += A·B, onto values already there (k = 0 leaves them as they were)
          const start = randArray(g, dtype, batch * m * n);
          const into = outLike(dtype, batch * m * n);
          into.set(start);
          k.gemm({ ...args(A.data, B.data, into), accumulate: true });
          const sum = outLike(dtype, batch * m * n);
          for (let i = 0; i < sum.length; i++) sum[i] = start[i] + want[i];
          checkClose(into, sum, sumTol(dtype, scale.map((v) => v + 1)), `gemm accumulate ${dtype} batch ${batch} ${m}×${n}×${kk} A ${la} B ${lb}`);
        }
      }
    });

    test('conv2d forward, input and weight gradients with groups, stride, padding and dilation', () => {
      // [n, c, h, w, o, kh, kw, stride, pad, dilation, groups]
      type P = [number, number];
      const cases: [number, number, number, number, number, number, number, P, P, P, number][] = [
        [2, 1, 28, 28, 6, 5, 5, [1, 1], [2, 2], [1, 1], 1], // LeNet's first layer
        [2, 6, 14, 14, 16, 5, 5, [1, 1], [0, 0], [1, 1], 1],
        [2, 4, 9, 7, 6, 3, 3, [2, 2], [1, 1], [1, 1], 2],
        [1, 3, 11, 10, 4, 3, 2, [1, 2], [2, 1], [2, 3], 1],
        [3, 8, 5, 5, 4, 1, 1, [1, 1], [0, 0], [1, 1], 1], // 1×1: no patch matrix
        [2, 8, 5, 6, 8, 1, 1, [1, 1], [0, 0], [1, 1], 4],
        [2, 3, 8, 8, 3, 3, 3, [1, 1], [1, 1], [1, 1], 3], // depthwise
        [2, 2, 2, 3, 3, 3, 3, [1, 1], [1, 1], [1, 1], 1], // kernel larger than the input
        [2, 2, 10, 10, 3, 2, 2, [3, 3], [0, 0], [1, 1], 1], // stride past the kernel: unread cells
        [1, 4, 7, 7, 2, 1, 1, [2, 2], [1, 1], [1, 1], 1], // 1×1 with stride and padding
        [0, 3, 5, 5, 2, 3, 3, [1, 1], [0, 0], [1, 1], 1],
        [4, 8, 12, 12, 16, 3, 3, [1, 1], [1, 1], [1, 1], 1], // threads over images
        [1, 16, 12, 12, 32, 3, 3, [1, 1], [1, 1], [1, 1], 1], // one image: threads inside the products
        // narrow products: several images per product (P = 100: 3 a product, the last one short)
        [7, 4, 10, 10, 5, 3, 3, [1, 1], [1, 1], [1, 1], 1],
        [9, 8, 6, 6, 6, 1, 1, [1, 1], [0, 0], [1, 1], 2], // 1×1 and groups, 8 images a product
        [5, 8, 4, 4, 16, 1, 1, [2, 2], [0, 0], [1, 1], 1], // ResNet's strided projection
        [6, 16, 1, 1, 8, 3, 3, [1, 1], [1, 1], [1, 1], 1], // a 1×1 map: one column per image
        // a 1×1 kernel on a 1×1 map: one product for the whole batch (with groups: per image); on
        // small maps, images side by side as above
        [6, 16, 1, 1, 8, 1, 1, [1, 1], [0, 0], [1, 1], 1],
        [128, 96, 1, 1, 40, 1, 1, [1, 1], [0, 0], [1, 1], 1],
        [6, 16, 1, 1, 8, 1, 1, [1, 1], [0, 0], [1, 1], 2],
        [7, 12, 2, 2, 10, 1, 1, [1, 1], [0, 0], [1, 1], 1],
        [5, 8, 4, 4, 6, 1, 1, [1, 1], [0, 0], [1, 1], 1],
        [64, 64, 2, 2, 48, 1, 1, [1, 1], [0, 0], [1, 1], 1],
        [3, 4, 2, 3, 5, 1, 1, [1, 1], [0, 0], [1, 1], 1],
      ];
      for (const dtype of FLOATS) {
        for (const [n, c, h, w, o, kh, kw, [sh, sw], [ph, pw], [dh, dw], groups] of cases) {
          const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
          const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
          const geom: Conv2dGeom = { n, c, h, w, o, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, groups };
          const what = `conv2d ${dtype} x (${n}, ${c}, ${h}, ${w}) w (${o}, ${c / groups}, ${kh}, ${kw}) stride ${sh},${sw} pad ${ph},${pw} dilation ${dh},${dw} groups ${groups}`;
          const x = randArray(g, dtype, n * c * h * w);
          const wt = randArray(g, dtype, o * (c / groups) * kh * kw);
          const dy = randArray(g, dtype, n * o * oh * ow);
          const ny = n * o * oh * ow;
          const run = (f: (out: TypedArray, abs: boolean, kern: Kernels) => void, size: number, label: string) => {
            const got = outLike(dtype, size).fill(NaN);
            const want = outLike(dtype, size);
            const scale = outLike('float64', size);
            f(got, false, k);
            f(want, false, refKernels);
            f(scale, true, refKernels);
            checkClose(got, want, sumTol(dtype, scale), `${what}: ${label}`);
          };
          const A = (a: TypedArray, abs: boolean) => (abs ? absArray(a) : a);
          run((out, abs, kern) => kern.conv2d(A(x, abs), A(wt, abs), geom, out), ny, 'forward');
          run((out, abs, kern) => kern.conv2dBackwardInput(A(dy, abs), A(wt, abs), geom, out), x.length, 'input gradient');
          run((out, abs, kern) => kern.conv2dBackwardWeight(A(dy, abs), A(x, abs), geom, out), wt.length, 'weight gradient');
        }
      }
    });

    test('max and avg pooling forward and backward, with NaN, −∞, ties and padding', () => {
      // [planes, h, w, kh, kw, stride, pad, countIncludePad]
      const cases: [number, number, number, number, number, [number, number], [number, number], boolean][] = [
        [3, 28, 28, 2, 2, [2, 2], [0, 0], true],
        [2, 7, 5, 3, 3, [2, 2], [1, 1], true],
        [2, 7, 5, 3, 3, [2, 2], [1, 1], false],
        [4, 6, 9, 3, 2, [1, 2], [1, 0], true],
        [1, 1, 1, 1, 1, [1, 1], [0, 0], true],
        [0, 4, 4, 2, 2, [2, 2], [0, 0], true],
        [128, 28, 28, 3, 3, [2, 2], [1, 1], false],
        [1, 2, 1100, 2, 2, [2, 2], [0, 0], true], // rows too wide for the C avg pool: left to ref
        [1, 3, 2100, 2, 3, [1, 1], [0, 1], true], // more outputs a row than the C max pool's row buffers: cell by cell
        // small planes, which the C max pool takes several at a time (one per vector lane), with plane
        // counts that leave some over; the 600 planes split between two threads
        [37, 4, 4, 3, 3, [1, 1], [1, 1], true],
        [41, 2, 2, 3, 3, [1, 1], [1, 1], true],
        [35, 1, 1, 3, 3, [1, 1], [1, 1], true],
        [34, 7, 7, 3, 3, [2, 2], [1, 1], true],
        [19, 6, 5, 3, 2, [2, 1], [1, 0], true],
        [17, 16, 16, 2, 2, [2, 2], [0, 0], true],
        [600, 4, 4, 3, 3, [1, 1], [1, 1], true],
      ];
      for (const dtype of FLOATS) {
        for (const [planes, h, w, kh, kw, [sh, sw], [ph, pw], countIncludePad] of cases) {
          const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
          const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
          const geom: Pool2dGeom = { planes, h, w, oh, ow, kh, kw, strideH: sh, strideW: sw, padH: ph, padW: pw, countIncludePad };
          const what = `pool ${dtype} ${planes}×${h}×${w} kernel ${kh}×${kw} stride ${sh},${sw} pad ${ph},${pw}${countIncludePad ? '' : ' (pad not counted)'}`;
          const ny = planes * oh * ow;
          // few distinct values (ties), a sprinkle of NaN and −∞, and a plane that is all −∞
          const x = randArray(g, dtype, planes * h * w);
          for (let i = 0; i < x.length; i++) x[i] = g.uniform() < 0.05 ? (g.uniform() < 0.5 ? NaN : -Infinity) : Math.round(x[i] * 2);
          if (planes > 1) x.fill(-Infinity, h * w, 2 * h * w);
          const dy = randArray(g, dtype, ny);
          const [got, want] = [outLike(dtype, ny), outLike(dtype, ny)];
          const [amGot, amWant] = [new Int32Array(ny), new Int32Array(ny)];
          k.maxPool2d(x, geom, got, amGot);
          refKernels.maxPool2d(x, geom, want, amWant);
          checkClose(got, want, EXACT, `${what}: max`);
          checkClose(amGot, amWant, EXACT, `${what}: argmax`);
          const [dxGot, dxWant] = [outLike(dtype, x.length).fill(NaN), outLike(dtype, x.length)];
          k.maxPool2dBackward(dy, amWant, geom, dxGot);
          refKernels.maxPool2dBackward(dy, amWant, geom, dxWant);
          checkClose(dxGot, dxWant, { rtol: 1e-15 }, `${what}: max backward`);
          // average pooling sums (a window, or the windows over a cell): tolerance against the sum of |terms|
          const xs = randArray(g, dtype, planes * h * w);
          const scale = outLike('float64', Math.max(ny, x.length));
          k.avgPool2d(xs, geom, got);
          refKernels.avgPool2d(xs, geom, want);
          refKernels.avgPool2d(absArray(xs), geom, scale);
          checkClose(got, want, sumTol(dtype, scale), `${what}: avg`);
          k.avgPool2dBackward(dy, geom, dxGot);
          refKernels.avgPool2dBackward(dy, geom, dxWant);
          refKernels.avgPool2dBackward(absArray(dy), geom, scale);
          checkClose(dxGot, dxWant, sumTol(dtype, scale), `${what}: avg backward`);
        }
      }
    });

    test('batch norm: statistics, the per-channel affine map and the backward pass over (outer, c, inner)', () => {
      const sizes: [number, number, number][] = [[1, 1, 2], [2, 3, 1], [3, 5, 7], [4, 16, 33], [7, 3, 5003], [32, 64, 1024]];
      for (const dtype of FLOATS) {
        const rtol = dtype === 'float32' ? 1e-5 : 1e-12;
        for (const [outer, c, inner] of sizes) {
          const what = `${dtype} (${outer}, ${c}, ${inner})`;
          const n = outer * c * inner;
          const x = randArray(g, dtype, n);
          for (let i = 0; i < n; i++) x[i] = 3 * x[i] + (Math.floor(i / inner) % c); // channels of different means
          const per = () => randArray(g, dtype, c);
          // statistics: each against the sum of |x| (mean) or of squares (variance) per channel
          const [mean, varOut, mean0, var0] = [outLike(dtype, c), outLike(dtype, c), outLike(dtype, c), outLike(dtype, c)];
          k.bnStats(x, outer, c, inner, mean, varOut);
          refKernels.bnStats(x, outer, c, inner, mean0, var0);
          const [absMean, sqMean] = [outLike('float64', c), outLike('float64', c)];
          refKernels.bnStats(absArray(x), outer, c, inner, absMean, sqMean);
          for (let ch = 0; ch < c; ch++) sqMean[ch] = var0[ch] + absMean[ch] * absMean[ch];
          checkClose(mean, mean0, { rtol, scale: absMean }, `bnStats mean ${what}`);
          checkClose(varOut, var0, { rtol, scale: sqMean }, `bnStats var ${what}`);
          // affine map: one multiply-add per element (a fused one may round once)
          const [scale, shift] = [per(), per()];
          const [y, y0] = [outLike(dtype, n), outLike(dtype, n)];
          k.channelAffine(x, outer, c, inner, scale, shift, y);
          refKernels.channelAffine(x, outer, c, inner, scale, shift, y0);
          const ys = Float64Array.from(y0, (_, i) => Math.abs(x[i] * scale[Math.floor(i / inner) % c]) + Math.abs(shift[Math.floor(i / inner) % c]));
          checkClose(y, y0, { rtol: dtype === 'float32' ? 3e-7 : 1e-15, scale: ys }, `channelAffine ${what}`);
          // backward, with and without a weight
          const gr = randArray(g, dtype, n);
          const invstd = Float64Array.from(var0, (v) => 1 / Math.sqrt(v + 1e-5));
          const r = dtype === 'float32' ? Float32Array.from(invstd) : invstd;
          for (const weight of [per(), null]) {
            const [dx, sg, sgx, dx0, sg0, sgx0] = [outLike(dtype, n), outLike(dtype, c), outLike(dtype, c), outLike(dtype, n), outLike(dtype, c), outLike(dtype, c)];
            k.bnBackward(gr, x, outer, c, inner, mean0, r, weight, dx, sg, sgx);
            refKernels.bnBackward(gr, x, outer, c, inner, mean0, r, weight, dx0, sg0, sgx0);
            const w = weight ? ' weighted' : '';
            // Σ|g| and Σ|g·x̂| per channel bound the sums' rounding; the gradient's terms are of the order of r·w·|g|
            const [absG, absGX, ignore] = [outLike('float64', c), outLike('float64', c), outLike('float64', c)];
            refKernels.bnBackward(absArray(gr), x, outer, c, inner, mean0, r, null, outLike('float64', n), absG, ignore);
            for (let ch = 0; ch < c; ch++) absGX[ch] = Math.abs(ignore[ch]) + absG[ch] * 4 * r[ch] * 10; // |x − μ| ≤ 4 + 2·|μ| for these draws
            checkClose(sg, sg0, { rtol, scale: absG }, `bnBackward Σg ${what}${w}`);
            checkClose(sgx, sgx0, { rtol, scale: absGX }, `bnBackward Σg·x̂ ${what}${w}`);
            const big = Float64Array.from(dx0, (_, i) => {
              const ch = Math.floor(i / inner) % c;
              return Math.abs(r[ch] * (weight ? weight[ch] : 1)) * (Math.abs(gr[i]) + absG[ch] + absGX[ch]);
            });
            checkClose(dx, dx0, { rtol: dtype === 'float32' ? 1e-5 : 1e-12, scale: big }, `bnBackward dx ${what}${w}`);
          }
        }
        // NaN and ±∞ pass through: a channel holding one gets a NaN or infinite statistic, as in ref
        const xs = randArray(g, dtype, 2 * 3 * 40, true);
        const [m1, v1, m2, v2] = [outLike(dtype, 3), outLike(dtype, 3), outLike(dtype, 3), outLike(dtype, 3)];
        k.bnStats(xs, 2, 3, 40, m1, v1);
        refKernels.bnStats(xs, 2, 3, 40, m2, v2);
        for (let ch = 0; ch < 3; ch++) {
          assert.equal(Number.isFinite(m1[ch]), Number.isFinite(m2[ch]), `bnStats ${dtype} with specials: mean ${m1[ch]} vs ref ${m2[ch]}`);
          assert.equal(Number.isNaN(v1[ch]), Number.isNaN(v2[ch]), `bnStats ${dtype} with specials: var ${v1[ch]} vs ref ${v2[ch]}`);
        }
      }
    });

    test('layer norm along rows, forward and backward, with and without weight and bias, threaded and in column blocks', () => {
      const sizes: [number, number][] = [[0, 5], [1, 1], [2, 3], [7, 17], [33, 128], [5, 600], [64, 1001], [300, 256]];
      for (const dtype of FLOATS) {
        const rtol = dtype === 'float32' ? 1e-6 : 1e-12;
        for (const [rows, n] of sizes) {
          const x = randArray(g, dtype, rows * n);
          for (let i = 0; i < x.length; i++) x[i] = 3 * x[i] + (Math.floor(i / n) % 5); // rows of different means
          const gr = randArray(g, dtype, rows * n);
          for (const [w, b] of [[randArray(g, dtype, n), randArray(g, dtype, n)], [null, null], [randArray(g, dtype, n), null]] as const) {
            const what = `${dtype} (${rows}, ${n})${w ? ' weight' : ''}${b ? ' bias' : ''}`;
            const [y, y0, m, m0, r, r0] = [outLike(dtype, rows * n), outLike(dtype, rows * n), outLike(dtype, rows), outLike(dtype, rows), outLike(dtype, rows), outLike(dtype, rows)];
            k.layerNorm(x, rows, n, 1e-5, w, b, y, m, r);
            refKernels.layerNorm(x, rows, n, 1e-5, w, b, y0, m0, r0);
            // each value is computed in double and rounded once; the sums' order may differ
            const absMean = new Float64Array(rows);
            for (let i = 0; i < rows * n; i++) absMean[Math.floor(i / n)] += Math.abs(x[i]) / n;
            checkClose(m, m0, { rtol, scale: absMean }, `layerNorm mean ${what}`);
            checkClose(r, r0, { rtol }, `layerNorm rstd ${what}`);
            const ys = Float64Array.from(y0, (_, i) => {
              const j = i % n;
              const row = Math.floor(i / n);
              return (Math.abs(x[i] - m0[row]) * r0[row] + 1) * (w ? Math.abs(w[j]) : 1) + (b ? Math.abs(b[j]) : 0);
            });
            checkClose(y, y0, { rtol, scale: ys }, `layerNorm ${what}`);
            const [dx, dx0] = [outLike(dtype, rows * n), outLike(dtype, rows * n)];
            const [dw, dw0, db, db0] = [outLike(dtype, n), outLike(dtype, n), outLike(dtype, n), outLike(dtype, n)];
            k.layerNormBackward(gr, x, rows, n, m0, r0, w, dx, w ? dw : null, b ? db : null);
            refKernels.layerNormBackward(gr, x, rows, n, m0, r0, w, dx0, w ? dw0 : null, b ? db0 : null);
            // the row sums Σ|ĝ| and Σ|ĝ·x̂| bound dx's rounding; the column sums Σ|g·x̂| and Σ|g| bound dw's and db's
            const dxs = new Float64Array(rows * n);
            const [sw, sb] = [new Float64Array(n), new Float64Array(n)];
            for (let i = 0; i < rows; i++) {
              let s1 = 0;
              let s2 = 0;
              for (let j = 0; j < n; j++) {
                const gh = Math.abs(gr[i * n + j] * (w ? w[j] : 1));
                const xh = Math.abs((x[i * n + j] - m0[i]) * r0[i]);
                s1 += gh;
                s2 += gh * xh;
                sw[j] += Math.abs(gr[i * n + j]) * xh;
                sb[j] += Math.abs(gr[i * n + j]);
              }
              for (let j = 0; j < n; j++) {
                const xh = Math.abs((x[i * n + j] - m0[i]) * r0[i]);
                dxs[i * n + j] = r0[i] * (Math.abs(gr[i * n + j] * (w ? w[j] : 1)) + s1 / n + xh * (s2 / n));
              }
            }
            checkClose(dx, dx0, { rtol, scale: dxs }, `layerNormBackward dx ${what}`);
            if (w) checkClose(dw, dw0, { rtol, scale: sw }, `layerNormBackward dw ${what}`);
            if (b) checkClose(db, db0, { rtol, scale: sb }, `layerNormBackward db ${what}`);
          }
        }
        // a NaN or ±∞ in a row makes that row NaN, in ref as in the kernel
        const xs = randArray(g, dtype, 6 * 40, true);
        const [y1, y2] = [outLike(dtype, 240), outLike(dtype, 240)];
        k.layerNorm(xs, 6, 40, 1e-5, null, null, y1, outLike(dtype, 6), outLike(dtype, 6));
        refKernels.layerNorm(xs, 6, 40, 1e-5, null, null, y2, outLike(dtype, 6), outLike(dtype, 6));
        for (let i = 0; i < 240; i++) assert.equal(Number.isNaN(y1[i]), Number.isNaN(y2[i]), `layerNorm ${dtype} with specials at ${i}: ${y1[i]} vs ref ${y2[i]}`);
      }
    });

    test('lstm cell gates, forward and backward, widths that do and do not fill vectors, threaded', () => {
      const sizes: [number, number][] = [[0, 4], [1, 1], [3, 5], [32, 32], [64, 256], [7, 33]];
      for (const dtype of FLOATS) {
        // the kernels compute in the arrays' precision (float32: a few roundings per value), ref in double
        const rtol = dtype === 'float32' ? 2e-6 : 1e-12;
        for (const [rows, h] of sizes) {
          const what = `${dtype} (${rows}, ${h})`;
          const z = randArray(g, dtype, rows * 4 * h);
          for (let i = 0; i < z.length; i++) z[i] *= 6; // saturating gates too
          const c = randArray(g, dtype, rows * h);
          const [out, out0, acts, acts0] = [outLike(dtype, rows * 2 * h), outLike(dtype, rows * 2 * h), outLike(dtype, rows * 4 * h), outLike(dtype, rows * 4 * h)];
          k.lstmCell(z, c, rows, h, out, acts);
          refKernels.lstmCell(z, c, rows, h, out0, acts0);
          checkClose(acts, acts0, { rtol, atol: rtol * 1e-3 }, `lstmCell gates ${what}`);
          // C = F·c + I·G and H = O·tanh(C): |F·c| + |I·G| bounds both
          const cs = Float64Array.from(out0, (_, i) => {
            const [r, j] = [Math.floor(i / (2 * h)), i % h];
            return Math.abs(acts0[r * 4 * h + h + j] * c[r * h + j]) + Math.abs(acts0[r * 4 * h + j] * acts0[r * 4 * h + 2 * h + j]) + 1e-30;
          });
          checkClose(out, out0, { rtol: 4 * rtol, scale: cs }, `lstmCell out ${what}`);
          const gout = randArray(g, dtype, rows * 2 * h);
          const [dz, dz0, dc, dc0] = [outLike(dtype, rows * 4 * h), outLike(dtype, rows * 4 * h), outLike(dtype, rows * h), outLike(dtype, rows * h)];
          k.lstmCellBackward(acts0, c, out0, gout, rows, h, dz, dc);
          refKernels.lstmCellBackward(acts0, c, out0, gout, rows, h, dz0, dc0);
          // products of a few terms of size ≤ max(|g|, |c|): bounded by |dH| + |dC'| (times |c| for the forget gate)
          const dzs = Float64Array.from(dz0, (_, i) => {
            const [r, j] = [Math.floor(i / (4 * h)), i % h];
            const b = Math.abs(gout[r * 2 * h + j]) + Math.abs(gout[r * 2 * h + h + j]);
            return b * (1 + Math.abs(c[r * h + j])) + 1e-30;
          });
          checkClose(dz, dz0, { rtol: 4 * rtol, scale: dzs }, `lstmCellBackward dz ${what}`);
          const dcs = Float64Array.from(dc0, (_, i) => Math.abs(gout[Math.floor(i / h) * 2 * h + (i % h)]) + Math.abs(gout[Math.floor(i / h) * 2 * h + h + (i % h)]) + 1e-30);
          checkClose(dc, dc0, { rtol: 4 * rtol, scale: dcs }, `lstmCellBackward dc ${what}`);
        }
      }
    });

    test('gru gates and update, forward and backward, widths that do and do not fill vectors, threaded', () => {
      const sizes: [number, number][] = [[0, 4], [1, 1], [3, 5], [64, 32], [64, 256], [7, 33]];
      for (const dtype of FLOATS) {
        const rtol = dtype === 'float32' ? 2e-6 : 1e-12; // the kernels in the arrays' precision, ref in double
        for (const [rows, h] of sizes) {
          const what = `${dtype} (${rows}, ${h})`;
          const [n1, n2] = [rows * h, rows * 2 * h];
          const [a, rz, H] = [randArray(g, dtype, n2), randArray(g, dtype, n2), randArray(g, dtype, n1)];
          for (let i = 0; i < n2; i++) a[i] *= 6; // saturating gates too
          const [out, out0, acts, acts0] = [outLike(dtype, n2), outLike(dtype, n2), outLike(dtype, n2), outLike(dtype, n2)];
          k.gruGates(a, rz, H, rows, h, out, acts);
          refKernels.gruGates(a, rz, H, rows, h, out0, acts0);
          checkClose(acts, acts0, { rtol, atol: rtol * 1e-3 }, `gruGates acts ${what}`);
          checkClose(out, out0, { rtol, atol: rtol * 1e-3 }, `gruGates out ${what}`);
          const gg = randArray(g, dtype, n2);
          const [da, da0, dH, dH0] = [outLike(dtype, n2), outLike(dtype, n2), outLike(dtype, n1), outLike(dtype, n1)];
          k.gruGatesBackward(acts0, H, gg, rows, h, da, dH);
          refKernels.gruGatesBackward(acts0, H, gg, rows, h, da0, dH0);
          // R(1 − R) and 1 − C² from a rounded R or C: their error is relative to the factors before them, not to the product
          const das = Float64Array.from(da0, (_, i) => {
            const [r, j] = [Math.floor(i / (2 * h)), i % (2 * h)];
            return (j < h ? Math.abs(gg[r * 2 * h + h + j] * H[r * h + j]) : Math.abs(gg[r * 2 * h + j - h])) + 1e-30;
          });
          checkClose(da, da0, { rtol: 4 * rtol, scale: das }, `gruGatesBackward da ${what}`);
          checkClose(dH, dH0, { rtol: 4 * rtol, atol: rtol * 1e-3 }, `gruGatesBackward dH ${what}`);
          // the update: Z in (0, 1), as a gate's output
          const [xh, m, Z] = [randArray(g, dtype, n1), randArray(g, dtype, n1), randArray(g, dtype, n1)];
          for (let i = 0; i < n1; i++) Z[i] = 0.5 + Z[i] / 2.5;
          const [u, u0, cand, cand0] = [outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1)];
          k.gruUpdate(xh, m, Z, H, rows, h, u, cand);
          refKernels.gruUpdate(xh, m, Z, H, rows, h, u0, cand0);
          checkClose(cand, cand0, { rtol, atol: rtol * 1e-3 }, `gruUpdate cand ${what}`);
          const us = Float64Array.from(u0, (_, i) => Math.abs(Z[i] * H[i]) + Math.abs((1 - Z[i]) * cand0[i]) + 1e-30);
          checkClose(u, u0, { rtol: 4 * rtol, scale: us }, `gruUpdate out ${what}`);
          const gu = randArray(g, dtype, n1);
          const [dx, dx0, dZ, dZ0, dH2, dH20] = [outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1), outLike(dtype, n1)];
          k.gruUpdateBackward(cand0, Z, H, gu, rows, h, dx, dZ, dH2);
          refKernels.gruUpdateBackward(cand0, Z, H, gu, rows, h, dx0, dZ0, dH20);
          const dxs = Float64Array.from(dx0, (_, i) => Math.abs(gu[i] * (1 - Z[i])) + 1e-30);
          checkClose(dx, dx0, { rtol: 4 * rtol, scale: dxs }, `gruUpdateBackward dxh ${what}`);
          const zs = Float64Array.from(dZ0, (_, i) => Math.abs(gu[i]) * (Math.abs(H[i]) + Math.abs(cand0[i])) + 1e-30);
          checkClose(dZ, dZ0, { rtol: 4 * rtol, scale: zs }, `gruUpdateBackward dZ ${what}`);
          checkClose(dH2, dH20, { rtol, atol: rtol * 1e-3 }, `gruUpdateBackward dH ${what}`);
        }
      }
    });

    test('softmax and log-softmax along rows, forward and backward, with NaN and ±∞', () => {
      const sizes: [number, number][] = [[0, 5], [3, 0], [1, 1], [2, 3], [7, 17], [33, 1001], [40, 2003]];
      for (const dtype of FLOATS) {
        // outputs are computed in double in both; sums may be taken in another order, exp comes from another library
        const rtol = dtype === 'float32' ? 3e-7 : 1e-12;
        for (const [rows, n] of sizes) {
          for (const specials of [false, true]) {
            const what = `${dtype} (${rows}, ${n})${specials ? ' with specials' : ''}`;
            const x = randArray(g, dtype, rows * n, specials);
            for (let i = 0; i < x.length; i++) x[i] *= 4; // values in [−8, 8)
            const gr = randArray(g, dtype, rows * n);
            for (const kind of SOFTMAX_KINDS) {
              const [y, y0] = [outLike(dtype, rows * n), outLike(dtype, rows * n)];
              k.softmax(kind, x, rows, n, y);
              refKernels.softmax(kind, x, rows, n, y0);
              // log-softmax is x − lse: its rounding is relative to |x| + |lse|, not to the difference
              const ys = Float64Array.from(y0, (v, i) => (kind === 'softmax' ? Math.abs(v) : Math.abs(x[i]) + Math.abs(x[i] - v)));
              checkClose(y, y0, { rtol, atol: dtype === 'float32' ? 1e-44 : 1e-300, scale: ys }, `${kind} ${what}`);
              if (specials) continue;
              const [dx, dx0] = [outLike(dtype, rows * n), outLike(dtype, rows * n)];
              k.softmaxBackward(kind, y0, gr, rows, n, dx);
              refKernels.softmaxBackward(kind, y0, gr, rows, n, dx0);
              // the row's sum Σ g·y (softmax) or Σ g (log-softmax) bounds the rounding, with the terms beside it
              const scale = new Float64Array(rows * n);
              for (let r = 0; r < rows; r++) {
                let s = 0;
                for (let j = r * n; j < (r + 1) * n; j++) s += Math.abs(gr[j]) * (kind === 'softmax' ? Math.abs(y0[j]) : 1);
                for (let j = r * n; j < (r + 1) * n; j++) {
                  scale[j] = kind === 'softmax' ? Math.abs(y0[j]) * (Math.abs(gr[j]) + s) : Math.abs(gr[j]) + Math.exp(y0[j]) * s;
                }
              }
              checkClose(dx, dx0, { rtol: dtype === 'float32' ? 1e-6 : 1e-12, scale }, `${kind} backward ${what}`);
            }
          }
        }
      }
    });

    test('adam: one step in place, with coupled or decoupled weight decay and AMSGrad, sizes 0, 1, odd and threaded', () => {
      const steps = [
        { beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.9), bc2Sqrt: Math.sqrt(1 - 0.999), eps: 1e-8, l2: 0, decay: 1 },
        { beta1: 0.8, beta2: 0.99, stepSize: 0.01 / (1 - 0.8 ** 3), bc2Sqrt: Math.sqrt(1 - 0.99 ** 3), eps: 1e-6, l2: 0.1, decay: 1 },
        { beta1: 0.9, beta2: 0.999, stepSize: 2e-3, bc2Sqrt: 0.5, eps: 1e-8, l2: 0, decay: 1 - 2e-3 * 0.01 },
      ];
      for (const dtype of FLOATS) {
        for (const n of [0, 1, 7, 1001, 70001]) {
          for (const [si, h] of steps.entries()) {
            for (const amsgrad of [false, true]) {
              const what = `adam ${dtype} n ${n} step ${si}${amsgrad ? ' amsgrad' : ''}`;
              const gr = randArray(g, dtype, n);
              const init = [randArray(g, dtype, n), randArray(g, dtype, n), randArray(g, dtype, n).map(Math.abs), randArray(g, dtype, n).map(Math.abs)];
              const mine = init.map((a) => a.slice());
              const want = init.map((a) => a.slice());
              k.adam(mine[0], gr, mine[1], mine[2], amsgrad ? mine[3] : null, n, h);
              refKernels.adam(want[0], gr, want[1], want[2], amsgrad ? want[3] : null, n, h);
              // each value computed in double from the same inputs and rounded once, but a fused multiply-add
              // may round differently: the error is relative to the terms (inputs in [−2, 2]), and for p to
              // the size of its step
              const rtol = dtype === 'float32' ? 3e-7 : 1e-14;
              const terms = Float64Array.from(want[0], () => 4);
              const pScale = Float64Array.from(want[0], (e, i) => 4 + Math.abs(e - init[0][i] * h.decay));
              ['p', 'm', 'v', 'vmax'].forEach((name, i) => checkClose(mine[i], want[i], { rtol, scale: i === 0 ? pScale : terms }, `${what}: ${name}`));
            }
          }
        }
      }
    });

    test('indexSelect, indexAdd, gather and scatterAdd over every dtype, with repeated indices, sizes 0 and 1, and threads', () => {
      // [outer, n, inner, m]: x or out (outer, n, inner), the picked rows (outer, m, inner)
      const sizes: [number, number, number, number][] = [
        [1, 1, 1, 1],
        [1, 5, 1, 9], // one column, more picks than rows
        [3, 1, 5, 6], // one row, picked again and again
        [1, 7, 3, 0], // nothing picked
        [0, 4, 3, 5], // no slices
        [2, 3, 0, 4], // empty rows
        [2, 0, 3, 0], // no rows, nothing picked
        [1, 6719, 100, 3072], // an embedding lookup: threads over the rows picked, over ranges of the rows added into
        [2, 300, 67, 500], // fewer slices than threads: ranges of rows, scatterAdd chunks of a row (odd widths)
        [7, 30, 13, 600], // more slices than threads
        [1, 50, 1, 40_000], // one column: ranges of rows; too narrow for scatterAdd to cut, one thread
        [1, 40_000, 40, 900], // more rows than elements added: indexAdd on one thread
      ];
      for (let r = 0; r < 8; r++) sizes.push([g.randint(1, 5), g.randint(1, 40), g.randint(1, 70), g.randint(1, 90)]);
      for (const dtype of ALL_DTYPES) {
        const specials = dtype === 'float32' || dtype === 'float64';
        const blank = (len: number) => outLike(dtype, len).fill(specials ? NaN : 7); // every element must be written
        for (const [outer, n, inner, m] of sizes) {
          const what = `${dtype} (${outer}, ${n}, ${inner}) m ${m}`;
          const [table, picked] = [outer * n * inner, outer * m * inner];
          const x = randArray(g, dtype, table, specials);
          const rows = randIndex(g, m, n);
          const each = randIndex(g, picked, n);
          const [got, want] = [blank(picked), blank(picked)];
          k.indexSelect(x, outer, n, inner, rows, got);
          refKernels.indexSelect(x, outer, n, inner, rows, want);
          checkClose(got, want, EXACT, `indexSelect ${what}`);
          k.gather(x, outer, n, inner, each, m, got);
          refKernels.gather(x, outer, n, inner, each, m, want);
          checkClose(got, want, EXACT, `gather ${what}`);
          // the additions go into an output that holds values already
          const src = randArray(g, dtype, picked, specials);
          const base = randArray(g, dtype, table);
          const [sum, sum0] = [base.slice(), base.slice()];
          k.indexAdd(src, outer, n, inner, rows, sum);
          refKernels.indexAdd(src, outer, n, inner, rows, sum0);
          checkClose(sum, sum0, EXACT, `indexAdd ${what}`);
          const [sc, sc0] = [base.slice(), base.slice()];
          k.scatterAdd(src, outer, n, inner, each, m, sc);
          refKernels.scatterAdd(src, outer, n, inner, each, m, sc0);
          checkClose(sc, sc0, EXACT, `scatterAdd ${what}`);
        }
      }
      // sums wrap around in int32 and bool (uint8) storage, as the typed arrays store them
      for (const [dtype, big] of [['int32', 2 ** 31 - 1], ['bool', 255]] as [DType, number][]) {
        const src = outLike(dtype, 300 * 4).fill(big);
        const [out, out0] = [outLike(dtype, 300 * 2).fill(big), outLike(dtype, 300 * 2).fill(big)];
        k.indexAdd(src, 1, 2, 300, Int32Array.of(1, 0, 1, 1), out);
        refKernels.indexAdd(src, 1, 2, 300, Int32Array.of(1, 0, 1, 1), out0);
        checkClose(out, out0, EXACT, `indexAdd ${dtype} wrapping`);
      }
    });

    test('an elementwise output may be one of its operands (kernels.ts: aliasing)', () => {
      for (const dtype of FLOATS) {
        const n = 300 * 257;
        const fresh = () => randArray(g, dtype, n);
        const whole = (data: TypedArray): View => ({ data, offset: 0, shape: [300, 257], strides: [257, 1] });
        const row = makeView(g, dtype, [300, 257], 'broadcast');
        const cond = whole(Uint8Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0)));
        const cases: [string, (out: TypedArray, k: Kernels) => void][] = [
          ['unary tanh', (out, kk) => kk.unary('tanh', whole(out), out)],
          ['binary add (bias into its output)', (out, kk) => kk.binary('add', whole(out), row, out)],
          ['binary mul (out²)', (out, kk) => kk.binary('mul', whole(out), whole(out), out)],
          ['where', (out, kk) => kk.where(cond, whole(out), row, out)],
        ];
        for (const [what, run] of cases) {
          const got = fresh();
          const want = got.slice();
          run(got, k);
          run(want, refKernels);
          checkClose(got, want, what.startsWith('unary') ? mathTol(dtype) : EXACT, `${what} in place, ${dtype}`);
        }
      }
    });

    test('a view reaching outside its array, or a bad argmax, is refused with an error, not a crash', () => {
      const x: View = { data: new Float32Array(10), offset: 5, shape: [2, 3], strides: [3, 1] };
      assert.throws(() => k.unary('neg', x, new Float32Array(6)), /outside its array/);
      const a = new Float32Array(6);
      assert.throws(
        () => k.gemm({ batch: 1, m: 2, n: 2, k: 3, a, aOffsets: [1], aRowStride: 3, aColStride: 1, b: a, bOffsets: [0], bRowStride: 2, bColStride: 1, out: new Float32Array(4) }),
        /outside its array/,
      );
      const geom: Pool2dGeom = { planes: 1, h: 2, w: 2, oh: 1, ow: 1, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, countIncludePad: true };
      assert.throws(() => k.maxPool2dBackward(new Float32Array(1), Int32Array.of(4), geom, new Float32Array(4)), /outside its plane/);
      const f = (len: number) => new Float32Array(len);
      assert.throws(() => k.bnStats(f(5), 2, 3, 1, f(3), f(3)), /shorter than outer·c·inner|has 5 elements, the geometry needs 6/);
      assert.throws(() => k.channelAffine(f(6), 2, 3, 1, f(2), f(3), f(6)), /shorter than c|has 2 elements, the geometry needs 3/);
      // an index outside its dim (the ops check them; a direct call is refused too, with nothing written)
      const table = f(3 * 300).fill(1);
      const bad = /an index lies outside the dim it picks from/;
      assert.throws(() => k.indexSelect(table, 1, 3, 300, Int32Array.of(0, 3), f(600)), bad);
      assert.throws(() => k.indexAdd(f(600), 1, 3, 300, Int32Array.of(-1, 0), table), bad);
      assert.throws(() => k.gather(table, 1, 3, 300, new Int32Array(300).fill(2, 7).fill(3, 299), 1, f(300)), bad);
      assert.throws(() => k.scatterAdd(f(300), 1, 3, 300, new Int32Array(300).fill(-2, 150, 151), 1, table), bad);
      assert.ok(table.every((v) => v === 1), 'a refused indexAdd or scatterAdd wrote nothing');
      assert.throws(() => k.indexSelect(f(5), 1, 3, 2, Int32Array.of(0), f(2)), /has 5 elements, the geometry needs 6/);
      assert.throws(() => k.gather(f(6), 1, 3, 2, Int32Array.of(0), 1, f(2)), /the index has 1 elements, the geometry needs 2/);
    });

    test('op level: an embedding lookup, a gather and a scatterAdd give the same values and gradients as under ref', () => {
      for (const dtype of FLOATS) {
        const run = (backend: string) =>
          under(backend, () => {
            const gen = new Generator(11);
            const emb = new Embedding(97, 40, { generator: gen }).to(dtype);
            const words = Tensor.from(randIndex(gen, 8 * 70, 97), { dtype: 'int32' }).reshape([8, 70]); // repeated words
            const y = emb.forward(words); // (8, 70, 40)
            y.mul(Tensor.randn(y.shape, { generator: gen, dtype })).sum().backward();
            const x = Tensor.randn([6, 40, 9], { generator: gen, dtype, requiresGrad: true });
            const src = Tensor.randn([6, 25, 9], { generator: gen, dtype, requiresGrad: true });
            const index = Tensor.from(randIndex(gen, 6 * 25 * 9, 40), { dtype: 'int32' }).reshape([6, 25, 9]);
            const z = x.gather(1, index).add(x.scatterAdd(1, index, src).narrow(1, 0, 25));
            z.mul(Tensor.randn(z.shape, { generator: gen, dtype })).sum().backward();
            return [y, emb.weight.grad!, z, x.grad!, src.grad!].map((t) => t.toTypedArray());
          });
        const mine = run(name);
        const ref = run('ref');
        const names = ['embedding', 'its weight gradient', 'gather + scatterAdd', 'the gradient of x', 'the gradient of src'];
        mine.forEach((got, i) => checkClose(got, ref[i], EXACT, `${dtype} ${names[i]}`));
      }
    });

    test('op level: a small conv net gives the same loss and gradients as under ref', () => {
      for (const dtype of FLOATS) {
        const run = (backend: string) =>
          under(backend, () => {
            const gen = new Generator(7);
            const net = new Sequential(
              new Conv2d(2, 6, 3, { padding: 1, bias: false, generator: gen }), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
              new Conv2d(6, 8, 3, { groups: 2, stride: 1, generator: gen }), new Tanh(), new AvgPool2d(2),
              new Flatten(), new Linear(8 * 2 * 2, 16, { generator: gen }), new Sigmoid(), new Linear(16, 5, { generator: gen }),
            ).to(dtype);
            const x = Tensor.randn([9, 2, 12, 12], { generator: gen, dtype });
            const target = Tensor.from(Array.from({ length: 9 }, (_, i) => i % 5), { dtype: 'int32' });
            const loss = crossEntropy(net.forward(x) as Tensor, target);
            loss.backward();
            const logits = noGrad(() => net.forward(x) as Tensor);
            return { loss: loss.item(), logits: logits.toTypedArray(), grads: net.parameters().map((p) => p.grad!.toTypedArray()) };
          });
        const mine = run(name);
        const ref = run('ref');
        const tol = { rtol: dtype === 'float32' ? 2e-4 : 1e-10 };
        checkClose([mine.loss], [ref.loss], tol, `${dtype} loss`);
        checkClose(mine.logits, ref.logits, { ...tol, scale: Array.from(ref.logits, (v) => Math.max(Math.abs(v), 1)) }, `${dtype} logits`);
        mine.grads.forEach((gr, i) => {
          const maxAbs = Array.from(ref.grads[i]).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          checkClose(gr, ref.grads[i], { ...tol, scale: Array.from(gr, () => maxAbs) }, `${dtype} gradient of parameter ${i}`);
        });
      }
    });
  });
}
