/**
 * LeNet-5 (LeCun et al. 1998) as d2l writes it for Fashion-MNIST, and the same net with batch
 * normalisation after each conv and dense layer (Ioffe & Szegedy 2015).
 *
 *   x (N, 1, 28, 28)
 *   conv 5×5, 6, pad 2 → (N, 6, 28, 28), sigmoid, avg-pool 2×2 → (N, 6, 14, 14)
 *   conv 5×5, 16       → (N, 16, 10, 10), sigmoid, avg-pool 2×2 → (N, 16, 5, 5)
 *   flatten → (N, 400), dense 120, sigmoid, dense 84, sigmoid, dense 10 → logits (N, 10)
 */
import { AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Flatten, init, Linear, Module, Sequential, Sigmoid } from '../../src/nn/index.js';
import type { Generator } from '../../src/tensor/rng.js';

export function lenet(g?: Generator): Sequential {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2, generator: g }), new Sigmoid(),
    new AvgPool2d(2, 2),
    new Conv2d(6, 16, 5, { generator: g }), new Sigmoid(),
    new AvgPool2d(2, 2),
    new Flatten(),
    new Linear(16 * 5 * 5, 120, { generator: g }), new Sigmoid(),
    new Linear(120, 84, { generator: g }), new Sigmoid(),
    new Linear(84, 10, { generator: g }),
  );
}

/** LeNet with BatchNorm after each conv and dense layer (d2l's "LeNet with batch normalization"). */
export function lenetBN(g?: Generator): Sequential {
  return new Sequential(
    new Conv2d(1, 6, 5, { generator: g }), new BatchNorm2d(6), new Sigmoid(),
    new AvgPool2d(2, 2),
    new Conv2d(6, 16, 5, { generator: g }), new BatchNorm2d(16), new Sigmoid(),
    new AvgPool2d(2, 2),
    new Flatten(),
    new Linear(16 * 4 * 4, 120, { generator: g }), new BatchNorm1d(120), new Sigmoid(),
    new Linear(120, 84, { generator: g }), new BatchNorm1d(84), new Sigmoid(),
    new Linear(84, 10, { generator: g }),
  );
}

/** d2l's init for these nets: Xavier-uniform weights of every conv and dense layer (biases keep PyTorch's default). */
export function xavierInit(net: Module, g?: Generator): void {
  for (const [, m] of net.namedModules()) {
    if (m instanceof Conv2d || m instanceof Linear) init.xavierUniform_(m.weight, 1, g);
  }
}
