/**
 * `pfs translate <paper> --checkpoint FILE [--beam K] [--attention OUT.svg] [--data DIR] "go ." "i lost ."`:
 * translate English sentences with a trained translation model (papers/translation/translate.ts).
 * Each line: the sentence, its translation, and — when the sentence is in the corpus — the corpus'
 * French and d2l's BLEU against it. --attention writes the attention heatmaps of the first sentence.
 */
import { writeFileSync } from 'node:fs';
import { loadFraEng } from '../src/data/load.js';
import { parseField } from '../src/train/config.js';
import { heatmapSvg } from '../src/train/plot.js';
import { TRANSLATION_PAPERS } from '../papers/index.js';
import type { Pairs } from '../papers/translation/data.js';
import { translateSentence } from '../papers/translation/translate.js';
import { parseArgs } from './args.js';

type Out = { write(s: string): unknown };

export async function translateCommand(argv: readonly string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const args = parseArgs(argv, [], ['checkpoint', 'beam', 'attention', 'data'], false);
  const names = TRANSLATION_PAPERS.map((p) => p.name);
  const [name, ...sentences] = args.positionals;
  const paper = TRANSLATION_PAPERS.find((p) => p.name === name);
  if (!paper) throw new Error(`translate: expected a translation paper (${names.join(', ')}) first, got ${name === undefined ? 'none' : JSON.stringify(name)}`);
  if (sentences.length === 0) throw new Error('translate: give one or more sentences to translate, e.g. pfs translate seq2seq --checkpoint F "go ." "i lost ."');
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error(`translate: --checkpoint FILE is required (train writes out/${name}-<preset>/checkpoint.safetensors)`);
  const beam = args.flags.beam === undefined ? undefined : (parseField('beam', String(args.flags.beam), { type: 'int', min: 1, max: 100, help: '' }) as number);
  const attentionFile = args.flags.attention;
  if (attentionFile === true) throw new Error('translate: --attention needs a file name (OUT.svg)');
  const t = await paper.load(ckpt);
  let corpus: Pairs | undefined;
  try {
    corpus = loadFraEng({ dataDir: typeof args.flags.data === 'string' ? args.flags.data : undefined });
  } catch (e) {
    err.write(`(no BLEU: the corpus could not be read: ${(e as Error).message.split('\n')[0]})\n`);
  }
  let status = 0;
  for (const [i, s] of sentences.entries()) {
    try {
      const r = translateSentence(t, s, { beam, corpus, attention: i === 0 && attentionFile !== undefined });
      if (r.unknown.length) err.write(`note: not in the vocabulary, read as <unk>: ${r.unknown.join(', ')}\n`);
      const bleu = r.bleu === undefined ? '' : `   (corpus: ${r.reference}; bleu ${r.bleu.toFixed(3)})`;
      out.write(`${r.words.join(' ')} => ${r.tokens.join(' ')}${bleu}\n`);
      if (r.attention?.length === 0) throw new Error(`translate: ${name} has no attention weights to draw (bahdanau and transformer have)`);
      if (r.attention && typeof attentionFile === 'string') {
        writeFileSync(attentionFile, heatmapSvg(r.attention, { title: `${name}: ${r.words.join(' ')} => ${r.tokens.join(' ')}` }));
        err.write(`wrote ${attentionFile}\n`);
      }
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      err.write(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
