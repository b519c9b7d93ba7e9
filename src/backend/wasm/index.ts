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
 * call (packed by ../marshal.ts) copies its operands into that memory (one block, reused from call
 * to call by the module's allocator), runs the kernel there (pfs_wasm_call), and copies the result
 * out. The copies run at memory speed, and even for one-pass kernels (elementwise, reductions)
 * copies plus SIMD beat the reference loops from a few hundred elements on; calls smaller than
 * `minElements` stay in JavaScript, as do indexing calls that pick a few rows from a much larger
 * table (their `work` is 0: see indexCall in marshal.ts). Every kernel of the contract has a C version; a call the C
 * kernels decline (int32 arithmetic, mixed types, too little memory left in the module, operands
 * larger than `maxBlockBytes`, 2 GiB) runs in ref.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { Kernels } from '../kernels.js';
import { fastKernels, MAX_THREADS, statusOk, type Operand, type PackedCall } from '../marshal.js';
import type { Backend } from '../registry.js';

/** The functions the module exports (src/backend/wasm/platform.c); pointers are byte addresses. */
export interface WasmExports {
  /** The single-threaded build's own memory (the threaded build imports a shared one instead). */
  memory?: WebAssembly.Memory;
  /** The threaded build's stack pointer, which each worker instance sets to a stack of its own. */
  __stack_pointer?: WebAssembly.Global;
  pfs_wasm_alloc(bytes: number): number;
  pfs_wasm_free(p: number): void;
  /** pfs_call (csrc/pfs.h): meta and a table of the arrays' addresses (0 for an unused one). */
  pfs_wasm_call(meta: number, arrays: number, nthreads: number): number;
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

/** The module's imports: the shared memory (threaded build), and Math.log / Math.pow, which the C code calls for log and pow. */
export function wasmImports(memory?: WebAssembly.Memory): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = { log: Math.log, pow: Math.pow };
  if (memory) env.memory = memory;
  return { env };
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray };

/** One piece of a call's block: `data[start, end)` copied in ('in'), copied back ('out'), or both ('inout'). */
export type Part = Operand;

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
   * Runs a packed call (../marshal.ts) in the module: false, for ref to run instead, when it is
   * smaller than `minElements` or the module declines it. The block holds meta, the table of the
   * arrays' addresses that pfs_wasm_call reads, and the arrays.
   */
  call(c: PackedCall): boolean {
    if (c.work < this.minElements) return false;
    const nt = this.kernelThreads();
    const table: Part = { data: new Int32Array(c.arrays.length), start: 0, end: c.arrays.length, role: 'in' };
    const parts: Part[] = [{ data: c.meta, start: 0, end: c.meta.length, role: 'in' }, table];
    for (const a of c.arrays) if (a !== null) parts.push(a);
    return this.run(
      parts,
      ([pmeta, ptable, ...parrays]) => {
        const t = new Int32Array(this.memory.buffer, ptable, c.arrays.length);
        for (let i = 0, j = 0; i < c.arrays.length; i++) t[i] = c.arrays[i] === null ? 0 : parrays[j++];
        return this.exports.pfs_wasm_call(pmeta, ptable, nt);
      },
      c.kernel,
    );
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
        if (p.role !== 'out' && p.end > p.start) view(buf, p.data, ptrs[i], p.end - p.start).set(p.data.subarray(p.start, p.end));
      }
      if (!statusOk(fn(ptrs), what)) return false;
      buf = this.memory.buffer;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p.role !== 'in' && p.end > p.start) p.data.set(view(buf, p.data, ptrs[i], p.end - p.start), p.start);
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

/** The kernel table over a loaded module: every call smaller than `minElements` stays in ref. */
export function wasmKernels(rt: WasmRuntime): Partial<Kernels> {
  return fastKernels((c) => rt.call(c));
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
