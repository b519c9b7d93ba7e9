/**
 * Datasets and the DataLoader (as torch.utils.data).
 *
 * A Dataset is anything with a `length` and `get(i)`. The DataLoader walks it in batches, in order
 * or in a seeded random order, and collates the samples of a batch into tensors whose first dim is
 * the batch. Datasets that can build a whole batch at once (a `getBatch(indices)` method, as
 * TensorDataset has) skip the per-sample path: for an images tensor (N, 1, 28, 28) a batch is made by
 * copying the chosen rows straight out of the buffer.
 */
import { stack } from '../ops/shape.js';
import { allocate } from '../tensor/dtype.js';
import { defaultGenerator, Generator } from '../tensor/rng.js';
import { numel, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export interface Dataset<T> {
  readonly length: number;
  get(i: number): T;
  /** Optional fast path: the collated batch of the samples at `indices`. */
  getBatch?(indices: Int32Array): unknown;
}

/** What the default collation accepts as a sample: a tensor, a number, or a tuple of them. */
export type Sample = Tensor | number | readonly (Tensor | number)[];

/** The default collation of samples T: a tuple of tensors stays a tuple (Tensor[]), else one tensor. */
export type Collated<T> = T extends readonly unknown[] ? Tensor[] : Tensor;

/**
 * Tensors that share their first dim (e.g. images (N, 1, 28, 28) and labels (N)); sample i is the
 * tuple of their rows i. Non-contiguous inputs are copied once to contiguous form.
 */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new RangeError('TensorDataset: expected at least one tensor');
    const n = tensors[0].shape[0];
    tensors.forEach((t, k) => {
      if (t.ndim === 0 || t.shape[0] !== n) {
        throw new RangeError(
          `TensorDataset: every tensor needs the same first dim; tensor 0 has shape ${shapeStr(tensors[0].shape)}, tensor ${k} has ${shapeStr(t.shape)}`,
        );
      }
    });
    this.tensors = tensors.map((t) => t.detach().contiguous());
  }

  get length(): number {
    return this.tensors[0].shape[0];
  }

  /** Row i of every tensor (views, no copy). */
  get(i: number): Tensor[] {
    checkIndex(i, this.length);
    return this.tensors.map((t) => t.narrow(0, i, 1).squeeze(0));
  }

  /** Rows `indices` of every tensor, each a new tensor (B, ...rest): rows copied directly from the buffers. */
  getBatch(indices: Int32Array): Tensor[] {
    return this.tensors.map((t) => {
      const row = numel(t.shape.slice(1));
      const src = t.storage.data;
      const out = allocate(t.dtype, indices.length * row);
      for (let b = 0; b < indices.length; b++) {
        const i = indices[b];
        checkIndex(i, this.length);
        const from = t.offset + i * row;
        out.set(src.subarray(from, from + row), b * row);
      }
      return new Tensor(out, [indices.length, ...t.shape.slice(1)], t.dtype);
    });
  }
}

function checkIndex(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`dataset index ${i} is out of range for a dataset of length ${n}`);
}

/** Shuffle `a` in place with the Fisher–Yates algorithm, drawing from `generator`; returns `a`. */
export function shuffleInPlace<A extends { length: number; [i: number]: unknown }>(a: A, generator: Generator = defaultGenerator): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = generator.randint(0, i + 1);
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
  return a;
}

/** A random permutation of 0..n-1 (Fisher–Yates from `generator`). */
export function randperm(n: number, generator: Generator = defaultGenerator): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, generator);
}

/**
 * Stack samples into a batch: tensors are stacked on a new first dim; numbers become a 1-D tensor
 * (int32 when all are integers, else float32); tuples are collated position by position.
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (samples.length === 0) throw new RangeError('collate: expected at least one sample');
  const first = samples[0] as unknown;
  if (Array.isArray(first)) {
    return first.map((_, k) => {
      const column = samples.map((s, b) => {
        const tuple = s as unknown as unknown[];
        if (!Array.isArray(tuple) || tuple.length !== first.length) {
          throw new TypeError(`collate: sample ${b} is not a tuple of ${first.length} like sample 0`);
        }
        return tuple[k];
      });
      return collateColumn(column);
    }) as Collated<T>;
  }
  return collateColumn(samples as readonly unknown[]) as Collated<T>;
}

function collateColumn(items: readonly unknown[]): Tensor {
  if (items.every((v) => typeof v === 'number')) {
    const nums = items as number[];
    return Tensor.from(nums, { dtype: nums.every(Number.isInteger) ? 'int32' : 'float32' });
  }
  if (items.every((v) => v instanceof Tensor)) return stack((items as Tensor[]).map((t) => t.detach()));
  throw new TypeError(`collate: expected samples of tensors or numbers (or tuples of them), got ${items.map((v) => typeof v).join(', ')}`);
}

export interface DataLoaderOptions<T, B> {
  batchSize?: number;
  /** A new random order every epoch (each iteration over the loader), drawn from `generator`. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
  /** Source of the shuffles (default: the library's default generator). Same seed → same orders. */
  generator?: Generator;
  /**
   * How samples (from `get`) become a batch. Default: the dataset's `getBatch` when it has one, else
   * defaultCollate.
   */
  collate?: (samples: T[]) => B;
}

/**
 * Batches of a dataset: `for (const [x, y] of loader)`. Each `for` loop is one epoch; with
 * `shuffle`, each epoch draws a fresh permutation (Fisher–Yates) from the generator, so a seeded
 * generator gives the same sequence of epochs every run. `length` is the number of batches.
 */
export class DataLoader<T = Tensor[], B = Collated<T>> implements Iterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  private readonly collate?: (samples: T[]) => B;

  constructor(readonly dataset: Dataset<T>, opts: DataLoaderOptions<T, B> = {}) {
    this.batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? defaultGenerator;
    this.collate = opts.collate;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch (draws from the generator when shuffling). */
  order(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return randperm(n, this.generator);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return p;
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.order();
    const nBatches = this.length;
    for (let b = 0; b < nBatches; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      if (this.collate) yield this.collate(Array.from(idx, (i) => this.dataset.get(i)));
      else if (this.dataset.getBatch) yield this.dataset.getBatch(idx) as B;
      else yield defaultCollate(Array.from(idx, (i) => this.dataset.get(i))) as B;
    }
  }
}
