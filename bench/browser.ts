/**
 * `pfs bench [browser-lenet] [browser-lstm] [--threads N] [--runs N] [--warmup N] [--no-peers] [--json] [--js-flags "..."]`
 *
 * Training steps timed in headless Chromium: the d2l LeNet step (batch 256, bench/workloads.ts's
 * `lenet` workload, built the same way in the app's worker) and the hand-written LSTM step (the `lstm`
 * workload, bench/lstm-step.ts, 35 steps × batch 32, H 256). Each in the browser app's training worker
 * on the wasm backend (threaded build, N threads); then TensorFlow.js's `cpu` and `wasm` backends in the
 * same Chromium (a page of their own, the workloads of bench/peers/tfjs-workloads.mjs, the peer's
 * browser bundles from bench/node_modules: `cd bench && npm install` first, or they are reported as not
 * installed; --no-peers leaves them out); then the same step on Node's wasm backend with the same thread
 * count. One line each, the fastest and the median run, and ratios within the run. The app is served
 * by `pfs serve`'s handler on an ephemeral port; Chromium is found as the browser tests find it
 * (bench/chromium.ts) and driven by playwright-core (a devDependency: this benchmark runs in a checkout).
 * --js-flags passes V8 flags to Chromium (e.g. "--no-wasm-dynamic-tiering"), to find out where time goes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { parseArgs } from '../cli/args.js';
import { ISOLATION_HEADERS, startServer } from '../cli/serve.js';
import { getWasmThreads, setWasmThreads, wasmStatus, wasmThreadsReady } from '../src/backend/auto.js';
import { availableBackends, useBackend } from '../src/backend/registry.js';
import { findChromium } from './chromium.js';
import { measure, median, WORKLOADS } from './workloads.js';

export const BROWSER_WORKLOADS = ['browser-lenet', 'browser-lstm'] as const;
type BrowserWorkload = (typeof BROWSER_WORKLOADS)[number];

/** Each browser workload: what it is, the app worker's request, the Node workload, the TF.js peer's workload. */
const SPECS: Record<BrowserWorkload, { title: string; request: (runs: number, warmup: number) => unknown; node: string; tfjs: string }> = {
  'browser-lenet': { title: 'LeNet train step, batch 256', request: (steps, warmup) => ({ op: 'bench-lenet', batch: 256, steps, warmup }), node: 'lenet', tfjs: 'lenet' },
  'browser-lstm': { title: 'LSTM train step (d2l from scratch: 35 steps × batch 32, H 256, clip 1)', request: (steps, warmup) => ({ op: 'bench-lstm', steps, warmup }), node: 'lstm', tfjs: 'lstm' },
};

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench');
const TFJS = join(BENCH_DIR, 'node_modules', '@tensorflow', 'tfjs', 'dist');
const TFJS_WASM = join(BENCH_DIR, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');

/** The TF.js page: the peer's browser bundles (globals `tf` and `tf.wasm`), then its workloads as a module. */
const TFJS_PAGE = `<!doctype html><meta charset="utf-8"><title>tfjs peer</title>
<script src="/tfjs/tf.min.js"></script><script src="/tfjs/tf-backend-wasm.min.js"></script>
<script type="module">import { tfjsWorkloads } from '/peers/tfjs-workloads.mjs'; window.tfjsWorkloads = tfjsWorkloads; window.peerReady = true;</script>`;

/** Serves the TF.js page, its bundles and .wasm files, and the two peer modules; nothing else. Cross-origin isolated, as `pfs serve`. */
function peerServer(): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    '/tfjs/tf.min.js': [join(TFJS, 'tf.min.js'), 'text/javascript'],
    '/tfjs/tf-backend-wasm.min.js': [join(TFJS_WASM, 'tf-backend-wasm.min.js'), 'text/javascript'],
    '/peers/tfjs-workloads.mjs': [join(BENCH_DIR, 'peers', 'tfjs-workloads.mjs'), 'text/javascript'],
    '/peers/random.mjs': [join(BENCH_DIR, 'peers', 'random.mjs'), 'text/javascript'],
  };
  for (const w of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) files[`/tfjs/${w}`] = [join(TFJS_WASM, w), 'application/wasm'];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type });
      res.end(body);
    };
    if (path === '/tfjs.html') return send(200, 'text/html', TFJS_PAGE);
    const f = files[path];
    if (!f || !existsSync(f[0])) return send(404, 'text/plain', 'not found');
    send(200, f[1], readFileSync(f[0]));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** One TF.js workload on one of its backends, in a fresh page: its step times, or the error it failed with. */
async function tfjsInBrowser(browser: Browser, url: string, backend: 'cpu' | 'wasm', name: string, threads: number, runs: number, warmup: number) {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}tfjs.html`);
    await page.waitForFunction(() => 'peerReady' in window, undefined, { timeout: 60_000 });
    return await page.evaluate(async ({ backend, name, threads, runs, warmup }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = window as any;
      const tf = w.tf;
      try {
        if (backend === 'wasm') {
          tf.wasm.setWasmPaths('/tfjs/');
          tf.wasm.setThreadsCount(threads);
        }
        if (!(await tf.setBackend(backend))) throw new Error(`tfjs: the ${backend} backend failed to initialise`);
        await tf.ready();
        const step = w.tfjsWorkloads(tf)[name]();
        const times: number[] = [];
        for (let i = 0; i < warmup + runs; i++) {
          const t0 = performance.now();
          await step();
          if (i >= warmup) times.push(performance.now() - t0);
        }
        return { times, threads: backend === 'wasm' ? tf.wasm.getThreadsCount() : 1, error: null as string | null };
      } catch (e) {
        return { times: [] as number[], threads: 0, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
      }
    }, { backend, name, threads, runs, warmup });
  } finally {
    await page.close();
  }
}

export interface BrowserBenchResult {
  name: string;
  where: string;
  backend: string;
  threads: number;
  median_ms: number;
  min_ms: number;
  runs: number;
  load_avg: number[];
  /** Why it has no times (a peer that failed). */
  error?: string;
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
  const args = parseArgs(argv, ['json', 'no-peers'], ['threads', 'runs', 'warmup', 'js-flags'], false);
  for (const n of args.positionals) {
    if (!(BROWSER_WORKLOADS as readonly string[]).includes(n)) throw new Error(`unknown browser benchmark ${JSON.stringify(n)}; browser benchmarks: ${BROWSER_WORKLOADS.join(', ')}`);
  }
  const names = (args.positionals.length ? args.positionals : BROWSER_WORKLOADS) as BrowserWorkload[];
  const threads = whole('threads', args.flags.threads, 1, 1);
  const runs = whole('runs', args.flags.runs, 1, 20);
  const warmup = whole('warmup', args.flags.warmup, 0, 5);
  const jsFlags = typeof args.flags['js-flags'] === 'string' ? args.flags['js-flags'] : '';
  const peers = args.flags['no-peers'] !== true;
  const peersInstalled = existsSync(join(TFJS, 'tf.min.js')) && existsSync(join(TFJS_WASM, 'tf-backend-wasm.min.js'));
  const found = findChromium();
  if (found.path === null) throw new Error(`browser benchmarks need Chromium: ${found.why}`);
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch {
    throw new Error('browser benchmarks need playwright-core (a devDependency: run them in a checkout after npm install)');
  }
  const results: BrowserBenchResult[] = [];
  const load = () => loadavg().map((l) => Number(l.toFixed(2)));
  const timed = (name: string, where: string, backend: string, th: number, times: number[], load_avg: number[]): BrowserBenchResult => ({
    name, where, backend, threads: th, median_ms: round(median(times)), min_ms: round(Math.min(...times)), runs: times.length, load_avg,
  });
  const { server, url } = await startServer(0, '127.0.0.1');
  const peer = peers && peersInstalled ? await peerServer() : null;
  const browser = await pw.chromium.launch({ executablePath: found.path, headless: true, args: jsFlags ? [`--js-flags=${jsFlags}`] : [] });
  const chromium = `Chromium ${browser.version()}${jsFlags ? ` (--js-flags=${jsFlags})` : ''}`;
  try {
    const page = await browser.newPage();
    await page.goto(`${url}?threads=${threads}#lenet`);
    await page.waitForSelector('#backend[data-ready]', { timeout: 60_000 });
    const ready = await page.getAttribute('#backend', 'data-ready');
    if (ready !== '1') throw new Error(`the app's backend did not load: ${await page.textContent('#backend')}`);
    for (const n of names) {
      const load_avg = load();
      const r = (await page.evaluate(
        (req) => (window as unknown as { pfsApp: { call(r: unknown): Promise<unknown> } }).pfsApp.call(req),
        SPECS[n].request(runs, warmup),
      )) as { times: number[]; backend: string };
      results.push(timed(n, `${chromium}, app worker`, r.backend, threads, r.times, load_avg));
      if (!peers) continue;
      for (const b of ['cpu', 'wasm'] as const) {
        const backend = `tfjs-${b}`;
        if (!peer) {
          results.push({ name: n, where: chromium, backend, threads: 0, median_ms: NaN, min_ms: NaN, runs: 0, load_avg: load(), error: 'TensorFlow.js is not installed in bench/ (cd bench && npm install)' });
          continue;
        }
        // TF.js's cpu backend takes seconds per LeNet step: three runs after one warm-up, as bench/run.sh does in Node
        const [pr, pw0] = b === 'cpu' ? [Math.min(runs, 3), Math.min(warmup, 1)] : [runs, warmup];
        const load_avg = load();
        const t = await tfjsInBrowser(browser, peer.url, b, SPECS[n].tfjs, threads, pr, pw0);
        if (t.error !== null) results.push({ name: n, where: `${chromium}, page`, backend, threads: t.threads, median_ms: NaN, min_ms: NaN, runs: 0, load_avg, error: t.error });
        else results.push(timed(n, `${chromium}, page`, backend, t.threads, t.times, load_avg));
      }
    }
  } finally {
    await browser.close();
    server.close();
    peer?.server.close();
  }
  // the same steps on Node's wasm backend, same thread count, right after
  if (!availableBackends().includes('wasm')) throw new Error(`Node's wasm backend is unavailable: ${wasmStatus().reason}`);
  useBackend('wasm', 'pfs bench browser-*');
  setWasmThreads(threads);
  if (!wasmThreadsReady(20_000)) throw new Error('the wasm backend\'s worker threads did not start within 20 s');
  for (const n of names) {
    const w = WORKLOADS.find((x) => x.name === SPECS[n].node)!;
    const load_avg = load();
    const t = measure(w.setup(), { warmup, minRuns: runs, maxRuns: runs, budgetMs: 0 });
    results.push({
      name: SPECS[n].node, where: `Node ${process.versions.node}`, backend: wasmStatus().reason, threads: getWasmThreads(),
      median_ms: round(t.median_ms), min_ms: round(t.min_ms), runs: t.runs, load_avg,
    });
  }

  if (args.flags.json === true) for (const x of results) out.write(JSON.stringify(x) + '\n');
  else {
    for (const n of names) {
      const rows = results.filter((x) => x.name === n || x.name === SPECS[n].node);
      out.write(`${SPECS[n].title}, ${threads} thread${threads === 1 ? '' : 's'}; load average ${rows[0].load_avg.join(' ')}\n`);
      for (const x of rows) {
        const who = (x.backend.startsWith('tfjs') ? x.backend : x.where.startsWith('Node') ? 'ours, Node' : 'ours, browser').padEnd(14);
        if (x.error) out.write(`  ${who} failed: ${x.error}  (${x.where})\n`);
        else out.write(`  ${who} ${x.median_ms.toFixed(2).padStart(9)} ms median ${x.min_ms.toFixed(2).padStart(9)} ms fastest  ${x.runs} runs  ${x.where}: ${x.backend}${x.backend.startsWith('tfjs') ? `, ${x.threads} thread${x.threads === 1 ? '' : 's'}` : ''}\n`);
      }
      const ours = rows[0];
      const ratio = (a: BrowserBenchResult, b: BrowserBenchResult) => `${(a.min_ms / b.min_ms).toFixed(2)}x fastest, ${(a.median_ms / b.median_ms).toFixed(2)}x median`;
      const node = rows.find((x) => x.where.startsWith('Node'))!;
      out.write(`  ours, browser / Node: ${ratio(ours, node)}\n`);
      for (const x of rows.filter((r) => r.backend.startsWith('tfjs') && !r.error)) out.write(`  ${x.backend} / ours (browser): ${ratio(x, ours)}\n`);
    }
  }
  return 0;
}
