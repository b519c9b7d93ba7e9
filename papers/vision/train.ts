/**
 * Training the vision nets on Fashion-MNIST as d2l does (train_ch6): the images resized to the
 * preset's input size, Xavier-uniform init of every conv and dense weight, minibatch SGD on the
 * cross-entropy, test accuracy after each epoch. One function serves every net; each paper
 * (papers/<name>/train.ts) gives its net and its presets.
 *
 * The images are resized batch by batch as the loader hands them out (bilinear, as PyTorch's
 * interpolate with align_corners=False): the whole training set at 224×224 would take 12 GB, one batch
 * of 128 takes 26 MB, and the resize costs little beside a training step.
 */
import { ensureDataset } from '../../src/data/datadir.js';
import { Dataset, DataLoader, TensorDataset } from '../../src/data/dataset.js';
import { loadFashionMnist } from '../../src/data/load.js';
import { resizeBilinear } from '../../src/data/transforms.js';
import { CosineAnnealingLR } from '../../src/optim/schedulers.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { CHECKPOINT_FILE, loadCheckpoint } from '../../src/train/checkpoint.js';
import { Classifier, classifier, evaluateAccuracy } from '../../src/train/loop.js';
import { classifierCurves } from '../../src/train/plot.js';
import { CURVES_FILE, trainEpochs } from '../../src/train/runner.js';
import { xavierInit } from '../lenet/model.js';
import type { Paper, Preset, RunContext, RunResult, Schema } from '../paper.js';
import type { VisionNet } from './nets.js';
import type { VisionPaper } from './papers.js';

export type VisionConfig = {
  /** Input height = width: the 28×28 images are resized to it. */
  size: number;
  lr: number;
  /** 'constant' (d2l's) or 'cosine': decayed per step from lr to 0 over the run (SGDR without restarts). */
  lr_schedule: string;
  batch_size: number;
  epochs: number;
  /** Use only the first N training images (0: all 60,000); for quick runs and tests. */
  train_limit: number;
  /** Evaluate on the first N test images only (0: all 10,000). */
  test_limit: number;
};

export const visionSchema: Schema<VisionConfig> = {
  size: { type: 'int', min: 1, max: 1024, help: 'input height = width; the images are resized to it' },
  lr: { type: 'float', min: 0, help: 'SGD learning rate' },
  lr_schedule: { type: 'choice', choices: ['constant', 'cosine'], help: "'constant' (the book's) or 'cosine': annealed per step from lr to 0 over the epochs" },
  batch_size: { type: 'int', min: 1, help: 'minibatch size (also used for evaluation)' },
  epochs: { type: 'int', min: 1, help: 'passes over the training set' },
  train_limit: { type: 'int', min: 0, help: 'train on the first N images only (0 = all)' },
  test_limit: { type: 'int', min: 0, help: 'evaluate on the first N test images only (0 = all)' },
};

/**
 * Images and labels whose batches come out resized to size×size: (B, 1, 28, 28) → (B, 1, size, size).
 * Only the rows of a batch are copied and resized, never the whole set.
 */
export class ResizedImages implements Dataset<Tensor[]> {
  private readonly base: TensorDataset;

  constructor(images: Tensor, labels: Tensor, readonly size: number) {
    this.base = new TensorDataset(images, labels);
  }

  get length(): number {
    return this.base.length;
  }

  get(i: number): Tensor[] {
    const [x, y] = this.getBatch(Int32Array.of(i));
    return [x.squeeze(0), y.squeeze(0)];
  }

  getBatch(indices: Int32Array): Tensor[] {
    const [x, y] = this.base.getBatch(indices);
    return [x.shape[2] === this.size && x.shape[3] === this.size ? x : resizeBilinear(x, this.size), y];
  }
}

/** A Fashion-MNIST split (its first `limit` images when limit > 0) resized to `size`, in batches. */
export function fashionMnistLoader(
  split: 'train' | 'test',
  size: number,
  opts: { batchSize: number; limit?: number; dataDir?: string; shuffle?: Generator },
): DataLoader<Tensor[], Tensor[]> {
  const d = loadFashionMnist(split, { dataDir: opts.dataDir });
  const all = d.images.shape[0];
  const n = opts.limit && opts.limit > 0 ? Math.min(opts.limit, all) : all;
  const set = new ResizedImages(d.images.narrow(0, 0, n), d.labels.narrow(0, 0, n), size);
  return new DataLoader(set, { batchSize: opts.batchSize, shuffle: opts.shuffle !== undefined, generator: opts.shuffle });
}


/** The net with d2l's init: PyTorch's default init, then Xavier-uniform conv and dense weights. */
export function buildNet(net: VisionNet, size: number, g: Generator, dropout?: Generator): Classifier {
  const model = net.build({ size, generator: g, dropout });
  xavierInit(model, g);
  return model;
}

/**
 * The net of a run seeded `seed` and the generators of its shuffles and dropout masks. One seed: those
 * generators are seeded by its generator's first two draws, then the init draws from it.
 */
export function seededNet(net: VisionNet, size: number, seed: number): { model: Classifier; shuffle: Generator; dropout: Generator } {
  const g = new Generator(seed);
  const shuffle = new Generator(g.nextUint32());
  const dropout = new Generator(g.nextUint32());
  return { model: buildNet(net, size, g, dropout), shuffle, dropout };
}

/** Train `net` with `config`; writes the checkpoint (after every epoch) and the curves into ctx.outDir. */
export async function trainVision(net: VisionNet, config: VisionConfig, ctx: RunContext): Promise<RunResult> {
  const { model, shuffle, dropout } = seededNet(net, config.size, ctx.seed);
  const optimizer = new SGD(model.parameters(), { lr: config.lr });

  await ensureDataset('fashion-mnist', { dataDir: ctx.dataDir });
  const train = fashionMnistLoader('train', config.size, { batchSize: config.batch_size, limit: config.train_limit, dataDir: ctx.dataDir, shuffle });
  const test = fashionMnistLoader('test', config.size, { batchSize: config.batch_size, limit: config.test_limit, dataDir: ctx.dataDir });

  // The schedule counts optimiser steps; it is built before a resume loads the optimiser (so its base lr
  // is config.lr) and then moved to the steps already done (`resumed`).
  const schedule = config.lr_schedule === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: config.epochs * train.length }) : undefined;

  const { history, epochsRun } = await trainEpochs(ctx, {
    training: classifier({ net: model, optimizer, train, test, epochs: config.epochs, afterStep: schedule && (() => schedule.step()) }),
    model, optimizer, generators: { shuffle, dropout }, config,
    curves: (h) => classifierCurves(`${net.title} ${config.size}×${config.size} on Fashion-MNIST`, h),
    resumed: (h) => schedule?.loadStateDict({ last_epoch: h.length * train.length }),
    // an epoch takes minutes: where the output is a log file, a line every 50 steps as well
    logEvery: 50,
  });
  const last = history[history.length - 1];
  const rates = history.map((r) => r.samples_per_sec);
  return {
    metrics: {
      train_loss: last.train_loss,
      train_acc: last.train_acc,
      test_acc: last.test_acc,
      // Training throughput alone (the test passes excluded), averaged over the epochs.
      train_images_per_sec: rates.reduce((a, b) => a + b, 0) / rates.length,
    },
    samples: train.dataset.length * epochsRun,
    files: [CHECKPOINT_FILE, CURVES_FILE],
  };
}

/** Test accuracy of a saved checkpoint, at the config's input size. */
export async function evaluateVision(net: VisionNet, config: VisionConfig, checkpoint: string, ctx: RunContext): Promise<Record<string, number>> {
  const model = net.build({ size: config.size });
  await loadCheckpoint(checkpoint, { model });
  await ensureDataset('fashion-mnist', { dataDir: ctx.dataDir });
  const test = fashionMnistLoader('test', config.size, { batchSize: config.batch_size, limit: config.test_limit, dataDir: ctx.dataDir });
  return { test_acc: evaluateAccuracy(model, test) };
}

/** A vision paper for `pfs`: its net, citation and presets; training and evaluation are shared. */
export function visionPaper(net: VisionNet, info: { cites: string; presets: Record<string, Preset<VisionConfig>>; defaultPreset?: string; status?: string }): VisionPaper {
  const { name, ...spec } = net;
  return {
    name,
    net: spec,
    title: `${net.title} on Fashion-MNIST`,
    cites: info.cites,
    defaultPreset: info.defaultPreset ?? 'cpu',
    schema: visionSchema,
    presets: info.presets,
    status: info.status,
    metrics: () => ['train_loss', 'train_acc', 'test_acc', 'train_images_per_sec'],
    train: (c, ctx) => trainVision(net, c, ctx),
    evaluate: (c, ckpt, ctx) => evaluateVision(net, c, ckpt, ctx),
  };
}
