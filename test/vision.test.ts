/**
 * The vision nets of papers/{alexnet,vgg,nin,googlenet,resnet,regnet}, and what they share
 * (papers/vision, src/nn/summary.ts). Oracles:
 *   - PyTorch (test/fixtures/vision.json, written by gen_vision.py from d2l's code): for each net and
 *     input size, every parameter's and buffer's name and shape, the total parameter count, and the
 *     output shape and parameter count after each top-level layer;
 *   - d2l's printed layer summaries (NiN and ResNet-18 at 224; GoogLeNet and RegNetX-32 at 96);
 *   - the conv arithmetic ⌊(n + 2p − k)/s⌋ + 1, worked out here, for the smallest inputs each net takes;
 *   - bilinear resizing against resizeBilinear itself on the chosen rows;
 *   - training: a few SGD steps on a small Fashion-MNIST batch lower the loss, and a resumed run ends
 *     exactly where an uninterrupted one does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/backend/auto.js';
import { resizeBilinear } from '../src/data/transforms.js';
import { loadFashionMnist } from '../src/data/load.js';
import { crossEntropy } from '../src/nn/losses.js';
import { formatSummary, layerSummary } from '../src/nn/summary.js';
import { cat } from '../src/ops/shape.js';
import { SGD } from '../src/optim/sgd.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { noGrad } from '../src/autograd/mode.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { alexnetPaper } from '../papers/alexnet/train.js';
import { ninPaper } from '../papers/nin/train.js';
import { buildNet, ResizedImages, VisionConfig } from '../papers/vision/train.js';
import { findVisionNet, VISION_NETS } from '../papers/vision/nets.js';
import { summaryText } from '../papers/vision/summary.js';
import { summaryCommand } from '../cli/summary.js';
import { VISION_PAPERS } from '../papers/vision/papers.js';
import type { RunContext } from '../papers/paper.js';
import { needsData } from './data-available.js';

interface FixtureCase {
  size: number;
  layers: { name: string; layer: string; shape: number[]; params: number }[];
  params: [string, number[]][];
  buffers: [string, number[]][];
  total: number;
}
/** The presets of the paper that trains `net`. */
const PRESETS = Object.fromEntries(VISION_PAPERS.map((p) => [p.name, p.presets]));

const FIXTURE = JSON.parse(readFileSync(new URL('../../test/fixtures/vision.json', import.meta.url), 'utf8')) as Record<string, FixtureCase[]>;

/** The tests that read Fashion-MNIST are skipped, saying how to enable them, where it is not found. */
const skip = needsData('fashion-mnist');

describe('each net against PyTorch: parameters, buffers, and the shape after each layer', () => {
  for (const net of VISION_NETS) {
    test(net.name, () => {
      const cases = FIXTURE[net.name];
      assert.ok(cases && cases.length > 0, `vision.json has no case for ${net.name}`);
      for (const c of cases) {
        const model = net.build({ size: c.size, generator: new Generator(0) });
        const params = [...model.namedParameters()].map(([n, p]) => [n, p.shape]);
        assert.deepEqual(params, c.params, `${net.name} at ${c.size}: parameters`);
        const buffers = [...model.namedBuffers()].map(([n, b]) => [n, b.shape]);
        assert.deepEqual(buffers, c.buffers, `${net.name} at ${c.size}: buffers`);
        const s = layerSummary(model, [1, 1, c.size, c.size]);
        assert.equal(s.totalParams, c.total, `${net.name} at ${c.size}: total parameters`);
        assert.deepEqual(
          s.rows.map((r) => ({ name: r.name, layer: r.layer, shape: r.outputShape, params: r.params })),
          c.layers,
          `${net.name} at ${c.size}: layer summary`,
        );
      }
    });
  }
});

test("the d2l and cpu presets' input sizes are among the sizes checked against PyTorch", () => {
  for (const net of VISION_NETS) {
    const sizes = FIXTURE[net.name].map((c) => c.size);
    assert.ok(sizes.includes(PRESETS[net.name].cpu.config.size), `${net.name}: cpu size ${PRESETS[net.name].cpu.config.size} not in ${sizes}`);
    assert.ok(sizes.includes(net.d2lSize), `${net.name}: d2l size ${net.d2lSize} not in ${sizes}`);
  }
});

describe("d2l's printed layer summaries", () => {
  // Output shapes as the book prints them (layer_summary on one image), layer by layer.
  const printed: Record<string, { size: number; shapes: number[][] }> = {
    nin: {
      size: 224,
      shapes: [[1, 96, 54, 54], [1, 96, 26, 26], [1, 256, 26, 26], [1, 256, 12, 12], [1, 384, 12, 12], [1, 384, 5, 5],
        [1, 384, 5, 5], [1, 10, 5, 5], [1, 10, 1, 1], [1, 10]],
    },
    googlenet: { size: 96, shapes: [[1, 64, 24, 24], [1, 192, 12, 12], [1, 480, 6, 6], [1, 832, 3, 3], [1, 1024], [1, 10]] },
    resnet: {
      size: 224,
      shapes: [[1, 64, 56, 56], [1, 64, 56, 56], [1, 128, 28, 28], [1, 256, 14, 14], [1, 512, 7, 7], [1, 512, 1, 1], [1, 512], [1, 10]],
    },
    regnet: { size: 96, shapes: [[1, 32, 48, 48], [1, 32, 24, 24], [1, 80, 12, 12], [1, 10]] },
  };
  for (const [name, p] of Object.entries(printed)) {
    test(`${name} at ${p.size}×${p.size}`, () => {
      const s = layerSummary(findVisionNet(name).build({ size: p.size, generator: new Generator(0) }), [1, 1, p.size, p.size]);
      assert.deepEqual(s.rows.map((r) => r.outputShape), p.shapes);
    });
  }
});

test('the smallest inputs: by the conv arithmetic, AlexNet takes 65×65, NiN 67×67, VGG 32×32; smaller ones are refused', () => {
  const out = (n: number, k: number, s = 1, p = 0) => Math.floor((n + 2 * p - k) / s) + 1;
  // AlexNet: conv 11/4 pad 1, then three max-pools 3/2 (the other convs keep the size).
  const alex = (n: number) => out(out(out(out(n, 11, 4, 1), 3, 2), 3, 2), 3, 2);
  // NiN: conv 11/4, then three max-pools 3/2.
  const nin = (n: number) => out(out(out(out(n, 11, 4), 3, 2), 3, 2), 3, 2);
  // VGG: five max-pools 2/2.
  const vgg = (n: number) => [1, 2, 3, 4, 5].reduce((m) => out(m, 2, 2), n);
  for (const [name, f, min] of [['alexnet', alex, 65], ['nin', nin, 67], ['vgg', vgg, 32]] as const) {
    assert.equal(f(min), 1, `${name}: a ${min}×${min} input ends in a 1×1 map`);
    assert.ok(f(min - 1) < 1, `${name}: ${min - 1} is too small`);
    // (The nets run at these sizes in the training test below: they are the cpu presets' sizes.)
    assert.throws(() => findVisionNet(name).build({ size: min - 1 }), new RegExp(`${min - 1}×${min - 1} is too small .* the smallest input is ${min}×${min}`));
  }
});

test('layerSummary: eval mode during the pass, the training mode restored, a clear error from a failing layer', () => {
  const net = findVisionNet('regnet').build({ size: 28, generator: new Generator(0) });
  // At 28×28 the last stage is 4×4; with batch 1 the BatchNorms would refuse training mode on a 1×1 map.
  const s = layerSummary(net, [1, 1, 8, 8]);
  assert.deepEqual(s.rows.map((r) => r.outputShape), [[1, 32, 4, 4], [1, 32, 2, 2], [1, 80, 1, 1], [1, 10]]);
  assert.equal(net.training, true);
  const text = formatSummary(s);
  assert.match(text, /^input \[1, 1, 8, 8\]$/m);
  assert.match(text, /^stage2 Sequential\s+\[1, 80, 1, 1\]\s+\d/m);
  assert.match(text, /^total parameters: 179,290$/m);
  assert.throws(() => layerSummary(net, [1, 3, 8, 8]), /layer 0 \(Sequential\) failed on an input of shape \[1, 3, 8, 8\]/);
});

test('pfs summary: the table for a net and size; unknown nets, bad and too small sizes refused', () => {
  let printed = '';
  const out = { write: (s: string) => (printed += s) };
  assert.equal(summaryCommand(['nin', '--size', '96'], out), 0);
  assert.match(printed, /^Network in Network\ninput \[1, 1, 96, 96\]\n/);
  assert.match(printed, /^8 AdaptiveAvgPool2d\s+\[1, 10, 1, 1\]\s+0$/m);
  assert.match(printed, /^total parameters: 1,992,166$/m);
  assert.match(summaryText('lenet'), /total parameters: 61,706/); // d2l's LeNet: 61,706 parameters
  assert.throws(() => summaryCommand(['lenett']), /unknown net "lenett"; available: lenet, lenet-bn, alexnet, vgg, nin, googlenet, resnet, regnet/);
  assert.throws(() => summaryCommand([]), /expected one net name, got none/);
  assert.throws(() => summaryCommand(['vgg', '--size', 'big']), /--size: expected a decimal integer, got "big"/);
  assert.throws(() => summaryCommand(['vgg', '--depth', '2']), /unknown option --depth/);
  assert.throws(() => summaryCommand(['alexnet', '--size', '28']), /AlexNet: an input of 28×28 is too small .* the smallest input is 65×65/);
});

test('ResizedImages: batches resized on the way out, rows as chosen; get(i) is row i of a batch', () => {
  const g = new Generator(3);
  const images = Tensor.rand([5, 1, 28, 28], { generator: g });
  const labels = Tensor.from([4, 3, 2, 1, 0], { dtype: 'int32' });
  const set = new ResizedImages(images, labels, 40);
  const [x, y] = set.getBatch(Int32Array.of(3, 1));
  assert.deepEqual(x.shape, [2, 1, 40, 40]);
  assert.deepEqual(y.toArray(), [1, 3]);
  const want = resizeBilinear(cat([images.narrow(0, 3, 1), images.narrow(0, 1, 1)], 0), 40);
  assert.deepEqual(x.toArray(), want.toArray());
  const [x1, y1] = set.get(1);
  assert.deepEqual(x1.shape, [1, 40, 40]);
  assert.deepEqual(x1.toArray(), want.narrow(0, 1, 1).squeeze(0).toArray());
  assert.equal(y1.item(), 3);
  // At the images' own size nothing is resized.
  const [same] = new ResizedImages(images, labels, 28).getBatch(Int32Array.of(0));
  assert.deepEqual(same.toArray(), images.narrow(0, 0, 1).toArray());
});

describe("at its cpu preset's input size, each net maps a Fashion-MNIST batch to (N, 10) logits, and a few SGD steps lower the loss", { skip }, () => {
  const STEPS = 8;
  let first16: { images: Tensor; labels: Tensor } | undefined; // the first 16 training images, read once
  for (const net of VISION_NETS) {
    test(net.name, () => {
      const { size, lr } = PRESETS[net.name].cpu.config;
      if (!first16) {
        const train = loadFashionMnist('train');
        first16 = { images: train.images.narrow(0, 0, 16), labels: train.labels.narrow(0, 0, 16) };
      }
      const [x, y] = new ResizedImages(first16.images, first16.labels, size).getBatch(Int32Array.from({ length: 16 }, (_, i) => i));
      assert.deepEqual(x.shape, [16, 1, size, size]);
      const g = new Generator(7);
      const dropout = new Generator(8);
      const model = buildNet(net, size, g, dropout);
      const optimizer = new SGD(model.parameters(), { lr });
      // The loss of the batch as a deterministic function of the weights: in training mode (BatchNorm
      // on the batch's statistics) with the same dropout masks each time.
      const masks = dropout.getState();
      const batchLoss = () => noGrad(() => {
        dropout.setState(masks);
        return crossEntropy(model.forward(x), y).item();
      });
      assert.deepEqual(noGrad(() => model.forward(x)).shape, [16, 10]);
      const before = batchLoss();
      for (let step = 0; step < STEPS; step++) {
        const loss = crossEntropy(model.forward(x), y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      }
      const after = batchLoss();
      assert.ok(Number.isFinite(before) && Number.isFinite(after), `${net.name}: losses ${before}, ${after}`);
      assert.ok(after < before - 0.01, `${net.name}: the loss went from ${before.toFixed(4)} to ${after.toFixed(4)} in ${STEPS} steps`);
    });
  }
});

for (const lrSchedule of ['constant', 'cosine']) {
  test(`a vision run (lr_schedule ${lrSchedule}) writes its checkpoint and curves; a killed run resumed ends exactly where an uninterrupted one does`, { skip }, async () => {
    // NiN: small, and with dropout, so the resumed run must also continue the dropout masks.
    const dir = mkdtempSync(join(tmpdir(), 'pfs-vision-'));
    try {
      const config: VisionConfig = { ...ninPaper.presets.cpu.config, lr_schedule: lrSchedule, batch_size: 8, epochs: 2, train_limit: 24, test_limit: 16 };
      const ctx = (out: string, resume: boolean): RunContext => {
        mkdirSync(join(dir, out), { recursive: true });
        return { paper: 'nin', preset: 'cpu', outDir: join(dir, out), seed: 5, resume, quiet: true, log: process.stderr };
      };
      // the lr held by a checkpoint's optimiser state: the one its next step would use
      const savedLr = async (out: string): Promise<number> => {
        const model = buildNet(findVisionNet('nin'), config.size, new Generator(0));
        const optimizer = new SGD(model.parameters(), { lr: 1 });
        await loadCheckpoint(join(dir, out, 'checkpoint.safetensors'), { model, optimizer });
        return optimizer.paramGroups[0].lr;
      };
      // cosine over the run's 2 epochs of 3 steps: lr·(1 + cos(π·t/6))/2 after t steps
      const lrAfter = (t: number) => (lrSchedule === 'cosine' ? (config.lr * (1 + Math.cos((Math.PI * t) / 6))) / 2 : config.lr);

      const full = await ninPaper.train(config, ctx('full', false));
      assert.deepEqual(full.files, ['checkpoint.safetensors', 'curves.svg']);
      assert.equal(full.samples, 48);
      assert.match(readFileSync(join(dir, 'full', 'curves.svg'), 'utf8'), /<svg [\s\S]*test acc[\s\S]*<\/svg>\s*$/);
      assert.ok(Math.abs((await savedLr('full')) - lrAfter(6)) < 1e-12, `lr after the last step: ${await savedLr('full')}`);

      // a run killed as its second epoch ends (before that epoch's checkpoint): epoch 1's is on disk
      let epochLines = 0;
      const dying = { write: (s: string) => { if (/test acc/.test(s) && ++epochLines === 2) throw new Error('killed'); } };
      await assert.rejects(ninPaper.train(config, { ...ctx('split', false), quiet: false, log: dying as never }), /killed/);
      assert.ok(Math.abs((await savedLr('split')) - lrAfter(3)) < 1e-12, `lr after epoch 1: ${await savedLr('split')}`);

      const log: string[] = [];
      const resumed = await ninPaper.train(config, { ...ctx('split', true), log: { write: (s: string) => log.push(s) } as never });
      assert.match(log.join(''), /resumed from .*checkpoint.safetensors after epoch 1/);
      assert.equal(resumed.samples, 24, 'the resumed run trains one epoch');
      const { train_images_per_sec: _a, ...resumedMetrics } = resumed.metrics;
      const { train_images_per_sec: _b, ...fullMetrics } = full.metrics;
      assert.deepEqual(resumedMetrics, fullMetrics, 'the same losses and accuracies: the weights, optimiser, lr schedule, shuffles and dropout masks continue from the checkpoint');
      assert.ok(Math.abs((await savedLr('split')) - lrAfter(6)) < 1e-12);
      const evaluated = await ninPaper.evaluate!(config, join(dir, 'full', 'checkpoint.safetensors'), ctx('full', false));
      assert.equal(evaluated.test_acc, full.metrics.test_acc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("presets: d2l is the book setup; cpu keeps its batch, says its lr, takes a smaller input and less training than the book's, on the whole data set", () => {
  const book: Record<string, [number, number, number, number]> = {
    // size, lr, batch, epochs (d2l's chapter code)
    alexnet: [224, 0.01, 128, 10], vgg: [224, 0.05, 128, 10], nin: [224, 0.1, 128, 10],
    googlenet: [96, 0.1, 128, 10], resnet: [96, 0.05, 256, 10], regnet: [96, 0.05, 128, 10],
  };
  for (const net of VISION_NETS) {
    const d2l = PRESETS[net.name].d2l.config;
    assert.deepEqual([d2l.size, d2l.lr, d2l.batch_size, d2l.epochs], book[net.name], net.name);
    assert.equal(d2l.lr_schedule, 'constant', `${net.name}: the book keeps the lr constant`);
    assert.equal(d2l.train_limit, 0);
    const cpu = PRESETS[net.name].cpu;
    // NiN's one-run result depends on the seed more than on the code (in PyTorch too): judged over seeds 0–3
    // against the PyTorch twin's mean (0.7157) less 0.01
    assert.equal(cpu.target?.value, net.name === 'nin' ? 0.7057 : 0.88);
    assert.deepEqual(cpu.target?.seeds, net.name === 'nin' ? [0, 1, 2, 3] : undefined);
    assert.equal(cpu.config.batch_size, d2l.batch_size, `${net.name}: the cpu preset keeps the book's batch`);
    // where the cpu preset's lr departs from the book's (AlexNet, GoogLeNet), `pfs list` must say how
    assert.match(cpu.description, new RegExp(`SGD lr ${cpu.config.lr}\\b`), `${net.name}: the description names the lr`);
    assert.equal(/cosine/.test(cpu.description), cpu.config.lr_schedule === 'cosine', `${net.name}: the description names the schedule`);
    assert.ok(cpu.config.size <= d2l.size, `${net.name}: input ${cpu.config.size} ≤ the book's ${d2l.size}`);
    // the work of a run grows with epochs × pixels: a cpu run does less than the book's (VGG: 13 epochs at 32×32 against 10 at 224×224)
    assert.ok(cpu.config.epochs * cpu.config.size ** 2 <= d2l.epochs * d2l.size ** 2, `${net.name}: epochs × pixels`);
    assert.equal(cpu.config.train_limit, 0, `${net.name}: the cpu preset trains on the whole training set`);
    assert.equal(cpu.config.test_limit, 0, `${net.name}: the cpu preset is scored on the whole test set`);
  }
  assert.deepEqual(VISION_PAPERS.map((p) => [p.name, p.defaultPreset]), VISION_NETS.map((n) => [n.name, 'cpu']));
  assert.equal(alexnetPaper.presets.d2l.target?.value, 0.879);
});
