/**
 * Data types. float32 is the default; float64 is for gradchecks and optimiser tests; int32 holds
 * indices and labels; bool is what comparisons return and what `where`/`maskedFill` take.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export function allocate(dtype: DType, n: number): TypedArray {
  const a = newArray(dtype, n);
  tracked?.add(a.buffer);
  return a;
}

function newArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
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

/** The number a tensor of this dtype stores for v: bool stores 1 for any non-zero value (NaN too), as PyTorch. */
export function storedValue(dtype: DType, v: number): number {
  return dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
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
