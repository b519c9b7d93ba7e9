/**
 * A worker thread of the threaded wasm build (started by node.ts): its own instance of the module
 * over the shared memory, with its own stack, waiting in pfs_wasm_worker_loop() for tasks for good.
 * The main thread's pfs_parallel hands tasks out through that memory; no messages are exchanged.
 */
import { workerData } from 'node:worker_threads';
import { wasmImports, type WasmExports } from './index.js';

export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The top of this worker's stack (stacks grow down), a block the main thread allocated. */
  stackTop: number;
}

const { module, memory, stackTop } = workerData as WorkerData;
const exports = new WebAssembly.Instance(module, wasmImports(memory)).exports as unknown as WasmExports;
// Before any call: the instance starts with the main thread's stack pointer.
exports.__stack_pointer!.value = stackTop;
exports.pfs_wasm_worker_loop!();
