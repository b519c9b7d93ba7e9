/**
 * The training worker: the library on its wasm backend (threaded where the page is cross-origin
 * isolated), the data fetched from `pfs serve`, and the papers' own models and steps. The page stays
 * responsive; every long loop yields between steps so that a "stop" is seen.
 */
import {
  backendInfo, classifier, DataLoader, decodeSafetensors, FASHION_MNIST_CLASSES, Generator, loadWasmBackendInBrowser, noGrad, optim,
  parseIdxImages, parseIdxLabels, preprocessTimeMachine, registerBackend, Tensor, TensorDataset, timeMachineCorpus, useBackend,
} from '../../src/index.js';
import { encodeCheckpoint } from '../../src/train/checkpoint-format.js';
import { lenet, lenetBN, xavierInit } from '../../papers/lenet/model.js';
import { seqDataIterSequential, splitCorpus } from '../../papers/rnn/data.js';
import { languageModelFromContents, predict } from '../../papers/rnn/generate.js';
import { RNNLM } from '../../papers/rnn/model.js';
import { lmStep, startState } from '../../papers/rnn/step.js';
import type { State } from '../../papers/rnn/cells.js';
import { runLibrary } from '../../papers/optimizers/exp1-2d.js';
import { TRANSLATION_MODELS } from '../../papers/translation/models.js';
import { translateSentence } from '../../papers/translation/translate.js';
import { translatorFromContents, type Translator } from '../../papers/translation/translator.js';
import type { BackendInfo, LeNetSettings, LMSettings, Progress, Request, Response, TranslationResult } from './protocol.js';
import { lenetTrainStep } from '../../bench/lenet-step.js';
import { LSTM_SIZES, lstmStep } from '../../bench/lstm-step.js';
import plainUrl from '../../src/backend/wasm/pfs.wasm?url';
import relaxedUrl from '../../src/backend/wasm/pfs-relaxed.wasm?url';
import threadsUrl from '../../src/backend/wasm/pfs-threads.wasm?url';
import threadsRelaxedUrl from '../../src/backend/wasm/pfs-threads-relaxed.wasm?url';

const post = (r: Response) => (self as unknown as Worker).postMessage(r);
const progress = (p: Progress) => post({ id: -1, progress: p });

/** Lets the worker's event loop run (a stop message in), without the 4 ms clamp of nested timeouts. */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldNow = () => new Promise<void>((r) => { waiting.push(r); channel.port2.postMessage(0); });

let stopRequested = false;

// ---------------------------------------------------------------- backend

let backend: BackendInfo | null = null;
/** Where `pfs serve` serves the corpora (the page's data/ folder; the page says so at init). */
let dataUrl = '';

async function init(threads: number | undefined, data: string): Promise<BackendInfo> {
  dataUrl = data;
  if (backend) return backend;
  const load = await loadWasmBackendInBrowser({ urls: { plain: plainUrl, relaxed: relaxedUrl, threads: threadsUrl, threadsRelaxed: threadsRelaxedUrl }, threads });
  registerBackend(load.backend);
  useBackend('wasm', 'the browser app');
  backend = {
    name: backendInfo().name, threads: load.threads, threaded: load.threaded, relaxed: load.relaxed,
    isolated: self.crossOriginIsolated === true, file: load.file, describe: load.reason,
  };
  return backend;
}

// ---------------------------------------------------------------- data

async function fetchData(path: string, gunzip: boolean): Promise<Uint8Array> {
  const res = await fetch(new URL(path, dataUrl));
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${(await res.text()).trim()}`);
  const body = gunzip ? res.body!.pipeThrough(new DecompressionStream('gzip')) : res.body!;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

interface ImageSet { images: Tensor; labels: Tensor }
const fashion: Partial<Record<'train' | 'test', ImageSet>> = {};

async function fashionMnist(split: 'train' | 'test'): Promise<ImageSet> {
  if (!fashion[split]) {
    const stem = split === 'train' ? 'train' : 't10k';
    progress({ kind: 'status', text: `fetching Fashion-MNIST ${split} (IDX .gz, unzipped by DecompressionStream)…` });
    const [img, lab] = await Promise.all([
      fetchData(`fashion-mnist/${stem}-images-idx3-ubyte.gz`, true), fetchData(`fashion-mnist/${stem}-labels-idx1-ubyte.gz`, true),
    ]);
    fashion[split] = { images: parseIdxImages(img, `${split} images`), labels: parseIdxLabels(lab, `${split} labels`) };
  }
  return fashion[split]!;
}

const firstN = (s: ImageSet, n: number): ImageSet => {
  const m = n > 0 ? Math.min(n, s.images.shape[0]) : s.images.shape[0];
  return { images: s.images.narrow(0, 0, m), labels: s.labels.narrow(0, 0, m) };
};

// ---------------------------------------------------------------- LeNet

interface LeNetState {
  paper: 'lenet' | 'lenet-bn';
  net: ReturnType<typeof lenet>;
  settings?: LeNetSettings;
  history: Record<string, number>[];
  steps: number;
}
let lenetState: LeNetState | null = null;

async function lenetTrain(s: LeNetSettings): Promise<{ steps: number; history: Record<string, number>[] }> {
  const g = new Generator(s.seed); // one seed, as papers/lenet/train.ts: init from g, shuffles from g's first draw
  const shuffle = new Generator(g.nextUint32());
  const net = lenet(g);
  xavierInit(net, g);
  const optimizer = new optim.SGD(net.parameters(), { lr: s.lr });
  const train = firstN(await fashionMnist('train'), s.trainLimit);
  const test = firstN(await fashionMnist('test'), s.testLimit);
  const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize: s.batch, shuffle: true, generator: shuffle });
  const testLoader = new DataLoader(new TensorDataset(test.images, test.labels), { batchSize: 1024 });
  const training = classifier({ net, optimizer, train: loader, test: testLoader, epochs: s.epochs });
  lenetState = { paper: 'lenet', net, settings: s, history: [], steps: 0 };
  const st = lenetState;
  stopRequested = false;
  progress({ kind: 'status', text: `training LeNet on ${train.images.shape[0]} images, batch ${s.batch}, lr ${s.lr}` });
  for (let epoch = 1; epoch <= s.epochs && !stopRequested; epoch++) {
    let i = 0;
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    let seconds = 0;
    for (const batch of training.batches(epoch)) {
      const t0 = performance.now();
      const r = training.step(batch, i++);
      const loss = r.loss.item();
      const c = r.sums!.correct.item();
      const dt = (performance.now() - t0) / 1000;
      seconds += dt;
      lossSum += loss * r.count;
      correct += c;
      count += r.count;
      st.steps++;
      progress({ kind: 'lenet-step', step: st.steps, epoch, loss, acc: c / r.count, imagesPerSec: r.count / dt });
      await yieldNow();
      if (stopRequested || (s.maxSteps > 0 && st.steps >= s.maxSteps)) break;
    }
    const { record } = training.endEpoch({ epoch, steps: i, loss: lossSum / count, count, sums: { correct }, seconds });
    st.history.push(record);
    progress({ kind: 'lenet-epoch', epoch, trainLoss: record.train_loss, trainAcc: record.train_acc, testAcc: record.test_acc });
    if (s.maxSteps > 0 && st.steps >= s.maxSteps) break;
  }
  net.eval();
  return { steps: st.steps, history: st.history };
}

function softmaxRows(logits: Tensor): number[][] {
  const p = logits.softmax(-1);
  const [n, k] = p.shape;
  const a = p.toTypedArray();
  return Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * k, (i + 1) * k)));
}

function needLeNet(): LeNetState {
  if (!lenetState) throw new Error('no LeNet yet: train one or load a checkpoint of `pfs train lenet`');
  return lenetState;
}

async function lenetGrid(n: number) {
  const st = needLeNet();
  const test = firstN(await fashionMnist('test'), n);
  const probs = noGrad(() => softmaxRows(st.net.forward(test.images)));
  return {
    images: test.images.toTypedArray() as Float32Array, labels: Array.from(test.labels.toTypedArray()),
    preds: probs.map((p) => p.indexOf(Math.max(...p))), classes: FASHION_MNIST_CLASSES,
  };
}

function lenetClassify(pixels: Float32Array) {
  const st = needLeNet();
  if (pixels.length !== 784) throw new Error(`classify: expected 28×28 = 784 pixels, got ${pixels.length}`);
  const p = noGrad(() => softmaxRows(st.net.forward(new Tensor(pixels, [1, 1, 28, 28]))))[0];
  const order = p.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
  return { top: order.slice(0, 3).map(([v, i]) => ({ cls: FASHION_MNIST_CLASSES[i], p: v })) };
}

// ---------------------------------------------------------------- char-level LMs

/** The cpu presets of papers/rnn/train.ts for the three single-layer models (init: which scheme they train with). */
export const LM_INIT = { rnn: 'normal', gru: 'uniform', lstm: 'uniform' } as const;
/** d2l's procedure, as every preset of papers/rnn/train.ts: batch 32 × 35 steps over the first 10,000 characters, clip 1, 10% held out. */
const LM_DATA = { batch: 32, numSteps: 35, maxTokens: 10000, valFraction: 0.1, clip: 1 };

interface LMState {
  net: RNNLM;
  vocab: readonly string[];
  name: string;
  config: Record<string, unknown>;
  history: Record<string, number>[];
  seed: number;
}
let lmState: LMState | null = null;
let bookText: string | null = null;

async function lmTrain(s: LMSettings) {
  if (!(s.model in LM_INIT)) throw new Error(`unknown model ${JSON.stringify(s.model)}: rnn, gru or lstm`);
  if (bookText === null) {
    progress({ kind: 'status', text: 'fetching The Time Machine…' });
    bookText = new TextDecoder().decode(await fetchData('timemachine/timemachine.txt', false));
  }
  const { corpus, vocab } = timeMachineCorpus(preprocessTimeMachine(bookText));
  const { train } = splitCorpus(corpus, LM_DATA.valFraction, LM_DATA.maxTokens);
  const g = new Generator(s.seed); // as papers/rnn/train.ts: init from g, the partitioning from g's first draw
  const dataGen = new Generator(g.nextUint32());
  const init = LM_INIT[s.model];
  const net = new RNNLM(vocab.length, s.model, s.hidden, { numLayers: 1, bidirectional: false, init, generator: g });
  const optimizer = new optim.SGD(net.parameters(), { lr: s.lr });
  const model = { name: s.model, cell: s.model, bidirectional: false, layers: 1, hidden: s.hidden, init, vocab: [...vocab.idxToToken] };
  const config = {
    hidden: s.hidden, layers: 1, lr: s.lr, batch_size: LM_DATA.batch, num_steps: LM_DATA.numSteps, epochs: s.epochs, clip: LM_DATA.clip,
    iterator: 'sequential', init, max_tokens: LM_DATA.maxTokens, val_fraction: LM_DATA.valFraction, eval_every: 10, model,
  };
  lmState = { net, vocab: vocab.idxToToken, name: s.model, config, history: [], seed: s.seed };
  const st = lmState;
  stopRequested = false;
  let steps = 0;
  progress({ kind: 'status', text: `training ${s.model} (H ${s.hidden}) on ${train.length} characters` });
  for (let epoch = 1; epoch <= s.epochs && !stopRequested; epoch++) {
    let state: State[] | undefined;
    let sum = 0;
    let tokens = 0;
    const batches = seqDataIterSequential(train, LM_DATA.batch, LM_DATA.numSteps, dataGen);
    for (let i = 0; i < batches.length; i++) {
      const t0 = performance.now();
      const r = lmStep(net, optimizer, batches[i], startState(state, i, true), LM_DATA.clip);
      state = r.state;
      const l = r.loss.item();
      if (!Number.isFinite(l)) throw new Error(`training diverged: the loss is ${l}; try a smaller learning rate`);
      sum += l * r.tokens;
      tokens += r.tokens;
      steps++;
      progress({ kind: 'lm-step', step: steps, epoch, loss: l, tokensPerSec: r.tokens / ((performance.now() - t0) / 1000) });
      await yieldNow();
      if (stopRequested || (s.maxSteps > 0 && steps >= s.maxSteps)) break;
    }
    const ppl = Math.exp(sum / tokens);
    st.history.push({ epoch, train_ppl: ppl });
    progress({ kind: 'lm-epoch', epoch, ppl, sample: predict(net, { idxToToken: st.vocab }, 'time traveller', 50) });
    if (s.maxSteps > 0 && steps >= s.maxSteps) break;
  }
  return { steps, history: st.history };
}

function lmSample(prefix: string, length: number, temperature: number, seed: number): string {
  if (!lmState) throw new Error('no language model yet: train one or load a checkpoint of `pfs train rnn|gru|lstm`');
  return predict(lmState.net, { idxToToken: lmState.vocab }, prefix, length, { temperature, generator: new Generator(seed) });
}

// ---------------------------------------------------------------- optimisers

function optimTraces(start: [number, number], lr: number, beta: number, steps: number) {
  if (!(lr > 0) || !(beta >= 0 && beta < 1)) throw new RangeError(`optimisers: lr must be > 0 and β in [0, 1), got lr ${lr}, β ${beta}`);
  const runs = {
    gd: (p: Tensor[]) => new optim.SGD(p, { lr }),
    momentum: (p: Tensor[]) => new optim.SGD(p, { lr, momentum: beta }),
    adagrad: (p: Tensor[]) => new optim.Adagrad(p, { lr }),
    rmsprop: (p: Tensor[]) => new optim.RMSprop(p, { lr, alpha: beta }),
    adam: (p: Tensor[]) => new optim.Adam(p, { lr, betas: [beta, 0.999] }),
  };
  return Object.fromEntries(Object.entries(runs).map(([k, optimizer]) => [k, runLibrary({ optimizer }, steps, start)]));
}

// ---------------------------------------------------------------- translation

let translator: (Translator & { paper: string }) | null = null;

/** A sentence through the loaded model (papers/translation/translate.ts): greedy or beam search, with its attention maps. */
function translate(sentence: string, beam: number): TranslationResult {
  if (!translator) throw new Error('no translation model yet: load a checkpoint of `pfs train seq2seq|bahdanau|transformer`');
  if (!(Number.isInteger(beam) && beam >= 1 && beam <= 20)) throw new RangeError(`beam: expected a whole number from 1 to 20, got ${beam}`);
  const r = translateSentence(translator, sentence, { beam, attention: true });
  const attention = (r.attention ?? []).map((p) => ({ title: p.title, rows: [...p.rows], cols: [...p.cols], values: p.values.map((row) => [...row]) }));
  return { paper: translator.paper, words: r.words, unknown: r.unknown, tokens: r.tokens, attention };
}

// ---------------------------------------------------------------- checkpoints

function download(page: 'lenet' | 'lm'): Uint8Array {
  if (page === 'lenet') {
    const st = needLeNet();
    const s = st.settings;
    const config = s ? { lr: s.lr, batch_size: s.batch, epochs: s.epochs, train_limit: s.trainLimit, test_limit: s.testLimit } : {};
    return encodeCheckpoint({ model: st.net }, { run: { paper: st.paper, preset: 'browser', seed: s?.seed ?? 0 }, epoch: st.history.length, history: st.history, config });
  }
  if (!lmState) throw new Error('no language model yet');
  return encodeCheckpoint({ model: lmState.net }, {
    run: { paper: lmState.name, preset: 'browser', seed: lmState.seed }, epoch: lmState.history.length, history: lmState.history, config: lmState.config,
  });
}

/** A checkpoint of `pfs train` (or of this page) into its page: LeNet (and LeNet-BN) or a char-level LM. */
function loadCheckpoint(bytes: Uint8Array, name: string) {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (!metadata.format?.startsWith('papers-from-scratch checkpoint')) throw new Error(`${name}: a safetensors file, but not a papers-from-scratch checkpoint (no checkpoint format in its metadata)`);
  const paper = metadata.paper;
  if (paper === 'lenet' || paper === 'lenet-bn') {
    const net = paper === 'lenet' ? lenet() : lenetBN();
    const model = Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('model.')).map(([k, t]) => [k.slice(6), t]));
    try {
      net.loadStateDict(model);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
    net.eval();
    lenetState = { paper, net: net as ReturnType<typeof lenet>, history: JSON.parse(metadata.history ?? '[]'), steps: 0 };
    return { page: 'lenet', paper, epochs: Number(metadata.epoch), preset: metadata.preset };
  }
  if (paper && ['rnn', 'gru', 'lstm', 'deep-lstm', 'bi-lstm'].includes(paper)) {
    const { net, saved, config } = languageModelFromContents(tensors, metadata, name);
    lmState = { net, vocab: saved.vocab, name: saved.name, config, history: JSON.parse(metadata.history ?? '[]'), seed: Number(metadata.seed ?? 0) };
    return { page: 'lm', paper, epochs: Number(metadata.epoch), preset: metadata.preset, hidden: saved.hidden, layers: saved.layers };
  }
  if (paper === 'seq2seq' || paper === 'bahdanau' || paper === 'transformer') {
    const { build, keys } = TRANSLATION_MODELS[paper];
    const t = translatorFromContents(tensors, metadata, name, paper, build, keys);
    translator = { ...t, paper };
    const c = t.config;
    return {
      page: 'translate', paper, epochs: Number(metadata.epoch), preset: metadata.preset, numSteps: t.numSteps,
      srcWords: t.srcVocab.length, tgtWords: t.tgtVocab.length, hidden: c.hidden, layers: c.layers,
    };
  }
  throw new Error(`${name}: a checkpoint of ${paper ?? 'an unnamed paper'}; this app has pages for lenet, lenet-bn, rnn, gru, lstm, deep-lstm, bi-lstm, seq2seq, bahdanau and transformer`);
}

// ---------------------------------------------------------------- timing (bench/browser.ts)

/** Time `steps` calls of `step` after `warmup` untimed ones, on the backend in use. */
function timeSteps(step: () => void, steps: number, warmup: number) {
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    step();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return { times, backend: backend?.describe ?? backendInfo().name };
}

/** bench/workloads.ts's `lenet` workload (bench/lenet-step.ts: d2l's LeNet, Generator(1), SGD lr 0.9) at batch `batch`, as `pfs bench browser-lenet` times it. */
function benchLeNet(batch: number, steps: number, warmup: number) {
  return timeSteps(lenetTrainStep(batch), steps, warmup);
}

/** bench/workloads.ts's `lstm` workload (bench/lstm-step.ts: d2l's LSTM from scratch, one step of 35 × batch 32), as `pfs bench browser-lstm` times it. */
function benchLSTM(steps: number, warmup: number) {
  return timeSteps(lstmStep(LSTM_SIZES), steps, warmup);
}

// ---------------------------------------------------------------- dispatch

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'init': return init(req.threads, req.dataUrl);
    case 'lenet-train': return lenetTrain(req.settings);
    case 'lenet-grid': return lenetGrid(req.n);
    case 'lenet-classify': return lenetClassify(req.pixels);
    case 'lm-train': return lmTrain(req.settings);
    case 'lm-sample': return lmSample(req.prefix, req.length, req.temperature, req.seed);
    case 'optim': return optimTraces(req.start, req.lr, req.beta, req.steps);
    case 'download': return download(req.page);
    case 'load-checkpoint': return loadCheckpoint(req.bytes, req.name);
    case 'translate': return translate(req.sentence, req.beam);
    case 'bench-lenet': return benchLeNet(req.batch, req.steps, req.warmup);
    case 'bench-lstm': return benchLSTM(req.steps, req.warmup);
    case 'stop': stopRequested = true; return null;
  }
}

self.onmessage = async (e: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = e.data;
  try {
    post({ id, ok: true, value: await handle(req) });
  } catch (err) {
    post({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
