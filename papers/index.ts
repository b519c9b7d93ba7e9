/** The zoo: every paper the `pfs` command can train, each defined once in its own folder; `pfs list`,
 * `pfs summary` and the vision tools derive what they need from this list. */
import type { Paper } from './paper.js';
import type { TranslationPaper } from './translation/train.js';
import { alexnetPaper } from './alexnet/train.js';
import { bahdanauPaper } from './bahdanau/train.js';
import { bertPaper } from './bert/train.js';
import { googlenetPaper } from './googlenet/train.js';
import { lenetBNPaper, lenetPaper } from './lenet/train.js';
import { ninPaper } from './nin/train.js';
import { optimizersPaper } from './optimizers/train.js';
import { regnetPaper } from './regnet/train.js';
import { resnetPaper } from './resnet/train.js';
import { seq2seqPaper } from './seq2seq/train.js';
import { skipGramPaper } from './skip-gram/train.js';
import { transformerPaper } from './transformer/train.js';
import { LM_PAPERS } from './rnn/train.js';
import { vggPaper } from './vgg/train.js';

/** In the book's order: LeNet, the optimisers, the modern convnets, the recurrent language models, translation. */
export const PAPERS: readonly Paper[] = [
  lenetPaper, lenetBNPaper, optimizersPaper, alexnetPaper, vggPaper, ninPaper, googlenetPaper, resnetPaper, regnetPaper, ...LM_PAPERS,
  seq2seqPaper, bahdanauPaper, transformerPaper, skipGramPaper, bertPaper,
];

export function findPaper(name: string): Paper {
  const p = PAPERS.find((x) => x.name === name);
  if (!p) throw new Error(`unknown paper ${JSON.stringify(name)}; available: ${PAPERS.map((x) => x.name).join(', ')} (see \`pfs list\`)`);
  return p;
}

/** The papers that translate (`pfs translate`). */
export const TRANSLATION_PAPERS: readonly TranslationPaper[] = [seq2seqPaper, bahdanauPaper, transformerPaper];
