/**
 * The `pfs` command end to end: help and errors, a short LeNet run with --target and --json, and a
 * killed-then-resumed run that ends exactly where an uninterrupted one does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../src/io/atomic.js';
import { needsData } from './data-available.js';

const PFS = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/pfs.js');

function pfs(...args: string[]) {
  const r = spawnSync(process.execPath, [PFS, ...args], { encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A LeNet run small enough for a test: 2 epochs of 2 steps, 256 test images. */
const TINY = ['--batch_size', '128', '--train_limit', '256', '--test_limit', '256', '--quiet'];

test('help, version and info', () => {
  const help = pfs('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /pfs train <paper>/);
  const version = pfs('--version');
  assert.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync(resolve(dirname(PFS), '../../package.json'), 'utf8'));
  assert.equal(version.out.trim(), pkg.version);
  const info = pfs('info');
  assert.equal(info.code, 0);
  assert.match(info.out, /backend: (ref|native|wasm) \(/);
});

test('pfs info: the native addon keeps freed memory in the process (glibc), unless told not to', (t) => {
  const clean = { ...process.env };
  for (const k of ['PFS_MALLOC_TUNING', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES']) delete clean[k];
  const nativeLine = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [PFS, 'info'], { encoding: 'utf8', env: { ...clean, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').find((l) => l.startsWith('native: '))!;
  };
  const first = nativeLine({});
  const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
  if (!first.startsWith('native: available') || !glibc) {
    t.skip(`needs the native addon on glibc (${first}; glibc ${glibc ?? 'absent'})`);
    return;
  }
  assert.match(first, /^native: available, C kernels \(.*; glibc malloc keeps freed memory\), \d+ threads$/);
  assert.match(nativeLine({ PFS_MALLOC_TUNING: '0' }), /glibc malloc defaults \(PFS_MALLOC_TUNING=0\)/);
  assert.match(nativeLine({ MALLOC_TRIM_THRESHOLD_: '1048576' }), /glibc malloc as tuned by the environment/);
});

test("the README's main job: npm start runs pfs train lenet", () => {
  const pkg = JSON.parse(readFileSync(resolve(dirname(PFS), '../../package.json'), 'utf8'));
  assert.equal(pkg.scripts.start, 'node dist/cli/pfs.js train lenet');
  const readme = readFileSync(resolve(dirname(PFS), '../../README.md'), 'utf8');
  assert.match(readme, /npm install && npm start\s+# trains LeNet/);
});

test('list shows each paper with its presets, targets and options', () => {
  const r = pfs('list');
  assert.equal(r.code, 0);
  assert.match(r.out, /^lenet — /m);
  assert.match(r.out, /--preset d2l \(default\).*target test_acc ≥ 0\.78/);
  assert.match(r.out, /--lr float \(default 0\.9\)/);
});

test('bad commands, papers, presets, options and values get a clear error listing what is valid', () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"; commands: list, train, eval, sample, summary/],
    [['train'], /train: expected one paper name/],
    [['train', 'lenett'], /unknown paper "lenett"; available: lenet, lenet-bn, optimizers, /],
    [['train', 'lenet', '--preset', 'big'], /unknown preset "big" for lenet; presets: d2l/],
    [['train', 'lenet', '--bogus', '1'], /unknown option --bogus; valid options:\n\s+--lr float/],
    [['train', 'lenet', '--epochs', '2.5'], /--epochs: expected an integer, got "2.5"/],
    [['train', 'lenet', '--lr', 'fast'], /--lr: expected a number, got "fast"/],
    [['train', 'lenet', '--lr', '-1'], /--lr: -1 is outside \[0, inf\]/],
    [['train', 'lenet', '--seed', '-3'], /--seed: expected a non-negative integer/],
    [['train', 'lenet', '--target', 'acc'], /--target: expected METRIC=VALUE/],
    [['train', 'lenet', '--epochs'], /--epochs needs a value/],
    [['info', '--verbose'], /unknown option --verbose/],
    [['eval', 'lenet'], /--checkpoint FILE is required/],
  ];
  for (const [args, want] of cases) {
    const r = pfs(...args);
    assert.equal(r.code, 2, `pfs ${args.join(' ')} should exit 2, got ${r.code}: ${r.err}`);
    assert.match(r.err, want, `pfs ${args.join(' ')}`);
  }
});

test('a short LeNet run writes result.json, a checkpoint and curves; --target decides the exit code', { skip: needsData('fashion-mnist') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'pfs-cli-'));
  const r = pfs('train', 'lenet', ...TINY, '--epochs', '1', '--out', out, '--json', '--target', 'test_acc=0.999');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /target missed: test_acc = [0-9.]+, wanted ≥ 0\.999/);
  const printed = JSON.parse(r.out);
  const written = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  assert.deepEqual(printed, written);
  assert.equal(written.paper, 'lenet');
  assert.equal(written.preset, 'd2l');
  assert.equal(written.seed, 0);
  assert.equal(written.config.train_limit, 256);
  for (const k of ['train_loss', 'train_acc', 'test_acc']) assert.equal(typeof written.metrics[k], 'number');
  assert.equal(written.samples, 256);
  assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
  assert.match(readFileSync(join(out, 'curves.svg'), 'utf8'), /<svg[^>]*>[\s\S]*test acc[\s\S]*<\/svg>/);
  // A target the run meets exits 0.
  const ok = pfs('train', 'lenet', ...TINY, '--epochs', '1', '--out', out, '--target', 'test_acc=0');
  assert.equal(ok.code, 0, ok.err);
  // eval reads the checkpoint back and gets the same test accuracy.
  const ev = pfs('eval', 'lenet', '--checkpoint', join(out, 'checkpoint.safetensors'), '--test_limit', '256', '--json');
  assert.equal(ev.code, 0, ev.err);
  assert.equal(JSON.parse(ev.out).test_acc, JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).metrics.test_acc);
});

test('a resumed run ends exactly where an uninterrupted one does', { skip: needsData('fashion-mnist') }, async () => {
  const straight = mkdtempSync(join(tmpdir(), 'pfs-straight-'));
  const split = mkdtempSync(join(tmpdir(), 'pfs-split-'));
  assert.equal(pfs('train', 'lenet', ...TINY, '--epochs', '2', '--seed', '7', '--out', straight).code, 0);
  // "Killed" after epoch 1: its checkpoint is all that is left; the second invocation resumes.
  assert.equal(pfs('train', 'lenet', ...TINY, '--epochs', '1', '--seed', '7', '--out', split).code, 0);
  const resumed = pfs('train', 'lenet', ...TINY, '--epochs', '2', '--seed', '7', '--out', split, '--resume');
  assert.equal(resumed.code, 0, resumed.err);
  const a = await loadSafetensors(join(straight, 'checkpoint.safetensors'));
  const b = await loadSafetensors(join(split, 'checkpoint.safetensors'));
  assert.deepEqual(Object.keys(a.tensors).sort(), Object.keys(b.tensors).sort());
  for (const k of Object.keys(a.tensors)) assert.deepEqual(a.tensors[k].toTypedArray(), b.tensors[k].toTypedArray(), k);
  const ra = JSON.parse(readFileSync(join(straight, 'result.json'), 'utf8'));
  const rb = JSON.parse(readFileSync(join(split, 'result.json'), 'utf8'));
  assert.deepEqual(ra.metrics, rb.metrics);
  assert.equal(rb.samples, 256, 'the resumed invocation trained one epoch of 256 images');
});
