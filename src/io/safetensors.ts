/**
 * Checkpoints in Hugging Face's safetensors format, as pure functions on bytes (no file system, so this
 * module also runs in a browser; the Node file helpers are in ./atomic.ts).
 *
 * The layout (from the format's README, github.com/huggingface/safetensors):
 *
 *   8 bytes   N, the header length, an unsigned 64-bit little-endian integer
 *   N bytes   a UTF-8 JSON object, possibly padded at the end with spaces:
 *               { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *                 "__metadata__": { "<key>": "<value>", ... } }      (optional, strings only)
 *   the rest  the byte buffer; offsets are relative to its start, tensors are little-endian, row-major
 *             and contiguous, and the regions must cover the buffer exactly (no holes, no overlaps).
 *
 * Every number read from a file is checked before it is used, so a corrupt or hostile file gives an
 * error that says what was expected and what came, never a huge allocation or an out-of-bounds read.
 */
import { Tensor } from '../tensor/tensor.js';
import { allocate, DType, TypedArray } from '../tensor/dtype.js';
import { numel, shapeStr } from '../tensor/shape.js';

/** The file-format dtype name of each of our dtypes, and its size in bytes (BOOL is one byte, 0 or 1). */
const FORMAT_DTYPE: Record<DType, { name: string; size: number }> = {
  float32: { name: 'F32', size: 4 },
  float64: { name: 'F64', size: 8 },
  int32: { name: 'I32', size: 4 },
  bool: { name: 'BOOL', size: 1 },
};

/** What each file dtype we read becomes. I64 (PyTorch's default integer type) is read into int32 when
 * every value fits, and refused otherwise; no other dtype (F16, BF16, U8, ...) is read. */
const READ_DTYPE: Record<string, { dtype: DType; size: number }> = {
  F32: { dtype: 'float32', size: 4 },
  F64: { dtype: 'float64', size: 8 },
  I32: { dtype: 'int32', size: 4 },
  BOOL: { dtype: 'bool', size: 1 },
  I64: { dtype: 'int32', size: 8 },
};
const SUPPORTED = 'F32, F64, I32, BOOL (and I64 whose values fit in int32)';

/** The largest header accepted, as in the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Typed arrays use the host's byte order; the format is little-endian. Every current JS host is. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface DecodeOptions {
  /** The file the bytes came from, named in error messages. */
  file?: string;
}

export interface Decoded {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------

/**
 * Serialise named tensors (and optional string metadata) to safetensors bytes. The output is
 * deterministic: tensors are laid out widest dtype first, then in sorted name order (as the reference
 * writer does), and non-contiguous views are written as contiguous row-major data. The header is
 * padded with spaces to a multiple of 8 bytes, so every tensor starts at a multiple of its element
 * size in the file and a reader can view the data in place.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  checkHost();
  const size = (name: string): number => FORMAT_DTYPE[tensors[name]?.dtype]?.size ?? 0;
  const names = Object.keys(tensors).sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
  const datas: TypedArray[] = [];
  // Header entries written by hand (not JSON.stringify of an object) so that names like "0" keep the
  // sorted order instead of JS's integer-key-first order.
  const entries: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new TypeError(`encodeSafetensors: metadata values must be strings, got ${typeof v} for key ${JSON.stringify(k)}`);
      }
    }
    entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (name === METADATA_KEY) throw new TypeError(`encodeSafetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new TypeError(`encodeSafetensors: ${JSON.stringify(name)} is not a Tensor (got ${typeof t})`);
    // A contiguous view is used in place; anything else is copied into row-major order.
    const data = t.isContiguous() ? t.storage.data.subarray(t.offset, t.offset + t.numel) : t.toTypedArray();
    const end = offset + data.byteLength;
    const info = { dtype: FORMAT_DTYPE[t.dtype].name, shape: t.shape, data_offsets: [offset, end] };
    entries.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    datas.push(data);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // space padding
  let pos = 8 + headerLen;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------

/** One tensor's header entry, checked. */
interface Entry {
  name: string;
  format: string; // the file dtype, e.g. "F32"
  shape: number[];
  begin: number;
  end: number;
}

/** Parse safetensors bytes into tensors (fresh copies, not views of `bytes`) and metadata. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): Decoded {
  checkHost();
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`safetensors${opts.file ? ` file ${opts.file}` : ''}: ${msg}`);
  };

  // 1. The header length, checked against the cap and the file before anything is allocated.
  if (bytes.length < 8) fail(`expected at least 8 bytes (the header length), the file has ${bytes.length}`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`header length says ${n} bytes, but only ${bytes.length - 8} follow the first 8 (truncated file?)`);

  // 2. The header: UTF-8, JSON, an object, no repeated keys.
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message}): ${preview(text)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`expected the header to be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  }
  const dup = firstDuplicateKey(text);
  if (dup !== null) fail(`the header names ${JSON.stringify(dup)} more than once`);

  // 3. Each entry: known dtype, shape of non-negative integers, offsets inside the buffer, and a byte
  //    length equal to numel × dtype size.
  const bufferLen = bytes.length - 8 - n;
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(raw, fail);
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail(`${what}: expected an object with dtype, shape and data_offsets, got ${JSON.stringify(raw)}`);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in READ_DTYPE)) {
      fail(`${what}: dtype ${JSON.stringify(dtype)} is not supported; supported are ${SUPPORTED}`);
    }
    if (!Array.isArray(shape) || !shape.every(isIndex)) {
      fail(`${what}: expected shape to be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      fail(`${what}: expected data_offsets to be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > bufferLen) {
      fail(`${what}: data_offsets [${begin}, ${end}] are not a range inside the ${bufferLen}-byte data buffer`);
    }
    // numel × size can only match a range that fits in the file, so an absurd shape fails here.
    const expected = numel(shape as number[]) * READ_DTYPE[dtype as string].size;
    if (expected !== end - begin) {
      fail(`${what}: shape ${shapeStr(shape as number[])} of ${dtype} needs ${expected} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, format: dtype as string, shape: shape as number[], begin, end });
  }

  // 4. The regions, sorted by position, must tile the buffer exactly.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor ${JSON.stringify(e.name)} [${e.begin}, ${e.end}] overlaps tensor ${JSON.stringify(prev)}, which ends at ${at}`);
    if (e.begin > at) fail(`bytes [${at}, ${e.begin}] of the data buffer belong to no tensor (a hole before ${JSON.stringify(e.name)})`);
    at = e.end;
    prev = e.name;
  }
  if (at !== bufferLen) fail(`the tensors cover ${at} bytes of the data buffer, but it has ${bufferLen} (trailing bytes belong to no tensor)`);

  // 5. Copy each region out (sizes are now known to be consistent with the file).
  const base = 8 + n;
  const tensors = entries.map((e): [string, Tensor] => [e.name, readTensor(bytes, base, e, fail)]);
  return { tensors: Object.fromEntries(tensors), metadata };
}

function readTensor(bytes: Uint8Array, base: number, e: Entry, fail: (msg: string) => never): Tensor {
  const { dtype, size } = READ_DTYPE[e.format];
  const count = (e.end - e.begin) / size;
  const data = allocate(dtype, count);
  const src = bytes.subarray(base + e.begin, base + e.end);
  if (e.format === 'I64') {
    // Each value is (low 32 bits, high 32 bits); it fits in int32 when the high word is the sign
    // extension of the low word.
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    for (let i = 0; i < count; i++) {
      const lo = view.getInt32(8 * i, true);
      if (view.getInt32(8 * i + 4, true) !== lo >> 31) {
        fail(`tensor ${JSON.stringify(e.name)} (I64): element ${i} is ${view.getBigInt64(8 * i, true)}, outside the int32 range this library reads I64 into`);
      }
      data[i] = lo;
    }
  } else {
    new Uint8Array(data.buffer).set(src);
    if (dtype === 'bool') for (let i = 0; i < count; i++) data[i] = data[i] !== 0 ? 1 : 0;
  }
  return new Tensor(data, e.shape, dtype);
}

function checkMetadata(raw: unknown, fail: (msg: string) => never): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(`expected "${METADATA_KEY}" to be an object of strings, got ${JSON.stringify(raw)}`);
  }
  for (const [k, v] of Object.entries(raw as object)) {
    if (typeof v !== 'string') fail(`"${METADATA_KEY}" values must be strings, got ${JSON.stringify(v)} for key ${JSON.stringify(k)}`);
  }
  return Object.fromEntries(Object.entries(raw as Record<string, string>));
}

function isIndex(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * The first key that occurs twice at the top level of a valid JSON object text, or null. JSON.parse
 * silently keeps the last of repeated keys, so the header is scanned once more: track the nesting
 * depth outside strings, and collect each string at depth 1 that is followed by ':'.
 */
function firstDuplicateKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (/\s/.test(text[k])) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    }
  }
  return null;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

function checkHost(): void {
  if (!HOST_LITTLE_ENDIAN) throw new SafetensorsError('safetensors: big-endian hosts are not supported');
}
