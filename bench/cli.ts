/**
 * `pfs bench [NAME...] [--backend B] [--threads N] [--json] [--runs N] [--warmup N] [--list]`
 *
 * Times the workloads of bench/workloads.ts on one backend and prints, per workload, the median and
 * the fastest wall time of one run (and GFLOP/s for GEMM, tokens/s for the language models). With
 * --json, one line per result:
 *   {"name", "backend", "threads", "median_ms", "min_ms", "runs", "gflops"?, "tokens_per_s"?, "images_per_s"?, "peak_rss_mb", "pool_peak_mb", "load_avg"}
 * peak_rss_mb is the process's peak resident memory so far: it is the workload's own figure when
 * the workload runs alone in its process (bench/run.sh does that). pool_peak_mb is the most the
 * buffer pool (src/tensor/dtype.ts: gradients backward has released, for reuse) has held so far,
 * part of that resident memory. load_avg is the machine's 1, 5
 * and 15-minute load average when the workload started (other jobs on the machine slow it down).
 *
 * Also runnable on its own: `node dist/bench/cli.js ...` takes the same arguments.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from '../cli/args.js';
import { getWasmThreads, nativeStatus, setWasmThreads, wasmStatus, wasmThreadsReady } from '../src/backend/auto.js';
import { getNumThreads, setNumThreads } from '../src/backend/native/index.js';
import { availableBackends, backendInfo, useBackend } from '../src/backend/registry.js';
import { poolStats } from '../src/tensor/dtype.js';
import { browserBench, BROWSER_WORKLOADS } from './browser.js';
import { findWorkloads, measure, WORKLOADS } from './workloads.js';

export const BENCH_USAGE = `pfs bench [NAME...] [options]   time the benchmark workloads (default: all of them)

Options:
  --backend B     ref, native, ... (default: the backend in use; see \`pfs info\`)
  --threads N     threads of the backend's kernels (native, wasm: default PFS_THREADS, else every core)
  --runs N        exactly N timed runs per workload (default: as many as about 2-5 s allow)
  --warmup N      untimed runs first (default 2)
  --json          one JSON line per result: name, backend, threads, median_ms, min_ms, runs, gflops, tokens_per_s,
                  images_per_s, peak_rss_mb, pool_peak_mb, load_avg
  --list          the workloads and the backends available, then exit

Browser workloads (browser-lenet, browser-lstm; alone, not with the others): --threads N, --runs N, --warmup N, --json,
  --no-peers (leave out TensorFlow.js's cpu and wasm backends, run in the same Chromium when bench/ has them: cd bench &&
  npm install), and --js-flags "..." (V8 flags for Chromium). Needs Chromium (PFS_CHROMIUM or /usr/bin/chromium) and
  playwright-core.
`;

export interface BenchResult {
  name: string;
  backend: string;
  threads: number;
  median_ms: number;
  min_ms: number;
  runs: number;
  gflops?: number;
  /** Tokens trained on per second (tokens of one run / median time), for the language models. */
  tokens_per_s?: number;
  /** Images trained on per second (images of one run / median time), for the vision nets. */
  images_per_s?: number;
  peak_rss_mb: number;
  pool_peak_mb: number;
  /** 1, 5 and 15-minute load average of the machine when the workload started. */
  load_avg: number[];
}

/** A whole number ≥ min from a flag's text, or a clear error. */
function wholeNumber(flag: string, v: string | true | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Picks the backend and its thread count; returns the thread count in use. */
function selectBackend(name: string | undefined, threads: number | undefined): { backend: string; threads: number } {
  if (name !== undefined) {
    if (!availableBackends().includes(name)) {
      const why = name === 'native' ? ` (native: ${nativeStatus().reason})` : '';
      throw new Error(`--backend: unknown or unavailable backend ${JSON.stringify(name)}; available: ${availableBackends().join(', ')}${why}`);
    }
    useBackend(name, '--backend');
  }
  const backend = backendInfo().name;
  if (backend === 'native') {
    if (threads !== undefined) setNumThreads(threads);
    return { backend, threads: getNumThreads() };
  }
  if (backend === 'wasm') {
    if (threads !== undefined) setWasmThreads(threads);
    // start the worker threads before timing, so that every timed run has them
    if (!wasmThreadsReady(20_000)) throw new Error(`--threads: the wasm backend's worker threads did not start within 20 s`);
    // the relaxed-SIMD build is reported apart, as `wasm-relaxed`
    return { backend: wasmStatus().relaxed ? 'wasm-relaxed' : backend, threads: getWasmThreads() };
  }
  // The other backends' kernels run on the calling thread.
  if (threads !== undefined && threads !== 1) throw new Error(`--threads: the ${backend} backend runs on one thread, got --threads ${threads}`);
  return { backend, threads: 1 };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
/** Width of the name column of the text output (the longest workload name). */
const NAME_WIDTH = Math.max(12, ...WORKLOADS.map((w) => w.name.length));

/** `pfs bench`: returns the exit status (a promise of it for the browser workloads, bench/browser.ts). */
/**
 * The native backend as it is now: its build (malloc as tuned by now, which `reason`, fixed when the
 * addon loaded, does not show) and threads, or why it is not there.
 */
function nativeLine(): string {
  const s = nativeStatus();
  return s.available ? `C kernels (${s.build}), ${getNumThreads()} threads` : s.reason;
}

export function bench(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): number | Promise<number> {
  if (argv.some((a) => a.startsWith('browser-'))) return browserBench(argv, out);
  const args = parseArgs(argv, ['json', 'list', 'help'], ['backend', 'threads', 'runs', 'warmup'], false);
  if (args.flags.help) {
    out.write(BENCH_USAGE);
    return 0;
  }
  const json = args.flags.json === true;
  if (args.flags.list) {
    if (json) out.write(JSON.stringify({ workloads: WORKLOADS.map((w) => w.name), backends: availableBackends(), native: nativeLine() }) + '\n');
    else {
      for (const w of WORKLOADS) out.write(`${w.name.padEnd(NAME_WIDTH)} ${w.description}\n`);
      for (const w of BROWSER_WORKLOADS) out.write(`${w.padEnd(NAME_WIDTH)} the ${w.slice(8)} step in headless Chromium (the app's worker, wasm), TF.js cpu and wasm there, and Node's wasm backend; run alone (bench/browser.ts)\n`);
      out.write(`backends: ${availableBackends().join(', ')} (native: ${nativeLine()})\n`);
    }
    return 0;
  }
  const workloads = findWorkloads(args.positionals);
  const threadsAsked = wholeNumber('threads', args.flags.threads, 1);
  const runs = wholeNumber('runs', args.flags.runs, 1);
  const warmup = wholeNumber('warmup', args.flags.warmup, 0);
  const { backend, threads } = selectBackend(args.flags.backend as string | undefined, threadsAsked);

  if (!json) {
    out.write(`backend ${backend} (${backendInfo().reason}), ${threads} thread${threads === 1 ? '' : 's'}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    out.write(`${'benchmark'.padEnd(NAME_WIDTH)} ${'median ms'.padStart(10)} ${'min ms'.padStart(10)} ${'runs'.padStart(5)} ${'GFLOP/s'.padStart(8)} ${'tokens/s'.padStart(9)} ${'peak RSS MB'.padStart(12)}\n`);
  }
  for (const w of workloads) {
    const load_avg = loadavg().map((l) => round(l, 2));
    const t = measure(w.setup(), {
      warmup,
      minRuns: runs ?? w.minRuns,
      maxRuns: runs ?? w.maxRuns,
      budgetMs: runs !== undefined ? 0 : w.budgetMs,
    });
    const r: BenchResult = { name: w.name, backend, threads, median_ms: round(t.median_ms, 3), min_ms: round(t.min_ms, 3), runs: t.runs, peak_rss_mb: 0, pool_peak_mb: 0, load_avg };
    if (w.flops !== undefined) r.gflops = round(w.flops / t.median_ms / 1e6, 2);
    if (w.tokens !== undefined) r.tokens_per_s = round((w.tokens / t.median_ms) * 1000, 1);
    if (w.images !== undefined) r.images_per_s = round((w.images / t.median_ms) * 1000, 1);
    r.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024, 1); // maxRSS is in KiB
    r.pool_peak_mb = round(poolStats().peakBytes / 2 ** 20, 1);
    if (json) out.write(JSON.stringify(r) + '\n');
    else {
      const gf = r.gflops !== undefined ? r.gflops.toFixed(1) : '';
      const tps = r.tokens_per_s !== undefined ? r.tokens_per_s.toFixed(0) : '';
      out.write(`${w.name.padEnd(NAME_WIDTH)} ${r.median_ms.toFixed(2).padStart(10)} ${r.min_ms.toFixed(2).padStart(10)} ${String(r.runs).padStart(5)} ${gf.padStart(8)} ${tps.padStart(9)} ${r.peak_rss_mb.toFixed(0).padStart(12)}\n`);
    }
  }
  return 0;
}

// `node dist/bench/cli.js ...`: the same command without the pfs front end.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    Promise.resolve(bench(process.argv.slice(2))).then(
      (code) => (process.exitCode = code),
      (e: unknown) => {
        process.stderr.write(`pfs bench: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
      },
    );
  } catch (e) {
    process.stderr.write(`pfs bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
