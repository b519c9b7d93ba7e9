/**
 * `pfs bench` and the benchmark report: the JSON lines and their arithmetic, the errors for bad
 * arguments, the timing rule, the peers' agreement with our workload list, one train step of each
 * language-model and translation workload and of the small vision nets, and how the report judges the
 * speed targets and lays out tokens/s and images/s.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bench } from '../bench/cli.js';
import { POOL_LIMIT_BYTES } from '../src/tensor/dtype.js';
import { charLMSection, find, judgeTargets, parseRecords, renderReport, TRAINING_WORKLOADS, translationSection, visionSection, type BenchRecord } from '../bench/report.js';
import {
  BERT_WORKLOADS, bertBatch, CHARLM_WORKLOADS, charLMStep, measure, median, OWN_WORKLOADS, SIZES, SKIPGRAM_WORKLOADS, skipGramStepBench, TRANSLATE_WORKLOADS, translateStep, VISION_WORKLOADS, visionCpuPreset, visionStep,
  WORKLOADS,
} from '../bench/workloads.js';
import { TRANSLATION_PAPERS } from '../papers/index.js';
import { LM_SPECS, type LMName } from '../papers/rnn/model.js';
import { LM_PAPERS } from '../papers/rnn/train.js';
import { skipGramPaper } from '../papers/skip-gram/train.js';
import { VISION_PAPERS } from '../papers/vision/papers.js';
import { backendInfo, useBackend } from '../src/backend/registry.js';
import { noGrad } from '../src/autograd/mode.js';
import type { Tensor } from '../src/tensor/tensor.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..'); // from dist/test

/** Runs `pfs bench` with the arguments and returns what it printed. */
function run(...argv: string[]): string {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  assert.equal(bench(argv, out), 0);
  return text;
}

test('--json prints one line per workload, GFLOP/s agreeing with the median', () => {
  const lines = run('sgemm-256', '--runs', '3', '--warmup', '0', '--json').trim().split('\n');
  assert.equal(lines.length, 1);
  const r = JSON.parse(lines[0]);
  assert.equal(r.name, 'sgemm-256');
  assert.equal(r.backend, backendInfo().name);
  assert.ok(Number.isInteger(r.threads) && r.threads >= 1);
  assert.equal(r.runs, 3);
  assert.ok(r.median_ms > 0 && r.min_ms <= r.median_ms, JSON.stringify(r));
  const expected = (2 * 256 ** 3) / r.median_ms / 1e6;
  // gflops comes from the unrounded median (rounded to 0.01); median_ms is rounded to 0.001 ms
  const slack = 0.01 + (expected * 0.0005) / r.median_ms;
  assert.ok(Math.abs(r.gflops - expected) <= slack, `gflops ${r.gflops}, 2n³/median gives ${expected} (±${slack})`);
  assert.ok(r.peak_rss_mb > 10, `peak RSS ${r.peak_rss_mb} MB`);
  // the buffer pool's peak so far in this process, within its limit
  assert.ok(r.pool_peak_mb >= 0 && r.pool_peak_mb <= POOL_LIMIT_BYTES / 2 ** 20, `pool peak ${r.pool_peak_mb} MB`);
});

test('--backend ref runs on one thread; the text table names the backend', (t) => {
  // --backend switches the process's backend: put the default back for the tests after this one
  const { name, reason } = backendInfo();
  t.after(() => useBackend(name, reason));
  const r = JSON.parse(run('sgemm-256', '--backend', 'ref', '--runs', '1', '--warmup', '0', '--json'));
  assert.equal(r.backend, 'ref');
  assert.equal(r.threads, 1);
  assert.equal('gflops' in r, true);
  assert.match(run('sgemm-256', '--backend', 'ref', '--runs', '1', '--warmup', '0'), /^backend ref .*\nbenchmark .*\nsgemm-256 /);
  assert.throws(() => run('sgemm-256', '--backend', 'ref', '--threads', '2'), /ref backend runs on one thread, got --threads 2/);
});

test('bad arguments are refused with what was expected', () => {
  assert.throws(() => run('sgemm-3'), /unknown benchmark "sgemm-3"; benchmarks: sgemm-256, .*resnet18/);
  assert.throws(() => run('lenet', '--threads', '0'), /--threads: expected a whole number ≥ 1, got "0"/);
  assert.throws(() => run('lenet', '--runs', 'many'), /--runs: expected a whole number ≥ 1, got "many"/);
  assert.throws(() => run('lenet', '--backend', 'gpu'), /unknown or unavailable backend "gpu"; available: ref/);
  assert.throws(() => run('lenet', '--fast'), /unknown option --fast/);
  const list = JSON.parse(run('--list', '--json'));
  assert.deepEqual(list.workloads, WORKLOADS.map((w) => w.name));
  assert.ok(list.backends.includes('ref'));
});

test('measure: warm-up runs untimed, then the asked number of timed runs; the median', () => {
  let calls = 0;
  const t = measure(() => void calls++, { warmup: 2, minRuns: 4, maxRuns: 4, budgetMs: 0 });
  assert.equal(calls, 6);
  assert.equal(t.runs, 4);
  assert.ok(t.min_ms <= t.median_ms);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => measure(() => {}, { minRuns: 0 }), /1 ≤ minRuns ≤ maxRuns/);
});

test('the JavaScript peers implement our workload names with the same timing rule', async () => {
  const peers = (await import(new URL('../../bench/peers/common.mjs', import.meta.url).href)) as {
    BUDGET: { [name: string]: { minRuns: number; maxRuns: number; budgetMs: number; flops?: number } };
  };
  // the language models (charlm-*), the vision nets (vision-*), the translation papers (translate-*) and BERT have PyTorch as their only peer:
  // see the last tests; the embedding lookup has none
  const shared = WORKLOADS.filter((w) => ![CHARLM_WORKLOADS, VISION_WORKLOADS, TRANSLATE_WORKLOADS, SKIPGRAM_WORKLOADS, BERT_WORKLOADS, OWN_WORKLOADS].some((ws) => ws.includes(w)));
  assert.deepEqual(Object.keys(peers.BUDGET), shared.map((w) => w.name));
  for (const w of shared) {
    const b = peers.BUDGET[w.name];
    assert.deepEqual([b.minRuns, b.maxRuns, b.budgetMs, b.flops], [w.minRuns, w.maxRuns, w.budgetMs, w.flops], w.name);
  }
});

/** A measured result. */
const m = (name: string, backend: string, threads: number, median_ms: number, extra: Partial<BenchRecord> = {}): BenchRecord => ({
  name, backend, threads, median_ms, min_ms: median_ms, runs: 5, peak_rss_mb: 100, ...extra,
});

/** The target rows of a run, by their text. */
const targets = (rs: BenchRecord[]) => new Map(judgeTargets(rs).map((r) => [r.target, r]));

test('the step-time targets: ours at 1 thread ≤ PyTorch\'s median; at 2 threads ≤ 1.1 × its fastest run and faster than ours at 1', () => {
  assert.deepEqual(TRAINING_WORKLOADS, ['lenet', 'lstm', 'transformer', 'resnet18', 'translate-seq2seq', 'translate-bahdanau', 'translate-transformer', 'skipgram', 'bert']);
  for (const n of TRAINING_WORKLOADS) assert.ok(WORKLOADS.some((w) => w.name === n), `${n} is a workload`);
  const rs: BenchRecord[] = [
    m('lenet', 'native', 1, 22), m('lenet', 'pytorch', 1, 22.3),
    m('lenet', 'native', 2, 14), m('lenet', 'pytorch', 2, 20, { min_ms: 12 }),
    m('lstm', 'native', 1, 56), m('lstm', 'pytorch', 1, 41),
    m('lstm', 'native', 2, 56), m('lstm', 'pytorch', 2, 48, { min_ms: 44 }),
    // bert at 2 threads in two rounds: ours counts with the median of their medians, PyTorch with its fastest run of both
    m('bert', 'native', 1, 6000), m('bert', 'pytorch', 1, 5000),
    m('bert', 'native', 2, 4300), m('bert', 'pytorch', 2, 4500, { min_ms: 4000 }),
    m('bert', 'native', 2, 4500), m('bert', 'pytorch', 2, 4200, { min_ms: 3950 }),
    { name: 'transformer', backend: 'pytorch', threads: 1, error: 'Segmentation fault' }, m('transformer', 'native', 1, 120),
  ];
  const t = targets(rs);
  const row = (name: string) => {
    const r = t.get(name);
    assert.ok(r, `a row "${name}"`);
    return r;
  };
  const lenet1 = row('native lenet step, 1 thread ≤ PyTorch (median)');
  assert.equal(lenet1.verdict, 'met'); // 22 ≤ 22.3
  assert.ok(Math.abs(lenet1.ratio! - 22 / 22.3) < 1e-12);
  assert.equal(row('native lstm step, 1 thread ≤ PyTorch (median)').verdict, 'missed'); // 56 / 41 = 1.37
  assert.equal(row('native bert step, 1 thread ≤ PyTorch (median)').verdict, 'missed'); // 6000 / 5000
  assert.equal(row('native transformer step, 1 thread ≤ PyTorch (median)').verdict, 'not measured'); // PyTorch failed
  assert.equal(row('native skipgram step, 1 thread ≤ PyTorch (median)').verdict, 'not measured'); // no records
  // 2 threads against PyTorch's fastest run: lenet 14 / 12 = 1.17 misses, though below PyTorch's median of 20
  const lenet2 = row('native lenet step, 2 threads ≤ 1.1 × PyTorch\'s fastest');
  assert.equal(lenet2.verdict, 'missed');
  assert.ok(Math.abs(lenet2.ratio! - 14 / 12) < 1e-12);
  assert.equal(lenet2.peer, '12.0 ms (fastest)');
  // bert: ours the median of 4300 and 4500, PyTorch's fastest of 4000 and 3950: 4400 / 3950 = 1.114 misses (4400 / 4000 would not)
  const bert2 = row('native bert step, 2 threads ≤ 1.1 × PyTorch\'s fastest');
  assert.ok(Math.abs(bert2.ratio! - 4400 / 3950) < 1e-12);
  assert.equal(bert2.verdict, 'missed');
  assert.equal(row('native lstm step, 2 threads ≤ 1.1 × PyTorch\'s fastest').verdict, 'missed'); // 56 / 44 = 1.27
  // and faster than our own 1-thread median: lenet 14 < 22; lstm 56 = 56 is not faster
  const faster = (n: string) => row(`native ${n} step, 2 threads faster than its 1 thread (medians)`);
  assert.equal(faster('lenet').verdict, 'met');
  assert.ok(Math.abs(faster('lenet').ratio! - 14 / 22) < 1e-12);
  assert.equal(faster('lstm').verdict, 'missed');
  assert.equal(faster('bert').verdict, 'met'); // 4400 < 6000
  assert.equal(faster('transformer').verdict, 'not measured'); // no 2-thread run
  assert.equal(faster('translate-seq2seq').verdict, 'not measured');
  // every training workload has its three rows, and no old 2-thread target is left
  for (const n of TRAINING_WORKLOADS) assert.ok(t.has(`native ${n} step, 2 threads faster than its 1 thread (medians)`), n);
  assert.ok(![...t.keys()].some((k) => /LeNet|ResNet|Transformer layer/.test(k)), [...t.keys()].join('\n'));

  const md = renderReport(rs, { machine: 'Test CPU', cores: 2, commit: 'abc1234', command: 'bash bench/run.sh' });
  assert.match(md, /- machine: Test CPU, 2 cores/);
  assert.match(md, /- commit: abc1234/);
  assert.match(md, /^\| native lenet step, 2 threads ≤ 1\.1 × PyTorch's fastest \| 14\.0 ms \| 12\.0 ms \(fastest\) \| 1\.17 \| \*\*missed\*\* \|$/m);
  assert.match(md, /^\| native transformer step, 1 thread ≤ PyTorch \(median\) \| 120 ms \| failed \| — \| not measured \|$/m);
  assert.match(md, /failed \[1\]/);
  assert.match(md, /^1\. failed: Segmentation fault$/m);
});

test('the language-model targets: ours ≥ PyTorch in tokens/s, at 1 and at 2 threads', () => {
  const rs: BenchRecord[] = [
    m('charlm-lstm', 'native', 1, 100), m('charlm-lstm', 'pytorch', 1, 120),
    m('charlm-lstm', 'native', 2, 90), m('charlm-lstm', 'pytorch', 2, 80),
    m('charlm-gru', 'native', 1, 50), { name: 'charlm-gru', backend: 'pytorch', threads: 1, error: 'killed' },
  ];
  const t = targets(rs);
  const lstm1 = t.get('native charlm-lstm, 1 thread ≥ PyTorch (tokens/s)')!;
  assert.equal(lstm1.verdict, 'met'); // 11,200 against 9,333 tokens/s
  assert.ok(Math.abs(lstm1.ratio! - 120 / 100) < 1e-12);
  assert.deepEqual([lstm1.ours, lstm1.peer], ['11,200 tokens/s', '9,333 tokens/s']);
  assert.equal(t.get('native charlm-lstm, 2 threads ≥ PyTorch (tokens/s)')!.verdict, 'missed'); // 80 / 90 = 0.89
  assert.equal(t.get('native charlm-gru, 1 thread ≥ PyTorch (tokens/s)')!.verdict, 'not measured');
  assert.equal(t.get('native charlm-bi-lstm, 2 threads ≥ PyTorch (tokens/s)')!.verdict, 'not measured');
  assert.deepEqual(
    [...t.keys()].filter((k) => k.includes('charlm')),
    CHARLM_WORKLOADS.flatMap((w) => [`native ${w.name}, 1 thread ≥ PyTorch (tokens/s)`, `native ${w.name}, 2 threads ≥ PyTorch (tokens/s)`]),
  );
});

test('the memory target: ours at most PyTorch\'s peak RSS on every workload both ran, the worst named', () => {
  const target = 'native peak RSS ≤ PyTorch\'s on every workload both ran, at each thread count (the worst)';
  const rss = (rs: BenchRecord[]) => targets(rs).get(target)!;
  const rs: BenchRecord[] = [
    m('lenet', 'native', 1, 20, { peak_rss_mb: 150 }), m('lenet', 'pytorch', 1, 20, { peak_rss_mb: 280 }),
    m('bert', 'native', 2, 4000, { peak_rss_mb: 900 }), m('bert', 'pytorch', 2, 4000, { peak_rss_mb: 1000 }),
    m('embedding', 'native', 1, 5, { peak_rss_mb: 5000 }), // no peer: not compared
    m('lstm', 'native', 2, 50, { peak_rss_mb: 400 }), { name: 'lstm', backend: 'pytorch', threads: 2, error: 'killed' },
  ];
  const met = rss(rs);
  assert.equal(met.verdict, 'met');
  assert.equal(met.ours, '900 MB (bert, 2t; worst of 2 compared)'); // 0.90 beats lenet's 0.54
  assert.equal(met.peer, '1000 MB');
  assert.ok(Math.abs(met.ratio! - 0.9) < 1e-12);
  // rounds count with their highest peak; one workload above PyTorch's misses the target
  const missed = rss([...rs, m('lenet', 'native', 2, 15, { peak_rss_mb: 310 }), m('lenet', 'native', 2, 16, { peak_rss_mb: 290 }), m('lenet', 'pytorch', 2, 14, { peak_rss_mb: 300 })]);
  assert.equal(missed.verdict, 'missed');
  assert.equal(missed.ours, '310 MB (lenet, 2t; worst of 3 compared)');
  assert.equal(rss([m('lenet', 'native', 1, 20), m('lenet', 'pytorch', 2, 20)]).verdict, 'not measured'); // not at the same thread count
});

test('the SGEMM targets stay: native against PyTorch, wasm against TF.js wasm and its own 1 thread', () => {
  const t = targets([
    m('sgemm-1024', 'native', 2, 13, { gflops: 160 }), m('sgemm-1024', 'pytorch', 2, 11, { gflops: 188 }),
    m('sgemm-1024', 'wasm', 1, 50, { gflops: 46 }), m('sgemm-1024', 'tfjs-wasm', 1, 70, { gflops: 29 }),
  ]);
  const native = t.get('native SGEMM 1024, 2 threads ≥ 0.8 × PyTorch (GFLOP/s)')!;
  assert.equal(native.verdict, 'met'); // 160 / 188 = 0.85 ≥ 0.8
  assert.ok(Math.abs(native.ratio! - 160 / 188) < 1e-12);
  assert.deepEqual([native.ours, native.peer], ['160.0 GFLOP/s', '188.0 GFLOP/s']);
  assert.equal(t.get('wasm SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)')!.verdict, 'met'); // 46 / 29 = 1.59
  assert.equal(t.get('wasm SGEMM 1024, 2 threads ≥ 1.7 × its 1 thread (GFLOP/s)')!.verdict, 'not measured');
});

test('the relaxed-SIMD wasm build is judged apart, only where the run measured it', () => {
  const plain: BenchRecord[] = [
    m('sgemm-1024', 'wasm', 1, 50, { gflops: 40 }),
    m('sgemm-1024', 'wasm', 2, 26, { gflops: 78 }),
    m('sgemm-1024', 'tfjs-wasm', 1, 70, { gflops: 29 }),
  ];
  const p = targets(plain);
  assert.equal(p.get('wasm SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)')!.verdict, 'missed'); // 40 / 29 = 1.38
  assert.ok(![...p.keys()].some((k) => k.startsWith('wasm-relaxed')), 'no relaxed rows without relaxed measurements');
  const both = targets([...plain, m('sgemm-1024', 'wasm-relaxed', 1, 42, { gflops: 48 }), m('sgemm-1024', 'wasm-relaxed', 2, 23, { gflops: 88 })]);
  const r1 = both.get('wasm-relaxed SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)')!;
  assert.equal(r1.verdict, 'met'); // 48 / 29 = 1.66
  assert.ok(Math.abs(r1.ratio! - 48 / 29) < 1e-12);
  assert.equal(both.get('wasm-relaxed SGEMM 1024, 2 threads ≥ 1.7 × its 1 thread (GFLOP/s)')!.verdict, 'met'); // 88 / 48 = 1.83
  assert.equal(both.get('wasm SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)')!.verdict, 'missed', 'the plain build keeps its own verdict');
  assert.match(renderReport([...plain, m('sgemm-1024', 'wasm-relaxed', 1, 42, { gflops: 48 })], { cores: 2 }), /\| \*\*wasm-relaxed\*\*, 1t \|/);
});

test('pfs bench labels the relaxed-SIMD wasm build wasm-relaxed', () => {
  const run = (relaxed: string) => {
    const args = [join(ROOT, 'dist/cli/pfs.js'), 'bench', 'sgemm-256', '--backend', 'wasm', '--threads', '1', '--runs', '1', '--warmup', '0', '--json'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, PFS_WASM_RELAXED: relaxed } });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { backend: string }).backend;
  };
  assert.equal(run('0'), 'wasm');
  assert.equal(run('1'), 'wasm-relaxed');
});

test('parseRecords names the line it cannot read', () => {
  assert.equal(parseRecords('{"name":"lenet","backend":"ref","threads":1,"median_ms":3}\n\n').length, 1);
  assert.throws(() => parseRecords('{"name":"lenet","backend":"ref","threads":1}\nnot json'), /results line 2: not JSON/);
  assert.throws(() => parseRecords('{"threads":1}'), /results line 1: expected name and backend/);
});

// ---------------------------------------------------------------- the character-level language models

const LM_NAMES = Object.keys(LM_SPECS) as LMName[];
const d2l = (name: LMName) => LM_PAPERS.find((p) => p.name === name)!.presets.d2l.config;

test('a charlm workload per papers/rnn model, following its d2l preset', () => {
  assert.deepEqual(CHARLM_WORKLOADS.map((w) => w.name), ['charlm-rnn', 'charlm-gru', 'charlm-lstm', 'charlm-deep-lstm', 'charlm-bi-lstm']);
  for (const w of CHARLM_WORKLOADS) assert.ok(WORKLOADS.includes(w), `${w.name} is in WORKLOADS`);
  for (const name of LM_NAMES) {
    const c = d2l(name);
    const { net, config, tokens } = charLMStep(name);
    assert.equal(config, c);
    assert.equal(tokens, 32 * 35); // d2l's batch 32 × 35 steps
    assert.equal(tokens, c.batch_size * c.num_steps);
    assert.equal(CHARLM_WORKLOADS.find((w) => w.name === `charlm-${name}`)!.tokens, tokens);
    assert.equal(net.vocabSize, 28);
    assert.equal(net.rnn.kind, LM_SPECS[name].cell);
    assert.equal(net.rnn.hiddenSize, c.hidden);
    assert.equal(net.rnn.numLayers, c.layers);
    assert.equal(net.rnn.bidirectional, LM_SPECS[name].bidirectional);
  }
  assert.throws(() => charLMStep('lstm2' as LMName), /unknown model "lstm2"; models: rnn, gru, lstm, deep-lstm, bi-lstm/);
});

test('one train step of each language model: loss near ln 28, gradients clipped, an SGD step of the preset lr', () => {
  for (const name of LM_NAMES) {
    const { net, config, step } = charLMStep(name);
    const params = net.parameters();
    const before = params.map((p) => p.toTypedArray());
    const loss = step();
    assert.ok(Number.isFinite(loss), `${name}: loss ${loss}`);
    // Freshly initialised, the model predicts nearly uniformly over the 28 characters: loss ≈ ln 28.
    assert.ok(Math.abs(loss - Math.log(28)) < 0.05, `${name}: first loss ${loss}, expected about ln 28 = ${Math.log(28).toFixed(4)}`);
    // clipGradNorm left the gradients' global norm at most the preset's clip (1)
    const norm = Math.sqrt(noGrad(() => params.reduce((s, p) => s + p.grad!.mul(p.grad!).sum().item(), 0)));
    assert.ok(norm > 0 && norm <= config.clip * (1 + 1e-5), `${name}: gradient norm ${norm} after clipping to ${config.clip}`);
    // and SGD moved every parameter by −lr·grad (in float32)
    const { worst, moved } = sgdStepError(params, before, config.lr);
    assert.ok(worst <= 5e-7, `${name}: a parameter is off θ − lr·grad by ${worst} of its operands' size (a float32 rounding is 6e-8)`);
    assert.ok(moved > 0, `${name}: no parameter moved`);
  }
});

test('--json gives tokens/s of a language model as its tokens over the median time, and the load average', () => {
  const r = JSON.parse(run('charlm-rnn', '--runs', '1', '--warmup', '0', '--json'));
  assert.equal(r.name, 'charlm-rnn');
  const expected = (32 * 35 * 1000) / r.median_ms;
  // tokens_per_s comes from the unrounded median (and is rounded to 0.1); median_ms is rounded to 0.001 ms
  const slack = 0.05 + (expected * 0.0005) / r.median_ms;
  assert.ok(Math.abs(r.tokens_per_s - expected) <= slack, `tokens/s ${r.tokens_per_s}, 1120 / median gives ${expected} (±${slack})`);
  assert.equal('gflops' in r, false);
  assert.equal(r.load_avg.length, 3);
  assert.ok(r.load_avg.every((x: number) => Number.isFinite(x) && x >= 0), JSON.stringify(r.load_avg));
});

/**
 * How far an SGD step θ ← θ − η·g (in float32) is from exact: the worst error over the parameters,
 * measured on the scale of the operands (θ and η·g nearly cancel in places, so relative to the result
 * it could look large), and how many entries moved at all.
 */
function sgdStepError(params: Tensor[], before: ArrayLike<number>[], lr: number): { worst: number; moved: number } {
  let worst = 0;
  let moved = 0;
  params.forEach((p, i) => {
    const now = p.toTypedArray();
    const g = p.grad!.toTypedArray();
    for (let k = 0; k < now.length; k++) {
      const step = lr * g[k];
      const want = before[i][k] - step;
      worst = Math.max(worst, Math.abs(now[k] - want) / (1e-30 + Math.abs(before[i][k]) + Math.abs(step)));
      if (now[k] !== before[i][k]) moved++;
    }
  });
  return { worst, moved };
}

/** The PyTorch peer's source, and a JSON literal it defines (`NAME = {...}` on one line or several, closed by a "}" alone on its line). */
const torchPeer = (): string => readFileSync(new URL('../../bench/peers/torch_bench.py', import.meta.url), 'utf8');
function pyLiteral(py: string, name: string): unknown {
  const m = new RegExp(`^${name} = (\\{.*\\}|\\{[\\s\\S]*?\\n\\})$`, 'm').exec(py);
  assert.ok(m, `bench/peers/torch_bench.py defines ${name} as a JSON literal`);
  return JSON.parse(m[1]);
}

test("the PyTorch peer's language models are papers/rnn's d2l presets, with our sizes and timing rule", () => {
  const py = torchPeer();
  const literal = (name: string): unknown => pyLiteral(py, name);
  const models = literal('CHARLM') as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(models), CHARLM_WORKLOADS.map((w) => w.name));
  for (const name of LM_NAMES) {
    const c = d2l(name);
    const spec = LM_SPECS[name];
    assert.deepEqual(models[`charlm-${name}`], {
      cell: spec.cell, hidden: c.hidden, layers: c.layers, directions: spec.bidirectional ? 2 : 1, init: c.init, lr: c.lr, clip: c.clip,
    }, name);
  }
  const w = CHARLM_WORKLOADS[0];
  assert.ok(CHARLM_WORKLOADS.every((x) => x.minRuns === w.minRuns && x.maxRuns === w.maxRuns && x.budgetMs === w.budgetMs));
  assert.deepEqual(literal('CHARLM_SIZES'), {
    vocab: SIZES.charlm.vocab, batch: d2l('lstm').batch_size, steps: d2l('lstm').num_steps, min_runs: w.minRuns, max_runs: w.maxRuns, budget_ms: w.budgetMs,
  });
});

test('rounds of one workload count with their median; the tokens/s table compares at the same thread count', () => {
  const lm = (backend: string, threads: number, median_ms: number, load: number): BenchRecord =>
    m('charlm-lstm', backend, threads, median_ms, { tokens_per_s: (1120 / median_ms) * 1000, load_avg: [load, 1, 1] });
  const rs: BenchRecord[] = [
    lm('native', 1, 100, 2.5), lm('pytorch', 1, 400, 3.1), lm('native', 2, 50, 1.2), lm('pytorch', 2, 250, 1.9),
    lm('native', 1, 300, 2.0), lm('pytorch', 1, 400, 2.2), lm('native', 2, 90, 1.5), lm('pytorch', 2, 150, 1.7),
    lm('native', 1, 200, 2.4), lm('pytorch', 1, 800, 2.6), { name: 'charlm-lstm', backend: 'native', threads: 2, error: 'killed' },
    { name: 'charlm-bi-lstm', backend: 'native', threads: 1, error: 'timed out after 300 s' }, m('lstm', 'native', 1, 40),
  ];
  const a = find(rs, 'charlm-lstm', 'native', 1)!;
  assert.equal(a.median_ms, 200); // median of 100, 300, 200
  assert.equal(a.rounds, 3);
  assert.equal(a.runs, 15);
  assert.equal(a.min_ms, 100);
  assert.equal(a.tokens_per_s, 5600); // 1120 tokens / 0.2 s
  assert.equal(find(rs, 'charlm-lstm', 'native', 2)!.median_ms, 70); // the failed round left out: mean of 50 and 90
  assert.equal(find(rs, 'lstm', 'native', 1)!.median_ms, 40);
  assert.equal(find(rs, 'charlm-bi-lstm', 'native', 1)!.error, 'timed out after 300 s');

  const md = charLMSection(rs, 2).join('\n');
  assert.match(md, /\| model \| \*\*native\*\*, 1t \| pytorch, 1t \| native ÷ PyTorch, 1t \| \*\*native\*\*, 2t \| pytorch, 2t \| native ÷ PyTorch, 2t \|/);
  // 1 thread: 5,600 vs 2,800 tokens/s (median 400 ms) → 2.00; 2 threads: 16,000 (70 ms) vs 5,600 (200 ms) → 2.86
  assert.match(md, /^\| charlm-lstm \| 5,600 \(200 ms\) \| 2,800 \(400 ms\) \| 2\.00 \| 16,000 \(70\.0 ms\) \| 5,600 \(200 ms\) \| 2\.86 \|$/m);
  assert.match(md, /^\| charlm-bi-lstm \| failed \| — \| — \|/m);
  assert.match(md, /the median of 3 rounds/);
  assert.match(md, /load average when these runs started: 1\.20–3\.10 \(2 cores/);
  assert.deepEqual(charLMSection([m('lstm', 'native', 1, 40)]), []);
  assert.match(renderReport(rs, { cores: 2 }), /## Character-level language models \(tokens\/s\)/);
});

// ---------------------------------------------------------------- the vision nets at their cpu presets

const cpu = (net: string) => VISION_PAPERS.find((p) => p.name === net)!.presets.cpu.config;

test('a vision workload per papers/vision net, at its cpu preset', () => {
  assert.deepEqual(VISION_WORKLOADS.map((w) => w.name), ['vision-alexnet', 'vision-vgg', 'vision-nin', 'vision-googlenet', 'vision-resnet', 'vision-regnet']);
  for (const p of VISION_PAPERS) {
    const w = VISION_WORKLOADS.find((x) => x.name === `vision-${p.name}`)!;
    assert.ok(WORKLOADS.includes(w), `${w.name} is in WORKLOADS`);
    const c = cpu(p.name);
    assert.equal(visionCpuPreset(p.name), c); // the preset object itself, so the workload follows it
    assert.equal(w.images, c.batch_size, w.name);
    assert.ok(w.description.includes(`${c.size}×${c.size}, batch ${c.batch_size}, lr ${c.lr}`), w.description);
    assert.equal(w.tokens, undefined);
  }
  // spot-check against the numbers the presets carry today (papers/resnet: 28×28, batch 256)
  assert.deepEqual([cpu('resnet').size, VISION_WORKLOADS[4].images], [28, 256]);
  assert.throws(() => visionCpuPreset('lenet5'), /unknown vision net "lenet5"; nets: alexnet, vgg, nin, googlenet, resnet, regnet/);
  assert.throws(() => visionStep('regnet', { batch: 0 }), /batch must be a positive integer, got 0/);
});

test('one train step of a vision net at its cpu preset: finite loss, the preset size, an SGD step of the preset lr', () => {
  // RegNet builds and steps in well under a second: the full check on it (small batch, the preset's size and lr)
  const { net, config, images, step } = visionStep('regnet', { batch: 4 });
  assert.equal(config, cpu('regnet'));
  assert.equal(images, 4);
  assert.equal(net.training, true);
  const params = net.parameters();
  const before = params.map((p) => p.toTypedArray());
  const loss = step();
  assert.ok(Number.isFinite(loss) && loss > 0, `regnet: loss ${loss}`);
  const { worst, moved } = sgdStepError(params, before, config.lr);
  assert.ok(worst <= 5e-7, `regnet: a parameter is off θ − lr·grad by ${worst} of its operands' size (a float32 rounding is 6e-8)`);
  assert.ok(moved > 0, 'regnet: no parameter moved');
  // the other quick builders take a step at their preset's size too (AlexNet and VGG spend seconds initialising their dense layers)
  for (const name of ['nin', 'googlenet', 'resnet']) {
    const l = visionStep(name, { batch: 2 }).step();
    assert.ok(Number.isFinite(l) && l > 0, `${name}: loss ${l}`);
  }
});

test("the PyTorch peer's vision nets are the cpu presets, built from the fixtures' torch.nn definitions, with our timing rule", () => {
  const py = torchPeer();
  const literal = (name: string): unknown => pyLiteral(py, name);
  const nets = literal('VISION') as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(nets), VISION_WORKLOADS.map((w) => w.name));
  for (const p of VISION_PAPERS) {
    const c = cpu(p.name);
    assert.deepEqual(nets[`vision-${p.name}`], { net: p.name, size: c.size, batch: c.batch_size, lr: c.lr }, p.name);
  }
  const w = VISION_WORKLOADS[0];
  assert.ok(VISION_WORKLOADS.every((x) => x.minRuns === w.minRuns && x.maxRuns === w.maxRuns && x.budgetMs === w.budgetMs));
  assert.deepEqual(literal('VISION_RUNS'), { min_runs: w.minRuns, max_runs: w.maxRuns, budget_ms: w.budgetMs });
  // the nets come from test/fixtures/gen_vision.py (the oracle of test/vision.test.ts), not from a copy
  assert.match(py, /import gen_vision/);
  assert.match(py, /gen_vision\.NETS\[c\["net"\]\]/);
  assert.match(py, /nn\.init\.xavier_uniform_\(m\.weight\)/);
});

test('the images/s table: the preset size and batch, rounds merged, ratios at the same thread count', () => {
  const v = (name: string, backend: string, threads: number, median_ms: number, load: number): BenchRecord =>
    m(name, backend, threads, median_ms, { load_avg: [load, 1, 1] }); // ours carry no images_per_s: the report computes it
  const rs: BenchRecord[] = [
    v('vision-resnet', 'native', 1, 4000, 6.5), v('vision-resnet', 'pytorch', 1, 1000, 7.1),
    v('vision-resnet', 'native', 2, 2000, 6.8), v('vision-resnet', 'pytorch', 2, 800, 6.9),
    v('vision-resnet', 'native', 1, 6000, 6.0), v('vision-resnet', 'pytorch', 1, 3000, 6.2),
    v('vision-resnet', 'native', 1, 5000, 6.4), v('vision-resnet', 'pytorch', 1, 2000, 6.3),
    { name: 'vision-alexnet', backend: 'native', threads: 1, error: 'timed out after 300 s' },
    m('lstm', 'native', 1, 40),
  ];
  const r = find(rs, 'vision-resnet', 'native', 1)!;
  assert.equal(r.median_ms, 5000); // median of 4000, 6000, 5000
  assert.equal(r.images_per_s, 51.2); // 256 images / 5 s
  const md = visionSection(rs, 2).join('\n');
  assert.match(md, /^## Vision nets at their cpu presets \(images\/s\)$/m);
  assert.match(md, /\| net \| size \| batch \| \*\*native\*\*, 1t \| pytorch, 1t \| native ÷ PyTorch, 1t \| \*\*native\*\*, 2t \| pytorch, 2t \| native ÷ PyTorch, 2t \|/);
  // 1 thread: 256 / 5 s = 51 vs 256 / 2 s = 128 → 0.40; 2 threads: 128 vs 320 → 0.40
  assert.match(md, /^\| vision-resnet \| 28×28 \| 256 \| 51 \(5000 ms\) \| 128 \(2000 ms\) \| 0\.40 \| 128 \(2000 ms\) \| 320 \(800 ms\) \| 0\.40 \|$/m);
  assert.match(md, /^\| vision-alexnet \| 65×65 \| 128 \| failed \| — \| — \|/m);
  assert.doesNotMatch(md, /vision-vgg/);
  assert.match(md, /the median of 3 rounds/);
  assert.match(md, /load average when these runs started: 6\.00–7\.10 \(2 cores/);
  assert.deepEqual(visionSection([m('lstm', 'native', 1, 40)]), []);
  assert.match(renderReport(rs, { cores: 2 }), /## Vision nets at their cpu presets \(images\/s\)/);
});

// ---------------------------------------------------------------- the translation papers at their d2l presets

test('a translate workload per translation paper, following its d2l preset', () => {
  assert.deepEqual(TRANSLATE_WORKLOADS.map((w) => w.name), ['translate-seq2seq', 'translate-bahdanau', 'translate-transformer']);
  for (const p of TRANSLATION_PAPERS) {
    const w = TRANSLATE_WORKLOADS.find((x) => x.name === `translate-${p.name}`)!;
    assert.ok(WORKLOADS.includes(w), `${w.name} is in WORKLOADS`);
    const c = p.presets.d2l.config;
    assert.equal(w.tokens, c.batch_size * c.num_steps, w.name);
    assert.ok(w.description.includes(`${c.batch_size} × ${c.num_steps} tokens, vocab 184 → 201`), w.description);
  }
  assert.equal(TRANSLATE_WORKLOADS[0].tokens, 64 * 10); // d2l's batch 64 × 10 steps
  assert.throws(() => translateStep('gnmt'), /unknown paper "gnmt"; papers: seq2seq, bahdanau, transformer/);
});

test('one train step of each translation model: a batch of the preset shape, loss near ln 201, gradients clipped, an Adam step', () => {
  const { srcVocab, tgtVocab, minValid } = SIZES.translate;
  for (const p of TRANSLATION_PAPERS) {
    const { model, config, batch, tokens, step } = translateStep(p.name);
    assert.equal(config, p.presets.d2l.config); // the preset object itself, so the workload follows it
    const B = config.batch_size;
    const T = config.num_steps;
    assert.equal(tokens, B * T);
    const [X, XValid, Y, YValid] = batch;
    assert.deepEqual([X.shape, XValid.shape, Y.shape, YValid.shape], [[B, T], [B], [B, T], [B]]);
    const within = (t: Tensor, lo: number, hi: number) => Array.from(t.toTypedArray()).every((v) => v >= lo && v <= hi);
    assert.ok(within(X, 0, srcVocab - 1) && within(Y, 0, tgtVocab - 1), `${p.name}: tokens outside the vocabularies`);
    assert.ok(within(XValid, minValid, T) && within(YValid, minValid, T), `${p.name}: valid lengths outside [${minValid}, ${T}]`);
    assert.equal(model.training, true);
    const params = model.parameters();
    const before = params.map((q) => q.toTypedArray());
    const loss = step();
    // Freshly initialised, the model predicts nearly uniformly over the 201 target words: loss ≈ ln 201.
    assert.ok(Math.abs(loss - Math.log(tgtVocab)) < 0.5, `${p.name}: first loss ${loss}, expected about ln ${tgtVocab} = ${Math.log(tgtVocab).toFixed(4)}`);
    const norm = Math.sqrt(noGrad(() => params.reduce((s, q) => s + (q.grad ? q.grad.mul(q.grad).sum().item() : 0), 0)));
    assert.ok(norm > 0 && norm <= config.clip * (1 + 1e-5), `${p.name}: gradient norm ${norm} after clipping to ${config.clip}`);
    // Adam's first step moves each entry by lr · g / (|g| + ε): at most lr, about lr wherever the gradient is not tiny
    let worst = 0;
    let moved = 0;
    params.forEach((q, i) => {
      const now = q.toTypedArray();
      for (let k = 0; k < now.length; k++) {
        worst = Math.max(worst, Math.abs(now[k] - before[i][k]) - 1e-6 * Math.abs(before[i][k]));
        if (now[k] !== before[i][k]) moved++;
      }
    });
    assert.ok(worst <= config.lr * (1 + 1e-4), `${p.name}: an entry moved by ${worst}, more than Adam's first step of lr ${config.lr}`);
    assert.ok(moved > 0, `${p.name}: no parameter moved`);
  }
});

test("the PyTorch peer's translation workloads: the papers at our sizes and timing rule, built by papers/translation/twin_torch.py", () => {
  const py = torchPeer();
  assert.deepEqual(pyLiteral(py, 'TRANSLATE'), Object.fromEntries(TRANSLATION_PAPERS.map((p) => [`translate-${p.name}`, p.name])));
  const w = TRANSLATE_WORKLOADS[0];
  assert.ok(TRANSLATE_WORKLOADS.every((x) => x.minRuns === w.minRuns && x.maxRuns === w.maxRuns && x.budgetMs === w.budgetMs));
  const c = TRANSLATION_PAPERS[0].presets.d2l.config;
  assert.ok(TRANSLATION_PAPERS.every((p) => p.presets.d2l.config.batch_size === c.batch_size && p.presets.d2l.config.num_steps === c.num_steps));
  const { srcVocab, tgtVocab, minValid } = SIZES.translate;
  assert.deepEqual(pyLiteral(py, 'TRANSLATE_SIZES'), {
    src_vocab: srcVocab, tgt_vocab: tgtVocab, batch: c.batch_size, steps: c.num_steps, min_valid: minValid, min_runs: w.minRuns, max_runs: w.maxRuns, budget_ms: w.budgetMs,
  });
  // the models, their init and the presets come from the twin (imported by its path in the repository), not from a copy
  assert.ok(existsSync(join(ROOT, 'papers/translation/twin_torch.py')), 'papers/translation/twin_torch.py is in the repository');
  assert.match(py, /"papers" \/ "translation"/);
  assert.match(py, /import twin_torch/);
  assert.match(py, /twin_torch\.PRESETS\[paper\]\["d2l"\]/);
  assert.match(py, /twin_torch\.init_weights\(model\)/);
  assert.match(py, /twin_torch\.clip_gradients\(params, cfg\["clip"\]\)/);
});

test('the skipgram workload: the skip-gram paper\'s step at its d2l preset, and the PyTorch peer at the same sizes from its twin', () => {
  const { model, batch, tokens, step } = skipGramStepBench();
  const { vocab, batch: B, maxContexts, noise } = SIZES.skipgram;
  const c = skipGramPaper.presets.d2l.config;
  assert.equal(tokens, B);
  assert.deepEqual(batch[1].shape, [B, maxContexts * (1 + noise)], 'some centre has the most contexts');
  assert.deepEqual(model.embedV.weight.shape, [vocab, c.embed]);
  const before = step();
  assert.ok(Math.abs(before - Math.log(2)) < 0.01, `at init the scores are near 0: loss ${before}`);
  assert.ok(step() < before, 'one Adam step lowers the loss on the same batch');
  const w = SKIPGRAM_WORKLOADS[0];
  const py = torchPeer();
  assert.deepEqual(pyLiteral(py, 'SKIPGRAM_SIZES'), {
    vocab, batch: B, max_contexts: maxContexts, noise, embed: c.embed, lr: c.lr, min_runs: w.minRuns, max_runs: w.maxRuns, budget_ms: w.budgetMs,
  });
  assert.match(py, /import reference_torch as twin/);
});

test('the translation tokens/s table: ours beside PyTorch at the same thread count', () => {
  const tr = (name: string, backend: string, median_ms: number): BenchRecord =>
    m(name, backend, 1, median_ms, { tokens_per_s: (640 / median_ms) * 1000, load_avg: [4.5, 1, 1] });
  const rs: BenchRecord[] = [
    tr('translate-seq2seq', 'native', 160), tr('translate-seq2seq', 'pytorch', 80),
    { name: 'translate-transformer', backend: 'native', threads: 1, error: 'timed out after 300 s' }, tr('translate-transformer', 'pytorch', 100),
    m('lstm', 'native', 1, 40),
  ];
  const md = translationSection(rs, 2).join('\n');
  assert.match(md, /^## Translation papers at their d2l presets \(tokens\/s\)$/m);
  assert.match(md, /batch 64 × 10 synthetic tokens, vocabularies 184 → 201/);
  // 640 tokens / 0.16 s = 4,000 vs 640 / 0.08 s = 8,000 → 0.50
  assert.match(md, /^\| translate-seq2seq \| 4,000 \(160 ms\) \| 8,000 \(80\.0 ms\) \| 0\.50 \|$/m);
  assert.match(md, /^\| translate-transformer \| failed \| 6,400 \(100 ms\) \| — \|$/m);
  assert.doesNotMatch(md, /translate-bahdanau|charlm/);
  assert.deepEqual(translationSection([m('lstm', 'native', 1, 40)]), []);
  assert.match(renderReport(rs, { cores: 2 }), /## Translation papers at their d2l presets \(tokens\/s\)/);
});

test("the PyTorch peer's bert workload: our sizes and timing rule, the twin's model, the same batch formulas", () => {
  const py = torchPeer();
  const [w] = BERT_WORKLOADS;
  const { vocab, batch, maxLen, preds } = SIZES.bert;
  assert.deepEqual(pyLiteral(py, 'BERT_SIZES'), { vocab, batch, max_len: maxLen, preds, min_runs: w.minRuns, max_runs: w.maxRuns, budget_ms: w.budgetMs });
  assert.match(py, /import reference_torch/);
  assert.match(py, /reference_torch\.BERT\(V, cfg\)/);
  // the formulas, checked on a small batch: v_b = 20 + 13b mod 45 (capped at T), tokens (131b + 17t) mod V, positions 1 + (b + 5j) mod (v_b − 2)
  const b = bertBatch(4, 32, 3, 50);
  assert.deepEqual(Array.from(b.validLens.toTypedArray()), [20, 32, 32, 32]);
  assert.deepEqual(Array.from(b.tokens.toTypedArray()).slice(32, 35), [131 % 50, (131 + 17) % 50, (131 + 34) % 50]);
  assert.deepEqual(Array.from(b.positions.toTypedArray()).slice(0, 3), [1, 6, 11]);
  assert.deepEqual(Array.from(b.weights.toTypedArray()).slice(0, 3), [1, 1, 1], 'round(0.15 · 20) = 3 predictions');
});
