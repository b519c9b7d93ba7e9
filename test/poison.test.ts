/**
 * An op's output comes from allocateEmpty, whose memory is not zero-filled under Node, so each
 * kernel must write every element of its output. This file turns poisoning on (every new output
 * starts as NaN, 0x5A5A5A5A or 0xA5, and every gradient backward releases to the pool is filled with
 * it) and runs the op fixtures against PyTorch, autograd, the layers, the recurrent nets, the fused
 * cells and backward's in-place sums again: a kernel or an op that relies on zeros, or a gradient
 * released while a tensor still reads it, fails here. (The whole suite also passes with
 * PFS_POISON_EMPTY=1 in the environment.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateEmpty, clearPool, POOL_LIMIT_BYTES, poolStats, releaseArray, setPoison } from '../src/tensor/dtype.js';

setPoison(true);

test('with poisoning on, allocateEmpty gives arrays of the dtype and length asked, filled with the poison', () => {
  const f = allocateEmpty('float32', 5);
  assert.ok(f instanceof Float32Array && f.length === 5 && f.every(Number.isNaN));
  const d = allocateEmpty('float64', 3);
  assert.ok(d instanceof Float64Array && d.every(Number.isNaN));
  const i = allocateEmpty('int32', 4);
  assert.ok(i instanceof Int32Array && i.every((v) => v === 0x5a5a5a5a));
  const b = allocateEmpty('bool', 2);
  assert.ok(b instanceof Uint8Array && b.every((v) => v === 0xa5));
  assert.equal(allocateEmpty('float32', 0).length, 0);
  assert.throws(() => allocateEmpty('float32', -1), /non-negative whole number/);
});

test('without poisoning, allocateEmpty gives each array a buffer of its own', () => {
  const prev = setPoison(false);
  try {
    const a = allocateEmpty('float32', 1000);
    const b = allocateEmpty('float32', 1000);
    assert.notEqual(a.buffer, b.buffer);
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, 4000);
  } finally {
    setPoison(prev);
  }
});

test('the pool: a whole array released is handed out again for its dtype and length, poisoned; others are not taken', () => {
  clearPool();
  const a = allocateEmpty('float32', 2048);
  a.fill(1);
  releaseArray(a);
  assert.ok(a.every(Number.isNaN), 'poisoned on release');
  assert.equal(poolStats().bytes, 8192);
  assert.notEqual(allocateEmpty('float32', 2047), a, 'another length');
  assert.notEqual(allocateEmpty('float64', 1024), a, 'another dtype');
  assert.equal(allocateEmpty('float32', 2048), a, 'reused');
  assert.equal(poolStats().bytes, 0);
  releaseArray(new Float32Array(new ArrayBuffer(16384), 4096, 2048)); // not its whole buffer
  releaseArray(new Float32Array(16)); // under the pool's smallest size
  assert.equal(poolStats().bytes, 0);
  const big = new Float32Array(POOL_LIMIT_BYTES / 4 + 1024); // over the limit
  releaseArray(big);
  assert.equal(poolStats().bytes, 0);
});

await import('./ops.test.js');
await import('./autograd.test.js');
await import('./nn.test.js');
await import('./rnn.test.js');
await import('./rnn-cell-op.test.js');
await import('./backward-inplace.test.js');
await import('./norm.test.js');
