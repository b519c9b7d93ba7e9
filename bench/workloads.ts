/**
 * The benchmark workloads of `pfs bench` and bench/run.sh, written with the library's public ops as a
 * user would write them. The peers in bench/peers/ build the same workloads, with the same sizes,
 * in their own libraries (PyTorch, TensorFlow.js, js-pytorch, jax-js), so the sizes below are the
 * contract: change one here and change it there.
 *
 *   sgemm-256 … sgemm-2048   C = A·B, n×n float32 (2n³ FLOP)
 *   lenet                    d2l's LeNet (sigmoid, avg-pool), batch 256, 28×28: one SGD train step
 *   lstm                     hand-written LSTM, vocab 28, hidden 256, 35 steps, batch 32: one train
 *                            step (one-hot inputs, cross-entropy, gradient clipping to norm 1, SGD)
 *   transformer              one Transformer encoder layer (post-norm, as d2l), d 256, 4 heads,
 *                            FFN 1024, sequence 64, batch 32: forward + backward of Σ Z ⊙ R, R a
 *                            fixed random tensor (the plain sum would have a zero gradient: each
 *                            row of a layer norm's output sums to a constant)
 *   resnet18                 d2l's ResNet-18 for Fashion-MNIST (1 channel), 96×96, batch 32: one
 *                            SGD train step in training mode (batch statistics)
 *   charlm-rnn, charlm-gru,  the five character-level language models of papers/rnn, built by its own
 *   charlm-lstm,             code (RNNLM) with its d2l preset's hidden size, layers, init, lr and clip:
 *   charlm-deep-lstm,        one train step of batch 32 × 35 steps, vocabulary 28 (trainEpoch on one
 *   charlm-bi-lstm           batch); tokens/s = 32·35 / step time. PyTorch is their only peer.
 *   vision-alexnet …         the six papers/vision nets at their cpu presets: one train step (images/s)
 *   translate-seq2seq,       the three translation papers, each model built by its paper's own code at
 *   translate-bahdanau,      its d2l preset (sizes, xavierInit, Adam lr, clip): one train step
 *   translate-transformer    (translationStep: d2l's train_seq2seq body) on a synthetic batch of 64 ×
 *                            10 tokens with d2l's vocabulary sizes, source 184, target 201;
 *                            tokens/s = 64·10 / step time. PyTorch (papers/translation/twin_torch.py)
 *                            is their only peer.
 *   skipgram                 papers/skip-gram at its d2l preset (vocabulary 6719, d = 100, Adam 0.002):
 *                            one train step (skipGramStep: scores u·v, d2l's masked BCE, backward of
 *                            the sum, Adam) on a synthetic batch of 512 centres, each with 1..10
 *                            context words (uniform) and 5 noise words per context, padded to 60;
 *                            tokens/s = centres/s, as d2l counts them. PyTorch
 *                            (papers/skip-gram/reference_torch.py's loss and model) is its only peer.
 *   bert                     papers/bert at its d2l preset (d 128, FFN 256, 2 heads, 2 blocks, dropout 0.2,
 *                            Adam 0.01): one train step (bertStep: d2l's train_bert body) on a fixed
 *                            batch of 512 sentence pairs × 64 tokens, 10 predicted positions each, with
 *                            WikiText-2's vocabulary size 20256; the batch's values come from integer
 *                            formulas (bertBatch) that the PyTorch peer computes alike.
 *   embedding                an embedding lookup and its gradient at skip-gram's sizes: 512 × 60
 *                            word ids into a (6719, 100) float32 table (indexSelect forward,
 *                            indexAdd backward). Ours only: no peer runs it.
 *
 * Every random choice flows from a fixed seed. A train step is: zero the gradients, forward, loss,
 * backward, (clip,) optimiser step — the whole of what a training loop does per batch, data aside.
 */
import { SGD } from '../src/optim/sgd.js';
import { crossEntropy, Embedding, LayerNorm, Linear, Module } from '../src/nn/index.js';
import { Adam } from '../src/optim/adam.js';
import { Vocab } from '../src/data/text.js';
import { Generator } from '../src/tensor/rng.js';
import { lenetTrainStep } from './lenet-step.js';
import { lstmStep as handLstmStep, LSTM_SIZES } from './lstm-step.js';
import { Tensor } from '../src/tensor/tensor.js';
import { TRANSLATION_PAPERS } from '../papers/index.js';
import { resnet18 } from '../papers/resnet/model.js';
import { LM_SPECS, RNNLM, type LMName } from '../papers/rnn/model.js';
import { LM_PAPERS, trainEpoch, type LMConfig } from '../papers/rnn/train.js';
import { VISION_PAPERS } from '../papers/vision/papers.js';
import { findVisionNet } from '../papers/vision/nets.js';
import { buildNet, type VisionConfig } from '../papers/vision/train.js';
import { RESERVED, type NmtBatch } from '../papers/translation/data.js';
import { type EncoderDecoder, xavierInit as translationInit } from '../papers/translation/model.js';
import { translationStep, type BaseConfig, type TranslationPaper } from '../papers/translation/train.js';
import type { Classifier } from '../src/train/loop.js';
import { batchify, type SkipGramBatch } from '../papers/skip-gram/data.js';
import { SkipGram } from '../papers/skip-gram/model.js';
import { skipGramPaper, skipGramStep } from '../papers/skip-gram/train.js';
import { numPredictions, type BertBatch } from '../papers/bert/data.js';
import { bertPaper, bertStep, buildBert } from '../papers/bert/train.js';

export interface Workload {
  /** The name on the command line and in results. */
  name: string;
  /** One line for `pfs bench --list` and the results table. */
  description: string;
  /** Floating-point operations of one run, where GFLOP/s is meaningful (GEMM). */
  flops?: number;
  /** Tokens one run trains on, where tokens/s is meaningful (the language models). */
  tokens?: number;
  /** Images one run trains on, where images/s is meaningful (the vision nets). */
  images?: number;
  /** How long to keep measuring: at least minRuns timed runs, more while the budget lasts, at most maxRuns. */
  minRuns: number;
  maxRuns: number;
  budgetMs: number;
  /** Builds the data and the model (seeded) and returns one run of the workload. */
  setup(): () => void;
}

/** Sizes shared with the peers (bench/peers/*). */
export const SIZES = {
  sgemm: [256, 512, 1024, 2048],
  lenet: { batch: 256, lr: 0.9 },
  lstm: LSTM_SIZES,
  transformer: { dModel: 256, nHeads: 4, dFF: 1024, seq: 64, batch: 32 },
  resnet18: { batch: 32, size: 96, lr: 0.05 },
  /** The Time Machine's vocabulary after d2l's preprocessing (26 letters, space, <unk>); the rest is the d2l preset's. */
  charlm: { vocab: 28 },
  /**
   * The translation papers' d2l setup (the first 600 fra-eng pairs, min_freq 2): its vocabularies'
   * sizes, English 184 and French 201, and the shortest valid length drawn (the longest is the
   * preset's num_steps); batch and steps are the preset's (64 × 10).
   */
  translate: { srcVocab: 184, tgtVocab: 201, minValid: 2 },
  /** papers/skip-gram's d2l preset on PTB: its vocabulary, and a batch of `batch` centres with 1..maxContexts contexts and `noise` noise words per context. */
  skipgram: { vocab: 6719, batch: 512, maxContexts: 10, noise: 5 },
  /** d2l's skip-gram on PTB: vocabulary 6719, embeddings of 100, batches of 512 centres × 60 context and noise words (ours only). */
  embedding: { vocab: 6719, dim: 100, batch: 512, words: 60 },
  /** d2l's BERT pretraining on WikiText-2: its vocabulary (min_freq 5) and the d2l preset's batch × max_len; P = round(0.15 · 64). */
  bert: { vocab: 20256, batch: 512, maxLen: 64, preds: 10 },
} as const;

// ---------------------------------------------------------------- SGEMM

function sgemm(n: number): Workload {
  return {
    name: `sgemm-${n}`,
    description: `C = A·B, ${n}×${n} float32`,
    flops: 2 * n ** 3,
    minRuns: 5,
    maxRuns: 200,
    budgetMs: 2000,
    setup() {
      const g = new Generator(n);
      const a = Tensor.randn([n, n], { generator: g });
      const b = Tensor.randn([n, n], { generator: g });
      return () => void a.matmul(b);
    },
  };
}

// ---------------------------------------------------------------- LeNet

const lenetStep: Workload = {
  name: 'lenet',
  description: `LeNet (sigmoid, avg-pool) train step, batch ${SIZES.lenet.batch}, 28×28`,
  minRuns: 10,
  maxRuns: 100,
  budgetMs: 3000,
  setup: () => lenetTrainStep(SIZES.lenet.batch, SIZES.lenet.lr), // bench/lenet-step.ts
};

// ---------------------------------------------------------------- hand-written LSTM

/** d2l's LSTM from scratch, one time step at a time (bench/lstm-step.ts). */
const lstmStep: Workload = {
  name: 'lstm',
  description: `hand-written LSTM train step, vocab ${SIZES.lstm.vocab}, hidden ${SIZES.lstm.hidden}, ${SIZES.lstm.steps} steps, batch ${SIZES.lstm.batch}`,
  minRuns: 10,
  maxRuns: 100,
  budgetMs: 3000,
  setup: () => handLstmStep(SIZES.lstm),
};

// ---------------------------------------------------------------- Transformer encoder layer

/**
 * One encoder layer as d2l's TransformerEncoderBlock (Vaswani et al. 2017, post-norm, no dropout):
 *   A = softmax(Q Kᵀ / √d_h) V per head, Q = X W_q, K = X W_k, V = X W_v (no biases)
 *   Y = LayerNorm(X + A W_o),  Z = LayerNorm(Y + W_2 ReLU(W_1 Y + b_1) + b_2)
 */
class EncoderLayer extends Module {
  readonly Wq: Linear;
  readonly Wk: Linear;
  readonly Wv: Linear;
  readonly Wo: Linear;
  readonly norm1: LayerNorm;
  readonly ffn1: Linear;
  readonly ffn2: Linear;
  readonly norm2: LayerNorm;

  constructor(readonly dModel: number, readonly nHeads: number, dFF: number, g: Generator) {
    super();
    this.Wq = this.registerModule('Wq', new Linear(dModel, dModel, { bias: false, generator: g }));
    this.Wk = this.registerModule('Wk', new Linear(dModel, dModel, { bias: false, generator: g }));
    this.Wv = this.registerModule('Wv', new Linear(dModel, dModel, { bias: false, generator: g }));
    this.Wo = this.registerModule('Wo', new Linear(dModel, dModel, { bias: false, generator: g }));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel));
    this.ffn1 = this.registerModule('ffn1', new Linear(dModel, dFF, { generator: g }));
    this.ffn2 = this.registerModule('ffn2', new Linear(dFF, dModel, { generator: g }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel));
  }

  /** X (B, T, d) → (B, T, d). */
  forward(X: Tensor): Tensor {
    const [B, T, d] = X.shape;
    const h = this.nHeads;
    const dh = d / h;
    // (B, T, d) → (B·h, T, d_h): each head a batch of its own
    const heads = (z: Tensor): Tensor => z.reshape([B, T, h, dh]).permute([0, 2, 1, 3]).reshape([B * h, T, dh]);
    const Q = heads(this.Wq.forward(X));
    const K = heads(this.Wk.forward(X));
    const V = heads(this.Wv.forward(X));
    const scores = Q.matmul(K.transpose(1, 2)).div(Math.sqrt(dh)); //       (B·h, T, T)
    const A = scores.softmax(-1).matmul(V); //                               (B·h, T, d_h)
    const concat = A.reshape([B, h, T, dh]).permute([0, 2, 1, 3]).reshape([B, T, d]);
    const Y = this.norm1.forward(X.add(this.Wo.forward(concat))); //         (B, T, d)
    const F = this.ffn2.forward(this.ffn1.forward(Y).relu()); //             (B, T, d)
    return this.norm2.forward(Y.add(F));
  }
}

const transformerLayer: Workload = {
  name: 'transformer',
  description: `Transformer encoder layer forward+backward, d ${SIZES.transformer.dModel}, ${SIZES.transformer.nHeads} heads, FFN ${SIZES.transformer.dFF}, seq ${SIZES.transformer.seq}, batch ${SIZES.transformer.batch}`,
  minRuns: 10,
  maxRuns: 100,
  budgetMs: 3000,
  setup() {
    const { dModel, nHeads, dFF, seq, batch } = SIZES.transformer;
    const g = new Generator(3);
    const layer = new EncoderLayer(dModel, nHeads, dFF, g);
    const params = layer.parameters();
    const X = Tensor.randn([batch, seq, dModel], { generator: g }); // (B, T, d)
    const R = Tensor.randn([batch, seq, dModel], { generator: g }); // (B, T, d) the gradient reaching Z
    return () => {
      for (const p of params) p.grad = null;
      layer.forward(X).mul(R).sum().backward();
    };
  },
};

// ---------------------------------------------------------------- ResNet-18

const resnetStep: Workload = {
  name: 'resnet18',
  description: `ResNet-18 (d2l, 1 channel) train step, ${SIZES.resnet18.size}×${SIZES.resnet18.size}, batch ${SIZES.resnet18.batch}`,
  minRuns: 5,
  maxRuns: 30,
  budgetMs: 5000,
  setup() {
    const { batch, size, lr } = SIZES.resnet18;
    const g = new Generator(4);
    const net = resnet18({ generator: g });
    net.train();
    const opt = new SGD(net.parameters(), { lr });
    const x = Tensor.randn([batch, 1, size, size], { generator: g });
    const y = Tensor.randint(0, 10, [batch], { generator: g });
    return () => {
      opt.zeroGrad();
      crossEntropy(net.forward(x), y).backward();
      opt.step();
    };
  },
};

// ---------------------------------------------------------------- character-level language models

/** One train step of a papers/rnn model, with what a caller may want to look at. */
export interface CharLMStep {
  net: RNNLM;
  optimizer: SGD;
  /** The d2l preset the model and the step follow. */
  config: LMConfig;
  /** Tokens predicted per step: batch_size · num_steps. */
  tokens: number;
  /** One train step on the fixed batch; returns its mean loss per token (before the update). */
  step(): number;
}

/**
 * Builds papers/rnn's model `name` as its `d2l` preset trains it (hidden size, layers, directions,
 * init, lr, clip, batch 32 × 35 steps) on a fixed random batch over a vocabulary of 28, and returns
 * one train step: trainEpoch over that one batch, i.e. zero state, forward, cross-entropy, backward,
 * clip to the preset's norm, SGD. The state starts at zero as for random partitioning; the d2l
 * preset's sequential partitioning starts from the previous batch's detached state, the same work.
 */
export function charLMStep(name: LMName, seed = 5): CharLMStep {
  const paper = LM_PAPERS.find((p) => p.name === name);
  if (!paper) throw new RangeError(`charLMStep: unknown model ${JSON.stringify(name)}; models: ${LM_PAPERS.map((p) => p.name).join(', ')}`);
  const config = paper.presets.d2l.config;
  const spec = LM_SPECS[name];
  const V = SIZES.charlm.vocab;
  const B = config.batch_size;
  const T = config.num_steps;
  const g = new Generator(seed);
  const net = new RNNLM(V, spec.cell, config.hidden, {
    numLayers: config.layers, bidirectional: spec.bidirectional, init: config.init, generator: g,
  });
  const optimizer = new SGD(net.parameters(), { lr: config.lr });
  const X = Tensor.randint(0, V, [B, T], { generator: g }); // (B, T) inputs
  const Y = Tensor.randint(0, V, [B, T], { generator: g }); // (B, T) next tokens
  const opts = { clip: config.clip, carryState: false };
  return { net, optimizer, config, tokens: B * T, step: () => trainEpoch(net, [[X, Y]], optimizer, opts).nll };
}

/** A workload of one train step of a paper's model, built (seeded) by `build` when the workload is set up. */
function trainStep(w: Omit<Workload, 'setup'>, build: () => { step(): number }): Workload {
  return {
    ...w,
    setup() {
      const { step } = build();
      return () => void step();
    },
  };
}

function charLM(name: LMName): Workload {
  const c = LM_PAPERS.find((p) => p.name === name)!.presets.d2l.config;
  const shape = `H ${c.hidden} × ${c.layers} layer${c.layers > 1 ? 's' : ''}${LM_SPECS[name].bidirectional ? ', bidirectional' : ''}`;
  return trainStep({
    name: `charlm-${name}`,
    description: `papers/rnn ${name} (d2l preset: ${shape}, ${c.init} init) train step, ${c.batch_size} × ${c.num_steps} tokens, vocab ${SIZES.charlm.vocab}`,
    tokens: c.batch_size * c.num_steps,
    minRuns: 5,
    maxRuns: 50,
    budgetMs: 5000,
  }, () => charLMStep(name));
}

/** The five language models, in papers/rnn's order. */
export const CHARLM_WORKLOADS: readonly Workload[] = (Object.keys(LM_SPECS) as LMName[]).map(charLM);

// ---------------------------------------------------------------- vision nets at their cpu presets

/** One train step of a papers/vision net, with what a caller may want to look at. */
export interface VisionStep {
  net: Classifier;
  optimizer: SGD;
  /** The `cpu` preset the input size, batch size and lr come from. */
  config: VisionConfig;
  /** Images per step (the preset's batch_size, unless overridden). */
  images: number;
  /** One train step on the fixed batch; returns its mean cross-entropy (before the update). */
  step(): number;
}

/** The `cpu` preset of a vision paper (papers/<name>/train.ts). */
export function visionCpuPreset(name: string): VisionConfig {
  const paper = VISION_PAPERS.find((p) => p.name === name);
  if (!paper) throw new RangeError(`visionCpuPreset: unknown vision net ${JSON.stringify(name)}; nets: ${VISION_PAPERS.map((p) => p.name).join(', ')}`);
  const preset = paper.presets.cpu;
  if (!preset) throw new RangeError(`visionCpuPreset: ${name} has no cpu preset; presets: ${Object.keys(paper.presets).join(', ')}`);
  return preset.config;
}

/**
 * Builds papers/vision's net `name` as its `cpu` preset trains it (buildNet: the net at the preset's
 * input size, Xavier-uniform conv and dense weights; SGD at the preset's lr) on a fixed batch of
 * random images in [0, 1] (Fashion-MNIST's pixel range) and labels in 0..9, and returns one train
 * step as fitClassifier takes it: forward in training mode (dropout on, BatchNorm on batch
 * statistics), cross-entropy, zero the gradients, backward, SGD update. `batch` overrides the
 * preset's batch size (the tests use a small one); the size and lr always follow the preset.
 */
export function visionStep(name: string, opts: { batch?: number; seed?: number } = {}): VisionStep {
  const config = visionCpuPreset(name);
  const B = opts.batch ?? config.batch_size;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`visionStep: batch must be a positive integer, got ${B}`);
  const S = config.size;
  const g = new Generator(opts.seed ?? 6);
  const dropout = new Generator(g.nextUint32());
  const net = buildNet(findVisionNet(name), S, g, dropout);
  net.train();
  const optimizer = new SGD(net.parameters(), { lr: config.lr });
  const x = Tensor.rand([B, 1, S, S], { generator: g }); // (B, 1, S, S) images
  const y = Tensor.randint(0, 10, [B], { generator: g }); // (B,) class indices
  return {
    net, optimizer, config, images: B,
    step() {
      const loss = crossEntropy(net.forward(x), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return loss.item();
    },
  };
}

function vision(name: string): Workload {
  const c = visionCpuPreset(name);
  return trainStep({
    name: `vision-${name}`,
    description: `papers/vision ${findVisionNet(name).title} train step at its cpu preset: ${c.size}×${c.size}, batch ${c.batch_size}, lr ${c.lr}`,
    images: c.batch_size,
    // a step takes about a second or more: a few runs, as many more as 5 s allow
    minRuns: 3,
    maxRuns: 20,
    budgetMs: 5000,
  }, () => visionStep(name));
}

/** The six vision nets, in papers/vision's order (alexnet, vgg, nin, googlenet, resnet, regnet). */
export const VISION_WORKLOADS: readonly Workload[] = VISION_PAPERS.map((p) => vision(p.name));

// ---------------------------------------------------------------- translation papers at their d2l presets

/** One train step of a translation paper, with what a caller may want to look at. */
export interface TranslateStep {
  model: EncoderDecoder;
  optimizer: Adam;
  /** The d2l preset the model and the step follow. */
  config: BaseConfig;
  /** The fixed batch: X (B, T), its valid lengths (B), Y (B, T), its valid lengths (B); int32. */
  batch: NmtBatch;
  /** Target positions per step, padding included: batch_size · num_steps. */
  tokens: number;
  /** One train step on the fixed batch; returns its mean token cross-entropy over the valid tokens (before the update). */
  step(): number;
}

/** The translation paper `name` (seq2seq, bahdanau, transformer). */
function translationPaperNamed(name: string): TranslationPaper {
  const paper = TRANSLATION_PAPERS.find((p) => p.name === name);
  if (!paper) throw new RangeError(`translateStep: unknown paper ${JSON.stringify(name)}; papers: ${TRANSLATION_PAPERS.map((p) => p.name).join(', ')}`);
  return paper;
}

/**
 * Builds the translation paper `name`'s model as its training does at the `d2l` preset (the paper's
 * build, then xavierInit; Adam at the preset's lr; training mode, dropout on) for vocabularies of
 * d2l's sizes, on a fixed synthetic batch of the preset's shape (batch_size × num_steps: random tokens,
 * valid lengths random in [2, num_steps]), and returns one train step: translationStep, d2l's
 * train_seq2seq body (teacher forcing, sequenceCrossEntropy, backward, clip to the preset's norm, Adam).
 */
export function translateStep(name: string, seed = 7): TranslateStep {
  const paper = translationPaperNamed(name);
  const config = paper.presets.d2l.config;
  const { srcVocab, tgtVocab, minValid } = SIZES.translate;
  const B = config.batch_size;
  const T = config.num_steps;
  const g = new Generator(seed);
  const model = paper.build(config, srcVocab, tgtVocab, g);
  translationInit(model, g);
  model.train();
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const batch: NmtBatch = [
    Tensor.randint(0, srcVocab, [B, T], { generator: g }), Tensor.randint(minValid, T + 1, [B], { generator: g }),
    Tensor.randint(0, tgtVocab, [B, T], { generator: g }), Tensor.randint(minValid, T + 1, [B], { generator: g }),
  ];
  // the index of <bos> in a vocabulary built as the papers' (<unk>, then the reserved tokens)
  const bos = new Vocab([], { reservedTokens: RESERVED }).toIndex('<bos>');
  return {
    model, optimizer, config, batch, tokens: B * T,
    step() {
      const { loss, tokens } = translationStep(model, optimizer, batch, bos, config.clip);
      // the loss is Σ over sentences of their mean over T steps: × T / valid tokens gives the token cross-entropy
      return (loss.item() * T) / tokens;
    },
  };
}

function translate(name: string): Workload {
  const paper = translationPaperNamed(name);
  const c = paper.presets.d2l.config;
  const { srcVocab, tgtVocab } = SIZES.translate;
  return trainStep({
    name: `translate-${name}`,
    description: `papers/${name} ${paper.title.replace(/ on English–French$/, '')} (d2l preset: hidden ${c.hidden}, ${c.layers} layers, Adam ${c.lr}, clip ${c.clip}) train step, ${c.batch_size} × ${c.num_steps} tokens, vocab ${srcVocab} → ${tgtVocab}`,
    tokens: c.batch_size * c.num_steps,
    minRuns: 5,
    maxRuns: 50,
    budgetMs: 5000,
  }, () => translateStep(name));
}

/** The three translation papers, in papers/index's order (seq2seq, bahdanau, transformer). */
export const TRANSLATE_WORKLOADS: readonly Workload[] = TRANSLATION_PAPERS.map((p) => translate(p.name));

// ---------------------------------------------------------------- skip-gram at its d2l preset

/** One train step of papers/skip-gram, with what a caller may want to look at. */
export interface SkipGramStepBench {
  model: SkipGram;
  optimizer: Adam;
  batch: SkipGramBatch;
  /** Centre words per step. */
  tokens: number;
  /** One train step on the fixed batch; returns the mean centre loss (before the update). */
  step(): number;
}

/**
 * papers/skip-gram's model at its d2l preset (Xavier-uniform init, Adam at the preset's lr) for d2l's
 * PTB vocabulary, and one train step (skipGramStep) on a fixed synthetic batch: 512 centres, each with
 * 1..10 context words and 5 noise words per context, word ids uniform in 1..V−1, padded by batchify.
 */
export function skipGramStepBench(seed = 7): SkipGramStepBench {
  const config = skipGramPaper.presets.d2l.config;
  const { vocab, batch: B, maxContexts, noise } = SIZES.skipgram;
  const g = new Generator(seed);
  const model = new SkipGram(vocab, config.embed, g);
  model.init(g);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const centres = new Int32Array(B);
  const c: number[] = [0];
  const n: number[] = [0];
  const cData: number[] = [];
  const nData: number[] = [];
  for (let b = 0; b < B; b++) {
    centres[b] = g.randint(1, vocab);
    const k = g.randint(1, maxContexts + 1);
    for (let j = 0; j < k; j++) cData.push(g.randint(1, vocab));
    for (let j = 0; j < k * noise; j++) nData.push(g.randint(1, vocab));
    c.push(cData.length);
    n.push(nData.length);
  }
  const batch = batchify({
    centres, contexts: { offsets: Int32Array.from(c), data: Int32Array.from(cData) }, negatives: { offsets: Int32Array.from(n), data: Int32Array.from(nData) },
  }, Int32Array.from({ length: B }, (_, i) => i));
  return { model, optimizer, batch, tokens: B, step: () => skipGramStep(model, optimizer, batch).mean().item() };
}

const skipGramWorkload: Workload = trainStep({
  name: 'skipgram',
  description: `papers/skip-gram (d2l preset: d ${skipGramPaper.presets.d2l.config.embed}, Adam ${skipGramPaper.presets.d2l.config.lr}) train step, ${SIZES.skipgram.batch} centres × up to ${SIZES.skipgram.maxContexts * (1 + SIZES.skipgram.noise)} context and noise words, vocab ${SIZES.skipgram.vocab}`,
  tokens: SIZES.skipgram.batch,
  minRuns: 10,
  maxRuns: 100,
  budgetMs: 3000,
}, () => skipGramStepBench());

/** The skip-gram paper's step; PyTorch is its only peer. */
export const SKIPGRAM_WORKLOADS: readonly Workload[] = [skipGramWorkload];

// ---------------------------------------------------------------- embedding lookup

/**
 * The lookup of word2vec's skip-gram (Mikolov et al. 2013) as d2l trains it on PTB, with its gradient:
 * a batch of 512 centre words, each with 60 context and noise words, looked up in a (6719, 100) table,
 * and a fixed random gradient of the (512, 60, 100) result sent back into the table. Forward is one
 * indexSelect of 30720 rows; backward, one indexAdd of them (repeated words accumulate: 30720 ids
 * drawn uniformly from 6719).
 */
const embeddingStep: Workload = {
  name: 'embedding',
  description: `Embedding forward+backward, skip-gram sizes: ${SIZES.embedding.batch} × ${SIZES.embedding.words} word ids into a (${SIZES.embedding.vocab}, ${SIZES.embedding.dim}) float32 table`,
  minRuns: 10,
  maxRuns: 200,
  budgetMs: 2000,
  setup() {
    const { vocab, dim, batch, words } = SIZES.embedding;
    const g = new Generator(7);
    const emb = new Embedding(vocab, dim, { generator: g });
    const ids = Tensor.randint(0, vocab, [batch, words], { generator: g }); // (B, L) word ids
    const R = Tensor.randn([batch, words, dim], { generator: g }); //          (B, L, d) the gradient reaching the lookup
    return () => {
      emb.weight.grad = null;
      emb.forward(ids).backward(R);
    };
  },
};

// ---------------------------------------------------------------- BERT

/**
 * A fixed BERT batch of B pairs × T tokens with P prediction slots, from integer formulas (the PyTorch
 * peer computes the same): valid length v_b = 20 + 13b mod 45, tokens (131b + 17t) mod V, segment 1 from
 * ⌊v_b/2⌋ on, positions 1 + (b + 5j) mod (v_b − 2), weights 1 for the first max(1, round(0.15 v_b)) slots,
 * labels (7b + 3j) mod V, is_next b mod 2.
 */
export function bertBatch(B: number, T: number, P: number, V: number): BertBatch {
  const tokens = new Int32Array(B * T);
  const segments = new Int32Array(B * T);
  const validLens = new Int32Array(B);
  const positions = new Int32Array(B * P);
  const weights = new Float32Array(B * P);
  const labels = new Int32Array(B * P);
  const nsp = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = Math.min(T, 20 + ((13 * b) % 45));
    validLens[b] = v;
    nsp[b] = b % 2;
    for (let t = 0; t < T; t++) {
      tokens[b * T + t] = (131 * b + 17 * t) % V;
      segments[b * T + t] = t >= Math.floor(v / 2) ? 1 : 0;
    }
    const k = numPredictions(v);
    for (let j = 0; j < P; j++) {
      positions[b * P + j] = 1 + ((b + 5 * j) % (v - 2));
      weights[b * P + j] = j < k ? 1 : 0;
      labels[b * P + j] = (7 * b + 3 * j) % V;
    }
  }
  const i32 = (a: Int32Array, shape: number[]) => new Tensor(a, shape, 'int32');
  return {
    tokens: i32(tokens, [B, T]), segments: i32(segments, [B, T]), validLens: i32(validLens, [B]), positions: i32(positions, [B, P]),
    weights: new Tensor(weights, [B, P], 'float32'), labels: i32(labels, [B, P]), nsp: i32(nsp, [B]),
  };
}

/** One train step of papers/bert at its d2l preset on the fixed batch; returns L_mlm + L_nsp (before the update). */
export function bertTrainStep(seed = 7): { step(): number } {
  const c = bertPaper.presets.d2l.config;
  const { vocab, batch, maxLen, preds } = SIZES.bert;
  const model = buildBert(c, vocab, new Generator(seed));
  model.train();
  const optimizer = new Adam(model.parameters(), { lr: c.lr });
  const b = bertBatch(batch, maxLen, preds, vocab);
  return {
    step() {
      const l = bertStep(model, optimizer, b);
      return l.mlm.item() + l.nsp.item();
    },
  };
}

const bertWorkload: Workload = trainStep({
  name: 'bert',
  description: `papers/bert (d2l preset: d 128, FFN 256, 2 heads, 2 blocks, Adam 0.01) train step, ${SIZES.bert.batch} pairs × ${SIZES.bert.maxLen} tokens, ${SIZES.bert.preds} predictions each, vocab ${SIZES.bert.vocab}`,
  tokens: SIZES.bert.batch * SIZES.bert.maxLen,
  minRuns: 3,
  maxRuns: 20,
  budgetMs: 10000,
}, () => bertTrainStep());

/** BERT's train step: PyTorch (papers/bert/reference_torch.py's model) is its only peer. */
export const BERT_WORKLOADS: readonly Workload[] = [bertWorkload];

/** The workloads no peer runs: measured on our backends only. */
export const OWN_WORKLOADS: readonly Workload[] = [embeddingStep];

export const WORKLOADS: readonly Workload[] = [
  ...SIZES.sgemm.map(sgemm), lenetStep, lstmStep, transformerLayer, resnetStep, ...CHARLM_WORKLOADS, ...VISION_WORKLOADS, ...TRANSLATE_WORKLOADS,
  ...SKIPGRAM_WORKLOADS, ...BERT_WORKLOADS, ...OWN_WORKLOADS,
];

/** The workloads named (all when none is), in the order given; an unknown name is an error that lists the known ones. */
export function findWorkloads(names: readonly string[]): Workload[] {
  if (names.length === 0) return [...WORKLOADS];
  return names.map((n) => {
    const w = WORKLOADS.find((x) => x.name === n);
    if (!w) throw new Error(`unknown benchmark ${JSON.stringify(n)}; benchmarks: ${WORKLOADS.map((x) => x.name).join(', ')}`);
    return w;
  });
}

export interface Timing {
  median_ms: number;
  min_ms: number;
  /** Timed runs (after the warm-up). */
  runs: number;
}

export interface MeasureOptions {
  warmup?: number;
  minRuns?: number;
  maxRuns?: number;
  budgetMs?: number;
}

/**
 * Times `run`: `warmup` untimed runs (default 2: the first pays for allocation and JIT), then timed
 * runs until minRuns are done and the budget is spent, or maxRuns are done. Returns the median and
 * the fastest run, in milliseconds.
 */
export function measure(run: () => void, opts: MeasureOptions = {}): Timing {
  const { warmup = 2, minRuns = 5, maxRuns = 100, budgetMs = 2000 } = opts;
  if (!(minRuns >= 1 && maxRuns >= minRuns)) throw new RangeError(`measure: expected 1 ≤ minRuns ≤ maxRuns, got ${minRuns} and ${maxRuns}`);
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return { median_ms: median(times), min_ms: Math.min(...times), runs: times.length };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median: no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

