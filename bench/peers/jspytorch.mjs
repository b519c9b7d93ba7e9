/**
 * js-pytorch 0.7 peer of bench/workloads.ts (a from-scratch JavaScript autograd library on nested
 * arrays):
 *
 *   node bench/peers/jspytorch.mjs [NAME...] [--runs N] [--warmup N]
 *
 * It has no convolution (so no LeNet or ResNet), no sigmoid, tanh or concatenation, and Adam as its
 * only optimiser: the LSTM composes σ(x) = 1 / (1 + e^(−x)) and tanh(x) = 2σ(2x) − 1, sums the
 * per-step losses (the mean over steps equals the loss of the concatenated outputs), skips gradient
 * clipping and steps with Adam. Prints JSON lines (see common.mjs).
 */
import { torch } from 'js-pytorch';
import { fail, parseArgs, randint, randn, runPeer } from './common.mjs';

/** A nested array of the given shape from a flat array. */
function nest(flat, shape) {
  if (shape.length === 1) return Array.from(flat);
  const step = flat.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(flat.subarray(i * step, (i + 1) * step), shape.slice(1)));
}
const tensor = (flat, shape, grad = false) => torch.tensor(nest(flat, shape), grad);

const sgemm = (n) => () => {
  const a = tensor(randn(n * n, n), [n, n]);
  const b = tensor(randn(n * n, n + 1), [n, n]);
  return () => void torch.matmul(a, b);
};

const sigmoid = (x) => torch.div(1, torch.add(torch.exp(torch.neg(x)), 1));
const tanh = (x) => torch.add(torch.mul(sigmoid(torch.mul(x, 2)), 2), -1);

/** d2l's LSTM from scratch (equations in bench/workloads.ts), one time step at a time. */
function lstm() {
  const V = 28, H = 256, T = 35, B = 32;
  let seed = 10;
  const normal = (shape) => tensor(randn(shape[0] * shape[1], seed++).map((v) => v * 0.01), shape, true);
  const zeros = (n) => torch.zeros([n], true);
  const gate = () => [normal([V, H]), normal([H, H]), zeros(H)];
  const [W_xi, W_hi, b_i] = gate();
  const [W_xf, W_hf, b_f] = gate();
  const [W_xo, W_ho, b_o] = gate();
  const [W_xc, W_hc, b_c] = gate();
  const W_hq = normal([H, V]);
  const b_q = zeros(V);
  const params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q];
  const opt = new torch.optim.Adam(params, 0.01);
  const lossFn = new torch.nn.CrossEntropyLoss();
  const tokens = randint(B * T, V, 3); //  (B, T)
  const targets = randint(B * T, V, 4); // (B, T)
  const lin = (x, W, h, U, b) => torch.add(torch.add(torch.matmul(x, W), torch.matmul(h, U)), b);
  return () => {
    opt.zero_grad();
    let Hs = torch.zeros([B, H]);
    let C = torch.zeros([B, H]);
    let loss = null;
    for (let t = 0; t < T; t++) {
      const oneHot = new Float32Array(B * V);
      for (let b = 0; b < B; b++) oneHot[b * V + tokens[b * T + t]] = 1;
      const Xt = tensor(oneHot, [B, V]); // (B, V)
      const I = sigmoid(lin(Xt, W_xi, Hs, W_hi, b_i));
      const F = sigmoid(lin(Xt, W_xf, Hs, W_hf, b_f));
      const O = sigmoid(lin(Xt, W_xo, Hs, W_ho, b_o));
      const Ct = tanh(lin(Xt, W_xc, Hs, W_hc, b_c));
      C = torch.add(torch.mul(F, C), torch.mul(I, Ct));
      Hs = torch.mul(O, tanh(C));
      const Y = torch.add(torch.matmul(Hs, W_hq), b_q); // (B, V)
      const yt = torch.tensor(Array.from({ length: B }, (_, b) => targets[b * T + t]));
      const l = lossFn.forward(Y, yt).div(T);
      loss = loss === null ? l : torch.add(loss, l);
    }
    loss.backward();
    opt.step();
  };
}

/** One Transformer encoder layer (d2l's block, no dropout), forward + backward of Σ Z ⊙ R (see bench/workloads.ts). */
function transformer() {
  const d = 256, h = 4, dh = 64, dff = 1024, T = 64, B = 32;
  const Wq = new torch.nn.Linear(d, d, 'cpu', false);
  const Wk = new torch.nn.Linear(d, d, 'cpu', false);
  const Wv = new torch.nn.Linear(d, d, 'cpu', false);
  const Wo = new torch.nn.Linear(d, d, 'cpu', false);
  const norm1 = new torch.nn.LayerNorm(d);
  const ffn1 = new torch.nn.Linear(d, dff);
  const ffn2 = new torch.nn.Linear(dff, d);
  const norm2 = new torch.nn.LayerNorm(d);
  const relu = new torch.nn.ReLU();
  const softmax = new torch.nn.Softmax();
  const X = tensor(randn(B * T * d, 5), [B, T, d]);
  const R = tensor(randn(B * T * d, 6), [B, T, d]); // the gradient reaching the output
  const heads = (z) => z.reshape([B, T, h, dh]).transpose(1, 2); // (B, h, T, d_h)
  return () => {
    const Q = heads(Wq.forward(X));
    const K = heads(Wk.forward(X));
    const Vv = heads(Wv.forward(X));
    const A = torch.matmul(softmax.forward(torch.matmul(Q, K.transpose(2, 3)).div(Math.sqrt(dh))), Vv); // (B, h, T, d_h)
    const concat = A.transpose(1, 2).reshape([B, T, d]);
    const Y = norm1.forward(torch.add(X, Wo.forward(concat)));
    const Z = norm2.forward(torch.add(Y, ffn2.forward(relu.forward(ffn1.forward(Y)))));
    const loss = torch.mul(Z, R).sum(-1).sum(-1).sum(-1);
    loss.backward();
    loss.zero_grad_graph();
  };
}

const WORKLOADS = { 'sgemm-256': sgemm(256), 'sgemm-512': sgemm(512), 'sgemm-1024': sgemm(1024), 'sgemm-2048': sgemm(2048), lstm, transformer };

try {
  const opts = parseArgs(process.argv.slice(2), WORKLOADS);
  if (opts.threads && opts.threads !== 1) throw new Error('js-pytorch runs on one thread');
  await runPeer('js-pytorch', 1, WORKLOADS, opts);
} catch (e) {
  fail(e);
}
