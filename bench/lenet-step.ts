/**
 * The LeNet training step of bench/workloads.ts's `lenet` workload, browser-safe: `pfs bench lenet` times it
 * in Node, `pfs bench browser-lenet` in the browser app's worker (web/src/worker.ts), and research/browser's
 * pages on the bare wasm backend.
 */
import { lenet, xavierInit } from '../papers/lenet/model.js';
import { crossEntropy } from '../src/nn/losses.js';
import { SGD } from '../src/optim/sgd.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';

/**
 * d2l's LeNet (sigmoid, average pooling) with Xavier init, SGD at `lr`, and one batch of `batch` random
 * 28×28 images with random labels, all drawn from Generator(1); each call of the result is one training step
 * (forward, cross-entropy, backward, update) on the backend in use.
 */
export function lenetTrainStep(batch: number, lr = 0.9): () => void {
  const g = new Generator(1);
  const net = lenet(g);
  xavierInit(net, g);
  const opt = new SGD(net.parameters(), { lr });
  const x = Tensor.randn([batch, 1, 28, 28], { generator: g }); // (N, 1, 28, 28)
  const y = Tensor.randint(0, 10, [batch], { generator: g }); //     (N,) class indices
  return () => {
    opt.zeroGrad();
    crossEntropy(net.forward(x), y).backward();
    opt.step();
  };
}
