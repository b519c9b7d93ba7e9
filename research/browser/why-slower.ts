/**
 * Why was the LeNet step 2.7x slower in Chromium than in Node (issue #20: 162 ms against 59.5 ms,
 * one thread, pfs.wasm)? The same step (step-page.ts) in headless Chromium under several conditions,
 * interleaved round by round with Node's run of it, so that a loaded machine slows all alike:
 *   main        the page's main thread, pfs.wasm (the issue's setup, without a bundler)
 *   worker      a module worker, pfs.wasm
 *   main-relaxed / worker-relaxed   the same with pfs-relaxed.wasm
 * each in a browser started with the V8 flags of `--flags` (a comma-separated list of sets; '' is
 * none), and Node's single-threaded build (plain and relaxed) in this process. Prints the median
 * per condition over all rounds, and the module memory's growth during the first runs.
 *
 *   node dist/research/browser/why-slower.js [--rounds 3] [--runs 15] [--flags ",--no-wasm-dynamic-tiering"]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from '../../bench/chromium.js';
import { median } from '../../bench/workloads.js';
import { ISOLATION_HEADERS } from '../../cli/serve.js';
import { loadWasmBackend } from '../../src/backend/wasm/node.js';
import { registerBackend, useBackend } from '../../src/backend/registry.js';
import { lenetTrainStep } from '../../bench/lenet-step.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ROUNDS = Number(arg('rounds', '3'));
const RUNS = Number(arg('runs', '15'));
const WARMUP = 5;
const FLAG_SETS = arg('flags', ',--no-wasm-dynamic-tiering').split(',');

const PAGE = (mode: string, wasm: string) => `<!doctype html><meta charset="utf-8"><script type="module">
const url = '/src/backend/wasm/${wasm}';
if ('${mode}' === 'main') {
  const { timeStep } = await import('/dist/research/browser/step-page.js');
  window.result = await timeStep(url, ${RUNS}, ${WARMUP});
} else {
  const w = new Worker('/dist/research/browser/step-worker.js', { type: 'module' });
  window.result = await new Promise((ok) => { w.onmessage = (e) => ok(e.data); w.postMessage({ url, runs: ${RUNS}, warmup: ${WARMUP} }); });
}
</script>`;

const server = createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type });
    res.end(body);
  };
  if (u.pathname === '/page.html') return send(200, 'text/html', PAGE(u.searchParams.get('mode')!, u.searchParams.get('wasm')!));
  const ok = /^\/(dist\/(src|papers|research|bench)\/[\w/.-]+\.js|src\/backend\/wasm\/pfs[\w-]*\.wasm)$/.test(u.pathname) && !u.pathname.includes('..');
  const file = join(ROOT, u.pathname);
  if (!ok || !existsSync(file)) return send(404, 'text/plain', 'not found');
  send(200, u.pathname.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', readFileSync(file));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

/** Node's run: the single-threaded build (relaxed: V8's flag turned on, as PFS_WASM_RELAXED=1). */
function nodeStep(relaxed: boolean): { times: number[]; first: number[] } {
  const load = loadWasmBackend({ threaded: false, relaxed: relaxed ? 'on' : 'off' });
  if (!load.backend) throw new Error(load.reason);
  registerBackend({ ...load.backend, name: 'wasm-study' });
  useBackend('wasm-study');
  const step = lenetTrainStep(256);
  const times: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    step();
    (i >= WARMUP ? times : first).push(performance.now() - t0);
  }
  return { times, first };
}

const exe = findChromium();
if (exe.path === null) throw new Error(exe.why);
const all = new Map<string, number[]>();
const add = (k: string, ts: number[]) => all.set(k, [...(all.get(k) ?? []), ...ts]);
const growth = new Map<string, number[]>();
const cold = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const flags of FLAG_SETS) {
    const browser = await chromium.launch({ executablePath: exe.path, headless: true, args: flags ? [`--js-flags=${flags}`] : [] });
    for (const mode of ['main', 'worker']) {
      for (const wasm of ['pfs.wasm', 'pfs-relaxed.wasm']) {
        const page = await browser.newPage();
        await page.goto(`${base}/page.html?mode=${mode}&wasm=${wasm}`);
        await page.waitForFunction(() => 'result' in window, undefined, { timeout: 300_000 });
        const r = await page.evaluate(() => (window as unknown as { result: { times: number[]; first: number[]; memoryBytes: number[]; error?: string } }).result);
        if (r.error) throw new Error(r.error);
        const key = `chromium ${browser.version()} ${mode}${wasm.includes('relaxed') ? '-relaxed' : ''}${flags ? ` ${flags}` : ''}`;
        add(key, r.times);
        growth.set(key, r.memoryBytes.slice(0, WARMUP + 2));
        if (round === 0) cold.set(key, r.first);
        await page.close();
      }
    }
    await browser.close();
  }
  for (const relaxed of [false, true]) {
    const key = `node ${process.versions.node} pfs${relaxed ? '-relaxed' : ''}.wasm`;
    const r = nodeStep(relaxed);
    add(key, r.times);
    if (round === 0) cold.set(key, r.first);
  }
}
server.close();
for (const [k, ts] of all) {
  console.log(`${k.padEnd(62)} median ${median(ts).toFixed(1).padStart(7)} ms  min ${Math.min(...ts).toFixed(1).padStart(7)} ms  (${ts.length} steps)`);
}
for (const [k, f] of cold) console.log(`the ${WARMUP} untimed first steps, ${k}: ${f.map((t) => t.toFixed(0)).join(', ')} ms`);
for (const [k, m] of growth) console.log(`memory during the first steps, ${k}: ${m.map((b) => (b / 2 ** 20).toFixed(0)).join(' → ')} MiB`);
