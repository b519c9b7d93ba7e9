/**
 * The `pfs` command end to end: help and errors, a short LeNet run with --target and --json, and a
 * killed-then-resumed run that ends exactly where an uninterrupted one does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
  // a command's --help is the usage too, not a missing value
  for (const args of [['train', '--help'], ['translate', 'seq2seq', '-h']]) {
    const r = pfs(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, /Train options:/, args.join(' '));
  }
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

test('importing the library leaves malloc alone; tuneMalloc() is the opt-in', (t) => {
  const script = `
    const pfs = await import(process.argv[1]);
    const before = pfs.nativeStatus();
    const tuned = pfs.tuneMalloc();
    console.log(JSON.stringify({ available: before.available, before: before.build ?? null, tuned, after: pfs.nativeStatus().build ?? null }));`;
  const clean = { ...process.env };
  for (const k of ['PFS_MALLOC_TUNING', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES']) delete clean[k];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(resolve(dirname(PFS), '../src/node.js')).href], { encoding: 'utf8', env: clean });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { available: boolean; before: string | null; tuned: string | null; after: string | null };
  const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
  if (!out.available || !glibc) {
    t.skip(`needs the native addon on glibc (glibc ${glibc ?? 'absent'})`);
    return;
  }
  assert.match(out.before!, /; glibc malloc defaults$/);
  assert.equal(out.tuned, 'glibc malloc keeps freed memory');
  assert.match(out.after!, /; glibc malloc keeps freed memory$/);
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
  assert.match(r.out, /--preset d2l \(default\).*target test_acc mean over seeds 0–3 ≥ 0\.78/);
  assert.match(r.out, /--lr float \(default 0\.9\)/);
});

test('bad commands, papers, presets, options and values get a clear error listing what is valid', () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"; commands: list, train, eval, sample, translate, similar, encode, summary/],
    [['train'], /train: expected one paper name/],
    [['train', 'lenett'], /unknown paper "lenett"; available: lenet, lenet-bn, optimizers, /],
    [['train', 'lenet', '--preset', 'big'], /unknown preset "big" for lenet; presets: d2l/],
    [['train', 'lenet', '--bogus', '1'], /unknown option --bogus; valid options:\n\s+--lr float/],
    [['train', 'lenet', '--epochs', '2.5'], /--epochs: expected a decimal integer, got "2.5"/],
    [['train', 'lenet', '--epochs', '1e20'], /--epochs: expected a decimal integer, got "1e20"/],
    [['train', 'lenet', '--epochs', '0x10'], /--epochs: expected a decimal integer, got "0x10"/],
    [['train', 'lenet', '--epochs', '+3'], /--epochs: expected a decimal integer, got "\+3"/],
    [['train', 'lenet', '--epochs', '99999999999999999999'], /--epochs: 99999999999999999999 is outside \[1, 1000000000\]/],
    [['train', 'lenet', '--lr', 'fast'], /--lr: expected a decimal number, got "fast"/],
    [['train', 'lenet', '--lr', '0x1'], /--lr: expected a decimal number, got "0x1"/],
    [['train', 'lenet', '--lr', 'Infinity'], /--lr: expected a decimal number, got "Infinity"/],
    [['train', 'lenet', '--lr', '-1'], /--lr: -1 is outside \[0, inf\]/],
    [['train', 'lenet', '--lr', '0.1', '--lr', '0.2'], /--lr is given twice \("0\.1" and "0\.2"\); give it once/],
    [['train', 'lenet', '--quiet', '--quiet'], /--quiet is given twice/],
    [['train', 'lenet', '--seed', '-3'], /--seed: expected a decimal integer in \[0, 4294967295\], got "-3"/],
    [['train', 'lenet', '--seed', '1e3'], /--seed: expected a decimal integer/],
    [['train', 'lenet', '--seed', '1', '--seeds', '0-3'], /--seed and --seeds: give one of them/],
    [['train', 'lenet', '--seeds', '3-1'], /--seeds: the range 3-1 runs backwards/],
    [['train', 'lenet', '--seeds', '0,1,0'], /--seeds: seed 0 is given twice/],
    [['train', 'lenet', '--seeds', 'a'], /--seeds: expected a decimal integer/],
    // refused before any data is read or any epoch runs
    [['train', 'lenet', '--target', 'nosuch=0.5'], /--target: lenet reports no metric "nosuch"; its metrics: train_loss, train_acc, test_acc/],
    [['train', 'optimizers', '--experiment', '2', '--target', 'exp1_max_error=0'], /--target: optimizers reports no metric "exp1_max_error"/],
    [['train', 'lenet', '--target', 'acc'], /--target: expected METRIC=VALUE/],
    [['train', 'lenet', '--epochs'], /--epochs needs a value/],
    [['info', '--verbose'], /unknown option --verbose/],
    [['eval', 'lenet'], /--checkpoint FILE is required/],
    [['eval', 'lenet', '--checkpoint', tmpdir()], new RegExp(`${tmpdir()} is a directory, not a file`)],
    [['eval', 'lenet', '--checkpoint', join(tmpdir(), 'no-such-checkpoint.safetensors')], /no-such-checkpoint\.safetensors does not exist/],
    [['summary', 'resnet', '--preset', 'big'], /unknown preset "big" for resnet; presets: /],
    [['train', 'lenet', '--data', join(tmpdir(), 'no-such-data-dir')], /--data: .*no-such-data-dir does not exist/],
    [['train', 'lenet', '--out', PFS], /--out: .*pfs\.js exists and is not a directory/],
    [['train', 'lenet', '--out', join(PFS, 'sub')], /--out: cannot create .*pfs\.js\/sub \(a part of its path is a file, not a directory\)/],
    [['summary', 'resnet', '--preset', 'cpu', '--size', '96'], /give --preset or --size, not both/],
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

test('pfs summary uses the input size of the preset pfs train would use, or --size', () => {
  const cpu = pfs('summary', 'resnet');
  assert.equal(cpu.code, 0, cpu.err);
  const size = (text: string) => /^input \[1, 1, (\d+), \d+\]$/m.exec(text)?.[1];
  assert.equal(size(cpu.out), '28', cpu.out); // the cpu preset (the default) trains at 28×28
  assert.equal(size(pfs('summary', 'resnet', '--preset', 'd2l').out), '96');
  assert.equal(size(pfs('summary', 'resnet', '--size', '64').out), '64');
  assert.equal(size(pfs('summary', 'lenet').out), '28');
});

test('--resume refuses a run with other settings, listing each difference; more epochs are allowed', { skip: needsData('fashion-mnist') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'pfs-resume-'));
  assert.equal(pfs('train', 'lenet', ...TINY, '--epochs', '1', '--seed', '3', '--out', out).code, 0);
  const r = pfs('train', 'lenet', ...TINY, '--epochs', '2', '--seed', '4', '--lr', '0.5', '--out', out, '--resume');
  assert.equal(r.code, 2);
  assert.match(r.err, /--resume: this run differs from the one that wrote .*checkpoint\.safetensors:\n  --seed 4 \(the checkpoint's: 3\)\n  --lr 0\.5 \(the checkpoint's: 0\.9\)\n/);
  assert.doesNotMatch(r.err, /--epochs/);
  const fewer = pfs('train', 'lenet', '--batch_size', '128', '--train_limit', '128', '--test_limit', '256', '--quiet', '--epochs', '0', '--seed', '3', '--out', out, '--resume');
  assert.equal(fewer.code, 2); // epochs 0 is refused by its bounds first
  const limit = pfs('train', 'lenet', '--batch_size', '128', '--train_limit', '128', '--test_limit', '256', '--quiet', '--epochs', '1', '--seed', '3', '--out', out, '--resume');
  assert.equal(limit.code, 2);
  assert.match(limit.err, /^  --train_limit 128 \(the checkpoint's: 256\)$/m);
  const other = pfs('train', 'lenet-bn', ...TINY, '--epochs', '2', '--seed', '3', '--out', out, '--resume');
  assert.equal(other.code, 2);
  assert.match(other.err, /is a checkpoint of lenet, not lenet-bn/);
  const more = pfs('train', 'lenet', ...TINY, '--epochs', '2', '--seed', '3', '--out', out, '--resume');
  assert.equal(more.code, 0, more.err);
});

test('a run removes the temporaries a killed checkpoint write left in its folder', { skip: needsData('fashion-mnist') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'pfs-tmp-'));
  writeFileSync(join(out, '.checkpoint.safetensors.0123456789ab.tmp'), 'partial');
  writeFileSync(join(out, 'notes.tmp'), 'not ours'); // other files stay
  const r = pfs('train', 'lenet', ...TINY, '--epochs', '1', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /removed .*\.checkpoint\.safetensors\.0123456789ab\.tmp, left by a killed write/);
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp')), ['notes.tmp']);
});

test('pfs eval refuses a checkpoint of another paper by name', { skip: needsData('fashion-mnist') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'pfs-eval-'));
  assert.equal(pfs('train', 'lenet', ...TINY, '--epochs', '1', '--out', out).code, 0);
  const r = pfs('eval', 'resnet', '--checkpoint', join(out, 'checkpoint.safetensors'));
  assert.equal(r.code, 2);
  assert.match(r.err, /this checkpoint is from lenet, not resnet\n$/);
  assert.equal(r.err.split('\n').length, 2, 'one line');
  const ok = pfs('eval', 'lenet', '--checkpoint', join(out, 'checkpoint.safetensors'), '--test_limit', '256');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^test_acc 0\.\d{4}$/m);
});

test('--seeds runs each seed in its own folder and judges --target on the mean; a single run shows a seed-judged target as such', { skip: needsData('fashion-mnist') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'pfs-seeds-'));
  const r = pfs('train', 'lenet', ...TINY, '--epochs', '1', '--seeds', '4,6', '--out', out, '--target', 'test_acc=0.999');
  assert.equal(r.code, 1, r.err);
  const summary = JSON.parse(readFileSync(join(out, 'seeds.json'), 'utf8'));
  assert.deepEqual(summary.seeds, [4, 6]);
  assert.deepEqual(summary.dirs, ['seed-4', 'seed-6']);
  const perSeed = [4, 6].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'result.json'), 'utf8')));
  assert.deepEqual(perSeed.map((p) => p.seed), [4, 6]);
  const acc = perSeed.map((p) => p.metrics.test_acc as number);
  assert.notEqual(acc[0], acc[1], 'two seeds, two runs');
  const stats = summary.metrics.test_acc;
  assert.deepEqual(stats.perSeed, acc);
  assert.equal(stats.mean, (acc[0] + acc[1]) / 2);
  assert.equal(stats.min, Math.min(...acc));
  assert.equal(stats.max, Math.max(...acc));
  assert.match(r.out, new RegExp(`test_acc over seeds 4, 6: ${acc.map((a) => a.toFixed(4)).join(' ')}; mean ${stats.mean.toFixed(4)}`));
  assert.match(r.err, new RegExp(`target missed: test_acc = ${stats.mean.toFixed(4)}, wanted ≥ 0\\.999`));
  // the same seed alone gives the same run
  const one = mkdtempSync(join(tmpdir(), 'pfs-seed-'));
  const single = pfs('train', 'lenet', ...TINY, '--epochs', '1', '--seed', '6', '--out', one);
  assert.equal(single.code, 0, single.err);
  assert.equal(JSON.parse(readFileSync(join(one, 'result.json'), 'utf8')).metrics.test_acc, acc[1]);
  // LeNet's target is judged over seeds: one run names that instead of a bare MISSED
  assert.match(single.out, /test_acc .*target test_acc mean over seeds 0–3 ≥ 0\.78 .*: judged over seeds, see --seeds 0-3/);
  assert.doesNotMatch(single.out, /MISSED/);
});
