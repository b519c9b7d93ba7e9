/**
 * Training metrics: classification accuracy, a running mean weighted by batch size, perplexity and a
 * small timer. Everything returns plain numbers, ready to print or to store in result.json.
 */
import { sameShape, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * How many rows are classified right: argmax over the last dim of `logits` (..., C) equals the int32
 * `labels` (...). Ties go to the first index, as torch.argmax.
 */
export function correctCount(logits: Tensor, labels: Tensor): number {
  return correct(logits, labels).item();
}

/** correctCount as a scalar tensor, not read back (for sums kept on the backend; see TensorSums). */
export function correct(logits: Tensor, labels: Tensor): Tensor {
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) {
    throw new TypeError('correctCount: expected two tensors (logits, labels)');
  }
  if (labels.dtype !== 'int32') {
    throw new TypeError(`accuracy: labels must be int32 class indices, got ${labels.dtype} (shape ${shapeStr(labels.shape)})`);
  }
  if (logits.ndim < 1 || !sameShape(logits.shape.slice(0, -1), labels.shape)) {
    throw new RangeError(
      `accuracy: logits of shape (..., C) need labels of shape (...); got logits ${shapeStr(logits.shape)} and labels ${shapeStr(labels.shape)}`,
    );
  }
  return logits.detach().argmax(-1).eq(labels).sum();
}

/**
 * Named sums of per-step scalar tensors, kept as float64 tensors: a training loop adds its loss and
 * counts each step and reads them back only when it shows or records them (once per display and per
 * epoch), which a backend whose reads are asynchronous needs. float64 keeps the sums exact to the same
 * rounding as adding the values up in JavaScript numbers.
 */
export class TensorSums {
  private readonly sums = new Map<string, Tensor>();

  /** sum[name] += weight · value (value: a scalar tensor, detached here). */
  add(name: string, value: Tensor, weight = 1): void {
    if (value.numel !== 1) throw new RangeError(`TensorSums.add: ${name} must be a scalar tensor, got shape ${shapeStr(value.shape)}`);
    let v = value.detach().double().reshape([]);
    if (weight !== 1) v = v.mul(weight);
    const s = this.sums.get(name);
    this.sums.set(name, s ? s.add(v) : v);
  }

  /** One sum read back (0 when nothing was added under that name). */
  get(name: string): number {
    return this.sums.get(name)?.item() ?? 0;
  }

  /** Every sum, read back. */
  read(): Record<string, number> {
    return Object.fromEntries([...this.sums].map(([k, t]) => [k, t.item()]));
  }

  /** Every sum, read back asynchronously (see Tensor.data). */
  async readAsync(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [k, t] of this.sums) out[k] = (await t.data())[0];
    return out;
  }
}

/** Fraction of rows where argmax(logits, -1) equals the label; see correctCount. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  const correct = correctCount(logits, labels);
  if (labels.numel === 0) throw new RangeError(`accuracy: no labels to score (labels shape ${shapeStr(labels.shape)})`);
  return correct / labels.numel;
}

/**
 * Perplexity = exp(mean negative log-likelihood per token). Give the mean NLL as a number, or a tensor
 * of per-token NLLs (its mean is taken).
 */
export function perplexity(nll: number | Tensor): number {
  if (nll instanceof Tensor) {
    if (nll.numel === 0) throw new RangeError(`perplexity: no token NLLs (shape ${shapeStr(nll.shape)})`);
    return Math.exp(nll.to('float64').mean().item());
  }
  if (typeof nll !== 'number') throw new TypeError(`perplexity: expected a number or a tensor, got ${typeof nll}`);
  return Math.exp(nll);
}

/**
 * Mean of values that each stand for `weight` samples: add(batchMeanLoss, batchSize) after every batch
 * and `mean` is the per-sample mean over the epoch, right even when the last batch is smaller.
 */
export class RunningMean {
  private total = 0;
  private weight = 0;

  /** Add a value (a number or a one-element tensor) that counts `weight` times. Returns this. */
  add(value: number | Tensor, weight = 1): this {
    const v = value instanceof Tensor ? value.item() : value;
    if (typeof v !== 'number') throw new TypeError(`RunningMean.add: expected a number or a one-element tensor, got ${typeof value}`);
    if (!Number.isFinite(weight) || weight < 0) throw new RangeError(`RunningMean.add: weight must be a finite number >= 0, got ${weight}`);
    this.total += v * weight;
    this.weight += weight;
    return this;
  }

  /** The weighted mean so far; NaN before anything was added. */
  get mean(): number {
    return this.weight === 0 ? NaN : this.total / this.weight;
  }

  /** The total weight added (for batches: the number of samples). */
  get count(): number {
    return this.weight;
  }

  reset(): void {
    this.total = 0;
    this.weight = 0;
  }
}

/** A clock in milliseconds; performance.now() exists in Node and in browsers. */
export type Clock = () => number;
export const defaultClock: Clock = () => performance.now();

/**
 * Stopwatch recording a list of spans, in seconds: start() ... stop() records one span. It starts at
 * construction. Pass a fake clock (milliseconds) to test code that times itself.
 */
export class Timer {
  /** The recorded spans, in seconds. */
  readonly times: number[] = [];
  private startedAt: number;

  constructor(private readonly now: Clock = defaultClock) {
    this.startedAt = now();
  }

  start(): void {
    this.startedAt = this.now();
  }

  /** Seconds since start(), without recording them. */
  elapsed(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  /** Record and return the seconds since start(). */
  stop(): number {
    const s = this.elapsed();
    this.times.push(s);
    return s;
  }

  /** Sum of the recorded spans. */
  sum(): number {
    return this.times.reduce((a, b) => a + b, 0);
  }

  /** Mean recorded span; NaN when none was recorded. */
  avg(): number {
    return this.times.length ? this.sum() / this.times.length : NaN;
  }

  /** Running totals of the recorded spans. */
  cumsum(): number[] {
    let s = 0;
    return this.times.map((t) => (s += t));
  }
}
