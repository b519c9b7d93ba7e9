/**
 * Training the character-level language models on The Time Machine as d2l does (train_ch8 /
 * train_epoch_ch8, 2nd ed.), and the five `Paper`s of the group: rnn, gru, lstm, deep-lstm, bi-lstm.
 *
 * One epoch is one pass of a fresh iterator over the training tokens (a new random offset, and for
 * random partitioning a new shuffle). Per batch: a zero state for the first batch and after every
 * random batch; with sequential partitioning the state of the previous batch, detached (truncated
 * backpropagation through time: the gradient stops at the batch boundary). The loss is the mean
 * cross-entropy over the B·T predicted characters; the gradients are clipped to a global norm of
 * `clip`; then one SGD step. The epoch's perplexity is exp(mean loss of its batches), each loss taken
 * before its update — the number d2l prints as "perplexity".
 * Beside it: the perplexity of the held-out tail of the book (weights fixed, sequential windows
 * without offset, state carried), which d2l does not report.
 */
import { join } from 'node:path';
import { noGrad } from '../../src/autograd/mode.js';
import { loadTimeMachine } from '../../src/data/load.js';
import { timeMachineCorpus } from '../../src/data/text.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/rng.js';
import { CHECKPOINT_FILE } from '../../src/train/checkpoint.js';
import type { EpochRecord, Training } from '../../src/train/loop.js';
import { lineSvg } from '../../src/train/plot.js';
import { CURVES_FILE, trainEpochs } from '../../src/train/runner.js';
import type { Paper, Preset, RunContext, RunResult, Schema } from '../paper.js';
import type { InitScheme, State } from './cells.js';
import { Batch, Partitioning, seqDataIter, seqDataIterSequential, splitCorpus } from './data.js';
import { LM_SPECS, LMName, RNNLM } from './model.js';
import { lmStep, startState } from './step.js';

export { lmStep } from './step.js';
import { loadLanguageModel, predict, SavedModel } from './sample.js';

export type LMConfig = {
  hidden: number;
  layers: number;
  lr: number;
  batch_size: number;
  num_steps: number;
  epochs: number;
  clip: number;
  iterator: Partitioning;
  init: InitScheme;
  max_tokens: number;
  val_fraction: number;
  eval_every: number;
};

const schema: Schema<LMConfig> = {
  hidden: { type: 'int', min: 1, help: 'hidden units per layer and direction (H)' },
  layers: { type: 'int', min: 1, max: 8, help: 'recurrent layers stacked' },
  lr: { type: 'float', min: 0, help: 'SGD learning rate' },
  batch_size: { type: 'int', min: 1, help: 'subsequences per minibatch (B)' },
  num_steps: { type: 'int', min: 1, help: 'time steps per subsequence, the truncation length of BPTT (T)' },
  epochs: { type: 'int', min: 1, help: 'passes over the training tokens' },
  clip: { type: 'float', min: 0, help: 'clip the gradients to this global L2 norm' },
  iterator: { type: 'choice', choices: ['sequential', 'random'], help: 'partitioning into minibatches (sequential carries the state across batches)' },
  init: { type: 'choice', choices: ['normal', 'uniform'], help: "parameter init: d2l scratch N(0, 0.01²) and zero biases, or PyTorch's U(±1/√H)" },
  max_tokens: { type: 'int', min: 0, help: 'train on the first N characters of the book (0 = all but the held-out tail)' },
  val_fraction: { type: 'float', min: 0, max: 0.5, help: 'fraction of the book at its end held out for the validation perplexity' },
  eval_every: { type: 'int', min: 1, help: 'every N epochs: held-out perplexity, a sample, the checkpoint' },
};

/** One epoch's numbers. */
export interface LMEpochRecord extends EpochRecord {
  epoch: number;
  /** exp(mean training loss over the epoch's batches), as d2l prints. */
  train_ppl: number;
  /** Held-out perplexity; present on evaluation epochs only. */
  val_ppl: number;
  seconds: number;
  tokens_per_sec: number;
}

export interface EpochOptions {
  clip: number;
  /** Carry the state from batch to batch (sequential partitioning), detached; else a zero state per batch. */
  carryState: boolean;
  /** Called after each step with the batch's mean loss and its number of predicted tokens. */
  onStep?: (loss: number, tokens: number) => void;
}

/** One pass over `batches` (d2l's train_epoch_ch8); returns the mean loss per token and the token count. */
export function trainEpoch(net: RNNLM, batches: readonly Batch[], optimizer: SGD, o: EpochOptions): { nll: number; tokens: number } {
  let state: State[] | undefined;
  let sum = 0;
  let tokens = 0;
  batches.forEach((batch, i) => {
    const r = lmStep(net, optimizer, batch, startState(state, i, o.carryState), o.clip);
    state = r.state;
    const l = r.loss.item();
    if (!Number.isFinite(l)) throw new Error(`training diverged: the loss is ${l}; try a smaller learning rate or clip`);
    sum += l * r.tokens;
    tokens += r.tokens;
    o.onStep?.(l, r.tokens);
  });
  return { nll: sum / tokens, tokens };
}

/**
 * exp(mean loss per token) of the model on a corpus with fixed weights: sequential windows of
 * `numSteps` from the first token, the state carried (and the batch made smaller where the corpus is short).
 */
export function evaluatePerplexity(net: RNNLM, corpus: ArrayLike<number>, batchSize: number, numSteps: number): number {
  const B = Math.min(batchSize, Math.floor((corpus.length - 1 - numSteps) / numSteps));
  if (B < 1) throw new RangeError(`evaluatePerplexity: a corpus of ${corpus.length} tokens is too short for windows of ${numSteps}`);
  return noGrad(() => {
    let state: State[] | undefined;
    let sum = 0;
    let tokens = 0;
    for (const [X, Y] of seqDataIterSequential(corpus, B, numSteps)) {
      const r = net.forward(X, state);
      state = r.state;
      const y = Y.transpose(0, 1).reshape([-1]);
      sum += crossEntropy(r.logits, y).item() * y.numel;
      tokens += y.numel;
    }
    return Math.exp(sum / tokens);
  });
}

const SAMPLES = 'samples.txt';

/** The book as d2l's load_corpus_time_machine gives it, split into training tokens and the held-out tail. */
function loadData(config: LMConfig, dataDir?: string) {
  const { corpus, vocab } = timeMachineCorpus(loadTimeMachine({ dataDir }));
  const { train, heldOut } = splitCorpus(corpus, config.val_fraction, config.max_tokens);
  return { vocab, train, heldOut };
}

function heldOutPpl(net: RNNLM, heldOut: Int32Array, config: LMConfig): number {
  return heldOut.length > 0 ? evaluatePerplexity(net, heldOut, config.batch_size, config.num_steps) : NaN;
}

async function run(name: LMName, config: LMConfig, ctx: RunContext): Promise<RunResult> {
  const spec = LM_SPECS[name];
  // One seed: the init draws from `g`; the partitioning from a generator seeded by g's first draw.
  const g = new Generator(ctx.seed);
  const dataGen = new Generator(g.nextUint32());
  const { vocab, train, heldOut } = loadData(config, ctx.dataDir);
  const net = new RNNLM(vocab.length, spec.cell, config.hidden, {
    numLayers: config.layers, bidirectional: spec.bidirectional, init: config.init, generator: g,
  });
  const optimizer = new SGD(net.parameters(), { lr: config.lr });
  const model: SavedModel = {
    name, cell: spec.cell, bidirectional: spec.bidirectional, layers: config.layers, hidden: config.hidden, init: config.init, vocab: [...vocab.idxToToken],
  };
  const say = (line: string) => {
    if (!ctx.quiet) ctx.log.write(line + '\n');
  };
  say(`${name}: ${net.numParameters()} parameters; ${train.length} training characters, ${heldOut.length} held out; vocabulary of ${vocab.length}`);

  let state: State[] | undefined;
  const training: Training<Batch, LMEpochRecord> = {
    epochs: config.epochs,
    batches: () => seqDataIter(config.iterator, train, config.batch_size, config.num_steps, dataGen),
    step: (batch, i) => {
      const r = lmStep(net, optimizer, batch, startState(state, i, config.iterator === 'sequential'), config.clip);
      state = r.state;
      return { loss: r.loss, count: r.tokens };
    },
    endEpoch: (t) => {
      const record = { epoch: t.epoch, train_ppl: Math.exp(t.loss), seconds: t.seconds, tokens_per_sec: t.count / t.seconds } as LMEpochRecord;
      const evalNow = isEvalEpoch(t.epoch);
      if (evalNow) record.val_ppl = heldOutPpl(net, heldOut, config);
      tokensRun += t.count;
      secondsRun += t.seconds;
      return { record, shown: { ppl: record.train_ppl, ...(evalNow ? { 'held-out ppl': record.val_ppl } : {}) } };
    },
  };
  const isEvalEpoch = (epoch: number) => epoch % config.eval_every === 0 || epoch === config.epochs;
  let tokensRun = 0;
  let secondsRun = 0;
  const { history } = await trainEpochs(ctx, {
    training, model: net, optimizer, generators: { data: dataGen }, config: { ...config, model },
    curves: (h) => curves(name, h),
    // every eval_every epochs: held-out perplexity, a sample, the checkpoint
    checkpointAfter: (epoch) => {
      if (!isEvalEpoch(epoch)) return false;
      if (!ctx.quiet) ctx.log.write(`  ${predict(net, vocab, 'time traveller', 50)}\n`);
      return true;
    },
  });

  const last = history[history.length - 1];
  const samples = ['time traveller', 'traveller'].map((p) => predict(net, vocab, p, 50));
  await writeFileAtomic(join(ctx.outDir, SAMPLES), samples.join('\n') + '\n');
  samples.forEach(say);
  const lastVal = [...history].reverse().find((r) => r.val_ppl !== undefined && r.val_ppl !== null);
  return {
    metrics: {
      train_ppl: last.train_ppl,
      val_ppl: lastVal?.val_ppl ?? NaN,
      tokens_per_sec: secondsRun > 0 ? tokensRun / secondsRun : last.tokens_per_sec,
    },
    samples: tokensRun,
    files: [CHECKPOINT_FILE, CURVES_FILE, SAMPLES],
  };
}

function curves(name: string, h: LMEpochRecord[]): string {
  const val = h.filter((r) => typeof r.val_ppl === 'number');
  return lineSvg(
    [
      { name: 'train perplexity', x: h.map((r) => r.epoch), y: h.map((r) => r.train_ppl) },
      { name: 'held-out perplexity', x: val.map((r) => r.epoch), y: val.map((r) => r.val_ppl) },
    ],
    { title: `${name} on The Time Machine`, xLabel: 'epoch', yLabel: 'perplexity', logY: true },
  );
}

/** Perplexities of a saved model with fixed weights: the training characters and the held-out tail. */
async function evaluate(name: LMName, config: LMConfig, checkpoint: string, ctx: RunContext): Promise<Record<string, number>> {
  const { net, saved, config: savedConfig } = await loadLanguageModel(checkpoint);
  if (saved.name !== name) throw new Error(`eval: ${checkpoint} holds a ${saved.name} model, not ${name}`);
  // The data split the model was trained with (unless overridden on the command line, config is the preset's).
  const c = { ...config, val_fraction: Number(savedConfig.val_fraction ?? config.val_fraction), max_tokens: Number(savedConfig.max_tokens ?? config.max_tokens) };
  const { train, heldOut } = loadData(c, ctx.dataDir);
  return { train_ppl: evaluatePerplexity(net, train, c.batch_size, c.num_steps), val_ppl: heldOutPpl(net, heldOut, c) };
}

// ---------- presets ----------

/** What differs between the models' presets. */
interface ModelChoice {
  hidden: number;
  layers: number;
  lr: number;
  init: InitScheme;
}

/** The procedure every preset shares (d2l's): batch 32 × 35 steps over the first 10,000 characters, clip 1. */
function config(m: ModelChoice, epochs: number): LMConfig {
  return {
    ...m, batch_size: 32, num_steps: 35, epochs, clip: 1, iterator: 'sequential', max_tokens: 10000, val_fraction: 0.1, eval_every: 10,
  };
}

function describe(m: ModelChoice, epochs: number): string {
  return `H ${m.hidden}, ${m.layers} layer(s), SGD lr ${m.lr}, ${m.init} init, ${epochs} epochs of batch 32 × 35 steps over the first 10,000 characters, clip 1`;
}

/** d2l's printed run (2nd ed., chapters 8–9): 500 epochs; the target is this project's bar above d2l's printed perplexity. */
function d2l(m: ModelChoice, section: string, printed: number, target?: number): Preset<LMConfig> {
  return {
    description: `d2l's setup (${section}): ${describe(m, 500)}`,
    config: config(m, 500),
    target: target === undefined ? undefined : { metric: 'train_ppl', direction: 'min', value: target, source: `train perplexity ≤ ${target}: this project's bar above d2l ${section}'s printed perplexity ${printed.toFixed(1)}` },
  };
}

/** Minutes on 2 CPU cores: fewer epochs (and mostly a smaller model); the target is set from a measured run (README.md). */
function cpu(m: ModelChoice, epochs: number, target: number, measured: string): Preset<LMConfig> {
  return {
    description: `${describe(m, epochs)} (minutes on 2 cores)`,
    config: config(m, epochs),
    target: { metric: 'train_ppl', direction: 'min', value: target, source: `measured ${measured}` },
  };
}

function paper(name: LMName, title: string, cites: string, presets: Record<string, Preset<LMConfig>>): Paper<LMConfig> {
  return {
    name, title, cites, defaultPreset: 'cpu', schema, presets,
    status: 'cpu preset run once and met its target; d2l preset run for rnn, gru, lstm and deep-lstm (train ppl 1.21, 1.06, 1.12, 1.03 ≤ 1.3), not yet for bi-lstm (no target); see papers/rnn/README.md',
    metrics: () => ['train_ppl', 'val_ppl', 'tokens_per_sec'],
    train: (c, ctx) => run(name, c, ctx),
    evaluate: (c, ckpt, ctx) => evaluate(name, c, ckpt, ctx),
  };
}

export const rnnPaper = paper('rnn', 'Character-level RNN language model on The Time Machine', 'Rumelhart, Hinton & Williams 1985; Elman 1990', {
  cpu: cpu({ hidden: 128, layers: 1, lr: 1, init: 'normal' }, 200, 3.6, 'train ppl 3.18 (seed 0), README.md'),
  d2l: d2l({ hidden: 512, layers: 1, lr: 1, init: 'normal' }, '§8.5 RNN from scratch', 1.0, 1.3),
});

export const gruPaper = paper('gru', 'Character-level GRU language model on The Time Machine', 'Cho et al. 2014', {
  cpu: cpu({ hidden: 128, layers: 1, lr: 2, init: 'uniform' }, 80, 6.5, 'train ppl 5.70 (seed 0), README.md'),
  d2l: d2l({ hidden: 256, layers: 1, lr: 1, init: 'normal' }, '§9.1 GRU from scratch', 1.1, 1.3),
});

export const lstmPaper = paper('lstm', 'Character-level LSTM language model on The Time Machine', 'Hochreiter & Schmidhuber 1997', {
  cpu: cpu({ hidden: 256, layers: 1, lr: 4, init: 'uniform' }, 80, 5.0, 'train ppl 4.34 (seed 0), README.md'),
  d2l: d2l({ hidden: 256, layers: 1, lr: 1, init: 'normal' }, '§9.2 LSTM from scratch', 1.2, 1.3),
});

export const deepLstmPaper = paper('deep-lstm', 'Two-layer (stacked) LSTM language model on The Time Machine', 'Hochreiter & Schmidhuber 1997; stacked as in Graves 2013', {
  cpu: cpu({ hidden: 128, layers: 2, lr: 4, init: 'uniform' }, 50, 11, 'train ppl 9.53 (seed 0), README.md'),
  // d2l's concise models (nn.LSTM) keep PyTorch's initialisation
  d2l: d2l({ hidden: 256, layers: 2, lr: 2, init: 'uniform' }, '§9.3 deep RNN', 1.0, 1.3),
});

export const biLstmPaper = paper('bi-lstm', 'Two-layer bidirectional LSTM on The Time Machine (the wrong tool for prediction)', 'Schuster & Paliwal 1997; Hochreiter & Schmidhuber 1997', {
  cpu: cpu({ hidden: 128, layers: 2, lr: 2, init: 'uniform' }, 30, 3.2, 'train ppl 2.83 (seed 0), README.md; its samples degenerate, as d2l shows'),
  d2l: d2l({ hidden: 256, layers: 2, lr: 1, init: 'uniform' }, '§9.4 bidirectional RNN', 1.1),
});

export const LM_PAPERS: readonly Paper<LMConfig>[] = [rnnPaper, gruPaper, lstmPaper, deepLstmPaper, biLstmPaper];
