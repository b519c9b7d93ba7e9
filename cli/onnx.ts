/** `pfs export --onnx` and `pfs eval --onnx` (see src/interop/onnx). */
import type { Module } from '../src/nn/module.js';
import type { Portable } from '../papers/interop.js';

export async function exportOnnx(portable: Portable, _model: Module, _config: Record<string, unknown>, _path: string, _out: { write(s: string): unknown }, _batch?: number): Promise<void> {
  throw new Error(`export --onnx: not available yet for ${portable.paper}`);
}
