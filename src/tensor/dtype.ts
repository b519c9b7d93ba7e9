/**
 * Data types. float32 is the default; float64 is for gradchecks and optimiser tests; int32 holds
 * indices and labels; bool is what comparisons return and what `where`/`maskedFill` take.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Bytes per element of each dtype (bool is one byte). */
export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * The most elements one tensor may hold: 2**31 − 1, the largest index an int32 can hold, so that
 * every element has an int32 index (argmax's result, gather's and indexSelect's indices, the sums
 * of bool tensors). That is 8 GiB of float32 (16 GiB of float64): above it an allocation is almost
 * always a shape mistake, and is refused with the shape and the bytes it would take, before the
 * engine is asked for the memory.
 */
export const MAX_NUMEL = 2 ** 31 - 1;

/** Human bytes: 4000000000000 → "4.0 TB". */
function humanBytes(b: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return i === 0 ? `${b} bytes` : `${b.toFixed(1)} ${units[i]}`;
}

/**
 * Throws a RangeError when a tensor of n elements (of `shape`, when given) exceeds MAX_NUMEL; `op`
 * names the function the user called.
 */
export function checkNumel(dtype: DType, n: number, shape?: readonly number[], op = 'allocate'): void {
  if (Number.isInteger(n) && n >= 0 && n <= MAX_NUMEL) return;
  if (!(n >= 0)) throw new RangeError(`${op}: expected a non-negative whole number of elements, got ${n}`);
  const what = shape ? `shape [${shape.join(', ')}] has ${n} elements` : `${n} elements`;
  const bytes = n * BYTES_PER_ELEMENT[dtype];
  throw new RangeError(
    `${op}: ${what}, which would need ${bytes} bytes (${humanBytes(bytes)}) as ${dtype}; ` +
      `a tensor holds at most ${MAX_NUMEL} (2**31 - 1) elements`,
  );
}

/** A zero-filled array of n elements; refused (checkNumel) above MAX_NUMEL elements. */
export function allocate(dtype: DType, n: number, shape?: readonly number[], op?: string): TypedArray {
  checkNumel(dtype, n, shape, op);
  const a = newArray(dtype, n);
  tracked?.add(a.buffer);
  return a;
}

/**
 * An array of n elements whose contents are unspecified, for a kernel that writes every one of them
 * (an op's output: see ops/core.ts's empty). Under Node its memory is not zero-filled (Buffer's
 * allocUnsafeSlow: for a (32, 256) float32 output that is 1 µs against 3–4 µs zeroed, for 1 MiB
 * 30 µs against 140; below UNSAFE_MIN_BYTES, and outside Node, it is an ordinary zero-filled
 * array. With poisoning on (setPoison, or PFS_POISON_EMPTY=1 in the environment) every element is
 * set to a value no kernel would leave: NaN, 0x5A5A5A5A, or 0xA5 for bool — so that a kernel which
 * relies on zeros shows up in the tests.
 */
export function allocateEmpty(dtype: DType, n: number, shape?: readonly number[], op?: string): TypedArray {
  checkNumel(dtype, n, shape, op);
  const bytes = n * BYTES_PER_ELEMENT[dtype];
  let a: TypedArray;
  if (bytes < UNSAFE_MIN_BYTES) a = newArray(dtype, n);
  // a buffer backward let go of (releaseArray), most likely still in the cache; else a new one
  else a = fromPool(dtype, n) ?? (unsafeBytes !== null ? new ARRAY[dtype](unsafeBytes(bytes).buffer, 0, n) : newArray(dtype, n));
  if (poison) fillPoison(a);
  tracked?.add(a.buffer);
  return a;
}

/** The poison of each dtype (see allocateEmpty) written over a. */
function fillPoison(a: TypedArray): void {
  a.fill(a instanceof Uint8Array ? 0xa5 : a instanceof Int32Array ? 0x5a5a5a5a : NaN);
}

/**
 * Arrays that no tensor uses any more, by dtype and length, for allocateEmpty to hand out again:
 * backward releases the gradients it made and has finished with (autograd/backward.ts). A buffer
 * reused at once is still in the processor's caches, where a new one is fresh memory for the
 * kernel to fault in and V8 to collect. At most POOL_LIMIT_BYTES are kept; an array past that is
 * left to the garbage collector.
 */
const pool = new Map<string, TypedArray[]>();
let pooledBytes = 0;
let pooledPeak = 0;

/** The most bytes the pool keeps. */
export const POOL_LIMIT_BYTES = 64 * 2 ** 20;

function fromPool(dtype: DType, n: number): TypedArray | undefined {
  const list = pool.get(`${dtype}:${n}`);
  const a = list?.pop();
  if (a !== undefined) pooledBytes -= a.byteLength;
  return a;
}

/**
 * Hands an array back for allocateEmpty to reuse: the caller vouches that no tensor reads or writes
 * it any more. Taken only whole (its own buffer, from its start) and from UNSAFE_MIN_BYTES up, while
 * the pool holds under POOL_LIMIT_BYTES. With poisoning on, every whole array released is filled
 * with the poison, the small ones too, so that a tensor still reading it shows up in the tests.
 */
export function releaseArray(a: TypedArray): void {
  const bytes = a.byteLength;
  if (a.byteOffset !== 0 || a.buffer.byteLength !== bytes) return;
  if (poison) fillPoison(a);
  if (bytes < UNSAFE_MIN_BYTES || pooledBytes + bytes > POOL_LIMIT_BYTES) return;
  const key = `${dtypeOfArray(a)}:${a.length}`;
  let list = pool.get(key);
  if (list === undefined) pool.set(key, (list = []));
  list.push(a);
  pooledBytes += bytes;
  pooledPeak = Math.max(pooledPeak, pooledBytes);
}

/** What the pool holds now, the most it has held, and its limit. */
export function poolStats(): { bytes: number; peakBytes: number; limitBytes: number } {
  return { bytes: pooledBytes, peakBytes: pooledPeak, limitBytes: POOL_LIMIT_BYTES };
}

/** Empties the pool (its arrays are left to the garbage collector). */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

/**
 * Below this size a zero-filled typed array is the cheaper one (measured on Node 20: 16 floats 0.05
 * against 0.30 µs, which V8 keeps on its heap; 256 floats 0.7 against 1.0 µs; 1,024 floats 1.3
 * against 0.9 µs).
 */
const UNSAFE_MIN_BYTES = 4096;

/** Node's Buffer.allocUnsafeSlow (an ArrayBuffer of its own, not zero-filled), or null where there is none. */
const unsafeBytes: ((bytes: number) => { buffer: ArrayBuffer }) | null = (() => {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow?: (n: number) => { buffer: ArrayBuffer; byteOffset: number } } }).Buffer;
  const f = B?.allocUnsafeSlow;
  if (typeof f !== 'function') return null;
  const probe = f.call(B, 16);
  return probe.byteOffset === 0 && probe.buffer.byteLength === 16 ? (bytes: number) => f.call(B, bytes) : null;
})();

let poison = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.PFS_POISON_EMPTY === '1';

/** Turn poisoning of allocateEmpty's arrays on or off (see there); returns the previous setting. */
export function setPoison(on: boolean): boolean {
  const prev = poison;
  poison = on;
  return prev;
}

/** The typed array class of each dtype. */
const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;

function newArray(dtype: DType, n: number): TypedArray {
  return new ARRAY[dtype](n);
}

/** The buffers allocate() made inside the innermost trackAllocations call running now. */
let tracked: WeakSet<ArrayBufferLike> | null = null;

/**
 * Run fn(fresh), where `fresh` comes to hold every buffer that allocate() makes while fn runs (not
 * those of a nested call). Backward uses it to know which gradients it created itself, and so may
 * hand to .grad without a copy.
 */
export function trackAllocations<T>(fn: (fresh: WeakSet<ArrayBufferLike>) => T): T {
  const prev = tracked;
  const fresh = new WeakSet<ArrayBufferLike>();
  tracked = fresh;
  try {
    return fn(fresh);
  } finally {
    tracked = prev;
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/**
 * The number a tensor of this dtype stores for v: bool stores 1 for any non-zero value (NaN too),
 * as PyTorch. int32 takes whole numbers in [−2**31, 2**31 − 1] only: anything else (3e9, 1.5, NaN,
 * Infinity) is refused with a RangeError naming `op`, where a typed array would silently wrap or
 * truncate (PyTorch: "value cannot be converted to type int32 without overflow").
 */
export function storedValue(dtype: DType, v: number, op = 'tensor'): number {
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  if (dtype === 'int32' && !(Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX)) throw int32Error(v, op);
  return v;
}

function int32Error(v: number, op: string): RangeError {
  if (Number.isInteger(v)) {
    return new RangeError(`${op}: value ${v} cannot be converted to int32 without overflow (int32 holds ${INT32_MIN}..${INT32_MAX})`);
  }
  return new RangeError(`${op}: value ${v} cannot be converted to int32: expected a whole number from ${INT32_MIN} to ${INT32_MAX}`);
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

export function checkDType(d: unknown): DType {
  if (typeof d === 'string' && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new TypeError(`unknown dtype ${JSON.stringify(d)}: expected one of ${DTYPES.join(', ')}`);
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's promotion for two tensor operands: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype of `tensor op scalar`: like PyTorch, a JS number does not widen a floating tensor
 * (float32 * 0.5 stays float32), but a non-integer number turns an integer/bool tensor into float32.
 */
export function promoteWithScalar(t: DType, s: number): DType {
  if (isFloating(t)) return t;
  if (Number.isInteger(s)) return t === 'bool' ? 'int32' : t;
  return 'float32';
}
