/**
 * `pfs bench browser-lenet [--threads N] [--runs N] [--warmup N] [--json] [--js-flags "..."]`
 *
 * The d2l LeNet training step (batch 256, bench/workloads.ts's `lenet` workload, built the same way
 * in the app's worker) timed in headless Chromium, in the browser app's training worker on the wasm
 * backend (threaded build, N threads), and in the same run on Node's wasm backend with the same thread
 * count: one line each, and their ratio. The app is served by `pfs serve`'s handler on an ephemeral
 * port; Chromium is found as the browser tests find it (bench/chromium.ts) and driven by playwright-core
 * (a devDependency: this benchmark runs in a checkout). --js-flags passes V8 flags to Chromium (e.g.
 * "--no-wasm-dynamic-tiering"), to find out where time goes.
 */
import { loadavg } from 'node:os';
import { parseArgs } from '../cli/args.js';
import { startServer } from '../cli/serve.js';
import { getWasmThreads, setWasmThreads, wasmStatus, wasmThreadsReady } from '../src/backend/auto.js';
import { availableBackends, useBackend } from '../src/backend/registry.js';
import { findChromium } from './chromium.js';
import { measure, median, WORKLOADS } from './workloads.js';

export const BROWSER_WORKLOADS = ['browser-lenet'] as const;

export interface BrowserBenchResult {
  name: string;
  where: string;
  backend: string;
  threads: number;
  median_ms: number;
  min_ms: number;
  runs: number;
  load_avg: number[];
}

function whole(flag: string, v: string | true | undefined, min: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v) || n < min) throw new Error(`--${flag}: expected a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const round = (x: number) => Number(x.toFixed(3));

/** Runs the browser workloads; returns the exit status. */
export async function browserBench(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const args = parseArgs(argv, ['json'], ['threads', 'runs', 'warmup', 'js-flags'], false);
  for (const n of args.positionals) {
    if (!(BROWSER_WORKLOADS as readonly string[]).includes(n)) throw new Error(`unknown browser benchmark ${JSON.stringify(n)}; browser benchmarks: ${BROWSER_WORKLOADS.join(', ')}`);
  }
  const threads = whole('threads', args.flags.threads, 1, 1);
  const runs = whole('runs', args.flags.runs, 1, 20);
  const warmup = whole('warmup', args.flags.warmup, 0, 5);
  const jsFlags = typeof args.flags['js-flags'] === 'string' ? args.flags['js-flags'] : '';
  const found = findChromium();
  if (found.path === null) throw new Error(`browser benchmarks need Chromium: ${found.why}`);
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch {
    throw new Error('browser benchmarks need playwright-core (a devDependency: run them in a checkout after npm install)');
  }
  const results: BrowserBenchResult[] = [];
  const { server, url } = await startServer(0, '127.0.0.1');
  const browser = await pw.chromium.launch({ executablePath: found.path, headless: true, args: jsFlags ? [`--js-flags=${jsFlags}`] : [] });
  try {
    const page = await browser.newPage();
    await page.goto(`${url}?threads=${threads}#lenet`);
    await page.waitForSelector('#backend[data-ready]', { timeout: 60_000 });
    const ready = await page.getAttribute('#backend', 'data-ready');
    if (ready !== '1') throw new Error(`the app's backend did not load: ${await page.textContent('#backend')}`);
    const load_avg = loadavg().map((l) => Number(l.toFixed(2)));
    const r = (await page.evaluate(
      (req) => (window as unknown as { pfsApp: { call(r: unknown): Promise<unknown> } }).pfsApp.call(req),
      { op: 'bench-lenet', batch: 256, steps: runs, warmup },
    )) as { times: number[]; backend: string };
    results.push({
      name: 'browser-lenet', where: `Chromium ${browser.version()}${jsFlags ? ` (--js-flags=${jsFlags})` : ''}, app worker`, backend: r.backend, threads,
      median_ms: round(median(r.times)), min_ms: round(Math.min(...r.times)), runs: r.times.length, load_avg,
    });
  } finally {
    await browser.close();
    server.close();
  }
  // the same step on Node's wasm backend, same thread count, right after
  if (!availableBackends().includes('wasm')) throw new Error(`Node's wasm backend is unavailable: ${wasmStatus().reason}`);
  useBackend('wasm', 'pfs bench browser-lenet');
  setWasmThreads(threads);
  if (!wasmThreadsReady(20_000)) throw new Error('the wasm backend\'s worker threads did not start within 20 s');
  const lenet = WORKLOADS.find((w) => w.name === 'lenet')!;
  const load_avg = loadavg().map((l) => Number(l.toFixed(2)));
  const t = measure(lenet.setup(), { warmup, minRuns: runs, maxRuns: runs, budgetMs: 0 });
  results.push({
    name: 'lenet', where: `Node ${process.versions.node}`, backend: wasmStatus().reason, threads: getWasmThreads(),
    median_ms: round(t.median_ms), min_ms: round(t.min_ms), runs: t.runs, load_avg,
  });

  if (args.flags.json === true) for (const x of results) out.write(JSON.stringify(x) + '\n');
  else {
    out.write(`LeNet train step, batch 256, ${threads} thread${threads === 1 ? '' : 's'}; load average ${results[0].load_avg.join(' ')}\n`);
    for (const x of results) out.write(`${x.name.padEnd(14)} ${x.median_ms.toFixed(2).padStart(9)} ms median ${x.min_ms.toFixed(2).padStart(9)} ms min  ${x.runs} runs  ${x.where}: ${x.backend}\n`);
    out.write(`browser / Node: ${(results[0].median_ms / results[1].median_ms).toFixed(2)}x (medians), ${(results[0].min_ms / results[1].min_ms).toFixed(2)}x (fastest runs)\n`);
  }
  return 0;
}
