/**
 * `pfs train seq2seq`: the GRU encoder–decoder (model.ts) trained as d2l's train_seq2seq
 * (papers/translation/train.ts).
 */
import type { Preset, Schema } from '../paper.js';
import type { EncoderDecoder } from '../translation/model.js';
import { buildRnnTranslation } from '../translation/models.js';
import { BASE_SCHEMA, BaseConfig, D2L_BASE, d2lTarget, FULL_BASE, TranslationPaper, translationPaper } from '../translation/train.js';
import { Seq2Seq, type Seq2SeqOptions } from './model.js';

export type RNNTranslationConfig = BaseConfig & { embed: number };

export const RNN_TRANSLATION_SCHEMA: Schema<RNNTranslationConfig> = {
  embed: { type: 'int', min: 1, help: 'word embedding size (E)' },
  ...BASE_SCHEMA,
};

/** What the two GRU translation papers share: the schema, the options of their models, their presets. */
export function rnnTranslationPaper(
  o: {
    name: string; title: string; cites: string; status: string; section: string; epochs: number; printedLoss: number; printedBleu: string;
    /** The full preset's PyTorch twin: its held-out BLEU-4 over seeds 0–2 (research/translation). */
    twinFullBleu: readonly [number, number, number];
  },
  Model: new (options: Seq2SeqOptions) => EncoderDecoder,
): TranslationPaper<RNNTranslationConfig> {
  return translationPaper<RNNTranslationConfig>({
    name: o.name, title: o.title, cites: o.cites, status: o.status,
    schema: RNN_TRANSLATION_SCHEMA,
    build: buildRnnTranslation(Model),
    presets: {
      d2l: {
        description: `d2l's setup (${o.section}): embed 32, hidden 32, 2 GRU layers, dropout 0.1; the first 600 pairs, 10 steps, batch 64, Adam lr 0.005, clip 1, ${o.epochs} epochs`,
        config: { ...D2L_BASE, embed: 32, hidden: 32, epochs: o.epochs, eval_every: 50 },
        target: d2lTarget(o.printedLoss, o.section, o.printedBleu),
      },
      full: {
        description: 'all pairs but every 20th (held out for corpus BLEU-4), 1 epoch: embed 64, hidden 64, 2 GRU layers, dropout 0.1, 10 steps, batch 128, Adam lr 0.005, clip 1',
        config: { ...FULL_BASE, embed: 64, hidden: 64, lr: 0.005 },
        target: fullTarget(o.twinFullBleu),
      },
    },
  });
}

/**
 * The full preset's target: our mean held-out BLEU-4 over seeds 0–2 at least the twin's lowest over the
 * same seeds (one epoch's BLEU moves with the seed by more than the two libraries differ).
 */
export function fullTarget(twin: readonly number[]): Preset<RNNTranslationConfig>['target'] {
  const shown = twin.map((b) => b.toFixed(4)).join(', ');
  return {
    metric: 'heldout_bleu', direction: 'max', value: Math.min(...twin), seeds: [0, 1, 2],
    source: `the PyTorch twin's lowest held-out BLEU-4 over seeds 0–2 (${shown}; research/translation), our mean over the same seeds`,
  };
}

export const seq2seqPaper = rnnTranslationPaper({
  name: 'seq2seq', title: 'GRU encoder–decoder on English–French', cites: 'Sutskever, Vinyals & Le 2014; Cho et al. 2014',
  status: "d2l preset run for seeds 0–2: loss 0.019 ≤ 0.038 and BLEU ≥ d2l's on all four sentences, as the PyTorch twin; full preset (1 epoch) seeds 0–2: held-out BLEU-4 mean 0.051 ≥ the twin's lowest 0.050 (twin 0.050–0.057); see papers/seq2seq/README.md",
  section: '§9.7', epochs: 300, printedLoss: 0.019, printedBleu: "go . 1.000, i lost . 1.000, he's calm . 0.658, i'm home . 0.447",
  twinFullBleu: [0.0574, 0.0504, 0.0558],
}, Seq2Seq);
