/**
 * Node loading of the wasm backend: reads the committed module files (src/backend/wasm/*.wasm,
 * found from this file's location both in a checkout's dist/ and in an installed package), and for
 * the threaded build starts worker_threads that share its memory.
 *
 * The threaded build is used whenever SharedArrayBuffer exists (always, in Node), whatever the
 * thread count: its workers start on the first kernel call that wants them, so a 1-thread run
 * starts none. The single-threaded build serves where shared memory is missing, or when asked for.
 * Threads: PFS_THREADS, else the number of cores (as the native backend).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Backend } from '../registry.js';
import { threadsFromEnv } from '../native/index.js';
import { SHARED_MEMORY, WORKER_STACK, wasmBackend, wasmImports, WasmRuntime, type WasmExports } from './index.js';
import type { WorkerData } from './worker.js';

export const WASM_FILE = 'pfs.wasm';
export const WASM_THREADS_FILE = 'pfs-threads.wasm';

/** The folder holding the .wasm files: beside this module (running from src/), else src/backend/wasm under the package root. */
export function wasmDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, WASM_FILE))) return here;
  let dir = here;
  for (let i = 0; i < 8; i++) {
    const cand = join(dir, 'src', 'backend', 'wasm');
    if (existsSync(join(cand, WASM_FILE))) return cand;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

export type WasmLoad =
  | { backend: Backend; runtime: WasmRuntime; reason: string; file: string }
  | { backend: null; reason: string };

export interface WasmLoadOptions {
  /** Use the threaded build (default: whenever SharedArrayBuffer exists). */
  threaded?: boolean;
  /** Threads to use (default: PFS_THREADS, else the number of cores); the single-threaded build uses 1. */
  threads?: number;
}

/** The first line of an error's message. */
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Loads a build of the module. Returns the backend (name 'wasm', priority 10) and a line saying
 * what was loaded, or null and the reason it is unavailable. Throws only for a bad PFS_THREADS.
 */
export function loadWasmBackend(opts: WasmLoadOptions = {}): WasmLoad {
  const threads = opts.threads ?? threadsFromEnv(process.env.PFS_THREADS);
  if (typeof WebAssembly !== 'object') return { backend: null, reason: 'this JavaScript engine has no WebAssembly' };
  const dir = wasmDir();
  if (!dir) return { backend: null, reason: `its module (src/backend/wasm/${WASM_FILE}) is not in this installation` };
  const threaded = opts.threaded ?? (typeof SharedArrayBuffer === 'function' && existsSync(join(dir, WASM_THREADS_FILE)));
  const file = join(dir, threaded ? WASM_THREADS_FILE : WASM_FILE);
  let runtime: WasmRuntime;
  try {
    const module = new WebAssembly.Module(readFileSync(file));
    if (threaded) {
      const memory = new WebAssembly.Memory(SHARED_MEMORY);
      const exports = new WebAssembly.Instance(module, wasmImports(memory)).exports as unknown as WasmExports;
      exports.pfs_wasm_caller_may_wait!(1); // Node lets any thread block on a shared memory
      runtime = new WasmRuntime(exports, memory, (n) => startWorkers(module, memory, exports, n));
    } else {
      const exports = new WebAssembly.Instance(module, wasmImports()).exports as unknown as WasmExports;
      runtime = new WasmRuntime(exports, exports.memory!);
    }
  } catch (e) {
    // e.g. an engine without SIMD128 refuses the module
    return { backend: null, reason: `${file} failed to load: ${firstLine(e)}` };
  }
  runtime.setThreads(threaded ? threads : 1);
  const build = threaded ? 'threaded build' : 'single-threaded build';
  const t = runtime.getThreads();
  return { backend: wasmBackend(runtime), runtime, reason: `WebAssembly SIMD128 (${build}), ${t} thread${t === 1 ? '' : 's'}`, file };
}

/** Worker threads started per runtime, and the last error one of them reported. */
const started = new WeakMap<WasmRuntime['exports'], { workers: Worker[]; error?: string }>();

/** Brings the runtime's workers up to n (never down: idle workers sleep and cost nothing). */
function startWorkers(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: WasmExports, n: number): void {
  let rec = started.get(exports);
  if (!rec) started.set(exports, (rec = { workers: [] }));
  const r = rec;
  while (r.workers.length < n) {
    const stack = exports.pfs_wasm_alloc(WORKER_STACK);
    if (stack === 0) return; // no memory for a stack: the kernels run on fewer threads
    const data: WorkerData = { module, memory, stackTop: stack + WORKER_STACK };
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
    w.on('error', (e) => {
      r.error = firstLine(e);
      process.stderr.write(`papers-from-scratch: a wasm worker thread failed: ${r.error}\n`);
    });
    w.unref(); // a worker waiting for tasks does not keep the process alive
    r.workers.push(w);
  }
}

/**
 * Waits (blocking, up to timeoutMs) until the runtime's workers for its thread count are running;
 * returns whether they are. Kernels never need this (until workers run, the calling thread does
 * all the work); tests and benchmarks use it to measure what they mean to.
 */
export function waitForWasmWorkers(runtime: WasmRuntime, timeoutMs = 5000): boolean {
  const want = runtime.getThreads() - 1;
  if (want <= 0) return true;
  runtime.kernelThreads(); // starts them if no kernel has yet
  const addr = runtime.exports.pfs_wasm_online_address!();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const word = new Int32Array(runtime.memory.buffer, addr, 1); // fresh: the memory may have grown
    const now = Atomics.load(word, 0);
    if (now >= want) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(word, 0, now, Math.min(left, 50));
  }
}
