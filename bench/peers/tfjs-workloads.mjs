/**
 * The TensorFlow.js workloads of bench/peers/tfjs.mjs, browser-safe: `tfjsWorkloads(tf)` with the
 * TensorFlow.js namespace (the package in Node; the global `tf` of its browser bundle in Chromium,
 * bench/browser.ts) returns { name: setup }, each setup building its data and returning one step.
 *
 * The same workloads and sizes as bench/workloads.ts, written with TensorFlow.js's ops in TensorFlow.js's
 * own image layout (NHWC). Gradients by tf.variableGrads; SGD by tf.train.sgd.
 */
import { randint, randn } from './random.mjs';

export function tfjsWorkloads(tf) {
  const T = (data, shape) => tf.tensor(data, shape, 'float32');
  /** A trainable variable with Glorot-uniform values (d2l's Xavier init), as the other peers' layers. */
  const glorot = (shape, fanIn, fanOut, seed) => {
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed));
  };
  /** PyTorch's default init for a layer's weights and biases: U(−1/√fanIn, 1/√fanIn). */
  const torchInit = (shape, fanIn, seed) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed));

  /** One SGD step on loss(); returns nothing, frees everything it made. */
  function sgdStep(opt, vars, loss, clip) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, vars);
      if (clip !== undefined) {
        // clip by global norm: g ← g · min(1, clip / (‖g‖ + 1e-6)), as torch.nn.utils.clip_grad_norm_
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const coef = tf.minimum(tf.scalar(1), tf.div(clip, tf.add(norm, 1e-6)));
        for (const k of Object.keys(grads)) grads[k] = tf.mul(grads[k], coef);
      }
      opt.applyGradients(grads);
    });
  }

  const sgemm = (n) => () => {
    const a = T(randn(n * n, n), [n, n]);
    const b = T(randn(n * n, n + 1), [n, n]);
    return () => {
      const c = tf.matMul(a, b);
      c.dataSync(); // wait for the result (a no-op on the synchronous backends)
      c.dispose();
    };
  };

  /** d2l's LeNet, NHWC: conv 5×5 6 pad 2, sigmoid, avg-pool, conv 5×5 16, sigmoid, avg-pool, dense 120, 84, 10. */
  function lenet() {
    const N = 256;
    const p = {
      c1: glorot([5, 5, 1, 6], 25, 150, 1), c1b: torchInit([6], 25, 2),
      c2: glorot([5, 5, 6, 16], 150, 400, 3), c2b: torchInit([16], 150, 4),
      d1: glorot([400, 120], 400, 120, 5), d1b: torchInit([120], 400, 6),
      d2: glorot([120, 84], 120, 84, 7), d2b: torchInit([84], 120, 8),
      d3: glorot([84, 10], 84, 10, 9), d3b: torchInit([10], 84, 10),
    };
    const x = T(randn(N * 28 * 28, 1), [N, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(randint(N, 10, 2), 'int32'), 10);
    const opt = tf.train.sgd(0.9);
    const loss = () => {
      let h = tf.avgPool(tf.sigmoid(tf.add(tf.conv2d(x, p.c1, 1, 2), p.c1b)), 2, 2, 'valid'); //  (N, 14, 14, 6)
      h = tf.avgPool(tf.sigmoid(tf.add(tf.conv2d(h, p.c2, 1, 'valid'), p.c2b)), 2, 2, 'valid'); // (N, 5, 5, 16)
      h = tf.reshape(h, [N, 400]);
      h = tf.sigmoid(tf.add(tf.matMul(h, p.d1), p.d1b));
      h = tf.sigmoid(tf.add(tf.matMul(h, p.d2), p.d2b));
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h, p.d3), p.d3b));
    };
    return () => sgdStep(opt, Object.values(p), loss);
  }

  /** d2l's LSTM from scratch (equations in bench/workloads.ts), one time step at a time. */
  function lstm() {
    const V = 28, H = 256, Tn = 35, B = 32;
    let seed = 10;
    const normal = (shape) => tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed++), 0.01));
    const gate = () => [normal([V, H]), normal([H, H]), tf.variable(tf.zeros([H]))];
    const [W_xi, W_hi, b_i] = gate();
    const [W_xf, W_hf, b_f] = gate();
    const [W_xo, W_ho, b_o] = gate();
    const [W_xc, W_hc, b_c] = gate();
    const W_hq = normal([H, V]);
    const b_q = tf.variable(tf.zeros([V]));
    const vars = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q];
    const tokensT = tf.transpose(tf.tensor2d(randint(B * Tn, V, 3), [B, Tn], 'int32')); // (T, B)
    const targets = tf.oneHot(tf.reshape(tf.transpose(tf.tensor2d(randint(B * Tn, V, 4), [B, Tn], 'int32')), [Tn * B]), V);
    const opt = tf.train.sgd(1);
    const lin = (x, W, h, U, b) => tf.add(tf.add(tf.matMul(x, W), tf.matMul(h, U)), b);
    const loss = () => {
      const X = tf.cast(tf.oneHot(tokensT, V), 'float32'); // (T, B, V)
      let Hs = tf.zeros([B, H]);
      let C = tf.zeros([B, H]);
      const outputs = [];
      for (const Xt of tf.unstack(X)) {
        const I = tf.sigmoid(lin(Xt, W_xi, Hs, W_hi, b_i));
        const F = tf.sigmoid(lin(Xt, W_xf, Hs, W_hf, b_f));
        const O = tf.sigmoid(lin(Xt, W_xo, Hs, W_ho, b_o));
        const Ct = tf.tanh(lin(Xt, W_xc, Hs, W_hc, b_c));
        C = tf.add(tf.mul(F, C), tf.mul(I, Ct));
        Hs = tf.mul(O, tf.tanh(C));
        outputs.push(tf.add(tf.matMul(Hs, W_hq), b_q));
      }
      return tf.losses.softmaxCrossEntropy(targets, tf.concat(outputs, 0));
    };
    return () => sgdStep(opt, vars, loss, 1);
  }

  /** Layer norm over the last axis, composed: (x − mean) / √(var + 1e-5) · γ + β. */
  const layerNorm = (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };

  /** One Transformer encoder layer (d2l's block, no dropout), forward + backward of Σ Z ⊙ R (see bench/workloads.ts). */
  function transformer() {
    const d = 256, h = 4, dh = 64, dff = 1024, Tn = 64, B = 32;
    const p = {
      Wq: torchInit([d, d], d, 1), Wk: torchInit([d, d], d, 2), Wv: torchInit([d, d], d, 3), Wo: torchInit([d, d], d, 4),
      g1: tf.variable(tf.ones([d])), b1: tf.variable(tf.zeros([d])),
      W1: torchInit([d, dff], d, 5), c1: torchInit([dff], d, 6), W2: torchInit([dff, d], dff, 7), c2: torchInit([d], dff, 8),
      g2: tf.variable(tf.ones([d])), b2: tf.variable(tf.zeros([d])),
    };
    const X = T(randn(B * Tn * d, 5), [B * Tn, d]); // (B·T, d)
    const R = T(randn(B * Tn * d, 6), [B * Tn, d]); // the gradient reaching the output
    const heads = (z) => tf.reshape(tf.transpose(tf.reshape(z, [B, Tn, h, dh]), [0, 2, 1, 3]), [B * h, Tn, dh]);
    const f = () => {
      const Q = heads(tf.matMul(X, p.Wq));
      const K = heads(tf.matMul(X, p.Wk));
      const V = heads(tf.matMul(X, p.Wv));
      const A = tf.matMul(tf.softmax(tf.div(tf.matMul(Q, K, false, true), Math.sqrt(dh))), V); // (B·h, T, d_h)
      const concat = tf.reshape(tf.transpose(tf.reshape(A, [B, h, Tn, dh]), [0, 2, 1, 3]), [B * Tn, d]);
      const Y = layerNorm(tf.add(X, tf.matMul(concat, p.Wo)), p.g1, p.b1);
      const F = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(Y, p.W1), p.c1)), p.W2), p.c2);
      return tf.sum(tf.mul(layerNorm(tf.add(Y, F), p.g2, p.b2), R));
    };
    const vars = Object.values(p);
    return () => tf.tidy(() => void tf.variableGrads(f, vars));
  }

  /** d2l's ResNet-18 for 1-channel 96×96 inputs, NHWC, batch-norm in training mode (batch statistics). */
  function resnet18() {
    const B = 32, S = 96;
    let seed = 20;
    const vars = [];
    const v = (t) => (vars.push(t), t);
    const conv = (k, cin, cout) => ({ w: v(torchInit([k, k, cin, cout], k * k * cin, seed++)), b: v(torchInit([cout], k * k * cin, seed++)) });
    const bn = (c) => ({ g: v(tf.variable(tf.ones([c]))), b: v(tf.variable(tf.zeros([c]))) });
    const applyConv = (x, c, stride, pad) => tf.add(tf.conv2d(x, c.w, stride, pad), c.b);
    const applyBn = (x, n) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), n.g), n.b);
    };
    const residual = (cin, c, stride) => ({ c1: conv(3, cin, c), c2: conv(3, c, c), c3: stride > 1 ? conv(1, cin, c) : null, bn1: bn(c), bn2: bn(c), stride });
    const stem = { c: conv(7, 1, 64), bn: bn(64) };
    const blocks = [
      residual(64, 64, 1), residual(64, 64, 1),
      residual(64, 128, 2), residual(128, 128, 1),
      residual(128, 256, 2), residual(256, 256, 1),
      residual(256, 512, 2), residual(512, 512, 1),
    ];
    const fc = { w: v(torchInit([512, 10], 512, seed++)), b: v(torchInit([10], 512, seed++)) };
    const x = T(randn(B * S * S, 6), [B, S, S, 1]);
    const y = tf.oneHot(tf.tensor1d(randint(B, 10, 7), 'int32'), 10);
    const opt = tf.train.sgd(0.05);
    const loss = () => {
      let h = tf.maxPool(tf.relu(applyBn(applyConv(x, stem.c, 2, 3), stem.bn)), 3, 2, 1); // (B, 24, 24, 64)
      for (const r of blocks) {
        const y1 = tf.relu(applyBn(applyConv(h, r.c1, r.stride, 1), r.bn1));
        const y2 = applyBn(applyConv(y1, r.c2, 1, 1), r.bn2);
        h = tf.relu(tf.add(y2, r.c3 ? applyConv(h, r.c3, r.stride, 0) : h));
      }
      const pooled = tf.mean(h, [1, 2]); // (B, 512)
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(pooled, fc.w), fc.b));
    };
    return () => sgdStep(opt, vars, loss);
  }

  return {
    'sgemm-256': sgemm(256), 'sgemm-512': sgemm(512), 'sgemm-1024': sgemm(1024), 'sgemm-2048': sgemm(2048),
    lenet, lstm, transformer, resnet18,
  };
}
