/**
 * The training loop every paper runs (`fit`): per epoch, one step per batch, then the epoch's record.
 * A paper plugs in its batches, its step and how an epoch's sums become its record; `classifier` is
 * that plug for classifiers (d2l's train_ch6: minibatch steps on the cross-entropy, then accuracy on
 * the test set); papers/rnn has the one for language models.
 *
 * The loop keeps the epoch's sums as tensors (TensorSums) and reads them back only when the progress
 * line is drawn and once when the epoch ends, never a loss.item() per step: a backend whose reads are
 * asynchronous (WebGPU) can then run the same loop.
 */
import { noGrad } from '../autograd/mode.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/losses.js';
import type { Tensor } from '../tensor/tensor.js';
import { correct, TensorSums } from './metrics.js';
import type { Progress } from './progress.js';

export type Classifier = Module & { forward(x: Tensor): Tensor };

/** What one step reports. */
export interface StepResult {
  /** The batch's mean loss (a scalar tensor). */
  loss: Tensor;
  /** How many samples (or tokens) that mean is over: the step's weight in the epoch's mean loss. */
  count: number;
  /** Other per-step scalars summed over the epoch (e.g. { correct }). */
  sums?: Record<string, Tensor>;
}

/** An epoch's totals, read back once when its last step is done. */
export interface EpochTotals {
  epoch: number;
  steps: number;
  /** The count-weighted mean of the steps' losses. */
  loss: number;
  /** The steps' counts added up. */
  count: number;
  /** The other sums. */
  sums: Record<string, number>;
  /** Seconds the steps took (evaluation excluded). */
  seconds: number;
}

/** An epoch's record, as checkpoints keep it and result.json reports its last. */
export type EpochRecord = { epoch: number } & Record<string, number>;

/** What a paper plugs into `fit`. */
export interface Training<B, R extends EpochRecord = EpochRecord> {
  epochs: number;
  /** The batches of epoch `epoch` (1-based), drawn anew each epoch. */
  batches(epoch: number): Iterable<B> & { length: number };
  /** One optimisation step on a batch; `index` counts the epoch's steps from 0. */
  step(batch: B, index: number): StepResult;
  /** The epoch's record from its totals (evaluating where the paper does), and what its progress line shows. */
  endEpoch(t: EpochTotals): { record: R; shown: Record<string, number> };
}

export interface FitOptions<R extends EpochRecord> {
  progress: Progress;
  /** Epochs already done (when resuming) and their records. */
  history?: R[];
  /** Called after each epoch (checkpoint, curves). */
  afterEpoch?: (history: R[]) => Promise<void>;
}

/** Train from the epoch after `history`'s last to `t.epochs`; returns every epoch's record. */
export async function fit<B, R extends EpochRecord>(t: Training<B, R>, o: FitOptions<R>): Promise<R[]> {
  const history = [...(o.history ?? [])];
  for (let epoch = history.length + 1; epoch <= t.epochs; epoch++) {
    const batches = t.batches(epoch);
    o.progress.startEpoch(epoch, batches.length);
    const sums = new TensorSums();
    let count = 0;
    let steps = 0;
    const runningLoss = () => sums.get('loss') / count;
    const t0 = performance.now();
    for (const batch of batches) {
      const r = t.step(batch, steps++);
      sums.add('loss', r.loss, r.count);
      for (const [k, v] of Object.entries(r.sums ?? {})) sums.add(k, v);
      count += r.count;
      o.progress.step(runningLoss, r.count);
    }
    const seconds = (performance.now() - t0) / 1000;
    const { loss: lossSum, ...rest } = sums.read();
    const loss = lossSum / count;
    if (!Number.isFinite(loss)) {
      o.progress.close();
      throw new Error(`training diverged: the loss is ${loss} after epoch ${epoch}; try a smaller learning rate`);
    }
    const { record, shown } = t.endEpoch({ epoch, steps, loss, count, sums: rest, seconds });
    o.progress.endEpoch(shown, loss);
    history.push(record);
    await o.afterEpoch?.(history);
  }
  return history;
}

/** A classifier's epoch: the training loss and accuracy, the test accuracy, and the training throughput. */
export interface ClassifierRecord extends EpochRecord {
  train_loss: number;
  train_acc: number;
  test_acc: number;
  /** Seconds of the epoch's training steps (the test pass excluded). */
  seconds: number;
  samples_per_sec: number;
}

/** Fraction of correct argmax predictions of `net` (in eval mode) over a loader. */
export function evaluateAccuracy(net: Classifier, loader: Iterable<Tensor[]>): number {
  const wasTraining = net.training;
  net.eval();
  const sums = new TensorSums();
  let n = 0;
  noGrad(() => {
    for (const [x, y] of loader) {
      sums.add('correct', correct(net.forward(x), y));
      n += y.shape[0];
    }
  });
  net.train(wasTraining);
  return n === 0 ? NaN : sums.get('correct') / n;
}

export interface ClassifierOptions {
  net: Classifier;
  optimizer: { zeroGrad(): void; step(): void };
  train: Iterable<Tensor[]> & { length: number };
  test: Iterable<Tensor[]>;
  epochs: number;
  /** Per-batch hook before the optimiser step (e.g. gradient clipping). */
  beforeStep?: () => void;
  /** Per-batch hook after the optimiser step (e.g. a learning-rate schedule's step()). */
  afterStep?: () => void;
}

/** d2l's train_ch6 as a Training: cross-entropy steps over `train`, then accuracy on `test` after each epoch. */
export function classifier(o: ClassifierOptions): Training<Tensor[], ClassifierRecord> {
  return {
    epochs: o.epochs,
    batches: () => {
      o.net.train();
      return o.train;
    },
    step: ([x, y]) => {
      const logits = o.net.forward(x);
      const loss = crossEntropy(logits, y);
      o.optimizer.zeroGrad();
      loss.backward();
      o.beforeStep?.();
      o.optimizer.step();
      o.afterStep?.();
      return { loss, count: y.shape[0], sums: { correct: correct(logits, y) } };
    },
    endEpoch: (t) => {
      const trainAcc = t.sums.correct / t.count;
      const testAcc = evaluateAccuracy(o.net, o.test);
      const record: ClassifierRecord = {
        epoch: t.epoch, train_loss: t.loss, train_acc: trainAcc, test_acc: testAcc, seconds: t.seconds, samples_per_sec: t.count / t.seconds,
      };
      return { record, shown: { 'train acc': trainAcc, 'test acc': testAcc } };
    },
  };
}

/** Train a classifier (no checkpoints): `fit` over `classifier(o)`. */
export function fitClassifier(o: ClassifierOptions & { progress: Progress; history?: ClassifierRecord[]; afterEpoch?: (h: ClassifierRecord[]) => Promise<void> }): Promise<ClassifierRecord[]> {
  return fit(classifier(o), o);
}
