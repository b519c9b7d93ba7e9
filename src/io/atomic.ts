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
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`); // see TEMPORARY
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

/** The name writeFileAtomic gives its temporary file: `.<name>.<12 hex digits>.tmp`. */
const TEMPORARY = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Remove the temporaries that writeFileAtomic left in `dir` when its process was killed before the
 * rename (a kill skips its clean-up). Call it only where no other process is writing: at the start of a
 * run in its own folder. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const names = (await fs.promises.readdir(dir)).filter((n) => TEMPORARY.test(n));
  for (const n of names) await fs.promises.rm(join(dir, n), { force: true });
  return names;
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
  return decodeSafetensors(await readFileNamed(path), { file: path });
}

/** The metadata of a .safetensors file (the whole file is read and checked). */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  return (await loadSafetensors(path)).metadata;
}

/** fs's readFile, with errors that name the path in words (Node's EISDIR and ENOTDIR messages do not name it). */
async function readFileNamed(path: string): Promise<Uint8Array> {
  try {
    return await fs.promises.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'is a directory, not a file' : code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a file (a part of its path is not a directory)' : code === 'EACCES' ? 'cannot be read (permission denied)' : (e as Error).message;
    throw new Error(`${path} ${why}`);
  }
}
