/**
 * The native pool (src/backend/native/threads.c) under many back-to-back jobs: tasks are claimed from
 * one shared word by whichever thread gets there first, so a late worker must never run a task of one
 * job with another job's context. Two kinds of threaded job alternate thousands of times, each output
 * compared with the same call on one thread (the tasks partition the work the same way, so the values
 * are identical); a task run twice, skipped, or given the wrong context shows as a difference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeStatus } from '../src/backend/auto.js';
import { K, backendInfo, useBackend } from '../src/backend/registry.js';
import { getNumThreads, setNumThreads } from '../src/backend/native/index.js';
import type { View } from '../src/backend/kernels.js';

const skip = nativeStatus().available ? false : `the native backend is not available (${nativeStatus().reason})`;

test('thousands of alternating threaded jobs give the one-thread results', { skip }, () => {
  const [backend, before] = [backendInfo().name, getNumThreads()];
  useBackend('native');
  try {
    // a product above the split threshold (96·96·96 multiply-adds; B read transposed), and an add above the elementwise one
    const n = 96;
    const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
    const view = (data: Float32Array, shape: number[], strides: number[]): View => ({ data, offset: 0, shape, strides });
    const m = 1 << 17;
    const x = Float32Array.from({ length: m }, (_, i) => i % 7);
    const y = Float32Array.from({ length: m }, (_, i) => i % 5);
    const gemm = (out: Float32Array) =>
      K.gemm({ batch: 1, m: n, n, k: n, a, aOffsets: [0], aRowStride: n, aColStride: 1, b, bOffsets: [0], bRowStride: 1, bColStride: n, out });
    const add = (out: Float32Array) => K.binary('add', view(x, [m], [1]), view(y, [m], [1]), out);
    setNumThreads(1);
    const [g1, s1] = [new Float32Array(n * n), new Float32Array(m)];
    gemm(g1);
    add(s1);
    setNumThreads(2);
    const [g2, s2] = [new Float32Array(n * n), new Float32Array(m)];
    for (let i = 0; i < 3000; i++) {
      g2.fill(NaN);
      s2.fill(NaN);
      gemm(g2);
      add(s2);
      if (i % 100 === 0 || i === 2999) {
        assert.deepEqual(g2, g1, `product, job ${i}`);
        assert.deepEqual(s2, s1, `sum, job ${i}`);
      }
    }
  } finally {
    setNumThreads(before);
    useBackend(backend);
  }
});
