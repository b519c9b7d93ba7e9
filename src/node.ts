/**
 * The Node entry of papers-from-scratch: everything in ./index.js (which also runs in browsers), plus
 * what needs Node — the native backend's loading, files (checkpoints, result files, data directories)
 * and the dataset readers that find their files on disk.
 */
import './backend/auto.js';
export * from './index.js';
export * from './data/node.js';
export { writeFileAtomic, saveSafetensors, loadSafetensors } from './io/atomic.js';
export { saveCheckpoint, loadCheckpoint } from './train/checkpoint.js';
export type { CheckpointState, Stateful } from './train/checkpoint.js';
export { nativeStatus } from './backend/auto.js';
export type { NativeStatus } from './backend/auto.js';
export { wasmStatus, setWasmThreads, getWasmThreads, wasmThreadsReady } from './backend/auto.js';
export type { WasmStatus } from './backend/auto.js';
export { setNumThreads, getNumThreads, tuneMalloc } from './backend/native/index.js';
