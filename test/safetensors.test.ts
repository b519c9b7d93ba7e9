import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/tensor.js';
import { Generator } from '../src/tensor/rng.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, SafetensorsError } from '../src/io/safetensors.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../src/io/atomic.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** Same dtype, shape and elements (NaN equal to NaN, -0 distinct from +0). */
function assertSameTensor(actual: Tensor, expected: Tensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = Array.from(actual.toTypedArray() as ArrayLike<number>);
  const e = Array.from(expected.toTypedArray() as ArrayLike<number>);
  a.forEach((v, i) => assert.ok(Object.is(v, e[i]), `${what}: element ${i} is ${v}, expected ${e[i]}`));
}

// ---------------------------------------------------------------------------------------------------
// Building files by hand (independently of the encoder) for the corrupt cases
// ---------------------------------------------------------------------------------------------------

/** A file from a raw header text, an explicit header length (default: the text's length) and data. */
function rawFile(headerText: string, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A file with one header entry per tensor, given as [dtype, shape, offsets], and `n` data bytes. */
function fileWith(entries: Record<string, unknown>, n: number): Uint8Array {
  return rawFile(JSON.stringify(entries), new Uint8Array(n));
}

function expectError(bytes: Uint8Array, pattern: RegExp, file?: string): void {
  assert.throws(() => decodeSafetensors(bytes, { file }), (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected a SafetensorsError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------------

test('round trip of float32, float64, int32 and bool tensors, 0-d, empty and non-contiguous, with metadata', () => {
  const g = new Generator(7);
  const base = Tensor.randn([3, 4, 5], { generator: g });
  const tensors: Record<string, Tensor> = {
    'w.f32': Tensor.randn([4, 3], { generator: g }),
    'w.f64': Tensor.randn([2, 3], { generator: g, dtype: 'float64' }),
    idx: Tensor.randint(-(2 ** 31), 2 ** 31 - 1, [7], { generator: g }),
    mask: Tensor.from([[true, false, true], [false, false, true]]),
    scalar: Tensor.scalar(-2.5, 'float64'),
    empty: Tensor.zeros([0, 4]),
    emptyInt: Tensor.zeros([3, 0], { dtype: 'int32' }),
    permuted: base.permute([2, 0, 1]), // strides not row-major
    sliced: base.slice(1, 1, 4, 2).slice(2, 3), // an offset view with gaps
    expanded: Tensor.from([1, 2, 3]).expand([2, 3]), // stride 0
    special: Tensor.from([Infinity, -Infinity, NaN, -0, 1e-45, 3.4028234663852886e38]),
  };
  assert.ok(!tensors.permuted.isContiguous() && !tensors.sliced.isContiguous());
  const metadata = { format: 'pt', epoch: '3', 'ünïcode': 'välue ✓', empty: '' };

  const bytes = encodeSafetensors(tensors, metadata);
  const back = decodeSafetensors(bytes);
  // Every tensor starts at a multiple of its element size in the file (F64 first, BOOL last).
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const sizes: Record<string, number> = { F64: 8, F32: 4, I32: 4, BOOL: 1 };
  for (const [name, info] of Object.entries<{ dtype: string; data_offsets: number[] }>(header)) {
    if (name !== '__metadata__') assert.equal((8 + n + info.data_offsets[0]) % sizes[info.dtype], 0, `${name} is aligned`);
  }
  const layout = Object.keys(tensors).sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0] || header[a].data_offsets[1] - header[b].data_offsets[1]);
  assert.deepEqual(layout.map((k) => sizes[header[k].dtype]), [8, 8, 4, 4, 4, 4, 4, 4, 4, 4, 1]);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) assertSameTensor(back.tensors[name], t, name);
  assert.deepEqual(back.metadata, metadata);

  // The decoded tensors own their data: changing the bytes afterwards does not change them.
  const before = back.tensors['w.f32'].toTypedArray();
  bytes.fill(0xff, bytes.length - 200);
  assert.deepEqual(back.tensors['w.f32'].toTypedArray(), before);
});

test('encoding is deterministic, ordered by name within a dtype size, padded to 8 bytes, and without metadata when none is given', () => {
  // All four have 4-byte elements, so the order is the names' alone.
  const a = Tensor.from([1, 2]);
  const b = Tensor.from([3], { dtype: 'int32' });
  const one = encodeSafetensors({ b, a, '10': a, '9': b });
  const two = encodeSafetensors({ '9': b, a, b, '10': a });
  assert.deepEqual(one, two);

  const n = Number(new DataView(one.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, 'header length is a multiple of 8');
  const text = new TextDecoder().decode(one.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text);
  assert.equal(header.__metadata__, undefined);
  // Regions follow the sorted names (code-unit order: "10" < "9" < "a" < "b"), each after the last.
  const order = ['10', '9', 'a', 'b'];
  assert.deepEqual(text.match(/"(10|9|a|b)":/g), order.map((k) => `"${k}":`));
  let at = 0;
  for (const k of order) {
    assert.equal(header[k].data_offsets[0], at, `${k} starts where the previous one ended`);
    at = header[k].data_offsets[1];
  }
  assert.equal(8 + n + at, one.length);
  assert.deepEqual(header.b, { dtype: 'I32', shape: [1], data_offsets: [20, 24] });
  // The data bytes are the little-endian values.
  assert.equal(new DataView(one.buffer).getInt32(8 + n + 20, true), 3);
});

test('encoding refuses non-tensors, the reserved name and non-string metadata', () => {
  assert.throws(() => encodeSafetensors({ x: [1, 2] as unknown as Tensor }), /"x" is not a Tensor/);
  assert.throws(() => encodeSafetensors({ __metadata__: Tensor.zeros([1]) }), /reserved/);
  assert.throws(() => encodeSafetensors({}, { epoch: 3 as unknown as string }), /metadata values must be strings, got number for key "epoch"/);
});

test('an empty set of tensors round-trips', () => {
  const back = decodeSafetensors(encodeSafetensors({}, { note: 'nothing' }));
  assert.deepEqual(back.tensors, {});
  assert.deepEqual(back.metadata, { note: 'nothing' });
});

// ---------------------------------------------------------------------------------------------------
// The independent fixture
// ---------------------------------------------------------------------------------------------------

test('reads the file written by test/fixtures/gen_safetensors.py', async () => {
  const expected = JSON.parse(await readFile(join(FIXTURES, 'reference.safetensors.json'), 'utf8')) as {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: 'float32' | 'float64' | 'int32' | 'bool'; shape: number[]; values: (number | string)[] }>;
  };
  const { tensors, metadata } = await loadSafetensors(join(FIXTURES, 'reference.safetensors'));
  assert.deepEqual(metadata, expected.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(expected.tensors).sort());
  const num = (v: number | string): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));
  for (const [name, e] of Object.entries(expected.tensors)) {
    const want = Tensor.from(e.values.map(num), { shape: e.shape, dtype: e.dtype });
    assertSameTensor(tensors[name], want, name);
  }
  // The fixture holds an I64 tensor, read into int32.
  assert.equal(tensors.labels.dtype, 'int32');
});

test('reading what we wrote gives the same bytes back when re-encoded', async () => {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, 'reference.safetensors')));
  const once = decodeSafetensors(bytes);
  const again = decodeSafetensors(encodeSafetensors(once.tensors, once.metadata));
  for (const [name, t] of Object.entries(once.tensors)) assertSameTensor(again.tensors[name], t, name);
  assert.deepEqual(again.metadata, once.metadata);
});

// ---------------------------------------------------------------------------------------------------
// Corrupt files: each gives a clear error
// ---------------------------------------------------------------------------------------------------

const F32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

test('a file shorter than 8 bytes, naming the file', () => {
  expectError(new Uint8Array(5), /file ckpt\.safetensors: expected at least 8 bytes .* has 5/, 'ckpt.safetensors');
  expectError(new Uint8Array(0), /has 0/);
});

test('a header length larger than the file, or absurdly large', () => {
  expectError(rawFile('{}', new Uint8Array(0), 100n), /header length says 100 bytes, but only 2 follow/);
  expectError(rawFile('{}', new Uint8Array(0), 2n ** 64n - 1n), /header length 18446744073709551615 is larger than the 100000000-byte limit/);
  expectError(rawFile('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n), /larger than the 100000000-byte limit/);
});

test('a truncated file', () => {
  const good = encodeSafetensors({ w: Tensor.ones([4, 4]), b: Tensor.ones([4]) });
  assert.doesNotThrow(() => decodeSafetensors(good));
  // Cut inside the data: the last region no longer fits in the buffer.
  expectError(good.subarray(0, good.length - 3), /tensor "w": data_offsets \[16, 80\] are not a range inside the 77-byte data buffer/);
  // Cut inside the header.
  expectError(good.subarray(0, 20), /header length says \d+ bytes, but only 12 follow/);
});

test('a header that is not JSON, not UTF-8, or not an object', () => {
  expectError(rawFile('{"w": {"dtype": "F32",'), /the header is not valid JSON .*"\{\\"w\\": \{\\"dtype\\": \\"F32\\",/);
  expectError(rawFile('[1, 2]'), /expected the header to be a JSON object, got an array/);
  expectError(rawFile('null'), /got null/);
  expectError(rawFile('"text"'), /got string/);
  const bad = rawFile('{"w"}');
  bad[9] = 0xff; // an invalid UTF-8 byte
  expectError(bad, /not valid UTF-8/);
});

test('an unknown or unsupported dtype names the supported ones', () => {
  expectError(fileWith({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), /tensor "h": dtype "F16" is not supported; supported are F32, F64, I32, BOOL \(and I64 whose values fit in int32\)/);
  expectError(fileWith({ h: { dtype: 'float32', shape: [2], data_offsets: [0, 8] } }, 8), /dtype "float32" is not supported/);
  expectError(fileWith({ h: { shape: [2], data_offsets: [0, 8] } }, 8), /dtype undefined is not supported/);
});

test('I64 values that do not fit in int32 are refused', () => {
  const data = new Uint8Array(16);
  const v = new DataView(data.buffer);
  v.setBigInt64(0, -5n, true);
  v.setBigInt64(8, 2n ** 31n, true);
  const file = (): Uint8Array => rawFile(JSON.stringify({ i: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }), data);
  expectError(file(), /tensor "i" \(I64\): element 1 is 2147483648, outside the int32 range/);
  v.setBigInt64(8, -(2n ** 31n) - 1n, true);
  expectError(file(), /element 1 is -2147483649/);
  v.setBigInt64(8, -(2n ** 31n), true); // the smallest int32 fits
  assert.deepEqual(Array.from(decodeSafetensors(file()).tensors.i.toTypedArray()), [-5, -(2 ** 31)]);
});

test('a shape that is not a list of non-negative integers', () => {
  for (const shape of [[2, -1], [1.5], ['2'], 2, null, [2 ** 60]]) {
    expectError(fileWith({ x: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8), /tensor "x": expected shape to be a list of non-negative integers, got/);
  }
  expectError(fileWith({ x: 'F32' }, 0), /tensor "x": expected an object with dtype, shape and data_offsets, got "F32"/);
});

test('data_offsets that are not [begin, end] integers within the buffer', () => {
  for (const offsets of [[0], [0, 8, 9], [-1, 7], [0, '8'], [0.5, 8.5], 'x']) {
    expectError(fileWith({ x: { dtype: 'F32', shape: [2], data_offsets: offsets } }, 8), /tensor "x": expected data_offsets to be \[begin, end\]/);
  }
  expectError(fileWith({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /data_offsets \[8, 0\] are not a range inside the 8-byte data buffer/);
  expectError(fileWith({ x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 8), /data_offsets \[4, 12\] are not a range inside the 8-byte/);
});

test('a byte length that is not numel × dtype size (and no allocation from a huge shape)', () => {
  expectError(fileWith({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor "x": shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 8\] hold 8/);
  expectError(fileWith({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, 8), /needs 16 bytes/);
  expectError(fileWith({ x: { dtype: 'F32', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 8] } }, 8), /shape \[67108864, 67108864\] of F32 needs \d+ bytes/);
});

test('overlapping regions, holes and trailing bytes are refused; out-of-header-order regions are fine', () => {
  const f = (a: number[], b: number[], n: number): Uint8Array =>
    fileWith({ a: { dtype: 'F32', shape: [(a[1] - a[0]) / 4], data_offsets: a }, b: { dtype: 'F32', shape: [(b[1] - b[0]) / 4], data_offsets: b } }, n);
  expectError(f([0, 8], [4, 12], 12), /tensor "b" \[4, 12\] overlaps tensor "a", which ends at 8/);
  expectError(f([0, 8], [0, 8], 8), /tensor "b" \[0, 8\] overlaps tensor "a"/);
  expectError(f([0, 4], [8, 12], 12), /bytes \[4, 8\] of the data buffer belong to no tensor \(a hole before "b"\)/);
  expectError(f([4, 8], [8, 12], 12), /bytes \[0, 4\] of the data buffer belong to no tensor/);
  expectError(f([0, 4], [4, 8], 12), /the tensors cover 8 bytes of the data buffer, but it has 12/);
  // Regions listed in the header in a different order from the data are valid.
  const ok = f([4, 8], [0, 4], 8);
  assert.deepEqual(Object.keys(decodeSafetensors(ok).tensors).sort(), ['a', 'b']);
  // A file with no tensors but data bytes has trailing bytes too.
  expectError(rawFile('{}', new Uint8Array(4)), /cover 0 bytes .* it has 4/);
});

test('duplicate names, including a repeated __metadata__, are refused', () => {
  const text = `{"x": ${JSON.stringify(F32x2)}, "y": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]}, "x" : ${JSON.stringify(F32x2)}}`;
  expectError(rawFile(text, new Uint8Array(8)), /the header names "x" more than once/);
  // A key spelled with an escape is the same key.
  const escaped = `{"x": ${JSON.stringify(F32x2)}, "\\u0078": ${JSON.stringify(F32x2)}}`;
  expectError(rawFile(escaped, new Uint8Array(8)), /names "x" more than once/);
  expectError(rawFile('{"__metadata__": {}, "__metadata__": {"a": "b"}}'), /names "__metadata__" more than once/);
  // Equal names nested deeper (or quoted characters inside strings) are not duplicates.
  const nested = `{"__metadata__": {"x": "}\\" \\"x\\":", "y": "x"}, "x": ${JSON.stringify(F32x2)}}`;
  assert.deepEqual(decodeSafetensors(rawFile(nested, new Uint8Array(8))).metadata, { x: '}" "x":', y: 'x' });
});

test('metadata must be an object of strings', () => {
  expectError(rawFile('{"__metadata__": {"epoch": 3}}'), /"__metadata__" values must be strings, got 3 for key "epoch"/);
  expectError(rawFile('{"__metadata__": ["a"]}'), /expected "__metadata__" to be an object of strings, got \["a"\]/);
});

test('a header padded with spaces and bool bytes other than 0/1 are read', () => {
  const text = JSON.stringify({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }) + '      ';
  const back = decodeSafetensors(rawFile(text, new Uint8Array([0, 1, 7])));
  assert.deepEqual(back.tensors.m.toArray(), [false, true, true]);
  assert.deepEqual(Array.from(back.tensors.m.toTypedArray()), [0, 1, 1]);
});

test('decoding works on a view into a larger buffer (as Node Buffers are)', () => {
  const bytes = encodeSafetensors({ x: Tensor.from([1.5, -2], { dtype: 'float64' }) });
  const big = new Uint8Array(bytes.length + 13);
  big.set(bytes, 5);
  assert.deepEqual(decodeSafetensors(big.subarray(5, 5 + bytes.length)).tensors.x.toArray(), [1.5, -2]);
});

// ---------------------------------------------------------------------------------------------------
// Files: atomic write, save and load
// ---------------------------------------------------------------------------------------------------

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pfs-safetensors-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('saveSafetensors / loadSafetensors round trip, leaving no temporary file', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    const w = Tensor.randn([5, 3], { generator: new Generator(1) });
    await saveSafetensors(path, { w, step: Tensor.scalar(12, 'int32') }, { epoch: '1' });
    await saveSafetensors(path, { w: w.mul(2), step: Tensor.scalar(13, 'int32') }, { epoch: '2' }); // overwrite
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const back = await loadSafetensors(path);
    assertSameTensor(back.tensors.w, w.mul(2), 'w');
    assert.equal(back.tensors.step.item(), 13);
    assert.deepEqual(back.metadata, { epoch: '2' });
    // The bytes on disk are exactly the encoder's.
    assert.deepEqual(new Uint8Array(await readFile(path)), encodeSafetensors(back.tensors, back.metadata));
  }));

test('loadSafetensors names the file in its errors', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'broken.safetensors');
    await writeFile(path, new Uint8Array(3));
    await assert.rejects(loadSafetensors(path), (err: Error) => err.message.includes(`file ${path}: expected at least 8 bytes`));
    await assert.rejects(loadSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors does not exist/);
  }));

test('writeFileAtomic writes strings and bytes, replacing the old file', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'result.json');
    await writeFileAtomic(path, '{"old": true}\n');
    await writeFileAtomic(path, '{"accuracy": 0.9}\n');
    assert.equal(await readFile(path, 'utf8'), '{"accuracy": 0.9}\n');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual(new Uint8Array(await readFile(path)), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await readdir(dir), ['result.json']);
  }));

test('when the write fails, the old file is intact and no temporary file is left', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeFileAtomic(path, 'old contents');

    // 1. The flush to disk fails after the data was written (as on a full or failing disk).
    const realOpen = fs.promises.open;
    const openMock = mock.method(fs.promises, 'open', async (...args: Parameters<typeof realOpen>) => {
      const handle = await realOpen(...args);
      if (args[1] === 'wx') handle.sync = async () => { throw new Error('EIO: simulated flush failure'); };
      return handle;
    });
    try {
      await assert.rejects(writeFileAtomic(path, 'new contents that never land'), /simulated flush failure/);
    } finally {
      openMock.mock.restore();
    }
    assert.equal(await readFile(path, 'utf8'), 'old contents');
    assert.deepEqual(await readdir(dir), ['model.safetensors']);

    // 2. The rename fails.
    const renameMock = mock.method(fs.promises, 'rename', async () => {
      throw new Error('EXDEV: simulated rename failure');
    });
    try {
      await assert.rejects(writeFileAtomic(path, 'other new contents'), /simulated rename failure/);
    } finally {
      renameMock.mock.restore();
    }
    assert.equal(await readFile(path, 'utf8'), 'old contents');
    assert.deepEqual(await readdir(dir), ['model.safetensors']);

    // 3. The target's directory does not exist: a clear error, nothing created.
    await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'dir', 'x.json'), '{}'), /ENOENT/);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
  }));

test('a failing write never shows a partial file at the path, even when there was none before', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'fresh.json');
    const renameMock = mock.method(fs.promises, 'rename', async () => {
      throw new Error('simulated crash before rename');
    });
    try {
      await assert.rejects(writeFileAtomic(path, 'x'.repeat(1 << 16)), /simulated crash/);
    } finally {
      renameMock.mock.restore();
    }
    assert.deepEqual(await readdir(dir), []);
  }));
