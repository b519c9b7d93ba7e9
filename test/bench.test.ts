/**
 * `pfs bench` and the benchmark report: the JSON lines and their arithmetic, the errors for bad
 * arguments, the timing rule, the JavaScript peers' agreement with our workload list, and how the
 * report judges issue 3's targets.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { bench } from '../bench/cli.js';
import { judgeTargets, parseRecords, renderReport, type BenchRecord } from '../bench/report.js';
import { measure, median, WORKLOADS } from '../bench/workloads.js';
import { backendInfo } from '../src/backend/registry.js';

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
  assert.ok(Math.abs(r.gflops - expected) <= 0.01 + 1e-3 * expected, `gflops ${r.gflops}, 2n³/median gives ${expected}`);
  assert.ok(r.peak_rss_mb > 10, `peak RSS ${r.peak_rss_mb} MB`);
});

test('--backend ref runs on one thread; the text table names the backend', () => {
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
  assert.deepEqual(Object.keys(peers.BUDGET), WORKLOADS.map((w) => w.name));
  for (const w of WORKLOADS) {
    const b = peers.BUDGET[w.name];
    assert.deepEqual([b.minRuns, b.maxRuns, b.budgetMs, b.flops], [w.minRuns, w.maxRuns, w.budgetMs, w.flops], w.name);
  }
});

/** A measured result. */
const m = (name: string, backend: string, threads: number, median_ms: number, extra: Partial<BenchRecord> = {}): BenchRecord => ({
  name, backend, threads, median_ms, min_ms: median_ms, runs: 5, peak_rss_mb: 100, ...extra,
});

test('the report judges each target from the same run', () => {
  const rs: BenchRecord[] = [
    m('sgemm-1024', 'native', 2, 13, { gflops: 160 }),
    m('sgemm-1024', 'pytorch', 2, 11, { gflops: 188 }),
    m('lenet', 'native', 2, 15, { peak_rss_mb: 300 }),
    m('lenet', 'pytorch', 2, 13.6, { peak_rss_mb: 280 }),
    m('lenet', 'pytorch', 1, 23.5),
    m('resnet18', 'native', 2, 600),
    m('resnet18', 'pytorch', 2, 444),
    { name: 'lstm', backend: 'pytorch', threads: 2, error: 'Segmentation fault' },
  ];
  const rows = new Map(judgeTargets(rs).map((r) => [r.target.split(' ').slice(0, 3).join(' '), r]));
  const sgemm = rows.get('native SGEMM 1024,')!;
  assert.equal(sgemm.verdict, 'met'); // 160 / 188 = 0.85 ≥ 0.8
  assert.ok(Math.abs(sgemm.ratio! - 160 / 188) < 1e-12);
  const lenet = rows.get('native LeNet step')!;
  assert.equal(lenet.verdict, 'missed'); // 15 ms > 13.6 ms (the 2-thread figure, not the 1-thread one)
  assert.ok(Math.abs(lenet.ratio! - 15 / 13.6) < 1e-12);
  assert.equal(rows.get('native ResNet-18 step')!.verdict, 'met'); // 600 / 444 = 1.35 ≤ 1.5
  assert.equal(rows.get('native LSTM step')!.verdict, 'not measured');
  assert.equal(rows.get('wasm SGEMM 1024,')!.verdict, 'not measured');
  assert.equal(rows.get('peak RSS of')!.verdict, 'met'); // 300 / 280 ≤ 2

  const md = renderReport(rs, { machine: 'Test CPU', cores: 2, commit: 'abc1234', command: 'bash bench/run.sh' });
  assert.match(md, /- machine: Test CPU, 2 cores/);
  assert.match(md, /- commit: abc1234/);
  assert.match(md, /\| native LeNet step ≤ PyTorch \(2 threads\) \| 15\.0 ms \| 13\.6 ms \| 1\.10 \| \*\*missed\*\* \|/);
  assert.match(md, /\| sgemm-1024 \| 160\.0 GFLOP\/s \(13\.0 ms\) \| 188\.0 GFLOP\/s \(11\.0 ms\) \|/);
  assert.match(md, /failed \[1\]/);
  assert.match(md, /^1\. failed: Segmentation fault$/m);
});

test('parseRecords names the line it cannot read', () => {
  assert.equal(parseRecords('{"name":"lenet","backend":"ref","threads":1,"median_ms":3}\n\n').length, 1);
  assert.throws(() => parseRecords('{"name":"lenet","backend":"ref","threads":1}\nnot json'), /results line 2: not JSON/);
  assert.throws(() => parseRecords('{"threads":1}'), /results line 1: expected name and backend/);
});
