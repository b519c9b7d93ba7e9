/**
 * Experiment 3: the five optimisers on a real network — an MLP on Fashion-MNIST.
 *
 *   x (N, 1, 28, 28) → flatten (N, 784) → dense 256, ReLU → dense 10 → logits (N, 10)
 *
 * Weights N(0, 0.01²) and biases 0 (d2l's MLP init), cross-entropy, minibatches of 256 in a seeded
 * shuffled order. Every optimiser starts from the same init and sees the same batches (each run
 * reseeds from the same seed), so the runs differ only in the update rule. The learning rates are
 * the config's (their defaults come from the sweep in research/optimizers/tune_exp3.py, on a validation split).
 */
import { DataLoader, TensorDataset } from '../../src/data/dataset.js';
import type { ImageSet } from '../../src/data/fashion-mnist.js';
import { Flatten, init, Linear, ReLU, Sequential } from '../../src/nn/index.js';
import { Adadelta, Adagrad, Adam, RMSprop, SGD } from '../../src/optim/index.js';
import { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { EpochRecord, fitClassifier } from '../../src/train/loop.js';
import { Progress, TextStream } from '../../src/train/progress.js';

/** The MLP 784-256-10 with d2l's init, drawing from g. */
export function mlp(g: Generator, hidden = 256): Sequential {
  const net = new Sequential(new Flatten(), new Linear(784, hidden, { generator: g }), new ReLU(), new Linear(hidden, 10, { generator: g }));
  for (const m of net.layers) {
    if (m instanceof Linear) {
      init.normal_(m.weight, 0, 0.01, g);
      init.zeros_(m.bias!);
    }
  }
  return net;
}

/** The learning rates (and momentum β) of the five runs. */
export interface Exp3Rates {
  lrMomentum: number;
  momentum: number;
  lrAdagrad: number;
  lrRmsprop: number;
  lrAdadelta: number;
  lrAdam: number;
}

export interface Exp3Run {
  /** Metric-name part: exp3_<key>_test_acc, ... */
  key: string;
  label: string;
  optimizer: (params: Tensor[]) => { zeroGrad(): void; step(): void };
}

/** RMSProp's γ and Adadelta's ρ are d2l's 0.9, as in experiment 2; the rest are torch's defaults. */
export function exp3Runs(r: Exp3Rates): Exp3Run[] {
  return [
    { key: 'momentum', label: `momentum, η ${r.lrMomentum}, β ${r.momentum}`, optimizer: (p) => new SGD(p, { lr: r.lrMomentum, momentum: r.momentum }) },
    { key: 'adagrad', label: `AdaGrad, η ${r.lrAdagrad}`, optimizer: (p) => new Adagrad(p, { lr: r.lrAdagrad }) },
    { key: 'rmsprop', label: `RMSProp, η ${r.lrRmsprop}, γ 0.9`, optimizer: (p) => new RMSprop(p, { lr: r.lrRmsprop, alpha: 0.9 }) },
    { key: 'adadelta', label: `Adadelta, η ${r.lrAdadelta}, ρ 0.9`, optimizer: (p) => new Adadelta(p, { lr: r.lrAdadelta, rho: 0.9 }) },
    { key: 'adam', label: `Adam, η ${r.lrAdam}`, optimizer: (p) => new Adam(p, { lr: r.lrAdam }) },
  ];
}

export interface Exp3Options {
  epochs: number;
  batchSize: number;
  seed: number;
  quiet: boolean;
  log: TextStream;
}

export interface Exp3Result {
  run: Exp3Run;
  /** One record per epoch: train_loss (mean over the epoch's batches), train_acc, test_acc, seconds. */
  history: EpochRecord[];
  /** Wall time of the whole run (training and the per-epoch test evaluations), seconds. */
  seconds: number;
}

export async function experiment3(data: { train: ImageSet; test: ImageSet }, runs: readonly Exp3Run[], o: Exp3Options): Promise<Exp3Result[]> {
  const results: Exp3Result[] = [];
  const testLoader = new DataLoader(new TensorDataset(data.test.images, data.test.labels), { batchSize: 1024 });
  for (const run of runs) {
    const g = new Generator(o.seed); // the same init and the same shuffles for every optimiser
    const net = mlp(g);
    const trainLoader = new DataLoader(new TensorDataset(data.train.images, data.train.labels), {
      batchSize: o.batchSize, shuffle: true, generator: new Generator(g.nextUint32()),
    });
    const progress = new Progress({ epochs: o.epochs, quiet: o.quiet, stream: o.log });
    progress.log(`experiment 3: ${run.label}`);
    const t0 = performance.now();
    const history = await fitClassifier({ net, optimizer: run.optimizer(net.parameters()), train: trainLoader, test: testLoader, epochs: o.epochs, progress });
    progress.close();
    results.push({ run, history, seconds: (performance.now() - t0) / 1000 });
  }
  return results;
}
