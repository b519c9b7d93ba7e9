/**
 * The Node-only corner of src/data: files, gzip/deflate, hashes, the environment. Everything else in
 * src/data that is browser-safe takes bytes or strings and never imports this module; datadir.ts and
 * load.ts (which find and read files) do. Atomic writes come from src/io/atomic.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';

export { join as joinPath, resolve as resolvePath };

/** True when `path` names an existing regular file. */
export function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

export function readBytes(path: string): Uint8Array {
  return readFileSync(path);
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Gunzip `bytes`; a foreign or corrupt file gets an error naming it. */
export function gunzip(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new Error(`${source}: not a valid gzip file (${(e as Error).message}); expected a gzipped file as the dataset ships it`);
  }
}

/** Raw deflate (the compression of zip entries). */
export function inflateRaw(bytes: Uint8Array): Uint8Array {
  return inflateRawSync(bytes);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Create a directory and its parents (no error when it exists). */
export function makeDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

export function homeDir(): string {
  return homedir();
}

export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
