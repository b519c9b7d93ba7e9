/**
 * A small training loop for classifiers (d2l's train_ch6): per epoch, minibatch SGD over the
 * training loader, then accuracy on the test loader. Papers may use it or write their own loop.
 */
import { noGrad } from '../autograd/mode.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/losses.js';
import type { Tensor } from '../tensor/tensor.js';
import { correctCount } from './metrics.js';
import type { Progress } from './progress.js';

export type Classifier = Module & { forward(x: Tensor): Tensor };

/** One epoch's numbers (the keys are those of result.json's metrics). */
export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_acc: number;
  test_acc: number;
  seconds: number;
  samples_per_sec: number;
  [k: string]: number;
}

export interface FitOptions {
  net: Classifier;
  optimizer: { zeroGrad(): void; step(): void };
  train: Iterable<Tensor[]> & { length: number };
  test: Iterable<Tensor[]>;
  epochs: number;
  progress: Progress;
  /** Epochs already done (when resuming) and their records. */
  history?: EpochRecord[];
  /** Called after each epoch (checkpoint, curves). */
  afterEpoch?: (history: EpochRecord[]) => Promise<void>;
  /** Per-batch hook before the optimiser step (e.g. gradient clipping). */
  beforeStep?: () => void;
  /** Per-batch hook after the optimiser step (e.g. a learning-rate schedule's step()). */
  afterStep?: () => void;
}

/** Fraction of correct argmax predictions of `net` (in eval mode) over a loader. */
export function evaluateAccuracy(net: Classifier, loader: Iterable<Tensor[]>): number {
  const wasTraining = net.training;
  net.eval();
  let correct = 0;
  let n = 0;
  noGrad(() => {
    for (const [x, y] of loader) {
      correct += correctCount(net.forward(x), y);
      n += y.shape[0];
    }
  });
  net.train(wasTraining);
  return n === 0 ? NaN : correct / n;
}

export async function fitClassifier(o: FitOptions): Promise<EpochRecord[]> {
  const history = [...(o.history ?? [])];
  for (let epoch = history.length + 1; epoch <= o.epochs; epoch++) {
    o.net.train();
    o.progress.startEpoch(epoch, o.train.length);
    let lossSum = 0;
    let correct = 0;
    let n = 0;
    for (const [x, y] of o.train) {
      const logits = o.net.forward(x);
      const loss = crossEntropy(logits, y);
      o.optimizer.zeroGrad();
      loss.backward();
      o.beforeStep?.();
      o.optimizer.step();
      o.afterStep?.();
      const b = y.shape[0];
      const l = loss.item();
      lossSum += l * b;
      correct += noGrad(() => correctCount(logits, y));
      n += b;
      o.progress.step(l, b);
    }
    const testAcc = evaluateAccuracy(o.net, o.test);
    const summary = o.progress.endEpoch({ 'train acc': correct / n, 'test acc': testAcc });
    history.push({
      epoch,
      train_loss: lossSum / n,
      train_acc: correct / n,
      test_acc: testAcc,
      seconds: summary.seconds,
      samples_per_sec: summary.samplesPerSec,
    });
    if (!Number.isFinite(lossSum)) throw new Error(`training diverged: the loss is ${lossSum / n} after epoch ${epoch}; try a smaller learning rate`);
    await o.afterEpoch?.(history);
  }
  return history;
}
