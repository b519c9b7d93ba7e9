/**
 * The element-wise comparison of two computed tensors that the fused-kernel tests use (a fused op against
 * its composed definition): same shape, and every element within tol · (1 + |expected|).
 */
import assert from 'node:assert/strict';
import type { Tensor } from '../src/index.js';

export function close(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const fa = actual.toTypedArray();
  const fe = expected.toTypedArray();
  fa.forEach((v, i) => assert.ok(Math.abs(v - fe[i]) <= tol * (1 + Math.abs(fe[i])), `${what}: element ${i} is ${v}, expected ${fe[i]}`));
}
