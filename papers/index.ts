/** The zoo: every paper the `pfs` command can train. */
import type { Paper } from './paper.js';
import { lenetBNPaper, lenetPaper } from './lenet/train.js';
import { optimizersPaper } from './optimizers/train.js';
import { LM_PAPERS } from './rnn/train.js';
import { VISION_PAPERS } from './vision/papers.js';

export const PAPERS: readonly Paper[] = [lenetPaper, lenetBNPaper, optimizersPaper, ...VISION_PAPERS, ...LM_PAPERS] as unknown as Paper[];

export function findPaper(name: string): Paper {
  const p = PAPERS.find((x) => x.name === name);
  if (!p) throw new Error(`unknown paper ${JSON.stringify(name)}; available: ${PAPERS.map((x) => x.name).join(', ')} (see \`pfs list\`)`);
  return p;
}
