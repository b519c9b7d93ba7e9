/**
 * Node start-up of the backends: registers the native addon when it loads and the wasm module when
 * it loads, then picks the backend (PFS_BACKEND if set, else the fastest registered: native, else
 * wasm, else ref). Importing this module does it, once.
 *
 * A missing native build is normal (the install says so once, and wasm takes its place), so
 * nothing is printed then, unless PFS_BACKEND asked for a backend that is unavailable: that gets
 * one line on stderr with the reason, and the best available backend is used. `nativeStatus()` and
 * `wasmStatus()` give the reasons for `pfs info`.
 *
 * A bad PFS_BACKEND, PFS_THREADS, PFS_WASM_RELAXED or PFS_MALLOC_TUNING (checkBackendEnv) is
 * reported on the first use of the backends, not while this module loads: see below.
 */
import { backendInfo, chooseDefaultBackend, failBackends, registerBackend, useBackend } from './registry.js';
import { MAX_THREADS } from './marshal.js';
import { loadNativeBackend, mallocTuningFromEnv, nativeBuildInfo, threadsFromEnv } from './native/index.js';
import { loadWasmBackend, relaxedFromEnv, waitForWasmWorkers } from './wasm/node.js';

export interface NativeStatus {
  available: boolean;
  /** What was loaded (kernels, vector width, threads), or why nothing was. */
  reason: string;
  /** How the addon was built and what malloc does: "AVX-512, 64-byte vectors; glibc malloc keeps freed memory" (native only). */
  build?: string;
}
export interface WasmStatus extends NativeStatus {
  /** The relaxed-SIMD build is the one loaded. */
  relaxed: boolean;
}

/** The backends `PFS_BACKEND` may name. */
export const BACKEND_NAMES = ['native', 'wasm', 'ref'] as const;

/**
 * Checks the environment variables the backends read: PFS_BACKEND, PFS_THREADS, PFS_WASM_RELAXED
 * and PFS_MALLOC_TUNING (read by the native addon's tuneMalloc()). Throws a RangeError naming the
 * first bad one, what it accepts and what it got.
 */
export function checkBackendEnv(env: NodeJS.ProcessEnv = process.env): void {
  const b = env.PFS_BACKEND;
  if (b !== undefined && b !== '' && !(BACKEND_NAMES as readonly string[]).includes(b)) {
    throw new RangeError(`PFS_BACKEND must be native, wasm or ref (or unset: the fastest available), got ${JSON.stringify(b)}`);
  }
  threadsFromEnv(env.PFS_THREADS);
  relaxedFromEnv(env.PFS_WASM_RELAXED);
  mallocTuningFromEnv(env.PFS_MALLOC_TUNING);
}

// A bad variable is not thrown here, while modules load (a program importing the library could not
// catch it, and `pfs` would die with a stack trace): nothing loads, and every use of the backends
// (a kernel call, backendInfo(), useBackend(), nativeStatus(), wasmStatus()) throws the error.
let envError: Error | null = null;
try {
  checkBackendEnv();
} catch (e) {
  envError = e instanceof Error ? e : new Error(String(e));
}

const load = envError ? { backend: null, reason: envError.message } : loadNativeBackend();
const status: NativeStatus = load.backend ? { available: true, reason: load.reason, build: load.build } : { available: false, reason: load.reason };
if (load.backend) registerBackend(load.backend);

const wasm = envError ? { backend: null, reason: envError.message } : loadWasmBackend();
if (wasm.backend) registerBackend(wasm.backend);
const wasmRuntime = wasm.backend ? wasm.runtime : null;

const requested = process.env.PFS_BACKEND;
const missing = requested === 'native' ? (load.backend ? null : load.reason) : requested === 'wasm' ? (wasm.backend ? null : wasm.reason) : null;
if (envError) {
  failBackends(envError);
} else if (missing !== null) {
  process.stderr.write(`papers-from-scratch: PFS_BACKEND=${requested}, but the ${requested} backend is unavailable: ${missing}\n`);
  chooseDefaultBackend(undefined);
  useBackend(backendInfo().name, `PFS_BACKEND=${requested} was asked for, but the ${requested} backend is unavailable (${missing})`);
} else {
  chooseDefaultBackend(requested);
  if (!requested && backendInfo().name === 'wasm') useBackend('wasm', `the fastest available; native: ${load.reason}`);
}

/** Whether the native addon loaded, and what it is or why it is not there. */
export function nativeStatus(): NativeStatus {
  if (envError) throw envError;
  return status.available ? { ...status, build: nativeBuildInfo()! } : { ...status }; // build: malloc may have been tuned since
}

/** Whether the wasm module loaded, and what it is (build, threads) or why it is not there. */
export function wasmStatus(): WasmStatus {
  if (envError) throw envError;
  if (!wasm.backend) return { available: false, reason: wasm.reason, relaxed: false };
  return { available: true, reason: wasm.runtime.describe(), relaxed: wasm.relaxed };
}

/**
 * Sets how many threads the wasm kernels use (1 to MAX_THREADS, 64; the single-threaded build stays at 1); does
 * nothing when the module is not loaded. Worker threads start on the next kernel call.
 */
export function setWasmThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(`setWasmThreads: expected a whole number from 1 to ${MAX_THREADS}, got ${n}`);
  wasmRuntime?.setThreads(n);
}

/** The wasm kernels' thread count, or 1 when the module is not loaded. */
export function getWasmThreads(): number {
  return wasmRuntime ? wasmRuntime.getThreads() : 1;
}

/** Starts the wasm worker threads now and waits (up to timeoutMs) until they run; returns whether they do. */
export function wasmThreadsReady(timeoutMs = 5000): boolean {
  return wasmRuntime ? waitForWasmWorkers(wasmRuntime, timeoutMs) : false;
}
