/**
 * `pfs similar skip-gram --checkpoint FILE chip [intel ...] [--k 5]`: the k words nearest to each word
 * by the cosine similarity of a trained skip-gram's centre vectors (d2l's get_similar_tokens).
 */
import { parseField } from '../src/train/config.js';
import { loadWordVectors, similar } from '../papers/skip-gram/train.js';
import { parseArgs } from './args.js';

type Out = { write(s: string): unknown };

/** Prints, per word, `cosine sim=0.734: microprocessor` lines; a word not in the vocabulary is said so on `err` (exit status 1). */
export async function similarCommand(argv: readonly string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const args = parseArgs(argv, [], ['checkpoint', 'k'], false);
  const [name, ...words] = args.positionals;
  if (name !== 'skip-gram') throw new Error(`similar: expected the paper skip-gram first, got ${name === undefined ? 'none' : JSON.stringify(name)}`);
  if (words.length === 0) throw new Error('similar: give one or more words, e.g. pfs similar skip-gram --checkpoint F chip');
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('similar: --checkpoint FILE is required (train writes out/skip-gram-<preset>/checkpoint.safetensors)');
  const k = args.flags.k === undefined ? 5 : (parseField('k', String(args.flags.k), { type: 'int', min: 1, max: 1000, help: '' }) as number);
  const w = await loadWordVectors(ckpt);
  let status = 0;
  for (const word of words) {
    try {
      const nearest = similar(w, word, k);
      out.write(`nearest to ${word}:\n${nearest.map((n) => `  cosine sim=${n.cosine.toFixed(3)}: ${n.token}`).join('\n')}\n`);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      const why = w.vocab.has(word) ? '' : `; it holds the words seen at least ${w.config.min_freq} times in ptb.train.txt`;
      err.write(`${e.message}${why}\n`);
      status = 1;
    }
  }
  return status;
}
