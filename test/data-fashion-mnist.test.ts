/**
 * Fashion-MNIST from the real files, where the readers find them ($PFS_DATA_DIR, the cache, Debian's
 * copy; skipped, saying how to enable them, when they are not there: test/data-available.ts). Oracles: the dataset's published facts (60,000
 * train and 10,000 test images, 6,000 / 1,000 per class, 28×28; the widely used normalisation
 * constants mean 0.2860, std 0.3530 of the train pixels), and the raw bytes read here independently
 * at fixed IDX offsets. Damaged copies in a temp dir must give errors that name the file and say
 * what was expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES, fashionMnistLabels, parseIdxImages } from '../src/data/index.js';
import { loadFashionMnist } from '../src/data/node.js';
import { dataFile, needsData } from './data-available.js';

const skip = needsData('fashion-mnist');

const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};
const raw = (file: string): Buffer => gunzipSync(readFileSync(dataFile('fashion-mnist', file)));

test('train split: 60,000 images (N, 1, 28, 28) in [0, 1], labels as in the raw bytes, 6,000 per class', { skip }, () => {
  const { images, labels } = loadFashionMnist('train');
  assert.deepEqual(images.shape, [60000, 1, 28, 28]);
  assert.equal(images.dtype, 'float32');
  assert.deepEqual(labels.shape, [60000]);
  assert.equal(labels.dtype, 'int32');

  // Labels: bytes after the 8-byte header. The first is an ankle boot, as d2l's first figure shows.
  const lab = raw(FILES.trainLabels);
  const y = labels.toTypedArray() as Int32Array;
  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12345, 59999]) assert.equal(y[i], lab[8 + i]);
  assert.deepEqual(fashionMnistLabels(labels.narrow(0, 0, 4)), ['ankle boot', 't-shirt', 't-shirt', 'dress']);
  const perClass = new Array(10).fill(0);
  for (const v of y) perClass[v]++;
  assert.deepEqual(perClass, new Array(10).fill(6000));

  // Pixels: byte / 255 at offset 16 + 784·i + 28·r + c.
  const img = raw(FILES.trainImages);
  const x = images.toTypedArray() as Float32Array;
  for (const [i, r, c] of [[0, 0, 0], [0, 14, 14], [1, 10, 20], [59999, 27, 27], [31337, 5, 9]]) {
    assert.equal(x[784 * i + 28 * r + c], Math.fround(img[16 + 784 * i + 28 * r + c] / 255));
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  for (const v of x) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  const mean = sum / x.length;
  const std = Math.sqrt(sq / x.length - mean * mean);
  assert.ok(Math.abs(mean - 0.286) < 5e-4, `pixel mean ${mean}`);
  assert.ok(Math.abs(std - 0.353) < 5e-4, `pixel std ${std}`);
});

test('test split: 10,000 images, 1,000 per class; 10 class names', { skip }, () => {
  const { images, labels } = loadFashionMnist('test');
  assert.deepEqual(images.shape, [10000, 1, 28, 28]);
  const lab = raw(FILES.testLabels);
  const y = labels.toTypedArray() as Int32Array;
  assert.deepEqual(Array.from(y.subarray(0, 10)), Array.from(lab.subarray(8, 18)));
  const perClass = new Array(10).fill(0);
  for (const v of y) perClass[v]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
  assert.equal(FASHION_MNIST_CLASSES.length, 10);
  assert.throws(() => loadFashionMnist('validation' as 'train'), /split must be 'train' or 'test'/);
});

test('damaged files: bad gzip, truncated, foreign, swapped, mismatched counts give clear errors', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pfs-fmnist-'));
  try {
    const dir = join(tmp, 'fashion-mnist');
    mkdirSync(dir);
    const put = (file: string, bytes: Uint8Array): void => writeFileSync(join(dir, file), bytes);
    const load = (): unknown => loadFashionMnist('test', { dataDir: tmp });
    const testImages = raw(FILES.testImages);
    const testLabels = readFileSync(dataFile('fashion-mnist', FILES.testLabels));
    put(FILES.testLabels, testLabels);

    // A download cut short: the first half of the .gz file.
    const gz = readFileSync(dataFile('fashion-mnist', FILES.testImages));
    put(FILES.testImages, gz.subarray(0, gz.length >> 1));
    assert.throws(load, (e: Error) => e.message.includes(join(dir, FILES.testImages)) && /not a valid gzip file/.test(e.message));

    // Valid gzip, but the IDX data inside is cut short.
    put(FILES.testImages, gzipSync(testImages.subarray(0, 16 + 784 * 100 + 5)));
    assert.throws(load, /t10k-images-idx3-ubyte\.gz: 78421 bytes, expected 7840016 for an IDX image file of dims \[10000, 28, 28\] \(truncated\)/);

    // A foreign file: gzipped text.
    put(FILES.testImages, gzipSync(Buffer.from('<html>Not found</html>')));
    assert.throws(load, /t10k-images-idx3-ubyte\.gz: magic number 1013478509 \(0x3c68746d\), expected 2051 for an IDX image file/);

    // The label file where the images should be.
    put(FILES.testImages, testLabels);
    assert.throws(load, /magic number 2049 \(0x00000801\), expected 2051/);

    // Images of the test split with a label file of another length.
    put(FILES.testImages, gzipSync(testImages));
    put(FILES.testLabels, gzipSync(raw(FILES.trainLabels)));
    assert.throws(load, /holds 10000 images but .*t10k-labels-idx1-ubyte\.gz holds 60000 labels/);

    assert.throws(() => parseIdxImages(new Uint8Array(10), 'x.idx'), /x\.idx: 10 bytes is too short for an IDX image file \(its header alone is 16 bytes\)/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
