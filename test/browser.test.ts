/**
 * The browser app in a real Chromium (playwright-core driving the one found by bench/chromium.ts;
 * skipped, saying why, when there is none): served by `pfs serve`'s handler on an ephemeral port,
 * the page is cross-origin isolated and trains on the threaded wasm backend; LeNet trains a few dozen
 * steps on a small subset (its losses those of the same run in Node, and falling); a drawing gets a
 * class; a char model trains and samples; a translation
 * checkpoint of `pfs train` translates with the same words and attention weights as in Node; a checkpoint goes page → file → `pfs eval` / `pfs sample`
 * with the same numbers, and a `pfs train` checkpoint loads into the page; the op fixture cases run
 * in a page on ref and on wasm and agree (test/page-conformance.ts). Screenshots of each page
 * go to out/browser/ (the README's copies are in docs/browser/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { findChromium } from '../bench/chromium.js';
import { ISOLATION_HEADERS, startServer } from '../cli/serve.js';
import { loadFashionMnist } from '../src/data/load.js';
import { classifier, DataLoader, Generator, optim, TensorDataset } from '../src/node.js';
import { lenet, xavierInit } from '../papers/lenet/model.js';
import { TRANSLATION_PAPERS } from '../papers/index.js';
import { translateSentence } from '../papers/translation/translate.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { needsData } from './data-available.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PFS = join(ROOT, 'dist/cli/pfs.js');
const SHOTS = join(ROOT, 'out', 'browser');

const chromium = findChromium();
/** PFS_REQUIRE_CHROMIUM=1 (.ci/run sets it): no Chromium is a failure, not a skip. */
const requireChromium = !['', '0', undefined].includes(process.env.PFS_REQUIRE_CHROMIUM);
const skip = chromium.path === null ? (requireChromium ? false : chromium.why) : needsData(['fashion-mnist', 'timemachine', 'fra-eng']);
if (skip) console.log(`# browser tests skipped: ${skip}`);

/** The small LeNet run the page and Node both make. */
const RUN = { lr: 0.9, batch: 64, trainLimit: 2048, testLimit: 512, steps: 30, seed: 0 };

function pfs(...args: string[]) {
  const r = spawnSync(process.execPath, [PFS, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * The conformance harness: a cross-origin isolated page that loads test/page-conformance.ts from
 * dist/ as native ES modules (no bundler), with the wasm modules and ops.json; an import map
 * stands in for node:fs. Serves only those files.
 */
const HARNESS = `<!doctype html><meta charset="utf-8"><title>conformance</title>
<script type="importmap">{"imports": {"node:fs": "/stub/node-fs.js"}}</script>
<script type="module">
import { runPageConformance } from '/dist/test/page-conformance.js';
const w = (f) => '/src/backend/wasm/' + f;
const fixtures = (await (await fetch('/test/fixtures/ops.json')).json()).cases;
window.conformance = await runPageConformance({ plain: w('pfs.wasm'), relaxed: w('pfs-relaxed.wasm'), threads: w('pfs-threads.wasm'), threadsRelaxed: w('pfs-threads-relaxed.wasm') }, fixtures);
</script>`;

function harnessServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type });
      res.end(body);
    };
    if (path === '/harness.html') return send(200, 'text/html', HARNESS);
    if (path === '/stub/node-fs.js') return send(200, 'text/javascript', 'export function readFileSync() { throw new Error("no files in a browser"); }');
    const allowed = /^\/(dist\/(src|test|papers)\/[\w\/.-]+\.js|src\/backend\/wasm\/pfs[\w-]*\.wasm|test\/fixtures\/ops\.json)$/.test(path) && !path.includes('..');
    const file = join(ROOT, path);
    if (!allowed || !existsSync(file)) return send(404, 'text/plain', 'not found');
    send(200, path.endsWith('.wasm') ? 'application/wasm' : path.endsWith('.json') ? 'application/json' : 'text/javascript', readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Waits until a training run's status says done (or shows an error, which fails the test with its text). */
async function done(page: Page, id: string): Promise<void> {
  await page.waitForFunction((i) => {
    const el = document.getElementById(i)!;
    return el.dataset.done !== undefined || el.classList.contains('error');
  }, id, { timeout: 120_000 });
  const el = page.locator(`#${id}`);
  assert.equal(await el.getAttribute('data-done') !== null, true, `the run failed: ${await el.textContent()}`);
}

describe('the browser app in Chromium', { skip }, () => {
  let browser: Browser;
  let server: Server;
  let url = '';
  let page: Page;
  const tmp = mkdtempSync(join(tmpdir(), 'pfs-browser-'));
  const errors: string[] = [];

  before(async () => {
    if (chromium.path === null) throw new Error(`PFS_REQUIRE_CHROMIUM is set, but ${chromium.why}`);
    mkdirSync(SHOTS, { recursive: true });
    ({ server, url } = await startServer(0, '127.0.0.1'));
    const { chromium: pw } = await import('playwright-core');
    browser = await pw.launch({ executablePath: (chromium as { path: string }).path, headless: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${url}?threads=2#lenet`);
    await page.waitForSelector('#backend[data-ready]', { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('the page is cross-origin isolated and runs the threaded wasm backend', async () => {
    assert.equal(await page.getAttribute('#backend', 'data-ready'), '1', await page.textContent('#backend') ?? '');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const b = await page.evaluate(() => (window as unknown as { pfsApp: { backend: Record<string, unknown> } }).pfsApp.backend);
    assert.equal(b.name, 'wasm');
    assert.equal(b.threaded, true);
    assert.equal(b.threads, 2, 'two kernel threads: the page and one worker online');
    assert.match(String(b.file), /^pfs-threads(-relaxed)?-.*\.wasm$/);
    assert.match(await page.textContent('#backend') ?? '', /wasm · 2 threads · (relaxed SIMD|SIMD128) · cross-origin isolated/);
  });

  test('LeNet trains a few dozen steps: the losses of the same run in Node, and falling', async () => {
    for (const [id, v] of Object.entries({ lr: RUN.lr, batch: RUN.batch, epochs: 1, 'train-limit': RUN.trainLimit, 'test-limit': RUN.testLimit, 'max-steps': RUN.steps, seed: RUN.seed })) {
      await page.fill(`#lenet-${id}`, String(v));
    }
    await page.click('#lenet-train');
    await done(page, 'lenet-status');
    await page.waitForSelector('#lenet-grid[data-count="24"]');
    const losses = await page.evaluate(() => (window as unknown as { pfsApp: { lenetLosses: number[] } }).pfsApp.lenetLosses);
    assert.equal(losses.length, RUN.steps);

    // the same run in Node: same seed, so the same init and batches (papers/lenet/train.ts's order of draws)
    const g = new Generator(RUN.seed);
    const shuffle = new Generator(g.nextUint32());
    const net = lenet(g);
    xavierInit(net, g);
    const train = loadFashionMnist('train');
    const loader = new DataLoader(new TensorDataset(train.images.narrow(0, 0, RUN.trainLimit), train.labels.narrow(0, 0, RUN.trainLimit)), { batchSize: RUN.batch, shuffle: true, generator: shuffle });
    const t = classifier({ net, optimizer: new optim.SGD(net.parameters(), { lr: RUN.lr }), train: loader, test: [], epochs: 1 });
    const node: number[] = [];
    for (const b of t.batches(1)) {
      node.push(t.step(b, node.length).loss.item());
      if (node.length === RUN.steps) break;
    }
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(losses[i] - node[i]) < 1e-3, `step ${i + 1}: page ${losses[i]}, Node ${node[i]}`);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-10)) < mean(losses.slice(0, 5)), `the loss falls: first five ${losses.slice(0, 5)}, last ten ${losses.slice(-10)}`);
  });

  test('a drawn image gets a class', async () => {
    await page.locator('#draw').scrollIntoViewIfNeeded(); // the whole canvas in the viewport: the mouse works in its coordinates
    const box = (await page.locator('#draw').boundingBox())!;
    await page.mouse.move(box.x + 70, box.y + 60);
    await page.mouse.down();
    for (const [x, y] of [[210, 60],[210, 230], [70, 230], [70, 60]]) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector('#draw-result[data-cls]');
    const cls = await page.getAttribute('#draw-result', 'data-cls');
    assert.ok(['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'].includes(cls!), String(cls));
    assert.match(await page.textContent('#draw-result') ?? '', /^[a-z -]+ \d+% · [a-z -]+ \d+% · [a-z -]+ \d+%$/);
    await page.screenshot({ path: join(SHOTS, 'lenet.png'), fullPage: true });
  });

  test('a checkpoint goes page → file → pfs eval (the same test accuracy), and one of pfs train into the page', async () => {
    const acc = Number(/test acc ([0-9.]+)/.exec(await page.textContent('#lenet-acc') ?? '')![1]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lenet-download')]);
    const file = join(tmp, 'lenet-page.safetensors');
    await download.saveAs(file);
    const r = pfs('eval', 'lenet', '--checkpoint', file, '--test_limit', String(RUN.testLimit), '--json');
    assert.equal(r.code, 0, r.err);
    const evalAcc = JSON.parse(r.out).test_acc as number;
    assert.ok(Math.abs(evalAcc - acc) <= 1 / RUN.testLimit + 1e-9, `page test acc ${acc}, pfs eval ${evalAcc}`);

    const out = join(tmp, 'train-run');
    const tr = pfs('train', 'lenet', '--epochs', '1', '--batch_size', '128', '--train_limit', '256', '--test_limit', '256', '--quiet', '--out', out);
    assert.equal(tr.code, 0, tr.err);
    await page.setInputFiles('#ckpt-file', join(out, 'checkpoint.safetensors'));
    await page.waitForSelector('#ckpt-status[data-paper="lenet"]');
    assert.match(await page.textContent('#ckpt-status') ?? '', /loaded checkpoint\.safetensors: lenet \(preset d2l, 1 epoch\)/);
    // a file that is no checkpoint is refused with a message
    await page.setInputFiles('#ckpt-file', { name: 'bad.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file') });
    await page.waitForSelector('#ckpt-status.error');
    assert.match(await page.textContent('#ckpt-status') ?? '', /safetensors|header/i);
  });

  test('a char-level RNN trains and samples; its weights sample the same text in pfs sample', async () => {
    await page.goto(`${url}?threads=2#lm`);
    await page.waitForSelector('#backend[data-ready="1"]', { timeout: 60_000 });
    await page.selectOption('#lm-model', 'rnn');
    for (const [id, v] of Object.entries({ hidden: 64, lr: 1, epochs: 3, 'max-steps': 20, seed: 0 })) await page.fill(`#lm-${id}`, String(v));
    await page.click('#lm-train');
    await done(page, 'lm-status');
    const losses = await page.evaluate(() => (window as unknown as { pfsApp: { lmLosses: number[] } }).pfsApp.lmLosses);
    assert.equal(losses.length, 20);
    assert.ok(losses[19] < losses[0], `the loss falls: ${losses[0]} → ${losses[19]}`);
    await page.fill('#lm-prefix', 'time traveller');
    await page.fill('#lm-length', '30');
    await page.$eval('#lm-temp', (el) => {
      (el as HTMLInputElement).value = '0';
      el.dispatchEvent(new Event('input'));
    });
    await page.click('#lm-sample');
    await page.waitForFunction(() => (document.getElementById('lm-output')?.textContent ?? '').length > 0);
    const text = (await page.textContent('#lm-output'))!;
    assert.match(text, /^time traveller[a-z ]{30}$/, text);
    await page.screenshot({ path: join(SHOTS, 'lm.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lm-download')]);
    const file = join(tmp, 'rnn-page.safetensors');
    await download.saveAs(file);
    const r = pfs('sample', 'rnn', '--checkpoint', file, '--prefix', 'time traveller', '--length', '30');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.replace(/\n$/, ''), text, 'greedy sampling gives the same text in the page and in pfs sample');
  });

  test('a translation checkpoint of pfs train translates in the page, with its attention heatmap', async () => {
    type Shown = { paper: string; tokens: string[]; unknown: string[]; attention: { title: string; rows: string[]; cols: string[]; values: number[][] }[] };
    const shown = () => page.evaluate(() => (window as unknown as { pfsApp: { translation: Shown } }).pfsApp.translation);
    const train = (paper: string, epochs: number) => {
      const out = join(tmp, paper);
      const r = spawnSync(process.execPath, [PFS, 'train', paper, '--preset', 'd2l', '--epochs', String(epochs), '--quiet', '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return join(out, 'checkpoint.safetensors');
    };
    // bahdanau, a short d2l run: the page's translation and attention are Node's for the same checkpoint
    const ckpt = train('bahdanau', 30);
    await page.goto(`${url}?threads=2#translate`);
    await page.waitForSelector('#backend[data-ready="1"]', { timeout: 60_000 });
    await page.setInputFiles('#ckpt-file', ckpt);
    await page.waitForSelector('#tr-model[data-paper="bahdanau"]');
    assert.match(await page.textContent('#tr-model') ?? '', /^bahdanau from checkpoint\.safetensors \(preset d2l, 30 epochs\): 2 layers, hidden 32, \d+ English and \d+ French words/);
    const sentence = "i'm home .";
    await page.fill('#tr-sentence', sentence);
    await page.click('#tr-translate');
    await page.waitForSelector('#tr-heatmap[data-panels="1"] svg');
    const r = await shown();
    const t = await TRANSLATION_PAPERS.find((p) => p.name === 'bahdanau')!.load(ckpt);
    const node = translateSentence(t, sentence, { attention: true });
    assert.ok(r.tokens.length > 0, 'a translation with words');
    assert.deepEqual(r.tokens, node.tokens, 'the page translates as pfs translate does');
    assert.equal(await page.getAttribute('#tr-output', 'data-tokens'), node.tokens.join(' '));
    const [panel] = r.attention;
    assert.equal(panel.title, 'additive attention');
    assert.deepEqual(panel.cols, ["i'm", 'home', '.', '<eos>']);
    assert.deepEqual(panel.rows, [...node.tokens, '<eos>']);
    panel.values.forEach((row, i) => {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, `row ${i} of the attention sums to 1: ${row}`);
      row.forEach((v, j) => assert.ok(Math.abs(v - node.attention![0].values[i][j]) < 1e-4, `weight (${i}, ${j}): page ${v}, Node ${node.attention![0].values[i][j]}`));
    });
    assert.equal(await page.locator('#tr-heatmap svg rect[width="30"]').count(), panel.rows.length * panel.cols.length, 'one shaded cell per weight');
    await page.screenshot({ path: join(SHOTS, 'translate.png'), fullPage: true });

    // an unknown word is read as <unk> and said so; a sentence longer than the model reads is refused
    await page.fill('#tr-sentence', 'i am zorblax .');
    await page.click('#tr-translate');
    await page.waitForFunction(() => document.getElementById('tr-note')?.textContent?.includes('zorblax'));
    assert.match(await page.textContent('#tr-note') ?? '', /not in the model's English vocabulary, read as <unk>: zorblax/);
    await page.fill('#tr-sentence', 'one two three four five six seven eight nine ten .');
    await page.click('#tr-translate');
    await page.waitForSelector('#tr-output.error');
    assert.match(await page.textContent('#tr-output') ?? '', /has 11 words .*reads at most 9/);

    // the transformer: one cross-attention panel per decoder block and head (2 × 4), the encoder's self-attention on request
    await page.setInputFiles('#ckpt-file', train('transformer', 2));
    await page.waitForSelector('#tr-model[data-paper="transformer"]');
    await page.fill('#tr-sentence', 'go .');
    await page.click('#tr-translate');
    await page.waitForSelector('#tr-heatmap[data-panels="8"]');
    const tr = await shown();
    assert.equal(tr.paper, 'transformer');
    assert.equal(tr.attention.length, 16, tr.attention.map((p) => p.title).join('; '));
    assert.equal(tr.attention.filter((p) => /^decoder block [12] cross-attention, head [1-4]$/.test(p.title)).length, 8);
    await page.check('#tr-self');
    await page.waitForSelector('#tr-heatmap[data-panels="16"]');
    await page.uncheck('#tr-self');

    // a checkpoint of a translation paper without its vocabularies is refused, saying what is missing
    const noVocab = encodeSafetensors({ 'model.x': Tensor.zeros([1]) }, { format: 'papers-from-scratch checkpoint v1', paper: 'seq2seq', epoch: '1', config: '{}' });
    await page.setInputFiles('#ckpt-file', { name: 'novocab.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(noVocab) });
    await page.waitForSelector('#ckpt-status.error');
    assert.match(await page.textContent('#ckpt-status') ?? '', /novocab\.safetensors: it holds no translation model/);
  });

  test('the op fixture cases run in the page on the threaded wasm backend and match ref', async (t) => {
    const h = await harnessServer();
    try {
      const p = await browser.newPage();
      const pageErrors: string[] = [];
      p.on('pageerror', (e) => pageErrors.push(e.message));
      await p.goto(`${h.url}harness.html`);
      await p.waitForFunction(() => 'conformance' in window, undefined, { timeout: 120_000 });
      const r = await p.evaluate(() => (window as unknown as { conformance: { cases: number; values: number; mismatches: string[]; backend: string; threads: number } }).conformance);
      assert.deepEqual(pageErrors, []);
      t.diagnostic(`${r.cases} cases, ${r.values} values compared, on ${r.backend}`);
      assert.ok(r.cases >= 150, `${r.cases} cases`);
      assert.ok(r.values > 1000, `${r.values} values compared`);
      assert.equal(r.threads, 2, r.backend);
      assert.match(r.backend, /threaded build/);
      assert.deepEqual(r.mismatches, []);
      await p.close();
    } finally {
      h.server.close();
    }
  });

  test('the optimisers page draws five traces from a clicked start', async () => {
    await page.goto(`${url}?threads=2#optim`);
    await page.waitForSelector('#backend[data-ready="1"]', { timeout: 60_000 });
    await page.waitForSelector('#opt-table[data-start="-5.000,-2.000"]');
    const box = (await page.locator('#opt-canvas').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.25); // (3, 1.5)
    await page.waitForFunction(() => document.getElementById('opt-table')?.dataset.start !== '-5.000,-2.000');
    const start = (await page.getAttribute('#opt-table', 'data-start'))!.split(',').map(Number);
    assert.ok(Math.abs(start[0] - 3) < 0.05 && Math.abs(start[1] - 1.5) < 0.05, `the start is where the click was: ${start}`);
    const rows = await page.$$eval('#opt-table tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.equal(rows.length, 6, rows.join('\n'));
    assert.match(rows[1], /^gradient descent/);
    await page.screenshot({ path: join(SHOTS, 'optim.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no errors in the page');
  });
});
