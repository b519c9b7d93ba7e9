/**
 * How each paper's net leaves this library and comes back: which PyTorch twin it matches, how our state
 * dict's names and layouts map onto the twin's (src/interop/torch.ts), how to rebuild the net from a
 * checkpoint's config, and a fixed batch to run through both (the "probe"), which the ONNX export traces.
 *
 * The twins (PyTorch, torch.nn modules), which scripts/torch_twin.py builds from the same config:
 *   lenet, lenet-bn      research/lenet/reference_torch.py  lenet(bn)          identity
 *   the six vision nets  test/fixtures/gen_vision.py        NETS[name]         identity
 *   rnn, lstm, deep-lstm, bi-lstm
 *                        papers/rnn/reference_torch.py       CharLM: torch.nn.RNN / torch.nn.LSTM + nn.Linear;
 *                        our W_x·, W_h·, b_· stack into torch's weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}
 *   gru                  papers/rnn/reference_torch.py       CharLM with papers/translation/twin_torch.py's GRU:
 *                        torch.nn.GRU applies the reset gate after the product with W_hn (r ⊙ (W_hn h + b_hn)),
 *                        Cho et al. 2014 and our cell before it ((r ⊙ h) W_hh); no nn.GRU holds this cell, so the
 *                        twin writes the cell out with our layout: rnn.l{k}.W_xr → rnn.layers.{k}.W_xr
 *   seq2seq, bahdanau    papers/translation/twin_torch.py   Seq2Seq, Bahdanau (the same written-out GRU)
 *   transformer          papers/translation/twin_torch.py   Transformer
 *   skip-gram            papers/skip-gram/reference_torch.py make_model: nn.Sequential(Embedding, Embedding)   identity
 *   bert                 papers/bert/reference_torch.py      BERT
 * The optimizers paper trains several small nets per experiment and keeps no checkpoint: nothing to export.
 */
import type { Module } from '../src/nn/module.js';
import { buildLayout, stackedCell, TorchLayout } from '../src/interop/torch.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { lenet, lenetBN } from './lenet/model.js';
import { findVisionNet, VISION_NETS } from './vision/nets.js';
import { LM_SPECS, LMName, RNNLM } from './rnn/model.js';
import type { SavedModel } from './rnn/sample.js';
import { TRANSLATION_PAPERS } from './index.js';
import type { EncoderDecoder } from './translation/model.js';
import { SkipGram } from './skip-gram/model.js';
import { buildBert } from './bert/train.js';
import type { BertConfig } from './bert/train.js';
import type { BertModel } from './bert/model.js';

/** A fixed batch: named inputs, in the order the net's forward (and the twin's) takes them. */
export type Inputs = [string, Tensor][];

export interface Portable {
  paper: string;
  /** Where the twin is, in a few words (README and `pfs export` output). */
  twin: string;
  /** The net of a checkpoint's config (metadata `config`), untrained. */
  build(config: Record<string, unknown>): Module;
  /** The mapping between the net's state dict and the twin's. */
  layout(model: Module): TorchLayout;
  /** A fixed batch of `n` examples drawn from `seed` (images in [0, 1), token ids within the vocabularies). */
  inputs(model: Module, config: Record<string, unknown>, n: number, seed: number): Inputs;
  /** The net's outputs on a batch, by name (logits), in eval mode. */
  outputs(model: Module, inputs: Tensor[]): [string, Tensor][];
}

const num = (config: Record<string, unknown>, key: string, paper: string): number => {
  const v = config[key];
  if (typeof v !== 'number') throw new Error(`${paper}: the checkpoint's config has no number ${key} (got ${JSON.stringify(v)})`);
  return v;
};

const model = (config: Record<string, unknown>, paper: string): Record<string, unknown> => {
  const m = config.model;
  if (typeof m !== 'object' || m === null) throw new Error(`${paper}: the checkpoint's config has no model description (config.model)`);
  return m as Record<string, unknown>;
};

const tokens = (m: Record<string, unknown>, key: string, paper: string): string[] => {
  const v = m[key];
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) throw new Error(`${paper}: the checkpoint's config.model has no vocabulary ${key}`);
  return v as string[];
};

const identity = (m: Module) => buildLayout(Object.keys(m.stateDict()));

function images(n: number, size: number, seed: number): Inputs {
  return [['x', Tensor.rand([n, 1, size, size], { generator: new Generator(seed) })]];
}

const classifierOutputs = (m: Module, [x]: Tensor[]): [string, Tensor][] => [['logits', (m as unknown as { forward(x: Tensor): Tensor }).forward(x)]];

function lenetPortable(name: 'lenet' | 'lenet-bn'): Portable {
  return {
    paper: name,
    twin: `research/lenet/reference_torch.py: lenet(bn=${name === 'lenet-bn' ? 'True' : 'False'}); names and layouts agree (identity)`,
    build: () => (name === 'lenet' ? lenet() : lenetBN()),
    layout: identity,
    inputs: (_m, _c, n, seed) => images(n, 28, seed),
    outputs: classifierOutputs,
  };
}

function visionPortable(name: string): Portable {
  const net = findVisionNet(name);
  return {
    paper: name,
    twin: `test/fixtures/gen_vision.py: NETS['${name}'] (d2l's net in torch.nn); names and layouts agree (identity)`,
    build: (c) => net.build({ size: num(c, 'size', name) }),
    layout: identity,
    inputs: (_m, c, n, seed) => images(n, num(c, 'size', name), seed),
    outputs: classifierOutputs,
  };
}

function lmPortable(name: LMName): Portable {
  const spec = LM_SPECS[name];
  return {
    paper: name,
    twin: spec.cell === 'gru'
      ? "papers/rnn/reference_torch.py: CharLM with the written-out GRU of papers/translation/twin_torch.py (torch.nn.GRU's reset gate sits elsewhere); rnn.l{k}.* → rnn.layers.{k}.*, head.* = head.*"
      : `papers/rnn/reference_torch.py: CharLM with torch.nn.${spec.cell === 'lstm' ? 'LSTM' : 'RNN'}; the gates stack into torch's weight_ih_l{k}/weight_hh_l{k}/bias_ih_l{k}/bias_hh_l{k}, head.* = head.*`,
    build: (c) => {
      const m = model(c, name) as Partial<SavedModel>;
      if (m.name !== name) throw new Error(`${name}: the checkpoint holds a ${String(m.name)} model`);
      const vocab = tokens(m as Record<string, unknown>, 'vocab', name);
      return new RNNLM(vocab.length, spec.cell, num(m as Record<string, unknown>, 'hidden', name), { numLayers: num(m as Record<string, unknown>, 'layers', name), bidirectional: spec.bidirectional });
    },
    layout: (mod) => {
      const lm = mod as RNNLM;
      const names = Object.keys(lm.stateDict());
      if (spec.cell === 'gru') return buildLayout(names, { renameFn: (n) => n.replace(/^rnn\.l(\d+)\./, 'rnn.layers.$1.') });
      const stacked = [];
      for (let l = 0; l < lm.rnn.numLayers; l++) {
        for (let d = 0; d < lm.rnn.numDirections; d++) {
          const sfx = `l${l}${d === 1 ? '_reverse' : ''}`;
          stacked.push(stackedCell(spec.cell, `rnn.${sfx}`, 'rnn', sfx));
        }
      }
      return buildLayout(names, { stacked });
    },
    // 4 sequences of 10 characters
    inputs: (m, _c, n, seed) => [['tokens', Tensor.randint(0, (m as RNNLM).vocabSize, [n, 10], { generator: new Generator(seed) })]],
    outputs: (m, [t]) => [['logits', (m as RNNLM).forward(t).logits]],
  };
}

function translationPortable(name: string): Portable {
  const paper = TRANSLATION_PAPERS.find((p) => p.name === name)!;
  const vocabs = (c: Record<string, unknown>) => {
    const m = model(c, name);
    return { src: tokens(m, 'srcVocab', name).length, tgt: tokens(m, 'tgtVocab', name).length };
  };
  const renameFn = name === 'transformer'
    ? (n: string) => n
      .replace(/^encoder\.input\.embedding\./, 'src_embedding.')
      .replace(/^encoder\.block(\d+)\./, 'enc_blocks.$1.')
      .replace(/^input\.embedding\./, 'tgt_embedding.')
      .replace(/^block(\d+)\.selfAttention\./, 'dec_blocks.$1.attention1.')
      .replace(/^block(\d+)\.crossAttention\./, 'dec_blocks.$1.attention2.')
      .replace(/^block(\d+)\./, 'dec_blocks.$1.')
    : (n: string) => n.replace(/(^|\.)rnn\.l(\d+)\./, '$1rnn.layers.$2.');
  return {
    paper: name,
    twin: `papers/translation/twin_torch.py: ${{ seq2seq: 'Seq2Seq', bahdanau: 'Bahdanau', transformer: 'Transformer' }[name]}; ${name === 'transformer'
      ? 'encoder.input.embedding → src_embedding, encoder.block{i} → enc_blocks.{i}, input.embedding → tgt_embedding, block{i}.selfAttention → dec_blocks.{i}.attention1, block{i}.crossAttention → dec_blocks.{i}.attention2, block{i}.* → dec_blocks.{i}.*'
      : 'the written-out GRU keeps our per-gate layout: *.rnn.l{k}.* → *.rnn.layers.{k}.*, the rest identity'}`,
    build: (c) => {
      const v = vocabs(c);
      return paper.build(c as never, v.src, v.tgt, new Generator(0));
    },
    layout: (m) => buildLayout(Object.keys(m.stateDict()), { renameFn }),
    inputs: (_m, c, n, seed) => {
      const g = new Generator(seed);
      const v = vocabs(c);
      const T = num(c, 'num_steps', name);
      const valid = Tensor.randint(1, T + 1, [n], { generator: g });
      return [['X', Tensor.randint(0, v.src, [n, T], { generator: g })], ['X_valid', valid], ['Y_in', Tensor.randint(0, v.tgt, [n, T], { generator: g })]];
    },
    outputs: (m, [X, XValid, Y]) => [['logits', (m as EncoderDecoder).forward(X, XValid, Y)]],
  };
}

const skipGramPortable: Portable = {
  paper: 'skip-gram',
  twin: 'papers/skip-gram/reference_torch.py: make_model, nn.Sequential(nn.Embedding, nn.Embedding); names agree (identity: 0.weight the centre vectors v, 1.weight the context vectors u)',
  build: (c) => new SkipGram(tokens(model(c, 'skip-gram'), 'vocab', 'skip-gram').length, num(c, 'embed', 'skip-gram'), new Generator(0)),
  layout: identity,
  inputs: (m, _c, n, seed) => {
    const g = new Generator(seed);
    const V = (m as SkipGram).embedV.weight.shape[0];
    return [['centres', Tensor.randint(0, V, [n, 1], { generator: g })], ['words', Tensor.randint(0, V, [n, 6], { generator: g })]];
  },
  // (B, 1, L): the twin's scores_of reshapes to (B, L); the check compares values
  outputs: (m, [c, w]) => [['scores', (m as SkipGram).forward(c, w)]],
};

const bertPortable: Portable = {
  paper: 'bert',
  twin: 'papers/bert/reference_torch.py: BERT; encoder.tokenEmbedding → token_embedding, encoder.segmentEmbedding → segment_embedding, encoder.posEmbedding → pos_embedding, ' +
    'encoder.block{i}.attention → blocks.{i}.attention, .addnorm1.ln → .ln1, .addnorm2.ln → .ln2, .ffn.dense1 → .ffn1, .ffn.dense2 → .ffn2, ' +
    'hidden → hidden.0, mlm.dense1 → mlm.0, mlm.ln → mlm.2, mlm.dense2 → mlm.3, nsp = nsp',
  build: (c) => buildBert(c as unknown as BertConfig, tokens(model(c, 'bert'), 'vocab', 'bert').length, new Generator(0)),
  layout: (m) => buildLayout(Object.keys(m.stateDict()), {
    renameFn: (n) => n
      .replace(/^encoder\.tokenEmbedding\./, 'token_embedding.')
      .replace(/^encoder\.segmentEmbedding\./, 'segment_embedding.')
      .replace(/^encoder\.posEmbedding$/, 'pos_embedding')
      .replace(/^encoder\.block(\d+)\.addnorm1\.ln\./, 'blocks.$1.ln1.')
      .replace(/^encoder\.block(\d+)\.addnorm2\.ln\./, 'blocks.$1.ln2.')
      .replace(/^encoder\.block(\d+)\.ffn\.dense1\./, 'blocks.$1.ffn1.')
      .replace(/^encoder\.block(\d+)\.ffn\.dense2\./, 'blocks.$1.ffn2.')
      .replace(/^encoder\.block(\d+)\./, 'blocks.$1.')
      .replace(/^hidden\./, 'hidden.0.')
      .replace(/^mlm\.dense1\./, 'mlm.0.')
      .replace(/^mlm\.ln\./, 'mlm.2.')
      .replace(/^mlm\.dense2\./, 'mlm.3.'),
  }),
  inputs: (m, c, n, seed) => {
    const g = new Generator(seed);
    const V = (m as BertModel).o.vocab;
    const T = Math.min(12, num(c, 'max_len', 'bert'));
    const segments = new Int32Array(n * T);
    for (let b = 0; b < n; b++) for (let t = T / 2; t < T; t++) segments[b * T + t] = 1;
    return [
      ['tokens', Tensor.randint(0, V, [n, T], { generator: g })],
      ['segments', new Tensor(segments, [n, T], 'int32')],
      ['valid', Tensor.randint(2, T + 1, [n], { generator: g })],
      ['positions', Tensor.randint(0, T, [n, 3], { generator: g })],
    ];
  },
  outputs: (m, [t, s, v, p]) => {
    const r = (m as BertModel).forward(t, s, v, p);
    return [['mlm', r.mlm!], ['nsp', r.nsp]];
  },
};

export const PORTABLE: readonly Portable[] = [
  lenetPortable('lenet'), lenetPortable('lenet-bn'),
  ...VISION_NETS.map((n) => visionPortable(n.name)),
  ...(Object.keys(LM_SPECS) as LMName[]).map(lmPortable),
  ...['seq2seq', 'bahdanau', 'transformer'].map(translationPortable),
  skipGramPortable, bertPortable,
];

export function findPortable(paper: string): Portable {
  const p = PORTABLE.find((x) => x.paper === paper);
  if (!p) {
    throw new Error(`${JSON.stringify(paper)} has no PyTorch mapping; papers that move: ${PORTABLE.map((x) => x.paper).join(', ')}` +
      (paper === 'optimizers' ? ' (the optimizers paper keeps no model checkpoint)' : ''));
  }
  return p;
}
