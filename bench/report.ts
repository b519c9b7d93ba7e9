/**
 * Writes bench/RESULTS.md from what bench/run.sh collected: one JSON line per measurement (the
 * fields of `pfs bench --json`), per failure ({name, backend, threads, error}) and per workload not
 * run ({name, backend, threads, skipped}), plus a JSON file about the run (machine, date, commit,
 * command, versions, install notes).
 *
 *   node dist/bench/report.js RESULTS.jsonl META.json > bench/RESULTS.md
 *
 * The targets are the project's speed targets against its peers (below, judgeTargets); each is judged from what the same run measured. A workload
 * measured in several rounds (the language models, vision nets, translation papers, skip-gram and BERT: BENCH_ROUNDS) counts with the median of
 * its rounds' medians, its fastest run over all rounds and its highest peak RSS.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CHARLM_WORKLOADS, median, SIZES, TRANSLATE_WORKLOADS, VISION_WORKLOADS, visionCpuPreset, WORKLOADS, type Workload } from './workloads.js';

export interface BenchRecord {
  name: string;
  backend: string;
  threads: number;
  median_ms?: number;
  min_ms?: number;
  runs?: number;
  gflops?: number;
  tokens_per_s?: number;
  /** Images trained on per second (the vision nets; PyTorch's lines carry it, ours get it from the workload's images). */
  images_per_s?: number;
  peak_rss_mb?: number;
  /** 1, 5 and 15-minute load average when the measurement started. */
  load_avg?: number[];
  /** Rounds merged into this record (several measurements of the same workload, backend and threads). */
  rounds?: number;
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
  /** Where the run's raw JSON lines went (bench/run.sh: beside the report, or research/bench/RESULTS.jsonl for bench/RESULTS.md). */
  raw?: string;
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

/** A measured record's value, or undefined. */
const measured = (r: BenchRecord | undefined): r is BenchRecord & { median_ms: number } => r !== undefined && typeof r.median_ms === 'number';

/**
 * The result of a workload on a backend (and thread count): its record, or, where it was measured in
 * several rounds, one record of their median (the median of the rounds' medians; GFLOP/s, tokens/s and
 * images/s from that median), their fastest run, their runs together and the highest peak RSS. A failed or
 * skipped record is returned only when no round was measured.
 */
export function find(rs: readonly BenchRecord[], name: string, backend: string, threads?: number): BenchRecord | undefined {
  const all = rs.filter((r) => r.name === name && r.backend === backend && (threads === undefined || r.threads === threads));
  const ok = all.filter(measured);
  if (ok.length <= 1) return ok[0] ?? all[0];
  const med = median(ok.map((r) => r.median_ms));
  const w = WORKLOADS.find((x) => x.name === name);
  const merged: BenchRecord = {
    name, backend, threads: ok[0].threads, median_ms: med, min_ms: Math.min(...ok.map((r) => r.min_ms ?? r.median_ms)),
    runs: ok.reduce((n, r) => n + (r.runs ?? 0), 0), rounds: ok.length,
  };
  if (w?.flops !== undefined) merged.gflops = w.flops / med / 1e6;
  if (w?.tokens !== undefined) merged.tokens_per_s = (w.tokens / med) * 1000;
  if (w?.images !== undefined) merged.images_per_s = (w.images / med) * 1000;
  const rss = ok.map((r) => r.peak_rss_mb).filter((x): x is number => typeof x === 'number');
  if (rss.length) merged.peak_rss_mb = Math.max(...rss);
  return merged;
}

export interface TargetRow {
  target: string;
  ours: string;
  peer: string;
  /** ours / the reference, of the quantity the target compares (GFLOP/s, tokens/s, time, peak RSS); undefined when not measured. */
  ratio?: number;
  verdict: 'met' | 'missed' | 'not measured';
}

/** The training workloads of the step-time targets: ours on the native backend against PyTorch. */
export const TRAINING_WORKLOADS: readonly string[] = [
  'lenet', 'lstm', 'transformer', 'resnet18', 'translate-seq2seq', 'translate-bahdanau', 'translate-transformer', 'skipgram', 'bert',
];

/** What a target compares, read from a measured record, and how its cell shows it. */
interface Quantity {
  of(r: BenchRecord & { median_ms: number }): number | undefined;
  show(x: number): string;
}
const GFLOPS: Quantity = { of: (r) => r.gflops, show: (x) => `${x.toFixed(1)} GFLOP/s` };
const MEDIAN: Quantity = { of: (r) => r.median_ms, show: ms };
const FASTEST: Quantity = { of: (r) => r.min_ms, show: (x) => `${ms(x)} (fastest)` };
/** Tokens per second from the median, as the tokens/s tables count them. */
const TOKENS: Quantity = {
  of: (r) => {
    const tokens = WORKLOADS.find((w) => w.name === r.name)?.tokens;
    return tokens !== undefined ? (tokens / r.median_ms) * 1000 : undefined;
  },
  show: (x) => `${thousands(x)} tokens/s`,
};

/**
 * The project's speed targets against its peers, each row ours against a reference (a peer, or ours at
 * another thread count): ratio = ours / reference of the quantity compared (GFLOP/s, tokens/s, a median
 * or fastest time, peak RSS), met when it reaches the target's bound. Times are medians, but for the
 * 2-thread bound on PyTorch's fastest run (the fastest of all its rounds).
 */
export function judgeTargets(rs: readonly BenchRecord[]): TargetRow[] {
  const rows: TargetRow[] = [];
  const judge = (target: string, a: BenchRecord | undefined, qa: Quantity, b: BenchRecord | undefined, qb: Quantity, ok: (ratio: number) => boolean): void => {
    const x = measured(a) ? qa.of(a) : undefined;
    const y = measured(b) ? qb.of(b) : undefined;
    if (x === undefined || y === undefined) {
      rows.push({ target, ours: cell(a), peer: cell(b), verdict: 'not measured' });
      return;
    }
    const ratio = x / y;
    rows.push({ target, ours: qa.show(x), peer: qb.show(y), ratio, verdict: ok(ratio) ? 'met' : 'missed' });
  };
  const atMost = (need: number) => (ratio: number) => ratio <= need;
  const atLeast = (need: number) => (ratio: number) => ratio >= need;
  for (const n of TRAINING_WORKLOADS) {
    judge(`native ${n} step, 1 thread ≤ PyTorch (median)`, find(rs, n, 'native', 1), MEDIAN, find(rs, n, 'pytorch', 1), MEDIAN, atMost(1));
  }
  for (const n of TRAINING_WORKLOADS) {
    const two = find(rs, n, 'native', 2);
    judge(`native ${n} step, 2 threads ≤ 1.1 × PyTorch's fastest`, two, MEDIAN, find(rs, n, 'pytorch', 2), FASTEST, atMost(1.1));
    judge(`native ${n} step, 2 threads faster than its 1 thread (medians)`, two, MEDIAN, find(rs, n, 'native', 1), MEDIAN, (ratio) => ratio < 1);
  }
  for (const w of CHARLM_WORKLOADS) {
    for (const t of [1, 2]) {
      judge(`native ${w.name}, ${t} thread${t > 1 ? 's' : ''} ≥ PyTorch (tokens/s)`, find(rs, w.name, 'native', t), TOKENS, find(rs, w.name, 'pytorch', t), TOKENS, atLeast(1));
    }
  }
  judge('native SGEMM 1024, 2 threads ≥ 0.8 × PyTorch (GFLOP/s)', find(rs, 'sgemm-1024', 'native', 2), GFLOPS, find(rs, 'sgemm-1024', 'pytorch', 2), GFLOPS, atLeast(0.8));
  judge('wasm SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm', 1), GFLOPS, find(rs, 'sgemm-1024', 'tfjs-wasm'), GFLOPS, atLeast(1.5));
  judge('wasm SGEMM 1024, 2 threads ≥ 1.7 × its 1 thread (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm', 2), GFLOPS, find(rs, 'sgemm-1024', 'wasm', 1), GFLOPS, atLeast(1.7));
  // the relaxed-SIMD build (fused multiply-add), where the run measured it
  if (rs.some((r) => r.backend === 'wasm-relaxed')) {
    judge('wasm-relaxed SGEMM 1024, 1 thread ≥ 1.5 × TF.js wasm (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm-relaxed', 1), GFLOPS, find(rs, 'sgemm-1024', 'tfjs-wasm'), GFLOPS, atLeast(1.5));
    judge('wasm-relaxed SGEMM 1024, 2 threads ≥ 1.7 × its 1 thread (GFLOP/s)', find(rs, 'sgemm-1024', 'wasm-relaxed', 2), GFLOPS, find(rs, 'sgemm-1024', 'wasm-relaxed', 1), GFLOPS, atLeast(1.7));
  }
  rows.push(rssTarget(rs));
  return rows;
}

/**
 * Peak RSS of ours (native) against PyTorch's on every workload both measured at the same thread count,
 * as one row: the worst ratio, naming its workload and thread count and how many pairs were compared.
 */
function rssTarget(rs: readonly BenchRecord[]): TargetRow {
  const target = 'native peak RSS ≤ PyTorch\'s on every workload both ran, at each thread count (the worst)';
  let worst: { name: string; threads: number; ours: number; peer: number } | undefined;
  let pairs = 0;
  const seen = new Set<string>();
  for (const r of rs) {
    const key = `${r.name} ${r.threads}`;
    if (r.backend !== 'native' || seen.has(key)) continue;
    seen.add(key);
    const a = find(rs, r.name, 'native', r.threads);
    const b = find(rs, r.name, 'pytorch', r.threads);
    if (!measured(a) || !measured(b) || a.peak_rss_mb === undefined || b.peak_rss_mb === undefined) continue;
    pairs++;
    if (worst === undefined || a.peak_rss_mb / b.peak_rss_mb > worst.ours / worst.peer) {
      worst = { name: r.name, threads: r.threads, ours: a.peak_rss_mb, peer: b.peak_rss_mb };
    }
  }
  if (worst === undefined) return { target, ours: '—', peer: '—', verdict: 'not measured' };
  const ratio = worst.ours / worst.peer;
  return {
    target, ours: `${worst.ours.toFixed(0)} MB (${worst.name}, ${worst.threads}t; worst of ${pairs} compared)`, peer: `${worst.peer.toFixed(0)} MB`,
    ratio, verdict: ratio <= 1 ? 'met' : 'missed',
  };
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
  const ours = ['native', 'wasm', 'wasm-relaxed', 'ref'].includes(backend);
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

  L.push('## Speed targets against the peers', '');
  L.push('Ours is the native backend unless a row names wasm. Times are medians (the median of the rounds\' medians where a workload ran');
  L.push('in rounds), but for PyTorch\'s fastest run (of all rounds) in the 2-thread rows; tokens/s is tokens over the median time.', '');
  L.push('| target | ours | peer | ratio | verdict |', '|---|---|---|---|---|');
  for (const t of judgeTargets(rs)) {
    L.push(`| ${t.target} | ${t.ours} | ${t.peer} | ${t.ratio !== undefined ? t.ratio.toFixed(2) : '—'} | ${t.verdict === 'missed' ? '**missed**' : t.verdict} |`);
  }
  L.push('');

  L.push(...charLMSection(rs, meta.cores));
  L.push(...visionSection(rs, meta.cores));
  L.push(...translationSection(rs, meta.cores));

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
  L.push(`as many as a 2–5 s budget allows; the slow peers get 1 warm-up and 3 runs (the runs field of each line in ${meta.raw !== undefined ? `${meta.raw}, the run's raw lines` : 'the .jsonl file beside this one'}).`);
  L.push('The `charlm-*` workloads are papers/rnn\'s models, measured against PyTorch only, ours and PyTorch\'s runs interleaved:');
  L.push('bench/peers/torch_bench.py writes the RNN, GRU and LSTM from their equations as our cells do, and uses `nn.LSTM` for the');
  L.push('2-layer and bidirectional models, as d2l\'s concise versions do.');
  L.push('The `vision-*` workloads are papers/vision\'s nets at their `cpu` presets, also against PyTorch only and interleaved with it;');
  L.push('the PyTorch peer builds them with the torch.nn definitions of test/fixtures/gen_vision.py (d2l\'s, `nn.LazyLinear` included).');
  L.push('The `translate-*` workloads are the translation papers\' models, built by their papers\' code at the d2l presets, against PyTorch only');
  L.push('and interleaved with it; the PyTorch peer builds them with papers/translation/twin_torch.py, the project\'s PyTorch twin of the three papers.');
  L.push('`skipgram` and `bert` are the skip-gram and BERT papers\' steps at their d2l presets, measured on the native backend only');
  L.push('against PyTorch (their papers\' reference_torch.py), interleaved with it.');
  L.push('`embedding` (the skip-gram lookup and its gradient) is measured on our backends only: no peer runs it.');
  L.push('');
  return L.join('\n');
}

/** The range of the 1-minute load average the records started under, as a line and a blank one; none without load figures. */
function loadLine(recs: readonly BenchRecord[], cores?: number | string): string[] {
  const loads = recs.map((r) => r.load_avg?.[0]).filter((x): x is number => typeof x === 'number');
  if (!loads.length) return [];
  const busy = cores !== undefined ? ` (${cores} cores: above ${cores}, other jobs were competing for them)` : '';
  return [`1-minute load average when these runs started: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}${busy}.`, ''];
}

/** "12,345". */
const thousands = (x: number): string => Math.round(x).toLocaleString('en-US');

/**
 * The language models' table: tokens/s of ours and of PyTorch at each thread count, and their ratio
 * (ours / PyTorch: above 1, ours is faster), plus the load average the runs saw. Empty when none ran.
 */
export function charLMSection(rs: readonly BenchRecord[], cores?: number | string): string[] {
  return tokensSection(rs, cores, CHARLM_WORKLOADS, '## Character-level language models (tokens/s)', "papers/rnn's d2l presets, batch 32 × 35");
}

/** The translation papers' table, as the language models' (tokens/s, ours beside PyTorch). Empty when none ran. */
export function translationSection(rs: readonly BenchRecord[], cores?: number | string): string[] {
  const { srcVocab, tgtVocab } = SIZES.translate;
  return tokensSection(rs, cores, TRANSLATE_WORKLOADS, '## Translation papers at their d2l presets (tokens/s)',
    `d2l's train_seq2seq step at each paper's d2l preset, batch 64 × 10 synthetic tokens, vocabularies ${srcVocab} → ${tgtVocab}`);
}

/** A tokens/s table of `workloads` under `heading`; `what` says what one step is. */
function tokensSection(rs: readonly BenchRecord[], cores: number | string | undefined, workloads: readonly Workload[], heading: string, what: string): string[] {
  const names = workloads.map((w) => w.name);
  const recs = rs.filter((r) => names.includes(r.name));
  if (!recs.some(measured)) return [];
  const threads = [...new Set(recs.map((r) => r.threads))].sort((a, b) => a - b);
  const ours = ['native', 'wasm'].filter((b) => recs.some((r) => r.backend === b));
  const rounds = Math.max(...names.flatMap((n) => [...ours, 'pytorch'].flatMap((b) => threads.map((t) => find(rs, n, b, t)?.rounds ?? 1))));
  const tps = (r: BenchRecord | undefined): string =>
    measured(r) && r.tokens_per_s !== undefined ? `${thousands(r.tokens_per_s)} (${ms(r.median_ms)})` : cell(r);
  const head: string[] = [];
  for (const t of threads) head.push(...ours.map((b) => column(b, t)), column('pytorch', t), ...ours.map((b) => `${b} ÷ PyTorch, ${t}t`));
  const L: string[] = [heading, ''];
  L.push(`Tokens per second of one train step (${what}; the step's median time in brackets)${rounds > 1 ? `, the median of ${rounds} rounds` : ''};`);
  L.push('ratio = our tokens/s ÷ PyTorch\'s at the same thread count (above 1: ours is faster).', '');
  L.push(`| model | ${head.join(' | ')} |`, `|---|${head.map(() => '---').join('|')}|`);
  for (const n of names) {
    if (!recs.some((r) => r.name === n)) continue;
    const cells: string[] = [];
    for (const t of threads) {
      const p = find(rs, n, 'pytorch', t);
      const os = ours.map((b) => find(rs, n, b, t));
      cells.push(...os.map(tps), tps(p), ...os.map((o) => (measured(o) && measured(p) ? (p.median_ms / o.median_ms).toFixed(2) : '—')));
    }
    L.push(`| ${n} | ${cells.join(' | ')} |`);
  }
  L.push('', ...loadLine(recs, cores));
  return L;
}

/**
 * The vision nets' table: for each net, its cpu preset's input size and batch, then images/s of ours
 * and of PyTorch at each thread count and their ratio (ours / PyTorch: above 1, ours is faster), plus
 * the load average the runs saw. Images/s is computed here, from the workload's images per step and the
 * median step time, for every record alike. Empty when none ran.
 */
export function visionSection(rs: readonly BenchRecord[], cores?: number | string): string[] {
  const recs = rs.filter((r) => VISION_WORKLOADS.some((w) => w.name === r.name));
  if (!recs.some(measured)) return [];
  const threads = [...new Set(recs.map((r) => r.threads))].sort((a, b) => a - b);
  const ours = ['native', 'wasm'].filter((b) => recs.some((r) => r.backend === b));
  const rounds = Math.max(...VISION_WORKLOADS.flatMap((w) => [...ours, 'pytorch'].flatMap((b) => threads.map((t) => find(rs, w.name, b, t)?.rounds ?? 1))));
  const head: string[] = [];
  for (const t of threads) head.push(...ours.map((b) => column(b, t)), column('pytorch', t), ...ours.map((b) => `${b} ÷ PyTorch, ${t}t`));
  const L: string[] = ['## Vision nets at their cpu presets (images/s)', ''];
  L.push(`Images per second of one train step (forward, cross-entropy, backward, SGD) of each papers/vision net at its \`cpu\` preset's input size,`);
  L.push(`batch and lr (the step's median time in brackets)${rounds > 1 ? `, the median of ${rounds} rounds` : ''}; ratio = our images/s ÷ PyTorch's at the same thread count (above 1: ours is faster).`, '');
  L.push(`| net | size | batch | ${head.join(' | ')} |`, `|---|---|---|${head.map(() => '---').join('|')}|`);
  for (const w of VISION_WORKLOADS) {
    if (!recs.some((r) => r.name === w.name)) continue;
    const images = w.images!;
    const ips = (r: BenchRecord | undefined): string => (measured(r) ? `${thousands((images / r.median_ms) * 1000)} (${ms(r.median_ms)})` : cell(r));
    const cells: string[] = [];
    for (const t of threads) {
      const p = find(rs, w.name, 'pytorch', t);
      const os = ours.map((b) => find(rs, w.name, b, t));
      cells.push(...os.map(ips), ips(p), ...os.map((o) => (measured(o) && measured(p) ? (p.median_ms / o.median_ms).toFixed(2) : '—')));
    }
    const size = visionCpuPreset(w.name.slice('vision-'.length)).size;
    L.push(`| ${w.name} | ${size}×${size} | ${images} | ${cells.join(' | ')} |`);
  }
  L.push('', ...loadLine(recs, cores));
  return L;
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
