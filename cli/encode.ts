/**
 * `pfs encode bert --checkpoint FILE "a crane is flying" "a crane driver came"`: the BERT representations
 * of sentences (papers/bert/train.ts encodeSentence: <cls> words <sep>, d2l's get_bert_encoding §15.10).
 * Prints each sentence's tokens and the shape of its encoding, then, for every word the first two sentences
 * share, the cosine similarity of its two vectors: a context-sensitive model gives the same word in two
 * contexts two different vectors (d2l's `crane` example). Words outside the vocabulary are read as <unk>.
 */
import { encodeSentence, loadBert } from '../papers/bert/train.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { parseArgs } from './args.js';

type Out = { write(s: string): unknown };

/** The encoding papers: BERT alone. */
const ENCODERS = ['bert'];

function cosine(a: Tensor, b: Tensor): number {
  return a.mul(b).sum().item() / Math.sqrt(a.mul(a).sum().item() * b.mul(b).sum().item());
}

export async function encodeCommand(argv: readonly string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const args = parseArgs(argv, [], ['checkpoint'], false);
  const [name, ...sentences] = args.positionals;
  if (!ENCODERS.includes(name)) throw new Error(`encode: expected a paper that encodes sentences (${ENCODERS.join(', ')}) first, got ${name === undefined ? 'none' : JSON.stringify(name)}`);
  if (sentences.length === 0) throw new Error('encode: give one or more sentences, e.g. pfs encode bert --checkpoint F "a crane is flying" "a crane driver came"');
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('encode: --checkpoint FILE is required (pfs train bert writes out/bert-<preset>/checkpoint.safetensors)');
  const t = await loadBert(ckpt);
  const encoded = sentences.map((s) => encodeSentence(t, s));
  for (const e of encoded) {
    if (e.unknown.length) err.write(`note: not in the vocabulary, read as <unk>: ${e.unknown.join(', ')}\n`);
    out.write(`${e.tokens.join(' ')}: encoding of shape (${e.encoded.shape.join(', ')})\n`);
  }
  if (encoded.length >= 2) {
    const [a, b] = encoded;
    const shared = a.tokens.slice(1, -1).filter((w, i, all) => all.indexOf(w) === i && b.tokens.slice(1, -1).includes(w));
    if (shared.length === 0) out.write('the first two sentences share no word\n');
    for (const w of shared) {
      const va = a.encoded.narrow(1, a.tokens.indexOf(w), 1).reshape([-1]);
      const vb = b.encoded.narrow(1, b.tokens.indexOf(w), 1).reshape([-1]);
      const unk = t.vocab.has(w) ? '' : ' (<unk>)';
      out.write(`cosine similarity of "${w}"${unk} in the two sentences: ${cosine(va, vb).toFixed(4)}\n`);
    }
  }
  return 0;
}
