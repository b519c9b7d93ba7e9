/**
 * Decoding a trained encoder–decoder: greedy (d2l's predict_seq2seq, batched) and beam search.
 *
 * Both start the decoder from <bos> and feed each chosen token back; a hypothesis ends at <eos> (not
 * part of the output) or after `maxLen` tokens. Decoding is incremental: each step runs the decoder on
 * the last token only, with its state (the recurrent state, or the Transformer's cached keys and values).
 *
 * Beam search (beyond d2l; d2l §10.8 describes it) keeps the K most probable prefixes at each step. A
 * hypothesis that emits <eos> is set aside; the answer is the finished or unfinished hypothesis with the
 * best length-normalised score  log P(y_1 … y_L | x) / L^α  (α = 0.75, d2l's value), L counting the
 * emitted tokens and the <eos>. With K = 1 it is greedy decoding.
 */
import { noGrad } from '../../src/autograd/mode.js';
import { cat } from '../../src/ops/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { EncoderDecoder } from './model.js';

/** The special tokens decoding needs (their indices in the target vocabulary). */
export interface Specials {
  bos: number;
  eos: number;
}

/** Attention maps of one decoded sentence by name: (..., target steps, source steps), rows in decoding order. */
export type AttentionMaps = Record<string, Tensor>;

/** Greedy decoding of a source batch: the tokens of each row (without <eos>). */
export function greedyDecode(model: EncoderDecoder, X: Tensor, XValid: Tensor, sp: Specials, maxLen: number): number[][] {
  return noGrad(() => {
    const B = X.shape[0];
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let state = model.begin(X, XValid);
    let y = Tensor.full([B], sp.bos, { dtype: 'int32' });
    for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
      const r = model.step(y, state);
      state = r.state;
      y = r.logits.argmax(1);
      const next = y.toTypedArray();
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        if (next[b] === sp.eos) done[b] = true;
        else out[b].push(next[b]);
      }
    }
    return out;
  });
}

/**
 * The attention maps behind a translation: the decoder fed <bos> and `tokens` (one sentence, X (1, Ts)),
 * its attention weights collected at every step (the last step is the one that emits <eos>), and the
 * encoder's self-attention where the model has one.
 */
export function attentionFor(model: EncoderDecoder, X: Tensor, XValid: Tensor, sp: Specials, tokens: readonly number[]): AttentionMaps {
  if (X.shape[0] !== 1) throw new RangeError(`attentionFor: expected one sentence (1, T), got a batch of ${X.shape[0]}`);
  return noGrad(() => {
    const steps: Record<string, Tensor[]> = {};
    let state = model.begin(X, XValid);
    const encoder = model.encoderAttention?.() ?? {};
    for (const y of [sp.bos, ...tokens]) {
      const r = model.step(Tensor.full([1], y, { dtype: 'int32' }), state);
      state = r.state;
      for (const [k, w] of Object.entries(r.attention ?? {})) (steps[k] ??= []).push(w);
    }
    const maps: AttentionMaps = { ...encoder };
    for (const [k, ws] of Object.entries(steps)) maps[k] = cat(ws, ws[0].ndim - 2);
    return maps;
  });
}

export interface BeamOptions {
  beam: number;
  /** Length normalisation exponent α (default 0.75). */
  alpha?: number;
}

interface Hypothesis {
  tokens: number[];
  logp: number;
}

/** Beam search for one source sentence X (1, Ts); returns the best hypothesis' tokens (without <eos>) and its score. */
export function beamSearch(model: EncoderDecoder, X: Tensor, XValid: Tensor, sp: Specials, maxLen: number, o: BeamOptions): { tokens: number[]; score: number } {
  const K = o.beam;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`beamSearch: the beam width must be a positive integer, got ${K}`);
  if (X.shape[0] !== 1) throw new RangeError(`beamSearch: expected one sentence (1, T), got a batch of ${X.shape[0]}`);
  const alpha = o.alpha ?? 0.75;
  const norm = (h: Hypothesis, ended: boolean) => h.logp / Math.pow(h.tokens.length + (ended ? 1 : 0), alpha);
  return noGrad(() => {
    let beams: Hypothesis[] = [{ tokens: [], logp: 0 }];
    const finished: { h: Hypothesis; score: number }[] = [];
    let state = model.begin(X, XValid);
    for (let t = 0; t < maxLen && beams.length > 0; t++) {
      const y = new Tensor(Int32Array.from(beams, (h) => h.tokens[h.tokens.length - 1] ?? sp.bos), [beams.length], 'int32');
      const r = model.step(y, state);
      const logp = r.logits.logSoftmax(1).toTypedArray(); // (beams, V)
      const V = r.logits.shape[1];
      // Every extension of every beam, the K most probable kept (a stable sort: ties in beam, then token order).
      const candidates: { b: number; v: number; logp: number }[] = [];
      for (let b = 0; b < beams.length; b++) for (let v = 0; v < V; v++) candidates.push({ b, v, logp: beams[b].logp + logp[b * V + v] });
      candidates.sort((p, q) => q.logp - p.logp);
      const next: Hypothesis[] = [];
      const rows: number[] = [];
      for (const c of candidates.slice(0, K)) {
        const parent = beams[c.b].tokens;
        if (c.v === sp.eos) {
          const h = { tokens: parent, logp: c.logp };
          finished.push({ h, score: norm(h, true) });
        } else {
          next.push({ tokens: [...parent, c.v], logp: c.logp });
          rows.push(c.b);
        }
      }
      beams = next;
      if (beams.length > 0) state = model.selectState(r.state, new Tensor(Int32Array.from(rows), [rows.length], 'int32'));
    }
    for (const h of beams) finished.push({ h, score: norm(h, false) });
    let top = finished[0];
    for (const f of finished) if (f.score > top.score) top = f;
    return { tokens: top.h.tokens, score: top.score };
  });
}
