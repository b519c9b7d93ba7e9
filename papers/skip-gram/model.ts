/**
 * Skip-gram (Mikolov et al. 2013) as d2l trains it (2nd ed. §15.4, "Pretraining word2vec"): every word
 * has two vectors of size d, v_w when it is the centre and u_w when it is a context (or noise) word.
 * The score of a centre c against a word o is their dot product u_oᵀ v_c, and
 * P(D = 1 | c, o) = σ(u_oᵀ v_c) the probability that o came from c's window.
 *
 * Negative sampling maximises, for each centre c, each context o and its K noise words n_k,
 *   log σ(u_oᵀ v_c) + Σ_k log σ(−u_{n_k}ᵀ v_c),
 * i.e. minimises the binary cross-entropy of the scores against labels 1 (context) and 0 (noise).
 */
import { noGrad } from '../../src/autograd/mode.js';
import { Vocab } from '../../src/data/text.js';
import { xavierUniform_ } from '../../src/nn/init.js';
import { Embedding } from '../../src/nn/layers.js';
import { binaryCrossEntropyWithLogits } from '../../src/nn/losses.js';
import { Module } from '../../src/nn/module.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export class SkipGram extends Module {
  /** v: the centre words' vectors (V, d) — the embedding the similarities are read from. */
  readonly embedV: Embedding;
  /** u: the context and noise words' vectors (V, d). */
  readonly embedU: Embedding;

  constructor(readonly vocabSize: number, readonly embed: number, g: Generator) {
    super();
    // named as d2l's nn.Sequential(Embedding, Embedding): 0.weight is v, 1.weight is u
    this.embedV = this.registerModule('0', new Embedding(vocabSize, embed, { generator: g }));
    this.embedU = this.registerModule('1', new Embedding(vocabSize, embed, { generator: g }));
  }

  /** d2l's init_weights: Xavier-uniform, U(−a, a) with a = √(6 / (V + d)), for both tables. */
  init(g: Generator): void {
    noGrad(() => {
      xavierUniform_(this.embedV.weight, 1, g);
      xavierUniform_(this.embedU.weight, 1, g);
    });
  }

  /** centres (B, 1), words (B, L) → the scores u_oᵀ v_c (B, 1, L). */
  forward(centres: Tensor, words: Tensor): Tensor {
    const v = this.embedV.forward(centres); // (B, 1, d)
    const u = this.embedU.forward(words); //   (B, L, d)
    return v.matmul(u.transpose(1, 2)); //     (B, 1, L)
  }
}

/**
 * d2l's loss of a batch: each row's binary cross-entropy with logits, the padding weighted 0, averaged
 * over the row's real words: Σ_j mask·bce / Σ_j mask — written as d2l writes it,
 * mean_j(mask · bce) · L / Σ_j mask. scores, labels, mask (B, L) → (B).
 */
export function skipGramLoss(scores: Tensor, labels: Tensor, mask: Tensor): Tensor {
  const L = mask.shape[1];
  return binaryCrossEntropyWithLogits(scores, labels, { weight: mask, reduction: 'none' }).mean(1).div(mask.sum(1)).mul(L);
}

export interface Neighbour {
  token: string;
  cosine: number;
}

/**
 * d2l's get_similar_tokens: the k words whose rows of W (V, d) have the largest cosine similarity with
 * the row of `token`, cos = W x / √(Σ W² · Σ x² + 10⁻⁹), the word itself left out. Throws a RangeError
 * naming the word when it is not in the vocabulary.
 */
export function similarTokens(W: Tensor, vocab: Vocab, token: string, k: number): Neighbour[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`similar: k must be a positive integer, got ${k}`);
  if (token === Vocab.UNK) throw new RangeError(`similar: ${Vocab.UNK} has no vector of its own: it stands for every rare word, and those are dropped from the corpus`);
  if (!vocab.has(token)) {
    throw new RangeError(`similar: ${JSON.stringify(token)} is not in the vocabulary (${vocab.length} words)`);
  }
  const [V, d] = W.shape;
  if (V !== vocab.length) throw new RangeError(`similar: the embedding has ${V} rows but the vocabulary ${vocab.length} words`);
  const w = W.contiguous().toTypedArray() as Float32Array;
  const q = vocab.toIndex(token);
  const x = w.subarray(q * d, (q + 1) * d);
  let xx = 0;
  for (let j = 0; j < d; j++) xx += x[j] * x[j];
  const cos = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    let dot = 0;
    let ww = 0;
    for (let j = 0; j < d; j++) {
      const a = w[i * d + j];
      dot += a * x[j];
      ww += a * a;
    }
    cos[i] = dot / Math.sqrt(ww * xx + 1e-9);
  }
  const order = Array.from({ length: V }, (_, i) => i).filter((i) => i !== q);
  order.sort((a, b) => cos[b] - cos[a] || a - b);
  return order.slice(0, k).map((i) => ({ token: vocab.toToken(i), cosine: cos[i] }));
}
