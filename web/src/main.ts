/**
 * The page: tabs, controls, charts and canvases. All computing happens in the worker (worker.ts);
 * this file only sends requests and draws what comes back.
 */
import { heatmapSvg } from '../../src/train/plot.js';
import type { BackendInfo, LeNetSettings, LMSettings, Progress, Request, Response, TranslationResult } from './protocol.js';

// ---------------------------------------------------------------- the worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'pfs-training' });
let nextId = 1;
const pending = new Map<number, { ok(v: unknown): void; fail(e: Error): void }>();
const listeners: ((p: Progress) => void)[] = [];

worker.onmessage = (e: MessageEvent<Response>) => {
  const r = e.data;
  if ('progress' in r) {
    for (const l of listeners) l(r.progress);
    return;
  }
  const p = pending.get(r.id);
  if (!p) return;
  pending.delete(r.id);
  if (r.ok) p.ok(r.value);
  else p.fail(new Error(r.error));
};

function call<T>(req: Request, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((ok, fail) => {
    pending.set(id, { ok: ok as (v: unknown) => void, fail });
    worker.postMessage({ id, req }, transfer);
  });
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const params = new URLSearchParams(location.search);

/** What the tests (test/browser.test.ts) read besides the page itself. */
const appState = {
  backend: null as BackendInfo | null,
  lenetLosses: [] as number[],
  lmLosses: [] as number[],
  busy: false,
  /** The last translation the page showed. */
  translation: null as TranslationResult | null,
  /** A request to the worker (bench/browser.ts times the LeNet step through it). */
  call: (req: Request) => call<unknown>(req),
};
(window as unknown as { pfsApp: typeof appState }).pfsApp = appState;

function setStatus(id: string, text: string, error = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', error);
}

// ---------------------------------------------------------------- tabs

function showPage() {
  const page = (location.hash.slice(1) || 'lenet').replace(/[^a-z]/g, '');
  for (const s of document.querySelectorAll<HTMLElement>('.page')) s.classList.toggle('active', s.id === `page-${page}`);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.dataset.page === page);
  if (page === 'optim') drawOptim();
}
window.addEventListener('hashchange', showPage);

// ---------------------------------------------------------------- charts

interface Series { name: string; color: string; ys: number[]; xs?: number[]; axis?: 'left' | 'right' }

/** A line chart: left axis for the first series' scale (log when asked), a right axis in [0, 1] for accuracies. */
function lineChart(canvas: HTMLCanvasElement, series: Series[], opts: { xLabel: string; yLabel: string; logY?: boolean }) {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height, L = 50, R = 40, T = 10, B = 30;
  ctx.clearRect(0, 0, W, H);
  const left = series.filter((s) => s.axis !== 'right');
  const all = left.flatMap((s) => s.ys).filter(Number.isFinite);
  const xmax = Math.max(1, ...series.map((s) => (s.xs ? Math.max(0, ...s.xs) : s.ys.length)));
  const f = (v: number) => (opts.logY ? Math.log(Math.max(v, 1e-12)) : v);
  let lo = all.length ? Math.min(...all.map(f)) : 0, hi = all.length ? Math.max(...all.map(f)) : 1;
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const x = (v: number) => L + ((W - L - R) * v) / xmax;
  const yL = (v: number) => T + (H - T - B) * (1 - (f(v) - lo) / (hi - lo));
  const yR = (v: number) => T + (H - T - B) * (1 - v);
  ctx.strokeStyle = '#9aa5b1'; ctx.fillStyle = '#52606d'; ctx.font = '11px sans-serif';
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    const shown = opts.logY ? Math.exp(v) : v;
    ctx.fillText(shown.toPrecision(3), 2, T + (H - T - B) * (1 - k / 4) + 4);
    if (series.some((s) => s.axis === 'right')) ctx.fillText((k / 4).toFixed(2), W - R + 4, T + (H - T - B) * (1 - k / 4) + 4);
  }
  ctx.fillText(`${opts.xLabel} (${xmax})`, W / 2 - 30, H - 8);
  let ly = T + 12;
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.beginPath();
    s.ys.forEach((v, i) => {
      const px = x(s.xs ? s.xs[i] : i + 1), py = s.axis === 'right' ? yR(v) : yL(v);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
    if (s.xs && s.ys.length < 30) for (let i = 0; i < s.ys.length; i++) ctx.fillRect(x(s.xs[i]) - 2, (s.axis === 'right' ? yR : yL)(s.ys[i]) - 2, 4, 4);
    ctx.fillStyle = s.color; ctx.fillText(s.name, L + 8, ly); ly += 13; ctx.fillStyle = '#52606d';
  }
}

/** An exponential moving average, for noisy per-step curves. */
const smooth = (ys: number[], a = 0.9) => { let m = ys[0] ?? 0; return ys.map((v) => (m = a * m + (1 - a) * v)); };

// ---------------------------------------------------------------- LeNet page

const lenetCurve = { loss: [] as number[], acc: [] as number[], testX: [] as number[], testAcc: [] as number[] };

function drawLeNetChart() {
  lineChart($<HTMLCanvasElement>('lenet-chart'), [
    { name: 'training loss (per step, smoothed)', color: '#2f80ed', ys: smooth(lenetCurve.loss) },
    { name: 'training accuracy (smoothed)', color: '#27ae60', ys: smooth(lenetCurve.acc), axis: 'right' },
    { name: 'test accuracy (per epoch)', color: '#eb5757', ys: lenetCurve.testAcc, xs: lenetCurve.testX, axis: 'right' },
  ], { xLabel: 'step', yLabel: 'loss' });
}

listeners.push((p) => {
  if (p.kind === 'lenet-step') {
    lenetCurve.loss.push(p.loss); lenetCurve.acc.push(p.acc); appState.lenetLosses.push(p.loss);
    $('lenet-speed').textContent = `${Math.round(p.imagesPerSec).toLocaleString('en')} images/s`;
    setStatus('lenet-status', `epoch ${p.epoch}, step ${p.step}: loss ${p.loss.toFixed(4)}, batch accuracy ${(100 * p.acc).toFixed(1)}%`);
    if (p.step % 5 === 0) drawLeNetChart();
  } else if (p.kind === 'lenet-epoch') {
    lenetCurve.testX.push(lenetCurve.loss.length); lenetCurve.testAcc.push(p.testAcc);
    $('lenet-acc').textContent = `epoch ${p.epoch}: train loss ${p.trainLoss.toFixed(4)}, train acc ${p.trainAcc.toFixed(3)}, test acc ${p.testAcc.toFixed(3)}`;
    drawLeNetChart();
  } else if (p.kind === 'status') {
    setStatus(location.hash === '#lm' ? 'lm-status' : 'lenet-status', p.text);
  }
});

async function busy<T>(statusId: string, f: () => Promise<T>): Promise<T | undefined> {
  if (appState.busy) { setStatus(statusId, 'the worker is busy: stop the running job first', true); return undefined; }
  appState.busy = true;
  try {
    return await f();
  } catch (e) {
    setStatus(statusId, (e as Error).message, true);
    return undefined;
  } finally {
    appState.busy = false;
  }
}

$('lenet-train').onclick = () => busy('lenet-status', async () => {
  Object.assign(lenetCurve, { loss: [], acc: [], testX: [], testAcc: [] });
  appState.lenetLosses = [];
  const settings: LeNetSettings = {
    lr: num('lenet-lr'), batch: num('lenet-batch'), epochs: num('lenet-epochs'), trainLimit: num('lenet-train-limit'),
    testLimit: num('lenet-test-limit'), seed: num('lenet-seed'), maxSteps: num('lenet-max-steps'),
  };
  const r = await call<{ steps: number }>({ op: 'lenet-train', settings });
  drawLeNetChart();
  setStatus('lenet-status', `done: ${r.steps} steps`);
  $('lenet-status').dataset.done = String(r.steps);
  await showGrid();
});
$('lenet-stop').onclick = () => void call({ op: 'stop' });
$('lenet-download').onclick = () => void downloadWeights('lenet', 'lenet-browser.safetensors', 'lenet-status');

async function showGrid() {
  const g = await call<{ images: Float32Array; labels: number[]; preds: number[]; classes: string[] }>({ op: 'lenet-grid', n: 24 });
  const grid = $('lenet-grid');
  grid.replaceChildren();
  g.labels.forEach((label, i) => {
    const fig = document.createElement('figure');
    const c = document.createElement('canvas');
    c.width = 28; c.height = 28;
    const img = c.getContext('2d')!.createImageData(28, 28);
    for (let k = 0; k < 784; k++) {
      const v = Math.round(255 * g.images[i * 784 + k]);
      img.data.set([v, v, v, 255], 4 * k);
    }
    c.getContext('2d')!.putImageData(img, 0, 0);
    const cap = document.createElement('figcaption');
    cap.textContent = g.preds[i] === label ? g.classes[label] : `${g.classes[g.preds[i]]} (is ${g.classes[label]})`;
    if (g.preds[i] !== label) cap.className = 'wrong';
    fig.append(c, cap);
    grid.append(fig);
  });
  grid.dataset.count = String(g.labels.length);
}

// the drawing canvas: 280×280 drawn, averaged down to 28×28
const draw = $<HTMLCanvasElement>('draw');
const dctx = draw.getContext('2d')!;
function clearDrawing() {
  dctx.fillStyle = '#000'; dctx.fillRect(0, 0, draw.width, draw.height);
  $('draw-result').textContent = '';
}
clearDrawing();
let pen: { x: number; y: number } | null = null;
draw.addEventListener('pointerdown', (e) => { pen = { x: e.offsetX, y: e.offsetY }; draw.setPointerCapture(e.pointerId); });
draw.addEventListener('pointermove', (e) => {
  if (!pen) return;
  dctx.strokeStyle = '#fff'; dctx.lineWidth = 22; dctx.lineCap = 'round';
  dctx.beginPath(); dctx.moveTo(pen.x, pen.y); dctx.lineTo(e.offsetX, e.offsetY); dctx.stroke();
  pen = { x: e.offsetX, y: e.offsetY };
});
draw.addEventListener('pointerup', () => { pen = null; void classifyDrawing(); });
$('draw-clear').onclick = clearDrawing;

async function classifyDrawing() {
  const src = dctx.getImageData(0, 0, 280, 280).data;
  const pixels = new Float32Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    let s = 0;
    for (let dy = 0; dy < 10; dy++) for (let dx = 0; dx < 10; dx++) s += src[4 * ((y * 10 + dy) * 280 + x * 10 + dx)];
    pixels[y * 28 + x] = s / (100 * 255);
  }
  try {
    const r = await call<{ top: { cls: string; p: number }[] }>({ op: 'lenet-classify', pixels });
    $('draw-result').textContent = r.top.map((t) => `${t.cls} ${(100 * t.p).toFixed(0)}%`).join(' · ');
    $('draw-result').dataset.cls = r.top[0].cls;
  } catch (e) {
    $('draw-result').textContent = (e as Error).message;
  }
}

// ---------------------------------------------------------------- language-model page

/** The cpu presets of papers/rnn/train.ts (hidden units, learning rate) for each model. */
const LM_PRESETS = { rnn: { hidden: 128, lr: 1 }, gru: { hidden: 128, lr: 2 }, lstm: { hidden: 256, lr: 4 } } as const;
$<HTMLSelectElement>('lm-model').onchange = () => {
  const p = LM_PRESETS[$<HTMLSelectElement>('lm-model').value as keyof typeof LM_PRESETS];
  $<HTMLInputElement>('lm-hidden').value = String(p.hidden);
  $<HTMLInputElement>('lm-lr').value = String(p.lr);
};
const lmCurve = { loss: [] as number[], epochX: [] as number[], ppl: [] as number[] };
function drawLMChart() {
  lineChart($<HTMLCanvasElement>('lm-chart'), [
    { name: 'perplexity per step (smoothed)', color: '#2f80ed', ys: smooth(lmCurve.loss).map(Math.exp) },
    { name: 'epoch perplexity', color: '#eb5757', ys: lmCurve.ppl, xs: lmCurve.epochX },
  ], { xLabel: 'step', yLabel: 'perplexity', logY: true });
}
listeners.push((p) => {
  if (p.kind === 'lm-step') {
    lmCurve.loss.push(p.loss); appState.lmLosses.push(p.loss);
    $('lm-speed').textContent = `${Math.round(p.tokensPerSec).toLocaleString('en')} characters/s`;
    setStatus('lm-status', `epoch ${p.epoch}, step ${p.step}: perplexity ${Math.exp(p.loss).toFixed(2)}`);
    if (p.step % 5 === 0) drawLMChart();
  } else if (p.kind === 'lm-epoch') {
    lmCurve.epochX.push(lmCurve.loss.length); lmCurve.ppl.push(p.ppl);
    $('lm-epoch-sample').textContent = `epoch ${p.epoch}, perplexity ${p.ppl.toFixed(2)}:\n${p.sample}`;
    drawLMChart();
  }
});
$('lm-train').onclick = () => busy('lm-status', async () => {
  Object.assign(lmCurve, { loss: [], epochX: [], ppl: [] });
  appState.lmLosses = [];
  const settings: LMSettings = {
    model: $<HTMLSelectElement>('lm-model').value as LMSettings['model'], hidden: num('lm-hidden'), lr: num('lm-lr'), epochs: num('lm-epochs'),
    seed: num('lm-seed'), maxSteps: num('lm-max-steps'),
  };
  const r = await call<{ steps: number }>({ op: 'lm-train', settings });
  drawLMChart();
  setStatus('lm-status', `done: ${r.steps} steps`);
  $('lm-status').dataset.done = String(r.steps);
});
$('lm-stop').onclick = () => void call({ op: 'stop' });
$('lm-download').onclick = () => void downloadWeights('lm', 'lm-browser.safetensors', 'lm-status');
const temp = $<HTMLInputElement>('lm-temp');
temp.oninput = () => { $('lm-temp-value').textContent = Number(temp.value).toFixed(2); };
let samplesDrawn = 0; // each sample draws from its own generator: seed·1000 + its number (reload: the same texts again)
$('lm-sample').onclick = async () => {
  try {
    const seed = num('lm-seed') * 1000 + samplesDrawn++;
    const text = await call<string>({ op: 'lm-sample', prefix: $<HTMLInputElement>('lm-prefix').value, length: num('lm-length'), temperature: Number(temp.value), seed });
    $('lm-output').textContent = text;
  } catch (e) {
    $('lm-output').textContent = (e as Error).message;
  }
};

// ---------------------------------------------------------------- optimisers page

const OPT_COLORS: Record<string, string> = { gd: '#2f80ed', momentum: '#27ae60', adagrad: '#9b51e0', rmsprop: '#f2994a', adam: '#eb5757' };
const OPT_NAMES: Record<string, string> = { gd: 'gradient descent', momentum: 'momentum', adagrad: 'AdaGrad', rmsprop: 'RMSProp', adam: 'Adam' };
let optStart: [number, number] = [-5, -2]; // d2l's start
const VIEW = { x: [-6, 6], y: [-3, 3] };
const optCanvas = $<HTMLCanvasElement>('opt-canvas');
const toPx = (p: readonly number[]): [number, number] => [
  ((p[0] - VIEW.x[0]) / (VIEW.x[1] - VIEW.x[0])) * optCanvas.width, (1 - (p[1] - VIEW.y[0]) / (VIEW.y[1] - VIEW.y[0])) * optCanvas.height,
];
optCanvas.addEventListener('click', (e) => {
  optStart = [VIEW.x[0] + (e.offsetX / optCanvas.width) * (VIEW.x[1] - VIEW.x[0]), VIEW.y[0] + (1 - e.offsetY / optCanvas.height) * (VIEW.y[1] - VIEW.y[0])];
  void drawOptim();
});
for (const id of ['opt-lr', 'opt-beta', 'opt-steps']) $(id).addEventListener('input', () => void drawOptim());

let optSeq = 0;
async function drawOptim() {
  const lr = num('opt-lr'), beta = num('opt-beta'), steps = num('opt-steps');
  $('opt-lr-value').textContent = lr.toFixed(2);
  $('opt-beta-value').textContent = beta.toFixed(2);
  $('opt-steps-value').textContent = String(steps);
  const seq = ++optSeq;
  let traces: Record<string, [number, number][]>;
  try {
    traces = await call({ op: 'optim', start: optStart, lr, beta, steps });
  } catch (e) {
    $('opt-table').textContent = (e as Error).message;
    return;
  }
  if (seq !== optSeq) return; // a newer setting is on its way
  const ctx = optCanvas.getContext('2d')!;
  const W = optCanvas.width, H = optCanvas.height;
  const img = ctx.createImageData(W, H);
  for (let py = 0; py < H; py++) for (let px = 0; px < W; px++) {
    const x1 = VIEW.x[0] + (px / W) * (VIEW.x[1] - VIEW.x[0]), x2 = VIEW.y[0] + (1 - py / H) * (VIEW.y[1] - VIEW.y[0]);
    const f = 0.1 * x1 * x1 + 2 * x2 * x2;
    const band = Math.floor(Math.sqrt(f) * 4) % 2; // contour bands of √f
    const v = 255 - Math.min(90, f * 4) - band * 10;
    img.data.set([v, v, 255 - band * 8, 255], 4 * (py * W + px));
  }
  ctx.putImageData(img, 0, 0);
  const rows = ['<tr><th>optimiser</th><th>x₁</th><th>x₂</th><th>f</th></tr>'];
  for (const [k, path] of Object.entries(traces)) {
    ctx.strokeStyle = OPT_COLORS[k]; ctx.fillStyle = OPT_COLORS[k]; ctx.lineWidth = 2; ctx.beginPath();
    path.forEach((p, i) => { const [px, py] = toPx(p); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
    ctx.stroke();
    for (const p of path) { const [px, py] = toPx(p); ctx.fillRect(px - 2, py - 2, 4, 4); }
    const [x1, x2] = path[path.length - 1];
    const f = 0.1 * x1 * x1 + 2 * x2 * x2;
    rows.push(`<tr><td style="color:${OPT_COLORS[k]}">${OPT_NAMES[k]}</td><td>${x1.toPrecision(4)}</td><td>${x2.toPrecision(4)}</td><td>${f.toPrecision(3)}</td></tr>`);
  }
  $('opt-table').innerHTML = rows.join('');
  $('opt-table').dataset.start = optStart.map((v) => v.toFixed(3)).join(',');
}

// ---------------------------------------------------------------- translation page

async function translate() {
  const sentence = $<HTMLInputElement>('tr-sentence').value;
  const out = $('tr-output');
  try {
    const r = await call<TranslationResult>({ op: 'translate', sentence, beam: num('tr-beam') });
    appState.translation = r;
    out.textContent = r.tokens.length ? r.tokens.join(' ') : '(the model ends the sentence at once: no words)';
    out.classList.remove('error');
    out.dataset.tokens = r.tokens.join(' ');
    setStatus('tr-note', r.unknown.length ? `not in the model's English vocabulary, read as <unk>: ${r.unknown.join(', ')}` : `read as: ${r.words.join(' ')} <eos>`, r.unknown.length > 0);
    const shown = $<HTMLInputElement>('tr-self').checked ? r.attention : r.attention.filter((p) => !p.title.includes('self-attention'));
    const map = $('tr-heatmap');
    if (shown.length === 0) {
      map.textContent = `${r.paper} has no attention weights to show (bahdanau and transformer have)`;
      map.dataset.panels = '0';
    } else {
      map.innerHTML = heatmapSvg(shown, { perRow: 4, cell: 30 });
      map.dataset.panels = String(shown.length);
    }
  } catch (e) {
    out.textContent = (e as Error).message;
    out.classList.add('error');
    delete out.dataset.tokens;
  }
}
$('tr-translate').onclick = () => void translate();
$('tr-sentence').addEventListener('keydown', (e) => { if (e.key === 'Enter') void translate(); });
$('tr-self').addEventListener('change', () => { if (appState.translation) void translate(); });

// ---------------------------------------------------------------- checkpoints

async function downloadWeights(page: 'lenet' | 'lm', file: string, statusId: string) {
  try {
    const bytes = await call<Uint8Array>({ op: 'download', page });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    a.download = file;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (e) {
    setStatus(statusId, (e as Error).message, true);
  }
}

async function loadCheckpointFile(f: File) {
  setStatus('ckpt-status', `reading ${f.name}…`);
  try {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const r = await call<{ page: string; paper: string; epochs: number; preset?: string }>({ op: 'load-checkpoint', bytes, name: f.name }, [bytes.buffer]);
    setStatus('ckpt-status', `loaded ${f.name}: ${r.paper} (preset ${r.preset ?? '?'}, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'}) into its page`);
    $('ckpt-status').dataset.paper = r.paper;
    location.hash = r.page;
    if (r.page === 'lenet') await showGrid();
    if (r.page === 'translate') {
      const m = r as unknown as { numSteps: number; srcWords: number; tgtWords: number; hidden: number; layers: number };
      setStatus('tr-model', `${r.paper} from ${f.name} (preset ${r.preset ?? '?'}, ${r.epochs} epochs): ${m.layers} layers, hidden ${m.hidden}, ${m.srcWords} English and ${m.tgtWords} French words, at most ${m.numSteps - 1} words a sentence`);
      $('tr-model').dataset.paper = r.paper;
      await translate();
    }
  } catch (e) {
    setStatus('ckpt-status', (e as Error).message, true);
  }
}
$<HTMLInputElement>('ckpt-file').onchange = (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void loadCheckpointFile(f);
};
document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const f = e.dataTransfer?.files[0];
  if (f) void loadCheckpointFile(f);
});

// ---------------------------------------------------------------- start

showPage();
const threads = params.has('threads') ? Number(params.get('threads')) : undefined;
call<BackendInfo>({ op: 'init', threads, dataUrl: new URL('data/', location.href).href }).then(
  (b) => {
    appState.backend = b;
    $('backend').textContent = `${b.name} · ${b.threads} thread${b.threads === 1 ? '' : 's'} · ${b.relaxed ? 'relaxed SIMD' : 'SIMD128'} · ${b.isolated ? 'cross-origin isolated' : 'not isolated'}`;
    $('backend').title = `${b.describe}; ${b.file}`;
    $('backend').dataset.ready = '1';
    if (location.hash === '#optim') void drawOptim();
  },
  (e: Error) => {
    $('backend').textContent = `backend failed: ${e.message}`;
    $('backend').dataset.ready = 'error';
  },
);
