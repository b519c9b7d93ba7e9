/**
 * The hand-written LSTM training step of bench/workloads.ts's `lstm` workload, browser-safe: `pfs bench
 * lstm` times it in Node and `pfs bench browser-lstm` in the browser app's worker (web/src/worker.ts).
 */
import { clipGradNorm } from '../src/optim/clip.js';
import { SGD } from '../src/optim/sgd.js';
import { crossEntropy } from '../src/nn/losses.js';
import { oneHot } from '../src/ops/indexing.js';
import { cat } from '../src/ops/shape.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';

export interface LSTMSizes { vocab: number; hidden: number; steps: number; batch: number; lr: number; clip: number }

/** The `lstm` workload's sizes: d2l's char LSTM (28 characters, H 256, 35 steps, batch 32, lr 1, clip 1). */
export const LSTM_SIZES: LSTMSizes = { vocab: 28, hidden: 256, steps: 35, batch: 32, lr: 1, clip: 1 };

/**
 * The LSTM as d2l writes it from scratch (Hochreiter & Schmidhuber 1997, forget gate of Gers et al.
 * 2000), one time step at a time:
 *   I = σ(X W_xi + H W_hi + b_i)   F = σ(X W_xf + H W_hf + b_f)   O = σ(X W_xo + H W_ho + b_o)
 *   C̃ = tanh(X W_xc + H W_hc + b_c)   C = F ⊙ C + I ⊙ C̃   H = O ⊙ tanh(C)   Y = H W_hq + b_q
 * Weights N(0, 0.01²), biases 0, as d2l.
 */
export function lstmStep(sizes: LSTMSizes): () => void {
  const { vocab: V, hidden: Hd, steps: T, batch: B, lr, clip } = sizes;
  const g = new Generator(2);
  const normal = (shape: number[]): Tensor => Tensor.randn(shape, { generator: g }).mul(0.01).requiresGrad_(true);
  const zeros = (n: number): Tensor => Tensor.zeros([n]).requiresGrad_(true);
  const gate = (): [Tensor, Tensor, Tensor] => [normal([V, Hd]), normal([Hd, Hd]), zeros(Hd)];
  const [W_xi, W_hi, b_i] = gate();
  const [W_xf, W_hf, b_f] = gate();
  const [W_xo, W_ho, b_o] = gate();
  const [W_xc, W_hc, b_c] = gate();
  const W_hq = normal([Hd, V]);
  const b_q = zeros(V);
  const params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q];
  const opt = new SGD(params, { lr });
  const tokens = Tensor.randint(0, V, [B, T], { generator: g }); //  (B, T) inputs
  const targets = Tensor.randint(0, V, [B, T], { generator: g }); // (B, T) next tokens
  const flatTargets = targets.T.contiguous().reshape([T * B]); //     (T·B,) time-major, as the outputs
  return () => {
    opt.zeroGrad();
    const X = oneHot(tokens.T, V).to('float32'); // (T, B, V)
    let H = Tensor.zeros([B, Hd]);
    let C = Tensor.zeros([B, Hd]);
    const outputs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const Xt = X.narrow(0, t, 1).reshape([B, V]); // (B, V)
      const I = Xt.matmul(W_xi).add(H.matmul(W_hi)).add(b_i).sigmoid();
      const F = Xt.matmul(W_xf).add(H.matmul(W_hf)).add(b_f).sigmoid();
      const O = Xt.matmul(W_xo).add(H.matmul(W_ho)).add(b_o).sigmoid();
      const Ct = Xt.matmul(W_xc).add(H.matmul(W_hc)).add(b_c).tanh();
      C = F.mul(C).add(I.mul(Ct));
      H = O.mul(C.tanh()); //                            (B, H)
      outputs.push(H.matmul(W_hq).add(b_q)); //          (B, V)
    }
    const loss = crossEntropy(cat(outputs, 0), flatTargets); // logits (T·B, V)
    loss.backward();
    clipGradNorm(params, clip);
    opt.step();
  };
}
