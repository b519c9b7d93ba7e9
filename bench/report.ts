/**
 * Writes bench/RESULTS.md from what bench/run.sh collected: one JSON line per measurement (the
 * fields of `pfs bench --json`), per failure ({name, backend, threads, error}) and per workload not
 * run ({name, backend, threads, skipped}), plus a JSON file about the run (machine, date, commit,
 * command, versions, install notes).
 *
 *   node dist/bench/report.js RESULTS.jsonl META.json > bench/RESULTS.md
 *
 * The targets are issue 3's; each is judged from medians measured in the same run.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WORKLOADS } from './workloads.js';

export interface BenchRecord {
  name: string;
  backend: string;
  threads: number;
  median_ms?: number;
  min_ms?: number;
  runs?: number;
  gflops?: number;
  peak_rss_mb?: number;
  /** The process failed: its last line of error output. */
  error?: string;
  /** Not run, and why. */
  skipped?: string;
}

export interface Meta {
  date?: string;
  commit?: string;
  command?: string;
  machine?: string;
  cores?: number | string;
  load_before?: string;
  load_after?: string;
  wall_s?: number;
  /** Versions of the peers and tools ("PyTorch": "1.13.1", ...). */
  versions?: { [what: string]: string };
  /** Lines about the set-up: installs done, installs that failed. */
  notes?: string[];
}

/** Parses JSON lines, ignoring blank lines; a bad line is an error naming its number. */
export function parseRecords(text: string): BenchRecord[] {
  const out: BenchRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: BenchRecord;
    try {
      r = JSON.parse(line) as BenchRecord;
    } catch {
      throw new Error(`results line ${i + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    if (typeof r.name !== 'string' || typeof r.backend !== 'string') throw new Error(`results line ${i + 1}: expected name and backend, got ${line.slice(0, 80)}`);
    out.push(r);
  });
  return out;
}

const find = (rs: readonly BenchRecord[], name: string, backend: string, threads?: number): BenchRecord | undefined =>
  rs.find((r) => r.name === name && r.backend === backend && (threads === undefined || r.threads === threads));

/** A measured record's value, or undefined. */
const measured = (r: BenchRecord | undefined): r is BenchRecord & { median_ms: number } => r !== undefined && typeof r.median_ms === 'number';

export interface TargetRow {
  target: string;
  ours: string;
  peer: string;
  /** ours / peer in the target's sense (speed ratio or time ratio); undefined when not measured. */
  ratio?: number;
  verdict: 'met' | 'missed' | 'not measured';
}

/**
 * Issue 3's targets. Throughput targets compare GFLOP/s (higher is better: ratio = ours / peer must
 * reach `need`); time and memory targets compare medians (ratio = ours / peer must stay ≤ `need`).
 */
export function judgeTargets(rs: readonly BenchRecord[]): TargetRow[] {
  const rows: TargetRow[] = [];
  const speed = (target: string, a: BenchRecord | undefined, b: BenchRecord | undefined, need: number): void => {
    if (!measured(a) || !measured(b) || a.gflops === undefined || b.gflops === undefined) {
      rows.push({ target, ours: cell(a), peer: cell(b), verdict: 'not measured' });
      return;
    }
    const ratio = a.gflops / b.gflops;
    rows.push({ target, ours: `${a.gflops.toFixed(1)} GFLOP/s`, peer: `${b.gflops.toFixed(1)} GFLOP/s`, ratio, verdict: ratio >= need ? 'met' : 'missed' });
  };
  const time = (target: string, a: BenchRecord | undefined, b: BenchRecord | undefined, need: number): void => {
    if (!measured(a) || !measured(b)) {
      rows.push({ target, ours: cell(a), peer: cell(b), verdict: 'not measured' });
      return;
    }
    const ratio = a.median_ms / b.median_ms;
    rows.push({ target, ours: ms(a.median_ms), peer: ms(b.median_ms), ratio, verdict: ratio <= need ? 'met' : 'missed' });
  };
  speed('native SGEMM 1024, 2 threads ≥ 0.8 × PyTorch (GFLOP/s)', find(rs, 'sgemm-1024', 'native', 2), find(rs, 'sgemm-1024', 'pytorch', 2), 0.8);
  speed('wasm SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm', 1), find(rs, 'sgemm-1024', 'tfjs-wasm'), 1.5);
  speed('wasm SGEMM 1024, 2 threads ≥ 1.7 × its 1 thread (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm', 2), find(rs, 'sgemm-1024', 'wasm', 1), 1.7);
  time('native LeNet step ≤ PyTorch (2 threads)', find(rs, 'lenet', 'native', 2), find(rs, 'lenet', 'pytorch', 2), 1);
  time('native LSTM step ≤ PyTorch (2 threads)', find(rs, 'lstm', 'native', 2), find(rs, 'lstm', 'pytorch', 2), 1);
  time('native ResNet-18 step ≤ 1.5 × PyTorch (2 threads)', find(rs, 'resnet18', 'native', 2), find(rs, 'resnet18', 'pytorch', 2), 1.5);
  time('native Transformer layer ≤ 1.5 × PyTorch (2 threads)', find(rs, 'transformer', 'native', 2), find(rs, 'transformer', 'pytorch', 2), 1.5);
  const a = find(rs, 'lenet', 'native', 2);
  const b = find(rs, 'lenet', 'pytorch', 2);
  const target = 'peak RSS of the LeNet benchmark ≤ 2 × PyTorch (2 threads)';
  if (measured(a) && measured(b) && a.peak_rss_mb && b.peak_rss_mb) {
    const ratio = a.peak_rss_mb / b.peak_rss_mb;
    rows.push({ target, ours: `${a.peak_rss_mb.toFixed(0)} MB`, peer: `${b.peak_rss_mb.toFixed(0)} MB`, ratio, verdict: ratio <= 2 ? 'met' : 'missed' });
  } else rows.push({ target, ours: cell(a), peer: cell(b), verdict: 'not measured' });
  return rows;
}

function ms(x: number): string {
  return x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`;
}

/** A table cell: the median (and GFLOP/s), or why there is none. */
function cell(r: BenchRecord | undefined, notes?: Map<string, number>): string {
  if (r === undefined) return '—';
  if (measured(r)) return r.gflops !== undefined ? `${r.gflops.toFixed(1)} GFLOP/s (${ms(r.median_ms)})` : ms(r.median_ms);
  const why = r.error !== undefined ? `failed: ${r.error}` : `not run: ${r.skipped ?? 'no reason given'}`;
  if (!notes) return r.error !== undefined ? 'failed' : 'not run';
  if (!notes.has(why)) notes.set(why, notes.size + 1);
  return `${r.error !== undefined ? 'failed' : 'not run'} [${notes.get(why)}]`;
}

/** Column label of a backend and thread count. */
function column(backend: string, threads: number): string {
  const ours = ['native', 'wasm', 'ref'].includes(backend);
  const single = ['ref', 'tfjs-cpu', 'js-pytorch', 'jax-js-wasm'].includes(backend);
  return `${ours ? `**${backend}**` : backend}${single ? '' : `, ${threads}t`}`;
}

export function renderReport(rs: readonly BenchRecord[], meta: Meta): string {
  const L: string[] = [];
  L.push('# Benchmarks', '');
  L.push('Written by `bench/run.sh`; every number below comes from that one run. Times are medians of repeated runs after warm-up');
  L.push('(each workload in a process of its own); ours in **bold** columns. `Nt` = N threads. One of ours alone:');
  L.push('`pfs bench lenet --backend native --threads 2`; a peer alone: `node bench/peers/tfjs.mjs --backend wasm lstm`,');
  L.push('`/usr/bin/python3 bench/peers/torch_bench.py lenet --threads 2` (after `npm install` in bench/).', '');
  L.push(`- machine: ${meta.machine ?? 'unknown'}, ${meta.cores ?? '?'} cores`);
  L.push(`- date: ${meta.date ?? 'unknown'}; wall time of the run: ${meta.wall_s !== undefined ? `${Math.round(meta.wall_s)} s` : 'unknown'}`);
  L.push(`- commit: ${meta.commit ?? 'unknown'}`);
  L.push(`- command: \`${meta.command ?? 'bash bench/run.sh'}\``);
  L.push(`- load average before / after: ${meta.load_before ?? '?'} / ${meta.load_after ?? '?'}`);
  if (meta.versions && Object.keys(meta.versions).length) {
    L.push(`- versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  }
  for (const n of meta.notes ?? []) L.push(`- ${n}`);
  L.push('');

  L.push('## Targets (issue 3)', '');
  L.push('| target | ours | peer | ratio | verdict |', '|---|---|---|---|---|');
  for (const t of judgeTargets(rs)) {
    L.push(`| ${t.target} | ${t.ours} | ${t.peer} | ${t.ratio !== undefined ? t.ratio.toFixed(2) : '—'} | ${t.verdict === 'missed' ? '**missed**' : t.verdict} |`);
  }
  L.push('');

  // Columns in the order the run produced them; rows in the workloads' order.
  const cols: [string, number][] = [];
  for (const r of rs) if (!cols.some(([b, t]) => b === r.backend && t === r.threads)) cols.push([r.backend, r.threads]);
  const names = WORKLOADS.map((w) => w.name).filter((n) => rs.some((r) => r.name === n));
  const notes = new Map<string, number>();
  L.push('## All results', '');
  L.push(`| workload | ${cols.map(([b, t]) => column(b, t)).join(' | ')} |`);
  L.push(`|---|${cols.map(() => '---').join('|')}|`);
  for (const n of names) {
    L.push(`| ${n} | ${cols.map(([b, t]) => cell(find(rs, n, b, t), notes)).join(' | ')} |`);
  }
  L.push('');
  if (notes.size) {
    for (const [why, i] of notes) L.push(`${i}. ${why.replace(/\|/g, '\\|')}`);
    L.push('');
  }

  L.push('## Peak memory (RSS, MB; the whole process, each workload in its own)', '');
  L.push(`| workload | ${cols.map(([b, t]) => column(b, t)).join(' | ')} |`);
  L.push(`|---|${cols.map(() => '---').join('|')}|`);
  for (const n of names) {
    L.push(`| ${n} | ${cols.map(([b, t]) => { const r = find(rs, n, b, t); return r?.peak_rss_mb !== undefined ? r.peak_rss_mb.toFixed(0) : '—'; }).join(' | ')} |`);
  }
  L.push('');

  L.push('## Workloads', '');
  for (const w of WORKLOADS) L.push(`- \`${w.name}\`: ${w.description}`);
  L.push('');
  L.push('Each is written once per library, with the same sizes (bench/workloads.ts, bench/peers/). Where a peer lacks a piece:');
  L.push('TensorFlow.js works in its own NHWC layout; js-pytorch has no convolution, composes σ and tanh from exp, and steps');
  L.push('its LSTM with Adam (its only optimiser) without clipping. Runs per workload: at least 5–10 after 2 warm-up runs and');
  L.push('as many as a 2–5 s budget allows; the slow peers get 1 warm-up and 3 runs (the runs field of each line in the .jsonl file beside this one).');
  L.push('');
  return L.join('\n');
}

// `node dist/bench/report.js RESULTS.jsonl META.json`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [resultsFile, metaFile] = process.argv.slice(2);
  if (!resultsFile) {
    process.stderr.write('usage: node dist/bench/report.js RESULTS.jsonl [META.json]\n');
    process.exit(2);
  }
  const meta = metaFile ? (JSON.parse(readFileSync(metaFile, 'utf8')) as Meta) : {};
  process.stdout.write(renderReport(parseRecords(readFileSync(resultsFile, 'utf8')), meta));
}
