/**
 * Training and evaluating the translation papers as d2l's train_seq2seq (classic edition, §9.7), and
 * the `Paper` they share (papers/seq2seq, papers/bahdanau and papers/transformer each define one).
 *
 * Per batch (X, X_valid, Y, Y_valid): the decoder reads <bos> y_1 … y_{T−1} (teacher forcing) and
 * predicts y_1 … y_T; each sentence's loss is the mean over the T steps of its token cross-entropies,
 * the padding counting 0 (sequenceCrossEntropy); the gradient of their sum is clipped to a global norm
 * of `clip`, then one Adam step. The epoch's loss as d2l prints it is Σ losses / Σ Y_valid — the mean
 * token cross-entropy divided by T — reported as `d2l_loss`, beside `train_loss`, the mean token
 * cross-entropy itself (= d2l_loss · T).
 *
 * Evaluation: greedy decoding (decode.ts) of d2l's four sentences scored with d2l's BLEU (k = 2), and,
 * when pairs are held out, corpus BLEU-4 of the greedy translations of all held-out sentences.
 */
import { join } from 'node:path';
import { loadFraEng } from '../../src/data/load.js';
import { loadSafetensors, writeFileAtomic } from '../../src/io/atomic.js';
import { sequenceCrossEntropy } from '../../src/nn/losses.js';
import { Adam } from '../../src/optim/adam.js';
import { clipGradNorm } from '../../src/optim/clip.js';
import { cat } from '../../src/ops/shape.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { bleuD2l, corpusBleu } from '../../src/train/bleu.js';
import { CHECKPOINT_FILE } from '../../src/train/checkpoint.js';
import type { EpochRecord, Training } from '../../src/train/loop.js';
import { lineSvg } from '../../src/train/plot.js';
import { CURVES_FILE, trainEpochs } from '../../src/train/runner.js';
import type { Paper, Preset, RunContext, RunResult, Schema } from '../paper.js';
import { NmtBatch, Pairs, TranslationData, translationData, trainLoader } from './data.js';
import { greedyDecode } from './decode.js';
import { EncoderDecoder, xavierInit } from './model.js';
import { BuildModel, inEvalMode, sourceBatch, specials, Translator, translatorFromContents } from './translator.js';

export { inEvalMode, sourceBatch, specials, tokenizeSentence, translatorFromContents } from './translator.js';
export type { BuildModel, Translator } from './translator.js';

/** What every translation preset sets. */
export type BaseConfig = {
  hidden: number;
  layers: number;
  dropout: number;
  batch_size: number;
  num_steps: number;
  lr: number;
  epochs: number;
  clip: number;
  max_examples: number;
  held_out_every: number;
  min_freq: number;
  eval_every: number;
};

export const BASE_SCHEMA: Schema<BaseConfig> = {
  hidden: { type: 'int', min: 1, help: 'hidden units of the recurrent layers, or d_model of the Transformer' },
  layers: { type: 'int', min: 1, max: 12, help: 'layers of the encoder and of the decoder' },
  dropout: { type: 'float', min: 0, max: 1, help: 'dropout probability' },
  batch_size: { type: 'int', min: 1, help: 'sentence pairs per minibatch' },
  num_steps: { type: 'int', min: 2, max: 200, help: 'tokens per sentence (with <eos>), truncated or padded to it' },
  lr: { type: 'float', min: 0, help: 'Adam learning rate' },
  epochs: { type: 'int', min: 1, help: 'passes over the training pairs' },
  clip: { type: 'float', min: 0, help: 'clip the gradients to this global L2 norm' },
  max_examples: { type: 'int', min: 0, help: 'use the first N pairs of fra.txt (0 = all)' },
  held_out_every: { type: 'int', min: 0, help: 'hold out every N-th pair for the corpus BLEU (0 = none)' },
  min_freq: { type: 'int', min: 1, help: 'words seen fewer times in the training pairs map to <unk>' },
  eval_every: { type: 'int', min: 1, help: 'every N epochs: held-out BLEU and the checkpoint' },
};

/** d2l's four test sentences (§9.7), with their names in the metrics. */
export const D2L_SENTENCES: readonly { name: string; eng: string; fra: string }[] = [
  { name: 'bleu_go', eng: 'go .', fra: 'va !' },
  { name: 'bleu_lost', eng: 'i lost .', fra: "j'ai perdu ." },
  { name: 'bleu_calm', eng: "he's calm .", fra: 'il est calme .' },
  { name: 'bleu_home', eng: "i'm home .", fra: 'je suis chez moi .' },
];

/** Greedy translations of token lists, in batches of `batchSize`, in eval mode; token lists out. */
export function translateAll(t: Translator, sentences: readonly (readonly string[])[], batchSize = 256): string[][] {
  const sp = specials(t.tgtVocab);
  return inEvalMode(t.model, () => {
    const out: string[][] = [];
    for (let i = 0; i < sentences.length; i += batchSize) {
      const { X, XValid } = sourceBatch(t, sentences.slice(i, i + batchSize));
      for (const ids of greedyDecode(t.model, X, XValid, sp, t.numSteps)) out.push(t.tgtVocab.toTokens(ids));
    }
    return out;
  });
}

/** d2l's four sentences: their translations and BLEU (k = 2). */
export function d2lBleu(t: Translator): { name: string; eng: string; translation: string; bleu: number }[] {
  const hyps = translateAll(t, D2L_SENTENCES.map((s) => s.eng.split(' ')));
  return D2L_SENTENCES.map((s, i) => ({ name: s.name, eng: s.eng, translation: hyps[i].join(' '), bleu: bleuD2l(hyps[i], s.fra.split(' '), 2) }));
}

/** Corpus BLEU-4 of the greedy translations of the held-out pairs (references not truncated). */
export function heldOutBleu(t: Translator, heldOut: Pairs): number {
  return corpusBleu(translateAll(t, heldOut.source), heldOut.target).bleu;
}

export interface TranslationRecord extends EpochRecord {
  epoch: number;
  /** Σ per-sentence losses / Σ target tokens, as d2l prints it (the token cross-entropy / num_steps). */
  d2l_loss: number;
  /** Mean token cross-entropy. */
  train_loss: number;
  /** Corpus BLEU-4 on the held-out pairs; on evaluation epochs, when pairs are held out. */
  heldout_bleu: number;
  seconds: number;
  /** Target positions (padding included) per second of training. */
  tokens_per_sec: number;
}

/** One teacher-forced step (d2l's train_seq2seq body); returns the loss sum and the number of target tokens. */
export function translationStep(model: EncoderDecoder, optimizer: Adam, [X, XValid, Y, YValid]: NmtBatch, bos: number, clip: number): { loss: Tensor; tokens: number } {
  const [B, T] = Y.shape;
  const decoderInput = cat([Tensor.full([B, 1], bos, { dtype: 'int32' }), Y.narrow(1, 0, T - 1)], 1); // <bos> y_1 … y_{T−1}
  const logits = model.forward(X, XValid, decoderInput); // (B, T, V)
  const loss = sequenceCrossEntropy(logits, Y, YValid).sum();
  optimizer.zeroGrad();
  loss.backward();
  clipGradNorm(model.parameters(), clip);
  optimizer.step();
  let tokens = 0;
  for (const v of YValid.toTypedArray()) tokens += v;
  return { loss, tokens };
}

function loadData(config: BaseConfig, dataDir?: string): TranslationData {
  const pairs = loadFraEng({ dataDir, maxExamples: config.max_examples > 0 ? config.max_examples : undefined });
  return translationData(pairs, { maxExamples: config.max_examples, heldOutEvery: config.held_out_every, minFreq: config.min_freq, numSteps: config.num_steps });
}

const TRANSLATIONS = 'translations.txt';

async function run<C extends BaseConfig>(name: string, build: BuildModel<C>, config: C, ctx: RunContext): Promise<RunResult> {
  // One seed: the initialisation and the dropout masks draw from `g`, the shuffles from `dataGen`.
  const g = new Generator(ctx.seed);
  const dataGen = new Generator(g.nextUint32());
  const data = loadData(config, ctx.dataDir);
  const model = build(config, data.srcVocab.length, data.tgtVocab.length, g);
  xavierInit(model, g);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const t: Translator = { model, srcVocab: data.srcVocab, tgtVocab: data.tgtVocab, numSteps: config.num_steps };
  const nTrain = data.train[0].shape[0];
  const say = (line: string) => {
    if (!ctx.quiet) ctx.log.write(line + '\n');
  };
  say(`${name}: ${model.numParameters()} parameters; ${nTrain} training pairs, ${data.heldOut.source.length} held out; vocabularies ${data.srcVocab.length} (English) and ${data.tgtVocab.length} (French)`);

  const bos = data.tgtVocab.toIndex('<bos>');
  const loader = trainLoader(data, config.batch_size, dataGen);
  const heldOut = data.heldOut.source.length > 0;
  const isEvalEpoch = (epoch: number) => epoch % config.eval_every === 0 || epoch === config.epochs;
  const training: Training<Tensor[], TranslationRecord> = {
    epochs: config.epochs,
    batches: () => {
      model.train();
      return loader;
    },
    step: (batch) => {
      const r = translationStep(model, optimizer, batch as NmtBatch, bos, config.clip);
      return { loss: r.loss.div(r.tokens), count: r.tokens };
    },
    endEpoch: (e) => {
      const record = {
        epoch: e.epoch, d2l_loss: e.loss, train_loss: e.loss * config.num_steps, seconds: e.seconds, tokens_per_sec: (nTrain * config.num_steps) / e.seconds,
      } as TranslationRecord;
      const shown: Record<string, number> = { 'token CE': record.train_loss };
      if (heldOut && isEvalEpoch(e.epoch)) shown['held-out BLEU'] = record.heldout_bleu = heldOutBleu(t, data.heldOut);
      return { record, shown };
    },
  };
  const { history, epochsRun } = await trainEpochs(ctx, {
    training, model, optimizer, generators: { init: g, data: dataGen },
    config: { ...config, model: { srcVocab: [...data.srcVocab.idxToToken], tgtVocab: [...data.tgtVocab.idxToToken] } },
    curves: (h) => curves(name, h),
    checkpointAfter: isEvalEpoch,
    logEvery: 200,
  });

  const last = history[history.length - 1];
  const d2l = d2lBleu(t);
  const lines = d2l.map((s) => `${s.eng} => ${s.translation}, bleu ${s.bleu.toFixed(3)}`);
  await writeFileAtomic(join(ctx.outDir, TRANSLATIONS), lines.join('\n') + '\n');
  lines.forEach(say);
  const lastHeldOut = [...history].reverse().find((r) => typeof r.heldout_bleu === 'number');
  return {
    metrics: {
      d2l_loss: last.d2l_loss,
      train_loss: last.train_loss,
      ...Object.fromEntries(d2l.map((s) => [s.name, s.bleu])),
      ...(heldOut ? { heldout_bleu: lastHeldOut?.heldout_bleu ?? NaN } : {}),
      tokens_per_sec: history.reduce((s, r) => s + r.tokens_per_sec * r.seconds, 0) / history.reduce((s, r) => s + r.seconds, 0),
    },
    samples: nTrain * epochsRun,
    files: [CHECKPOINT_FILE, CURVES_FILE, TRANSLATIONS],
  };
}

function curves(name: string, h: TranslationRecord[]): string {
  const bleu = h.filter((r) => typeof r.heldout_bleu === 'number');
  return lineSvg(
    [
      { name: 'train loss (token cross-entropy)', x: h.map((r) => r.epoch), y: h.map((r) => r.train_loss) },
      ...(bleu.length > 0 ? [{ name: 'held-out BLEU-4', x: bleu.map((r) => r.epoch), y: bleu.map((r) => r.heldout_bleu) }] : []),
    ],
    { title: `${name} on English–French`, xLabel: 'epoch' },
  );
}

/** Rebuild the model a checkpoint was saved from and load its weights (translator.ts, from the file's contents). */
export async function loadTranslator<C extends BaseConfig>(path: string, paper: string, build: BuildModel<C>, schema: Schema<C>): Promise<Translator & { config: C }> {
  const { tensors, metadata } = await loadSafetensors(path);
  return translatorFromContents(tensors, metadata, path, paper, build, Object.keys(schema));
}

// ---------- the papers ----------

export interface TranslationSpec<C extends BaseConfig> {
  name: string;
  title: string;
  cites: string;
  status: string;
  /** The config keys beyond BaseConfig. */
  schema: Schema<C>;
  presets: Record<string, Preset<C>>;
  build: BuildModel<C>;
}

/** A translation paper: a Paper that can also build its model and load its checkpoints for decoding. */
export interface TranslationPaper<C extends BaseConfig = BaseConfig> extends Paper<C> {
  /** The model of a config, untrained (as training builds it, before xavierInit; the benchmarks build it so too). */
  build(config: C, srcVocab: number, tgtVocab: number, generator: Generator): EncoderDecoder;
  load(checkpoint: string): Promise<Translator & { config: C }>;
}

export function translationPaper<C extends BaseConfig>(s: TranslationSpec<C>): TranslationPaper<C> {
  return {
    build: s.build,
    load: (ckpt) => loadTranslator(ckpt, s.name, s.build, s.schema),
    name: s.name, title: s.title, cites: s.cites, status: s.status, defaultPreset: 'd2l', presets: s.presets, schema: s.schema,
    metrics: (c) => ['d2l_loss', 'train_loss', ...D2L_SENTENCES.map((x) => x.name), ...(c.held_out_every > 0 ? ['heldout_bleu'] : []), 'tokens_per_sec'],
    train: (c, ctx) => run(s.name, s.build, c, ctx),
    evaluate: async (c, ckpt, ctx) => {
      const t = await loadTranslator(ckpt, s.name, s.build, s.schema);
      const metrics: Record<string, number> = Object.fromEntries(d2lBleu(t).map((x) => [x.name, x.bleu]));
      if (t.config.held_out_every > 0) metrics.heldout_bleu = heldOutBleu(t, loadData({ ...c, ...pick(t.config) }, ctx.dataDir).heldOut);
      return metrics;
    },
  };
}

/** The data settings a model was trained with (so that eval holds out the same pairs and builds the same vocabulary). */
function pick(c: BaseConfig): Pick<BaseConfig, 'max_examples' | 'held_out_every' | 'min_freq' | 'num_steps'> {
  return { max_examples: c.max_examples, held_out_every: c.held_out_every, min_freq: c.min_freq, num_steps: c.num_steps };
}

/** d2l's classic setup: the first 600 pairs, 10 steps, batch 64, Adam 0.005, clip 1, dropout 0.1, 2 layers, no held-out pairs. */
export const D2L_BASE = {
  layers: 2, dropout: 0.1, batch_size: 64, num_steps: 10, lr: 0.005, clip: 1, max_examples: 600, held_out_every: 0, min_freq: 2,
} as const;

/** The full corpus: every 20th pair held out, the rest trained on for one epoch; 10 steps, batch 128. */
export const FULL_BASE = {
  layers: 2, dropout: 0.1, batch_size: 128, num_steps: 10, clip: 1, max_examples: 0, held_out_every: 20, min_freq: 2, epochs: 1, eval_every: 1,
} as const;

/** The d2l preset's target: the loss as d2l prints it within 2× its printed value. */
export function d2lTarget(printed: number, section: string, bleu: string): Preset<BaseConfig>['target'] {
  return { metric: 'd2l_loss', direction: 'min', value: 2 * printed, source: `2× d2l ${section}'s printed loss ${printed} (its BLEU: ${bleu})` };
}
