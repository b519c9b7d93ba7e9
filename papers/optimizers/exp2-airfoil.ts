/**
 * Experiment 2: linear regression on NASA's airfoil self-noise data, as d2l's train_ch11.
 *
 * Data (d2l's get_data_ch11): the 1,503 rows z-scored column by column, the first 1,500 kept;
 * 5 features x, target y. Model ŷ = x·w + b with w ~ N(0, 0.01²) (5×1) and b = 0 (1), float32.
 * Minibatches of 10 drawn in a seeded shuffled order, 2 epochs (300 steps); each step minimises the
 * batch mean of ½(ŷ − y)².
 *
 * The number d2l prints ("loss: 0.243, ...") is the last point of its loss curve: every 200 training
 * samples, train_ch11 calls evaluate_loss, the mean of ½(ŷ − y)² over all 1,500 rows with the current
 * w, b. With 3,000 samples in 2 epochs the last evaluation falls right after the last step, so the
 * printed loss is the full-data loss of the final model. This file computes exactly that.
 *
 * The optimisers are the library's (src/optim) with the hyperparameters d2l uses; where d2l's
 * from-scratch rule differs from torch's (AdaGrad, RMSProp: ε inside the square root) the library
 * keeps torch's form, as d2l's "concise" versions do. Adadelta gets d2l's ε = 1e−5 rather than torch's
 * default 1e−6: ε sets Adadelta's first steps (√ε / √E[g²]), and with 1e−6 the 300 steps end near
 * 0.258, not 0.243 (PyTorch 1.13, mean of 20 seeds).
 */
import { noGrad } from '../../src/autograd/mode.js';
import { DataLoader, TensorDataset } from '../../src/data/dataset.js';
import { normal_ } from '../../src/nn/init.js';
import { Adadelta, Adagrad, Adam, RMSprop, SGD } from '../../src/optim/index.js';
import { Generator } from '../../src/tensor/rng.js';
import { shapeStr } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface Exp2Run {
  /** Metric-name part: the metric is exp2_<key>_loss. */
  key: string;
  label: string;
  /** d2l's printed final loss. */
  d2l: number;
  optimizer: (params: Tensor[]) => { zeroGrad(): void; step(): void };
}

/** d2l's runs in sections 11.6 (momentum), 11.7 (AdaGrad), 11.8 (RMSProp), 11.9 (Adadelta), 11.10 (Adam). */
export const EXP2_RUNS: readonly Exp2Run[] = [
  { key: 'momentum_lr0.02_beta0.5', label: 'momentum, η 0.02, β 0.5', d2l: 0.244, optimizer: (p) => new SGD(p, { lr: 0.02, momentum: 0.5 }) },
  { key: 'momentum_lr0.01_beta0.9', label: 'momentum, η 0.01, β 0.9', d2l: 0.244, optimizer: (p) => new SGD(p, { lr: 0.01, momentum: 0.9 }) },
  { key: 'momentum_lr0.005_beta0.9', label: 'momentum, η 0.005, β 0.9', d2l: 0.243, optimizer: (p) => new SGD(p, { lr: 0.005, momentum: 0.9 }) },
  { key: 'adagrad', label: 'AdaGrad, η 0.1', d2l: 0.242, optimizer: (p) => new Adagrad(p, { lr: 0.1 }) },
  { key: 'rmsprop', label: 'RMSProp, η 0.01, γ 0.9', d2l: 0.242, optimizer: (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9 }) },
  { key: 'adadelta', label: 'Adadelta, ρ 0.9, ε 1e-5', d2l: 0.243, optimizer: (p) => new Adadelta(p, { rho: 0.9, eps: 1e-5 }) },
  { key: 'adam', label: 'Adam, η 0.01', d2l: 0.251, optimizer: (p) => new Adam(p, { lr: 0.01 }) },
];

/** d2l's train_ch11 default. */
export const EXP2_EPOCHS = 2;

/** The tolerance of the issue: d2l's shuffle differs from ours, so the final loss may differ this much. */
export const EXP2_TOLERANCE = 0.01;

export interface RegressionData {
  /** float32 (n, 5), z-scored. */
  features: Tensor;
  /** float32 (n), z-scored. */
  labels: Tensor;
}

export interface Exp2Options {
  epochs?: number;
  batchSize?: number;
  /** Evaluate the full-data loss every this many training samples (d2l: 200). */
  evalEvery?: number;
}

export interface Exp2Result {
  run: Exp2Run;
  /** Full-data loss after the last step (d2l's printed number). */
  loss: number;
  /** The loss curve: x in epochs (d2l's n / batch / len(data_iter)), y the full-data loss. */
  curve: { x: number[]; y: number[] };
}

/** ½(ŷ − y)² per row, ŷ = X w + b: X (n, 5), w (5, 1), b (1), y (n) → (n, 1). */
function squaredLoss(X: Tensor, y: Tensor, w: Tensor, b: Tensor): Tensor {
  const yHat = X.matmul(w).add(b); // (n, 1)
  return yHat.sub(y.reshape([-1, 1])).pow(2).div(2);
}

/** d2l's evaluate_loss: the mean of ½(ŷ − y)² over every row of the data set. */
export function fullDataLoss(data: RegressionData, w: Tensor, b: Tensor): number {
  return noGrad(() => squaredLoss(data.features, data.labels, w, b).mean().item());
}

/** Train one linear model per run, each from the same seeded init and the same shuffles. */
export function experiment2(data: RegressionData, seed: number, opts: Exp2Options = {}, runs: readonly Exp2Run[] = EXP2_RUNS): Exp2Result[] {
  const { features, labels } = data;
  if (features.ndim !== 2 || labels.ndim !== 1 || labels.shape[0] !== features.shape[0]) {
    throw new RangeError(`experiment 2: expected features (n, d) and labels (n), got ${shapeStr(features.shape)} and ${shapeStr(labels.shape)}`);
  }
  const epochs = opts.epochs ?? EXP2_EPOCHS;
  const batchSize = opts.batchSize ?? 10;
  const evalEvery = opts.evalEvery ?? 200;
  const batchesPerEpoch = Math.ceil(features.shape[0] / batchSize);
  return runs.map((run) => {
    const g = new Generator(seed);
    const w = normal_(Tensor.zeros([features.shape[1], 1]), 0, 0.01, g).requiresGrad_(); // w ~ N(0, 0.01²)
    const b = Tensor.zeros([1]).requiresGrad_();
    const loader = new DataLoader(new TensorDataset(features, labels), { batchSize, shuffle: true, generator: new Generator(g.nextUint32()) });
    const opt = run.optimizer([w, b]);
    const curve: Exp2Result['curve'] = { x: [], y: [] };
    let n = 0;
    let batches = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const [X, y] of loader) {
        const l = squaredLoss(X, y, w, b).mean();
        opt.zeroGrad();
        l.backward();
        opt.step();
        n += X.shape[0];
        batches++;
        if (n % evalEvery === 0) {
          curve.x.push(batches / batchesPerEpoch);
          curve.y.push(fullDataLoss(data, w, b));
        }
      }
    }
    return { run, loss: fullDataLoss(data, w, b), curve };
  });
}
