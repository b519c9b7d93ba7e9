/**
 * Node loading of the wasm backend: reads the committed module files (src/backend/wasm/*.wasm,
 * found from this file's location both in a checkout's dist/ and in an installed package), and for
 * the threaded build starts worker_threads that share its memory.
 *
 * The threaded build is used whenever SharedArrayBuffer exists (always, in Node), whatever the
 * thread count: its workers start on the first kernel call that wants them, so a 1-thread run
 * starts none. The single-threaded build serves where shared memory is missing, or when asked for.
 * Threads: PFS_THREADS, else the number of cores (as the native backend).
 *
 * Relaxed SIMD: where the engine has it (Node from 22), the relaxed build of each (pfs-relaxed.wasm,
 * pfs-threads-relaxed.wasm: a fused multiply-add in the matrix product, some 20% faster there).
 * Node 20 has it behind V8's flag --experimental-wasm-relaxed-simd: pass that flag to node, or set
 * PFS_WASM_RELAXED=1 and this loader turns the flag on (v8.setFlagsFromString) before it compiles
 * the module. PFS_WASM_RELAXED=0 keeps the plain SIMD128 builds everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Backend } from '../registry.js';
import { threadsFromEnv } from '../native/index.js';
import { relaxedSimdSupported, SHARED_MEMORY, WORKER_STACK, wasmBackend, wasmImports, WasmRuntime, type WasmExports } from './index.js';
import type { WorkerData } from './worker.js';

export const WASM_FILE = 'pfs.wasm';
export const WASM_THREADS_FILE = 'pfs-threads.wasm';
/** The relaxed-SIMD builds' file for each: pfs.wasm → pfs-relaxed.wasm. */
export const relaxedFile = (file: string): string => file.replace(/\.wasm$/, '-relaxed.wasm');

export type RelaxedChoice = 'auto' | 'on' | 'off';

/** PFS_WASM_RELAXED: unset or empty → 'auto', 1 → 'on', 0 → 'off'. */
export function relaxedFromEnv(env: string | undefined): RelaxedChoice {
  if (env === undefined || env === '') return 'auto';
  if (env === '1') return 'on';
  if (env === '0') return 'off';
  throw new RangeError(`PFS_WASM_RELAXED must be 1 (use relaxed SIMD, turning on Node 20's V8 flag) or 0 (never), or unset (where the engine has it), got ${JSON.stringify(env)}`);
}

/**
 * Whether to load a relaxed build, and the words for `pfs info`: 'auto' takes it where the engine
 * has relaxed SIMD; 'on' also turns on V8's flag where the engine has it behind one (Node 20).
 */
export function chooseRelaxed(choice: RelaxedChoice): { relaxed: boolean; note: string } {
  if (choice === 'off') return { relaxed: false, note: 'relaxed SIMD off (PFS_WASM_RELAXED=0)' };
  if (relaxedSimdSupported()) return { relaxed: true, note: 'relaxed SIMD' };
  if (choice === 'on') {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (relaxedSimdSupported()) return { relaxed: true, note: "relaxed SIMD, V8's flag turned on by PFS_WASM_RELAXED=1" };
    return { relaxed: false, note: 'no relaxed SIMD in this engine, even with PFS_WASM_RELAXED=1' };
  }
  return { relaxed: false, note: 'no relaxed SIMD in this engine; on Node 20 PFS_WASM_RELAXED=1 turns it on' };
}

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
  | { backend: Backend; runtime: WasmRuntime; reason: string; file: string; relaxed: boolean }
  | { backend: null; reason: string };

export interface WasmLoadOptions {
  /** Use the threaded build (default: whenever SharedArrayBuffer exists). */
  threaded?: boolean;
  /** Threads to use (default: PFS_THREADS, else the number of cores); the single-threaded build uses 1. */
  threads?: number;
  /** The relaxed-SIMD build: 'auto' where the engine has it, 'on', 'off' (default: PFS_WASM_RELAXED). */
  relaxed?: RelaxedChoice;
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
  const plainFile = threaded ? WASM_THREADS_FILE : WASM_FILE;
  let { relaxed, note } = chooseRelaxed(opts.relaxed ?? relaxedFromEnv(process.env.PFS_WASM_RELAXED));
  if (relaxed && !existsSync(join(dir, relaxedFile(plainFile)))) {
    relaxed = false;
    note = `no ${relaxedFile(plainFile)} in this installation`;
  }
  const file = join(dir, relaxed ? relaxedFile(plainFile) : plainFile);
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
  runtime.build = `${threaded ? 'threaded build' : 'single-threaded build'}, ${note}`;
  return { backend: wasmBackend(runtime), runtime, reason: runtime.describe(), file, relaxed };
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
