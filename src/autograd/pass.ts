/**
 * What one backward pass keeps while it runs (a pass that is not itself recorded): the contiguous
 * transpose of a matrix whose transpose several of its nodes read. A recurrent weight W of shape
 * (H, G) takes part in a product at each of T steps, and each product's input gradient is g · Wᵀ: read
 * in place, Wᵀ has its columns contiguous, and the matrix product repacks all of it at every step;
 * made once, it is read in place T − 1 times. Dropped when the pass ends, so it holds at most one
 * copy of each such matrix for as long as the pass.
 */
import type { Tensor } from '../tensor/tensor.js';

interface Entry {
  version: number;
  copy: Tensor | null;
}

let memo: Map<Tensor, Entry> | null = null;

/** Runs fn with a memo of its own (backward's pass). */
export function inPass<T>(fn: () => T): T {
  const prev = memo;
  memo = new Map();
  try {
    return fn();
  } finally {
    memo = prev;
  }
}

/**
 * The 2-D matrix m transposed into contiguous memory, from m's second use in this pass on (a first
 * use gets null, as does any use outside a pass or where mᵀ is contiguous already): null means read
 * mᵀ in place. A copy made before an in-place change of m is not used after it.
 */
export function transposedInPass(m: Tensor): Tensor | null {
  if (memo === null || m.ndim !== 2) return null;
  const mt = m.transpose(0, 1);
  if (mt.isContiguous()) return null;
  const e = memo.get(m);
  if (e === undefined || e.version !== m.version) {
    memo.set(m, { version: m.version, copy: null });
    return null;
  }
  if (e.copy === null) e.copy = mt.contiguous();
  return e.copy;
}
