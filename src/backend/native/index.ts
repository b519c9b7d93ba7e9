/**
 * The native backend: the C kernels of src/backend/csrc compiled into a Node addon
 * (src/backend/native/build/Release/pfs_native.node, built from binding.gyp by
 * scripts/build-native.mjs at install).
 *
 * Node-only (it loads a shared library). Each kernel call is packed by ../marshal.ts and handed to
 * the addon's one function, `call`, with the arrays themselves (no copies); the addon declines a
 * type combination its C kernels do not cover (int32 arithmetic, bool inputs, ...), and then the
 * reference kernel runs instead, so correctness never depends on coverage. Threads: PFS_THREADS,
 * else the number of cores.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedArray } from '../../tensor/dtype.js';
import { fastKernels, MAX_THREADS, statusOk, type PackedCall } from '../marshal.js';
import type { Backend } from '../registry.js';

/** The functions the addon exports (addon.c). */
interface Addon {
  /** pfs_call's status for a packed call; the arrays in pfs_call's order (null for an unused one). */
  call(meta: Float64Array, ...arrays: (TypedArray | null)[]): number;
  setThreads(n: number): void;
  getThreads(): number;
  buildInfo(): string;
  /** Raises glibc malloc's thresholds (see addon.c); returns what malloc now does. */
  tuneMalloc(): string;
}

/** Runs a packed call in the addon: each array from its range's start (offsets in meta count from there). */
function runIn(addon: Addon, c: PackedCall): boolean {
  const arrays = c.arrays.map((a) => (a === null ? null : a.start === 0 ? a.data : a.data.subarray(a.start, a.end)));
  return statusOk(addon.call(c.meta, ...arrays), c.kernel);
}

/** The addon's folder in the package (this folder, under src/): the nearest one above this module with binding.gyp. */
function addonDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = join(dir, 'src', 'backend', 'native');
    if (existsSync(join(cand, 'binding.gyp'))) return cand;
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
 * PFS_MALLOC_TUNING, which addon.c reads when tuneMalloc() runs: unset, empty or 1 → raise glibc
 * malloc's thresholds (true), 0 → keep glibc's defaults (false); anything else is refused here,
 * before the addon loads (the C code alone would take any other value as "tune").
 */
export function mallocTuningFromEnv(env: string | undefined): boolean {
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  throw new RangeError(
    `PFS_MALLOC_TUNING must be 1 (tuneMalloc(), which pfs calls, raises glibc malloc's thresholds; the default) or 0 (keep glibc's defaults), got ${JSON.stringify(env)}`,
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
  const dir = addonDir();
  if (!dir) return { backend: null, reason: 'its sources (src/backend/native/binding.gyp) are not in this installation' };
  const file = join(dir, 'build', 'Release', 'pfs_native.node');
  if (!existsSync(file)) {
    return { backend: null, reason: 'not built: run `node scripts/build-native.mjs` (needs a C compiler and node-gyp)' };
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { backend: null, reason: `${file} failed to load: ${msg}` };
  }
  loaded = addon;
  addon.setThreads(threads);
  const build = addon.buildInfo();
  return {
    backend: { name: 'native', priority: 20, kernels: fastKernels((c) => runIn(addon, c)) },
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

/**
 * Makes glibc's malloc keep freed memory in the process (raised mmap and trim thresholds: a training
 * step's large buffers are then reused instead of page-faulted in anew, a quarter of VGG's step at
 * 32×32). It changes malloc for the whole process, so loading the library never does it: the `pfs`
 * CLI calls this, and a program may. Nothing happens when PFS_MALLOC_TUNING=0 or malloc was tuned
 * through the environment (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES), or off
 * glibc. Returns what malloc now does, or null when the native addon is not loaded.
 */
export function tuneMalloc(): string | null {
  return loaded ? loaded.tuneMalloc() : null;
}

/** How the loaded addon was built, and what malloc does (for `pfs info`); null when it is not loaded. */
export function nativeBuildInfo(): string | null {
  return loaded ? loaded.buildInfo() : null;
}
