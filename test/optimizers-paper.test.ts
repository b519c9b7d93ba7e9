/**
 * The optimisers paper (papers/optimizers): experiment 1 against d2l's printed iterates (1e−5) and
 * the closed form of gradient descent on a quadratic; experiment 2 against d2l's printed losses
 * (±0.01) and the least-squares optimum; a one-step smoke run of experiment 3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAirfoil, loadFashionMnist } from '../src/data/load.js';
import { applyOverrides } from '../src/train/config.js';
import { presets, schema } from '../papers/optimizers/config.js';
import { EXP1_RUNS, experiment1, runLibrary, STEPS } from '../papers/optimizers/exp1-2d.js';
import { EXP2_RUNS, EXP2_TOLERANCE, experiment2, RegressionData } from '../papers/optimizers/exp2-airfoil.js';
import { experiment3, exp3Runs } from '../papers/optimizers/exp3-fashion-mnist.js';
import { optimizersPaper } from '../papers/optimizers/train.js';
import type { RunContext } from '../papers/paper.js';
import { needsData } from './data-available.js';

/** A run context writing into a fresh temporary directory, logging into a string; the corpora found as the readers find them. */
function context(seed = 0): { ctx: RunContext; logged: () => string; done: () => void } {
  const outDir = mkdtempSync(join(tmpdir(), 'pfs-optimizers-'));
  let text = '';
  const log = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return {
    ctx: { paper: 'optimizers', preset: 'd2l', outDir, seed, resume: false, quiet: true, log },
    logged: () => text,
    done: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

test("experiment 1: every library optimiser ends within 1e-5 of d2l's printed iterate, and d2l's rule prints d2l's digits", () => {
  const results = experiment1();
  assert.equal(results.length, 7);
  for (const r of results) {
    const want = r.run.d2l.map(Number);
    const got = r.library[STEPS];
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= 1e-5, `${r.run.label}: x${i + 1} = ${got[i]}, d2l printed ${r.run.d2l[i]}`);
    }
    // d2l's rule written with tensors reproduces the printed text ("%f") digit for digit.
    assert.deepEqual(r.rule[STEPS].map((v) => v.toFixed(6)), [...r.run.d2l], r.run.label);
    assert.equal(r.library.length, STEPS + 1);
    assert.deepEqual(r.library[0], [-5, -2]);
  }
});

test('experiment 1: where d2l and torch agree (GD, momentum) the library equals the rule; AdaGrad/RMSProp differ only through ε', () => {
  for (const r of experiment1()) {
    const sameRule = r.run.key.startsWith('gd') || r.run.key.startsWith('momentum');
    const gap = (p: readonly number[], q: readonly number[]): number =>
      Math.max(...[0, 1].map((i) => Math.abs(p[i] - q[i]) / Math.max(1, Math.abs(p[i]))));
    const pathGap = Math.max(...r.library.map((p, t) => gap(p, r.rule[t])));
    const endGap = gap(r.library[STEPS], r.rule[STEPS]);
    if (sameRule) assert.ok(pathGap <= 1e-13, `${r.run.label}: library and d2l rule differ by ${pathGap}`);
    // ε outside the root (1e-10, 1e-8) against ε = 1e-6 inside: a real but small difference.
    else assert.ok(endGap > 0 && endGap < 2e-6 && pathGap < 1e-5, `${r.run.label}: library and d2l rule differ by ${endGap} at the end, ${pathGap} on the way`);
  }
});

test('experiment 1: gradient descent follows the closed form x_t = (1 − η·f″)^t x_0 of a separable quadratic', () => {
  for (const eta of [0.4, 0.6]) {
    const run = EXP1_RUNS.find((r) => r.key === `gd_lr${eta}`)!;
    runLibrary(run).forEach(([x1, x2], t) => {
      const w1 = -5 * (1 - 0.2 * eta) ** t;
      const w2 = -2 * (1 - 4 * eta) ** t;
      assert.ok(Math.abs(x1 - w1) <= 1e-12 * Math.max(1, Math.abs(w1)), `η ${eta}, step ${t}: x1 ${x1}, closed form ${w1}`);
      assert.ok(Math.abs(x2 - w2) <= 1e-12 * Math.max(1, Math.abs(w2)), `η ${eta}, step ${t}: x2 ${x2}, closed form ${w2}`);
    });
  }
});

test('pfs train optimizers --experiment 1: metrics, the table and one contour plot per run', async () => {
  const { ctx, logged, done } = context();
  try {
    const r = await optimizersPaper.train({ ...presets.d2l.config, experiment: '1' }, ctx);
    assert.ok(r.metrics.exp1_max_error <= 1e-5, `exp1_max_error ${r.metrics.exp1_max_error}`);
    assert.equal(r.metrics.targets_missed, 0);
    assert.equal(r.metrics['exp1_gd_lr0.6_x2'], runLibrary(EXP1_RUNS[1])[STEPS][1]);
    assert.equal(Object.keys(r.metrics).some((k) => k.startsWith('exp2_') || k.startsWith('exp3_')), false, 'only experiment 1 ran');
    for (const run of EXP1_RUNS) {
      const svg = readFileSync(join(ctx.outDir, `exp1-${run.key}.svg`), 'utf8');
      assert.match(svg, /^<\?xml[\s\S]*<svg/);
      assert.equal((svg.match(/class="trajectory"/g) ?? []).length, 1, run.key);
      assert.ok((svg.match(/class="contour"/g) ?? []).length >= 4, `${run.key}: contour lines`);
      assert.match(logged(), new RegExp(run.label));
    }
    assert.match(readFileSync(join(ctx.outDir, 'results.md'), 'utf8'), /\| gradient descent, η 0\.4 \| \(-0\.943467, -0\.000073\) \|/);
    assert.ok(r.files.includes('results.md'));
  } finally {
    done();
  }
});

/** The least-squares optimum of ½(x·w + b − y)² over the data, by the normal equations in float64. */
function leastSquaresLoss(data: RegressionData): number {
  const n = data.features.shape[0];
  const d = data.features.shape[1] + 1; // + the intercept
  const X = data.features.toTypedArray();
  const y = data.labels.toTypedArray();
  const row = (i: number): number[] => [...Array.from(X.subarray(i * (d - 1), (i + 1) * (d - 1))), 1];
  const A = Array.from({ length: d }, () => new Array<number>(d + 1).fill(0)); // [AᵀA | Aᵀy]
  for (let i = 0; i < n; i++) {
    const a = row(i);
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) A[r][c] += a[r] * a[c];
      A[r][d] += a[r] * y[i];
    }
  }
  for (let k = 0; k < d; k++) {
    // Gaussian elimination (AᵀA is symmetric positive definite: no pivoting needed)
    for (let r = k + 1; r < d; r++) {
      const m = A[r][k] / A[k][k];
      for (let c = k; c <= d; c++) A[r][c] -= m * A[k][c];
    }
  }
  const theta = new Array<number>(d).fill(0);
  for (let k = d - 1; k >= 0; k--) {
    let s = A[k][d];
    for (let c = k + 1; c < d; c++) s -= A[k][c] * theta[c];
    theta[k] = s / A[k][k];
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const e = row(i).reduce((acc, v, c) => acc + v * theta[c], 0) - y[i];
    loss += (e * e) / 2 / n;
  }
  return loss;
}

test("experiment 2: every final airfoil loss within ±0.01 of d2l's, never below the least-squares optimum; the run is seeded", { skip: needsData('airfoil') }, async () => {
  const data = loadAirfoil();
  assert.deepEqual(data.features.shape, [1500, 5]);
  const optimum = leastSquaresLoss(data);
  const results = experiment2(data, 0);
  assert.equal(results.length, EXP2_RUNS.length);
  for (const r of results) {
    assert.ok(Math.abs(r.loss - r.run.d2l) <= EXP2_TOLERANCE, `${r.run.label}: loss ${r.loss}, d2l ${r.run.d2l}`);
    // The full-data loss of any linear model is at least the least-squares one (up to float32 rounding).
    assert.ok(r.loss >= optimum - 1e-5, `${r.run.label}: loss ${r.loss} below the least-squares optimum ${optimum}`);
    // d2l's curve: one evaluation every 200 samples, 15 in 2 epochs, the last right after the last step.
    assert.equal(r.curve.y.length, 15);
    assert.equal(r.curve.x[14], 2);
    assert.equal(r.curve.y[14], r.loss);
  }

  // The same seed through `pfs train optimizers --experiment 2` gives the same numbers, named exp2_<run>_loss.
  const { ctx, done } = context(0);
  try {
    const m = (await optimizersPaper.train({ ...presets.d2l.config, experiment: '2' }, ctx)).metrics;
    for (const r of results) assert.equal(m[`exp2_${r.run.key}_loss`], r.loss, r.run.key);
    assert.ok(m.exp2_adam_loss > 0);
    assert.equal(m.targets_missed, 0);
    assert.ok(m.exp2_max_error <= EXP2_TOLERANCE);
  } finally {
    done();
  }
});

test('experiment 3 (smoke): each of the five optimisers trains the MLP for two steps and lowers the loss', { skip: needsData('fashion-mnist') }, async () => {
  // The small test split is enough here: 64 of its images to train on, the next 64 to test on.
  const { images, labels } = loadFashionMnist('test');
  const train = { images: images.narrow(0, 0, 64), labels: labels.narrow(0, 0, 64) };
  const test = { images: images.narrow(0, 64, 64), labels: labels.narrow(0, 64, 64) };
  // Small rates, so that one step must lower the loss (the adaptive methods' first step moves every
  // weight by about η, whatever its gradient: with the tuned rates one step may overshoot).
  const runs = exp3Runs({ lrMomentum: 0.01, momentum: 0.9, lrAdagrad: 1e-4, lrRmsprop: 1e-4, lrAdadelta: 1, lrAdam: 1e-4 });
  const results = await experiment3({ train, test }, runs, { epochs: 2, batchSize: 64, seed: 0, quiet: true, log: { write: () => true } });
  assert.deepEqual(results.map((r) => r.run.key), ['momentum', 'adagrad', 'rmsprop', 'adadelta', 'adam']);
  for (const r of results) {
    const [e1, e2] = r.history;
    // Weights N(0, 0.01²) give near-uniform predictions: the first loss is about ln 10.
    assert.ok(Math.abs(e1.train_loss - Math.log(10)) < 0.01, `${r.run.label}: first loss ${e1.train_loss}`);
    assert.ok(e2.train_loss < e1.train_loss, `${r.run.label}: loss ${e1.train_loss} → ${e2.train_loss}`);
    assert.ok(e2.test_acc >= 0 && e2.test_acc <= 1);
  }
  // Same seed, same init and batch: the first loss is the same for every optimiser.
  for (const r of results) assert.equal(r.history[0].train_loss, results[0].history[0].train_loss);
});

test('the config refuses an unknown experiment and unknown keys', () => {
  assert.throws(() => applyOverrides(presets.d2l.config, { experiment: '4' }, schema), /--experiment: expected one of 1, 2, 3, all, got "4"/);
  assert.throws(() => applyOverrides(presets.d2l.config, { exp3_lr: '0.1' }, schema), /unknown option --exp3_lr/);
  assert.equal(applyOverrides(presets.d2l.config, { experiment: '2' }, schema).experiment, '2');
});
