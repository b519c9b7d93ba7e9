/**
 * BLEU (Papineni et al. 2002), the translation papers' metric, in two forms:
 *
 * - `bleuD2l`: d2l's sentence score for one prediction against one label, with n-grams up to k and
 *   weights that halve with n:
 *       BLEU = exp(min(0, 1 − len_label / len_pred)) · Π_{n=1..k} p_n^(1/2^n)
 *   where p_n is the number of the prediction's n-grams also in the label (each label n-gram matched at
 *   most as often as it occurs) over the prediction's number of n-grams.
 * - `corpusBleu`: the standard corpus BLEU-4: clipped n-gram matches and n-gram counts summed over all
 *   sentences, then BP · exp(Σ_n w_n log p_n) with w_n = 1/N and BP = exp(1 − r/c) when c ≤ r (c: total
 *   hypothesis tokens, r: total reference tokens), no smoothing.
 *
 * Tokens are compared as strings; callers pass token lists (split the way the corpus was tokenised).
 */

/** Counts of the n-grams of `tokens`, keyed by their tokens joined with a separator no token contains. */
function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The prediction's n-grams that the reference also has, each reference n-gram used at most as often as it occurs. */
function clippedMatches(pred: readonly string[], ref: readonly string[], n: number): number {
  const refCounts = ngramCounts(ref, n);
  let matches = 0;
  for (const [key, count] of ngramCounts(pred, n)) matches += Math.min(count, refCounts.get(key) ?? 0);
  return matches;
}

/**
 * d2l's bleu(pred_seq, label_seq, k) on token lists. Where the prediction has fewer than k tokens
 * (d2l divides by zero there) or is empty, the score is 0: it has no n-grams of some order to match.
 */
export function bleuD2l(pred: readonly string[], label: readonly string[], k = 2): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`bleuD2l: k must be a positive integer, got ${k}`);
  if (pred.length < k || label.length === 0) return 0;
  let score = Math.exp(Math.min(0, 1 - label.length / pred.length));
  for (let n = 1; n <= k; n++) {
    score *= Math.pow(clippedMatches(pred, label, n) / (pred.length - n + 1), Math.pow(0.5, n));
  }
  return score;
}

export interface CorpusBleu {
  bleu: number;
  /** Modified n-gram precisions p_1 … p_N. */
  precisions: number[];
  brevityPenalty: number;
  /** Total hypothesis and reference lengths (c and r). */
  hypLength: number;
  refLength: number;
}

/** Corpus BLEU-N (default 4) of hypotheses against one reference each. */
export function corpusBleu(hyps: readonly (readonly string[])[], refs: readonly (readonly string[])[], maxN = 4): CorpusBleu {
  if (hyps.length !== refs.length) throw new RangeError(`corpusBleu: ${hyps.length} hypotheses but ${refs.length} references; expected one reference per hypothesis`);
  if (!Number.isInteger(maxN) || maxN < 1) throw new RangeError(`corpusBleu: maxN must be a positive integer, got ${maxN}`);
  const matches = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let c = 0;
  let r = 0;
  hyps.forEach((h, i) => {
    c += h.length;
    r += refs[i].length;
    for (let n = 1; n <= maxN; n++) {
      matches[n - 1] += clippedMatches(h, refs[i], n);
      totals[n - 1] += Math.max(0, h.length - n + 1);
    }
  });
  const precisions = matches.map((m, i) => (totals[i] > 0 ? m / totals[i] : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  const bleu = precisions.some((p) => p === 0) ? 0 : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / maxN);
  return { bleu, precisions, brevityPenalty, hypLength: c, refLength: r };
}
