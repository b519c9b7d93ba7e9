/**
 * Datasets, the DataLoader and the image transforms. Batches are checked against the rows they must
 * hold (each sample's values encode its index), shuffles against their contract (same seed → same
 * order, each index once per epoch, uniform over permutations), and resizeBilinear against PyTorch's
 * F.interpolate (test/fixtures/resize_bilinear.json, written by gen_resize.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Generator, Tensor } from '../src/index.js';
import { DataLoader, Dataset, defaultCollate, normalize, randperm, resizeBilinear, TensorDataset } from '../src/data/index.js';

/** N samples: x (N, 2, 3) whose values are 100·i + position, y = i (int32). */
function indexed(n: number): TensorDataset {
  const x = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) for (let k = 0; k < 6; k++) x[i * 6 + k] = 100 * i + k;
  return new TensorDataset(new Tensor(x, [n, 2, 3]), Tensor.arange(n));
}

/** The sample indices a batch holds, read back from y, checking x agrees. */
function batchIndices(x: Tensor, y: Tensor): number[] {
  const ids = Array.from(y.toTypedArray() as Int32Array);
  const xs = x.toTypedArray();
  ids.forEach((i, b) => {
    for (let k = 0; k < 6; k++) assert.equal(xs[b * 6 + k], 100 * i + k, `batch row ${b} should hold sample ${i}`);
  });
  return ids;
}

test('TensorDataset: length, get(i) rows, shape mismatch refused', () => {
  const ds = indexed(5);
  assert.equal(ds.length, 5);
  const [x, y] = ds.get(3);
  assert.deepEqual(x.shape, [2, 3]);
  assert.deepEqual(x.toArray(), [[300, 301, 302], [303, 304, 305]]);
  assert.equal(y.item(), 3);
  assert.throws(() => ds.get(5), /index 5 is out of range for a dataset of length 5/);
  assert.throws(() => new TensorDataset(Tensor.zeros([4, 2]), Tensor.zeros([3])), /same first dim.*\[4, 2\].*\[3\]/);
});

test('DataLoader: batch count and sizes with and without dropLast', () => {
  for (const [n, bs] of [[10, 3], [9, 3], [1, 4], [60000, 256]]) {
    const ds = indexed(n);
    const keep = new DataLoader(ds, { batchSize: bs });
    const drop = new DataLoader(ds, { batchSize: bs, dropLast: true });
    assert.equal(keep.length, Math.ceil(n / bs));
    assert.equal(drop.length, Math.floor(n / bs));
    if (n > 100) continue;
    const sizes = [...keep].map(([x]) => x.shape[0]);
    assert.equal(sizes.length, keep.length);
    assert.equal(sizes.reduce((a, b) => a + b, 0), n);
    assert.ok(sizes.slice(0, -1).every((s) => s === bs));
    const dropped = [...drop].map(([x]) => x.shape[0]);
    assert.equal(dropped.length, drop.length);
    assert.ok(dropped.every((s) => s === bs));
  }
  assert.throws(() => new DataLoader(indexed(3), { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
});

test('DataLoader: in order without shuffle; batches hold the right rows with their dtypes', () => {
  const loader = new DataLoader(indexed(7), { batchSize: 3 });
  const seen: number[] = [];
  for (const [x, y] of loader) {
    assert.equal(x.dtype, 'float32');
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(x.shape.slice(1), [2, 3]);
    seen.push(...batchIndices(x, y));
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
});

test('DataLoader shuffle: same seed → same orders; new order each epoch; every index once per epoch', () => {
  const n = 103;
  const epochs = (seed: number, dropLast = false): number[][] => {
    const loader = new DataLoader(indexed(n), { batchSize: 10, shuffle: true, dropLast, generator: new Generator(seed) });
    return [0, 1, 2].map(() => [...loader].flatMap(([x, y]) => batchIndices(x, y)));
  };
  const a = epochs(7);
  const b = epochs(7);
  assert.deepEqual(a, b, 'same seed, same sequence of epochs');
  assert.notDeepEqual(a[0], a[1], 'a new permutation each epoch');
  assert.notDeepEqual(a[0], epochs(8)[0], 'another seed, another order');
  const all = Array.from({ length: n }, (_, i) => i);
  for (const order of a) {
    assert.notDeepEqual(order, all, 'shuffled');
    assert.deepEqual([...order].sort((p, q) => p - q), all, 'each index exactly once');
  }
  // dropLast drops the tail of the permutation: 100 distinct indices.
  for (const order of epochs(7, true)) {
    assert.equal(order.length, 100);
    assert.equal(new Set(order).size, 100);
  }
});

test('randperm is uniform over permutations (Fisher–Yates, not the biased swap-with-any variant)', () => {
  // 6,000 permutations of 3 items: each of the 6 orders ~1,000 times. The biased variant (j drawn
  // from all n positions) gives some orders 5/27 and others 4/27, i.e. 1,111 vs 889.
  const g = new Generator(123);
  const counts = new Map<string, number>();
  for (let t = 0; t < 6000; t++) {
    const k = Array.from(randperm(3, g)).join('');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0);
  assert.ok(chi2 < 20.5, `chi-square ${chi2.toFixed(2)} over 6 permutations (p = 0.001 cut-off for 5 dof is 20.5)`); // the biased variant scores 68 with this seed
});

test('a plain Dataset (get only) collates like TensorDataset; custom collate is used', () => {
  const td = indexed(8);
  const plain: Dataset<[Tensor, number]> = {
    length: 8,
    get: (i) => [td.tensors[0].narrow(0, i, 1).squeeze(0), i],
  };
  const fast = [...new DataLoader(td, { batchSize: 3 })];
  const slow = [...new DataLoader(plain, { batchSize: 3 })];
  assert.equal(slow.length, fast.length);
  slow.forEach(([x, y], k) => {
    assert.deepEqual(x.toArray(), fast[k][0].toArray());
    assert.deepEqual(y.toArray(), fast[k][1].toArray());
    assert.equal(y.dtype, 'int32', 'integer numbers collate to int32');
  });
  assert.equal(defaultCollate([0.5, 1]).dtype, 'float32');
  const sums = [...new DataLoader(td, { batchSize: 4, collate: (s) => s.map(([, y]) => y.item()).reduce((a, b) => a + b, 0) })];
  assert.deepEqual(sums, [0 + 1 + 2 + 3, 4 + 5 + 6 + 7]);
  assert.throws(() => defaultCollate([[1, 2], [3]] as number[][]), /sample 1 is not a tuple of 2/);
});

// (How fast an epoch goes is a benchmark's question, not a test's: the machines are shared and noisy.)
test('DataLoader: one epoch over a Fashion-MNIST-sized tensor yields its 60,000 rows, each batch with its labels', () => {
  const n = 60000;
  const ds = new TensorDataset(Tensor.zeros([n, 1, 28, 28]), Tensor.zeros([n], { dtype: 'int32' }));
  const loader = new DataLoader(ds, { batchSize: 256, shuffle: true, generator: new Generator(0) });
  let rows = 0;
  for (const [x, y] of loader) {
    rows += x.shape[0];
    assert.equal(y.shape[0], x.shape[0]);
  }
  assert.equal(rows, n);
});

// ---------- transforms ----------

interface ResizeCase {
  name: string;
  inShape: number[];
  size: [number, number];
  outShape: number[];
  input: string;
  output: string;
}

function f32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/resize_bilinear.json', import.meta.url), 'utf8')) as { cases: ResizeCase[] };

test('resizeBilinear matches PyTorch F.interpolate(bilinear, align_corners=False)', () => {
  assert.ok(fixture.cases.length >= 5);
  for (const c of fixture.cases) {
    const x = new Tensor(f32(c.input), c.inShape);
    const want = f32(c.output);
    const got = resizeBilinear(x, c.size);
    assert.deepEqual(got.shape, c.outShape, c.name);
    const g = got.toTypedArray();
    // torch rounds every step to float32, we round once at the end: a couple of float32 ulps apart
    // (2.4e-7 is 2 ulps at 1). Weights off in the 7th digit, as from a float32 source index, fail this.
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    assert.ok(worst <= 2.4e-7, `${c.name}: max |ours − torch| = ${worst}`);
  }
});

test('resizeBilinear: non-contiguous input, float64, bad input', () => {
  const x = Tensor.randn([2, 5, 6, 3], { generator: new Generator(1) }).permute([0, 3, 1, 2]); // (2, 3, 5, 6), strided
  assert.deepEqual(resizeBilinear(x, 8).toArray(), resizeBilinear(x.contiguous(), [8, 8]).toArray());
  const d = resizeBilinear(x.double(), [8, 8]);
  assert.equal(d.dtype, 'float64');
  const diff = d.sub(resizeBilinear(x, 8).double()).abs().max().item();
  assert.ok(diff < 1e-5, `float64 vs float32 differ by ${diff}`);
  assert.throws(() => resizeBilinear(Tensor.zeros([28, 28]), 56), /expected a batch \(N, C, H, W\), got shape \[28, 28\]/);
  assert.throws(() => resizeBilinear(Tensor.zeros([1, 1, 2, 2], { dtype: 'int32' }), 4), /floating/);
  assert.throws(() => resizeBilinear(Tensor.zeros([1, 1, 2, 2]), [0, 3]), /positive integers/);
});

test('normalize: (x − mean) / std per channel', () => {
  const x = Tensor.randn([2, 3, 4, 4], { generator: new Generator(2) });
  const mean = [0.1, -0.2, 0.3];
  const std = [0.5, 2, 4];
  const y = normalize(x, mean, std);
  const xs = x.toTypedArray();
  const ys = y.toTypedArray();
  for (let i = 0; i < xs.length; i++) {
    const c = Math.floor(i / 16) % 3;
    assert.ok(Math.abs(ys[i] - (xs[i] - mean[c]) / std[c]) < 1e-6);
  }
  const z = normalize(x, 0.2860, 0.3530);
  assert.ok(Math.abs(z.toTypedArray()[5] - (xs[5] - 0.286) / 0.353) < 1e-5);
  assert.throws(() => normalize(x, [0, 0], 1), /mean has 2 values, expected 1 or one per channel \(3/);
  assert.throws(() => normalize(x, 0, 0), /std must not be 0/);
});
