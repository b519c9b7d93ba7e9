/**
 * Node-only file helpers: an atomic file write, and safetensors save/load on top of the pure codec in
 * ./safetensors.ts. Everything that touches the file system lives here, so the rest of src/ runs in a
 * browser.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors, Decoded, encodeSafetensors } from './safetensors.js';

/**
 * Write `data` to `path` so that readers see either the old file or the complete new one, never a
 * partial file: write a temporary file in the same directory (so the rename stays on one file
 * system), flush it to disk, then rename it over `path`. On any error the temporary file is removed,
 * whatever was at `path` is left as it was, and the error is rethrown.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fsp = fs.promises; // looked up at call time, so tests can simulate failures
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx'); // 'x': never reuse an existing file
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Make the rename itself durable. Best effort: some platforms (Windows) cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const h = await fs.promises.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // the data is written and renamed; only the durability of the rename across a crash is weaker
  }
}

/** Save named tensors (and string metadata) to a .safetensors file, atomically. */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Load a .safetensors file; errors name the file. */
export async function loadSafetensors(path: string): Promise<Decoded> {
  return decodeSafetensors(await fs.promises.readFile(path), { file: path });
}
