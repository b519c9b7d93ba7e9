/**
 * `pfs train bahdanau`: the GRU encoder–decoder with additive attention (model.ts) trained as d2l's
 * train_seq2seq (papers/translation/train.ts).
 */
import { RNN_TRANSLATION_SCHEMA, RNNTranslationConfig } from '../seq2seq/train.js';
import { D2L_BASE, d2lTarget, FULL_BASE, translationPaper } from '../translation/train.js';
import { Bahdanau } from './model.js';

export const bahdanauPaper = translationPaper<RNNTranslationConfig>({
  name: 'bahdanau',
  title: 'GRU encoder–decoder with additive (Bahdanau) attention on English–French',
  cites: 'Bahdanau, Cho & Bengio 2014',
  status: 'see papers/bahdanau/README.md',
  schema: RNN_TRANSLATION_SCHEMA,
  build: (c, src, tgt, generator) => new Bahdanau({ srcVocab: src, tgtVocab: tgt, embed: c.embed, hidden: c.hidden, layers: c.layers, dropout: c.dropout, generator }),
  presets: {
    d2l: {
      description: "d2l's setup (§10.4): embed 32, hidden 32, 2 GRU layers, dropout 0.1; the first 600 pairs, 10 steps, batch 64, Adam lr 0.005, clip 1, 250 epochs",
      config: { ...D2L_BASE, embed: 32, hidden: 32, epochs: 250, eval_every: 50 },
      target: d2lTarget(0.020, '§10.4', "go . 1.000, i lost . 1.000, he's calm . 0.000, i'm home . 1.000"),
    },
    full: {
      description: 'all pairs but every 20th (held out for corpus BLEU-4), 1 epoch: embed 64, hidden 64, 2 GRU layers, dropout 0.1, 10 steps, batch 128, Adam lr 0.005, clip 1',
      config: { ...FULL_BASE, embed: 64, hidden: 64, lr: 0.005 },
    },
  },
});
