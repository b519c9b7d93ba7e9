/**
 * What the JavaScript peer scripts share: their command line, the timing rule of
 * bench/workloads.ts `measure` (warm-up, then timed runs until a minimum count and a time budget are
 * reached, median), and the JSON line each result is printed as (the fields of `pfs bench --json`).
 *
 *   node bench/peers/<peer>.mjs [NAME...] [--runs N] [--warmup N] [--threads N] [--backend B]
 */
import { resourceUsage } from 'node:process';

export { randint, randn, rng } from './random.mjs';

/** Default timing per workload, as bench/workloads.ts. */
export const BUDGET = {
  'sgemm-256': { minRuns: 5, maxRuns: 200, budgetMs: 2000, flops: 2 * 256 ** 3 },
  'sgemm-512': { minRuns: 5, maxRuns: 200, budgetMs: 2000, flops: 2 * 512 ** 3 },
  'sgemm-1024': { minRuns: 5, maxRuns: 200, budgetMs: 2000, flops: 2 * 1024 ** 3 },
  'sgemm-2048': { minRuns: 5, maxRuns: 200, budgetMs: 2000, flops: 2 * 2048 ** 3 },
  lenet: { minRuns: 10, maxRuns: 100, budgetMs: 3000 },
  lstm: { minRuns: 10, maxRuns: 100, budgetMs: 3000 },
  transformer: { minRuns: 10, maxRuns: 100, budgetMs: 3000 },
  resnet18: { minRuns: 5, maxRuns: 30, budgetMs: 5000 },
};

/** Parses the peer command line; `workloads` are the names this peer implements. */
export function parseArgs(argv, workloads) {
  const opts = { names: [], runs: undefined, warmup: 2, threads: undefined, backend: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      opts.names.push(a);
      continue;
    }
    const key = a.slice(2);
    if (!['runs', 'warmup', 'threads', 'backend'].includes(key)) throw new Error(`unknown option ${a}; options: --runs N, --warmup N, --threads N, --backend B`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (key === 'backend') opts.backend = v;
    else {
      const n = Number(v);
      if (!Number.isInteger(n) || n < (key === 'warmup' ? 0 : 1)) throw new Error(`${a}: expected a whole number, got ${JSON.stringify(v)}`);
      opts[key] = n;
    }
  }
  for (const n of opts.names) {
    if (!(n in BUDGET)) throw new Error(`unknown benchmark ${JSON.stringify(n)}; benchmarks: ${Object.keys(BUDGET).join(', ')}`);
    if (!(n in workloads)) throw new Error(`${n}: not implemented by this peer (it has ${Object.keys(workloads).join(', ')})`);
  }
  if (opts.names.length === 0) opts.names = Object.keys(workloads);
  return opts;
}

/** Median of a list of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `run` (may be async) and returns {median_ms, min_ms, runs}. */
export async function measure(run, { warmup, minRuns, maxRuns, budgetMs }) {
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return { median_ms: median(times), min_ms: Math.min(...times), runs: times.length };
}

const round = (x, d) => Number(x.toFixed(d));

/**
 * Runs the named workloads of a peer and prints one JSON line each. `workloads[name]()` builds the
 * workload and returns one run (a function, sync or async).
 */
export async function runPeer(backend, threads, workloads, opts) {
  for (const name of opts.names) {
    const b = BUDGET[name];
    const timing = opts.runs
      ? { warmup: opts.warmup, minRuns: opts.runs, maxRuns: opts.runs, budgetMs: 0 }
      : { warmup: opts.warmup, minRuns: b.minRuns, maxRuns: b.maxRuns, budgetMs: b.budgetMs };
    const run = await workloads[name]();
    const t = await measure(run, timing);
    const r = { name, backend, threads, median_ms: round(t.median_ms, 3), min_ms: round(t.min_ms, 3), runs: t.runs };
    if (b.flops) r.gflops = round(b.flops / t.median_ms / 1e6, 2);
    r.peak_rss_mb = round(resourceUsage().maxRSS / 1024, 1);
    process.stdout.write(JSON.stringify(r) + '\n');
  }
}

/** Prints the error as one line on stderr and exits 1: bench/run.sh reports that line. */
export function fail(e) {
  process.stderr.write(`${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
