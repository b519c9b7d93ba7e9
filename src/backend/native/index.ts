/**
 * The native backend: the C kernels of src/backend/csrc compiled into a Node addon
 * (native/build/Release/pfs_native.node, built by scripts/build-native.mjs at install).
 *
 * Node-only (it loads a shared library). Each kernel here packs the call's geometry into a small
 * Float64Array and calls the addon; the addon answers false for a type combination its C kernels do
 * not cover (int32 arithmetic, bool inputs, ...), and then the reference kernel runs instead, so
 * correctness never depends on coverage. Threads: PFS_THREADS, else the number of cores.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedArray } from '../../tensor/dtype.js';
import type { Conv2dGeom, GemmArgs, Kernels, Pool2dGeom, View } from '../kernels.js';
import { BINARY, MAX_DIMS, REDUCE, UNARY } from '../ccodes.js';
import { refKernels } from '../ref/index.js';
import type { Backend } from '../registry.js';

/** The functions the addon exports (native/addon.c). */
interface Addon {
  gemm(meta: Float64Array, a: TypedArray, aOffsets: Float64Array, b: TypedArray, bOffsets: Float64Array, out: TypedArray): boolean;
  conv(kind: number, meta: Float64Array, p: TypedArray, q: TypedArray, out: TypedArray): boolean;
  pool(kind: number, meta: Float64Array, input: TypedArray, argmax: Int32Array, out: TypedArray): boolean;
  unary(op: number, meta: Float64Array, x: TypedArray, out: TypedArray): boolean;
  binary(op: number, meta: Float64Array, a: TypedArray, b: TypedArray, out: TypedArray): boolean;
  where(meta: Float64Array, cond: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray): boolean;
  reduce(op: number, meta: Float64Array, x: TypedArray, out: TypedArray): boolean;
  bnStats(meta: Float64Array, x: TypedArray, mean: TypedArray, varOut: TypedArray): boolean;
  channelAffine(meta: Float64Array, x: TypedArray, scale: TypedArray, shift: TypedArray, out: TypedArray): boolean;
  bnBackward(
    meta: Float64Array, g: TypedArray, x: TypedArray, mean: TypedArray, invstd: TypedArray, weight: TypedArray,
    dx: TypedArray, sumG: TypedArray, sumGX: TypedArray,
  ): boolean;
  setThreads(n: number): void;
  getThreads(): number;
  buildInfo(): string;
}

const MAX_THREADS = 64;

/** meta for strided views sharing one shape: [ndim, offsets..., shape..., strides of each view...]. */
function viewsMeta(shape: readonly number[], views: readonly View[]): Float64Array {
  const nd = shape.length;
  const m = new Float64Array(1 + views.length + nd * (views.length + 1));
  m[0] = nd;
  views.forEach((v, i) => (m[1 + i] = v.offset));
  let p = 1 + views.length;
  for (let d = 0; d < nd; d++) m[p++] = shape[d];
  for (const v of views) for (let d = 0; d < nd; d++) m[p++] = v.strides[d];
  return m;
}

function convMeta(g: Conv2dGeom): Float64Array {
  return Float64Array.of(g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups);
}

function poolMeta(g: Pool2dGeom): Float64Array {
  return Float64Array.of(g.planes, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW, g.countIncludePad ? 1 : 0);
}

const NO_ARGMAX = new Int32Array(0);

/** The kernel table over a loaded addon; each kernel falls back to ref when the addon declines. */
function nativeKernels(addon: Addon): Partial<Kernels> {
  return {
    unary(op, x, out) {
      const code = UNARY[op];
      if (code === undefined || x.shape.length > MAX_DIMS || !addon.unary(code, viewsMeta(x.shape, [x]), x.data, out)) {
        refKernels.unary(op, x, out);
      }
    },
    binary(op, a, b, out) {
      if (a.shape.length > MAX_DIMS || !addon.binary(BINARY[op], viewsMeta(a.shape, [a, b]), a.data, b.data, out)) {
        refKernels.binary(op, a, b, out);
      }
    },
    where(cond, a, b, out) {
      if (cond.shape.length > MAX_DIMS || !addon.where(viewsMeta(cond.shape, [cond, a, b]), cond.data, a.data, b.data, out)) {
        refKernels.where(cond, a, b, out);
      }
    },
    reduce(op, x, outer, n, inner, out) {
      if (!addon.reduce(REDUCE[op], Float64Array.of(outer, n, inner), x, out)) refKernels.reduce(op, x, outer, n, inner, out);
    },
    gemm(g: GemmArgs) {
      const meta = Float64Array.of(g.batch, g.m, g.n, g.k, g.aRowStride, g.aColStride, g.bRowStride, g.bColStride);
      if (!addon.gemm(meta, g.a, Float64Array.from(g.aOffsets), g.b, Float64Array.from(g.bOffsets), g.out)) refKernels.gemm(g);
    },
    conv2d(x, w, g, out) {
      if (!addon.conv(0, convMeta(g), x, w, out)) refKernels.conv2d(x, w, g, out);
    },
    conv2dBackwardInput(dy, w, g, dx) {
      if (!addon.conv(1, convMeta(g), dy, w, dx)) refKernels.conv2dBackwardInput(dy, w, g, dx);
    },
    conv2dBackwardWeight(dy, x, g, dw) {
      if (!addon.conv(2, convMeta(g), dy, x, dw)) refKernels.conv2dBackwardWeight(dy, x, g, dw);
    },
    maxPool2d(x, g, out, argmax) {
      if (!addon.pool(0, poolMeta(g), x, argmax, out)) refKernels.maxPool2d(x, g, out, argmax);
    },
    maxPool2dBackward(dy, argmax, g, dx) {
      if (!addon.pool(1, poolMeta(g), dy, argmax, dx)) refKernels.maxPool2dBackward(dy, argmax, g, dx);
    },
    avgPool2d(x, g, out) {
      if (!addon.pool(2, poolMeta(g), x, NO_ARGMAX, out)) refKernels.avgPool2d(x, g, out);
    },
    avgPool2dBackward(dy, g, dx) {
      if (!addon.pool(3, poolMeta(g), dy, NO_ARGMAX, dx)) refKernels.avgPool2dBackward(dy, g, dx);
    },
    bnStats(x, outer, c, inner, mean, varOut) {
      if (!addon.bnStats(Float64Array.of(outer, c, inner), x, mean, varOut)) refKernels.bnStats(x, outer, c, inner, mean, varOut);
    },
    channelAffine(x, outer, c, inner, scale, shift, out) {
      if (!addon.channelAffine(Float64Array.of(outer, c, inner), x, scale, shift, out)) refKernels.channelAffine(x, outer, c, inner, scale, shift, out);
    },
    bnBackward(g, x, outer, c, inner, mean, invstd, weight, dx, sumG, sumGX) {
      const meta = Float64Array.of(outer, c, inner, weight ? 1 : 0);
      if (!addon.bnBackward(meta, g, x, mean, invstd, weight ?? invstd, dx, sumG, sumGX)) {
        refKernels.bnBackward(g, x, outer, c, inner, mean, invstd, weight, dx, sumG, sumGX);
      }
    },
  };
}

/** The package root: the nearest folder above this module that holds native/binding.gyp. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** The thread count asked for by PFS_THREADS (a whole number from 1 to 64), else the number of cores. */
export function threadsFromEnv(env: string | undefined): number {
  if (env === undefined || env === '') return Math.min(availableParallelism(), MAX_THREADS);
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`PFS_THREADS must be a whole number from 1 to ${MAX_THREADS} (or unset: one per core), got ${JSON.stringify(env)}`);
  }
  return n;
}

/**
 * PFS_MALLOC_TUNING, which native/addon.c reads when it loads: unset, empty or 1 → raise glibc
 * malloc's thresholds (true), 0 → keep glibc's defaults (false); anything else is refused here,
 * before the addon loads (the C code alone would take any other value as "tune").
 */
export function mallocTuningFromEnv(env: string | undefined): boolean {
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  throw new RangeError(
    `PFS_MALLOC_TUNING must be 1 (the native addon raises glibc malloc's thresholds, the default) or 0 (keep glibc's defaults), got ${JSON.stringify(env)}`,
  );
}

export type NativeLoad =
  | { backend: Backend; reason: string; threads: number; build: string }
  | { backend: null; reason: string };

let loaded: Addon | null = null;

/**
 * Loads the addon. Returns the backend (name 'native', priority 20) and a line describing it, or
 * null and the reason it is unavailable. Throws only for a bad PFS_THREADS or PFS_MALLOC_TUNING value.
 */
export function loadNativeBackend(): NativeLoad {
  const threads = threadsFromEnv(process.env.PFS_THREADS);
  mallocTuningFromEnv(process.env.PFS_MALLOC_TUNING);
  const root = packageRoot();
  if (!root) return { backend: null, reason: 'its sources (native/binding.gyp) are not in this installation' };
  const file = join(root, 'native', 'build', 'Release', 'pfs_native.node');
  if (!existsSync(file)) {
    return { backend: null, reason: 'not built: run `node scripts/build-native.mjs` (needs a C compiler and node-gyp)' };
  }
  try {
    loaded = createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { backend: null, reason: `${file} failed to load: ${msg}` };
  }
  loaded.setThreads(threads);
  const build = loaded.buildInfo();
  return {
    backend: { name: 'native', priority: 20, kernels: nativeKernels(loaded) },
    reason: `C kernels (${build}), ${threads} thread${threads === 1 ? '' : 's'}`,
    threads,
    build,
  };
}

/** Sets how many threads the native kernels use (1 to 64); does nothing when the addon is not loaded. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`setNumThreads: expected a whole number from 1 to ${MAX_THREADS}, got ${n}`);
  }
  loaded?.setThreads(n);
}

/** The native kernels' thread count, or 1 when the addon is not loaded. */
export function getNumThreads(): number {
  return loaded ? loaded.getThreads() : 1;
}
