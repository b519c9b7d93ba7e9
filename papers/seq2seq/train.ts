/**
 * `pfs train seq2seq`: the GRU encoder–decoder (model.ts) trained as d2l's train_seq2seq
 * (papers/translation/train.ts).
 */
import type { Schema } from '../paper.js';
import { BASE_SCHEMA, BaseConfig, D2L_BASE, d2lTarget, FULL_BASE, translationPaper } from '../translation/train.js';
import { Seq2Seq } from './model.js';

export type RNNTranslationConfig = BaseConfig & { embed: number };

export const RNN_TRANSLATION_SCHEMA: Schema<RNNTranslationConfig> = {
  embed: { type: 'int', min: 1, help: 'word embedding size (E)' },
  ...BASE_SCHEMA,
};

export const seq2seqPaper = translationPaper<RNNTranslationConfig>({
  name: 'seq2seq',
  title: 'GRU encoder–decoder on English–French',
  cites: 'Sutskever, Vinyals & Le 2014; Cho et al. 2014',
  status: 'see papers/seq2seq/README.md',
  schema: RNN_TRANSLATION_SCHEMA,
  build: (c, src, tgt, generator) => new Seq2Seq({ srcVocab: src, tgtVocab: tgt, embed: c.embed, hidden: c.hidden, layers: c.layers, dropout: c.dropout, generator }),
  presets: {
    d2l: {
      description: "d2l's setup (§9.7): embed 32, hidden 32, 2 GRU layers, dropout 0.1; the first 600 pairs, 10 steps, batch 64, Adam lr 0.005, clip 1, 300 epochs",
      config: { ...D2L_BASE, embed: 32, hidden: 32, epochs: 300, eval_every: 50 },
      target: d2lTarget(0.019, '§9.7', "go . 1.000, i lost . 1.000, he's calm . 0.658, i'm home . 0.447"),
    },
    full: {
      description: 'all pairs but every 20th (held out for corpus BLEU-4), 1 epoch: embed 64, hidden 64, 2 GRU layers, dropout 0.1, 10 steps, batch 128, Adam lr 0.005, clip 1',
      config: { ...FULL_BASE, embed: 64, hidden: 64, lr: 0.005 },
    },
  },
});
