/**
 * An op's output comes from allocateEmpty, whose memory is not zero-filled under Node, so each
 * kernel must write every element of its output. This file turns poisoning on (every new output
 * starts as NaN, 0x5A5A5A5A or 0xA5) and runs the op fixtures against PyTorch, the fused recurrent
 * cells and backward's in-place sums again: a kernel or an op that relies on zeros fails here. (The
 * whole suite also passes with PFS_POISON_EMPTY=1 in the environment.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateEmpty, setPoison } from '../src/tensor/dtype.js';

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

await import('./ops.test.js');
await import('./rnn-cell-op.test.js');
await import('./backward-inplace.test.js');
await import('./norm.test.js');
