/**
 * Browser loading of the wasm backend, threaded where the page is cross-origin isolated.
 *
 * The threaded build (pfs-threads.wasm, or pfs-threads-relaxed.wasm where the engine has relaxed
 * SIMD) needs a shared WebAssembly.Memory, which browsers give only to cross-origin isolated pages
 * (COOP: same-origin and COEP: require-corp; `pfs serve` sends both). Each extra thread is a Web
 * Worker made from a small inline script (a Blob URL: nothing for a bundler to find): it instantiates
 * the same compiled module over the shared memory with a stack of its own and waits in
 * pfs_wasm_worker_loop() for tasks, as src/backend/wasm/worker.ts does in Node.
 *
 * Browsers start a worker only once the thread that created it returns to its event loop, so the
 * workers are started here, at load, and awaited before the backend is returned (a kernel call
 * that came first would run all its tasks on the calling thread, correct but alone).
 *
 * Where the page is not isolated (no SharedArrayBuffer) the single-threaded build loads instead.
 * The calling thread may block while workers finish only inside a worker (Atomics.wait is refused
 * on a page's main thread), so training belongs in a Web Worker; on the main thread the caller spins.
 */
import type { Backend } from '../registry.js';
import { relaxedSimdSupported, SHARED_MEMORY, WORKER_STACK, wasmBackend, wasmImports, WasmRuntime, type WasmExports } from './index.js';

/** Where the four builds are (URLs the page can fetch; a bundler's `?url` imports give them). */
export interface WasmModuleUrls {
  plain: string | URL;
  relaxed: string | URL;
  threads: string | URL;
  threadsRelaxed: string | URL;
}

export interface BrowserWasmOptions {
  urls: WasmModuleUrls;
  /** Threads, the calling one included (default: navigator.hardwareConcurrency, at most 64). */
  threads?: number;
  /** Load a relaxed-SIMD build where the engine has it (default true). */
  relaxed?: boolean;
  /** How long to wait for the worker threads to come online (default 10 s). */
  timeoutMs?: number;
}

export interface BrowserWasmLoad {
  backend: Backend;
  runtime: WasmRuntime;
  /** Whether the threaded build loaded (the page is cross-origin isolated). */
  threaded: boolean;
  /** Whether a relaxed-SIMD build loaded. */
  relaxed: boolean;
  /** Threads the kernels use (workers that came online, plus the calling thread). */
  threads: number;
  /** The module file loaded, and why that one: for the page to show. */
  file: string;
  reason: string;
}

/** The kernel thread's script: its own instance over the shared memory, its own stack, the task loop. */
const KERNEL_WORKER_SOURCE = `
onmessage = (e) => {
  const { module, memory, stackTop } = e.data;
  const instance = new WebAssembly.Instance(module, { env: { memory, log: Math.log, pow: Math.pow } });
  instance.exports.__stack_pointer.value = stackTop;
  instance.exports.pfs_wasm_worker_loop();
};
`;

/* eslint-disable @typescript-eslint/no-explicit-any */
const g = globalThis as any;

/** Whether this code runs in a worker (where Atomics.wait is allowed), not on a page's main thread. */
function inWorker(): boolean {
  return typeof g.WorkerGlobalScope === 'function' && g instanceof g.WorkerGlobalScope;
}

/** Whether shared memory is available here: a cross-origin isolated page (or one of its workers). */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}

async function compile(url: string | URL): Promise<WebAssembly.Module> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`pfs wasm: ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  return WebAssembly.compile(await res.arrayBuffer());
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Loads the wasm backend in a browser (page or worker). Register the result's backend with
 * registerBackend() and pick it with useBackend('wasm').
 */
export async function loadWasmBackendInBrowser(opts: BrowserWasmOptions): Promise<BrowserWasmLoad> {
  if (typeof WebAssembly !== 'object') throw new Error('pfs wasm: this browser has no WebAssembly');
  const want = opts.threads ?? Math.min(64, Math.max(1, Number(g.navigator?.hardwareConcurrency) || 1));
  if (!Number.isInteger(want) || want < 1 || want > 64) throw new RangeError(`pfs wasm: threads must be a whole number from 1 to 64, got ${want}`);
  const relaxed = (opts.relaxed ?? true) && relaxedSimdSupported();
  const threaded = sharedMemoryAvailable() && typeof g.Worker === 'function';
  const url = threaded ? (relaxed ? opts.urls.threadsRelaxed : opts.urls.threads) : relaxed ? opts.urls.relaxed : opts.urls.plain;
  const module = await compile(url);
  const file = String(url).split('/').pop()!.split('?')[0];
  const notes = [
    threaded ? 'threaded build (cross-origin isolated)' : `single-threaded build (${typeof SharedArrayBuffer !== 'function' ? 'no SharedArrayBuffer: the page is not cross-origin isolated' : 'no Worker here'})`,
    relaxed ? 'relaxed SIMD' : opts.relaxed === false ? 'relaxed SIMD off' : 'no relaxed SIMD in this engine',
  ];
  let runtime: WasmRuntime;
  if (!threaded) {
    const instance = await WebAssembly.instantiate(module, wasmImports());
    const exports = instance.exports as unknown as WasmExports;
    runtime = new WasmRuntime(exports, exports.memory!);
    runtime.setThreads(1);
  } else {
    const memory = new WebAssembly.Memory(SHARED_MEMORY);
    const instance = await WebAssembly.instantiate(module, wasmImports(memory));
    const exports = instance.exports as unknown as WasmExports;
    exports.pfs_wasm_caller_may_wait!(inWorker() ? 1 : 0);
    const workers: unknown[] = [];
    const blobUrl = URL.createObjectURL(new Blob([KERNEL_WORKER_SOURCE], { type: 'text/javascript' }));
    const spawn = (n: number) => {
      while (workers.length < n) {
        const stack = exports.pfs_wasm_alloc(WORKER_STACK);
        if (stack === 0) return; // no memory for a stack: fewer threads
        const w = new g.Worker(blobUrl, { name: `pfs-wasm-kernels-${workers.length + 1}` });
        w.postMessage({ module, memory, stackTop: stack + WORKER_STACK });
        workers.push(w);
      }
    };
    runtime = new WasmRuntime(exports, memory, spawn);
    runtime.setThreads(want);
    if (want > 1) {
      runtime.kernelThreads(); // starts the workers
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      while (runtime.workersOnline() < want - 1 && Date.now() < deadline) await sleep(5);
      const online = runtime.workersOnline();
      if (online < want - 1) {
        notes.push(`${online} of ${want - 1} worker threads came online`);
        runtime.setThreads(online + 1);
      }
    }
  }
  runtime.build = notes.join(', ');
  return { backend: wasmBackend(runtime), runtime, threaded, relaxed, threads: runtime.getThreads(), file, reason: runtime.describe() };
}
