/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 60,000 train and 10,000 test grey 28×28 images in 10
 * classes, stored in the IDX format (gzipped). This module parses the un-gzipped bytes, so it runs
 * anywhere; load.ts reads and gunzips the files in Node.
 *
 * IDX (from the MNIST page of LeCun et al.): a big-endian header — a magic number whose third byte is
 * the element type (0x08 = unsigned byte) and fourth the number of dims, then one uint32 per dim —
 * followed by the elements row-major. Images: magic 2051 (0x00000803), dims N, 28, 28. Labels: magic
 * 2049 (0x00000801), dims N.
 */
import { Tensor } from '../tensor/tensor.js';

/** Class names in label order (as d2l's get_fashion_mnist_labels). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot',
];

/** The file names of each split. */
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** Check an IDX header and the byte length; return the dims and the element bytes. */
export function parseIdx(bytes: Uint8Array, expectedMagic: number, source: string): { dims: number[]; data: Uint8Array } {
  const what = expectedMagic === IDX_IMAGES_MAGIC ? 'an IDX image file' : expectedMagic === IDX_LABELS_MAGIC ? 'an IDX label file' : 'an IDX file';
  const nDims = expectedMagic & 0xff;
  const header = 4 + 4 * nDims;
  if (bytes.length < header) {
    throw new Error(`${source}: ${bytes.length} bytes is too short for ${what} (its header alone is ${header} bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new Error(`${source}: magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}), expected ${expectedMagic} for ${what}`);
  }
  const dims = Array.from({ length: nDims }, (_, k) => dv.getUint32(4 + 4 * k, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + count) {
    throw new Error(
      `${source}: ${bytes.length} bytes, expected ${header + count} for ${what} of dims [${dims.join(', ')}] ` +
        `(${bytes.length < header + count ? 'truncated' : 'trailing bytes'})`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** IDX images → float32 (N, 1, rows, cols) in [0, 1] (byte / 255, as torchvision's ToTensor). */
export function parseIdxImages(bytes: Uint8Array, source = 'IDX images'): Tensor {
  const { dims, data } = parseIdx(bytes, IDX_IMAGES_MAGIC, source);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return new Tensor(out, [dims[0], 1, dims[1], dims[2]], 'float32');
}

/** IDX labels → int32 (N); every label must be a class index 0..9. */
export function parseIdxLabels(bytes: Uint8Array, source = 'IDX labels', numClasses = FASHION_MNIST_CLASSES.length): Tensor {
  const { dims, data } = parseIdx(bytes, IDX_LABELS_MAGIC, source);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) throw new Error(`${source}: label ${data[i]} at index ${i}, expected a class index 0..${numClasses - 1}`);
    out[i] = data[i];
  }
  return new Tensor(out, [dims[0]], 'int32');
}

export interface ImageSet {
  /** float32 (N, 1, 28, 28) in [0, 1]. */
  images: Tensor;
  /** int32 (N). */
  labels: Tensor;
}

/** Both halves of a split from their un-gzipped bytes; the counts must agree. */
export function fashionMnistFromBytes(imageBytes: Uint8Array, labelBytes: Uint8Array, names = { images: 'images', labels: 'labels' }): ImageSet {
  const images = parseIdxImages(imageBytes, names.images);
  const labels = parseIdxLabels(labelBytes, names.labels);
  if (images.shape[0] !== labels.shape[0]) {
    throw new Error(`${names.images} holds ${images.shape[0]} images but ${names.labels} holds ${labels.shape[0]} labels; expected the same count`);
  }
  return { images, labels };
}

/** The class names of a list (or tensor) of label indices. */
export function fashionMnistLabels(labels: Tensor | readonly number[]): string[] {
  const ids = labels instanceof Tensor ? Array.from(labels.toTypedArray() as ArrayLike<number>) : labels;
  return ids.map((i) => FASHION_MNIST_CLASSES[i] ?? `<${i}?>`);
}
