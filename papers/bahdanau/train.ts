/**
 * `pfs train bahdanau`: the GRU encoder–decoder with additive attention (model.ts) trained as d2l's
 * train_seq2seq (papers/translation/train.ts), with seq2seq's presets but 250 epochs (d2l §10.4).
 */
import { rnnTranslationPaper } from '../seq2seq/train.js';
import { Bahdanau } from './model.js';

export const bahdanauPaper = rnnTranslationPaper({
  name: 'bahdanau', title: 'GRU encoder–decoder with additive (Bahdanau) attention on English–French', cites: 'Bahdanau, Cho & Bengio 2014',
  status: "d2l preset run for seeds 0–2: loss 0.019 ≤ 0.040 and BLEU ≥ d2l's on all four sentences, as the PyTorch twin; full preset (1 epoch) seeds 0–2: held-out BLEU-4 mean 0.072 ≥ the twin's lowest 0.070 (twin 0.070–0.071); see papers/bahdanau/README.md",
  section: '§10.4', epochs: 250, printedLoss: 0.020, printedBleu: "go . 1.000, i lost . 1.000, he's calm . 0.000, i'm home . 1.000",
  twinFullBleu: [0.0714, 0.0700, 0.0704],
}, Bahdanau);
