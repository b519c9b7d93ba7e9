/**
 * Network in Network (Lin, Chen & Yan 2013) as d2l writes it for Fashion-MNIST. A NiN block is a
 * convolution followed by two 1×1 convolutions (a small MLP applied at every pixel), each with a ReLU.
 * There is no dense layer: the last block has one channel per class, and global average pooling turns
 * each channel into a logit.
 *
 *   x (N, 1, 224, 224)
 *   NiN block 11×11/4, 96          → (N, 96, 54, 54),  max-pool 3×3/2 → (N, 96, 26, 26)
 *   NiN block 5×5, pad 2, 256      → (N, 256, 26, 26), max-pool 3×3/2 → (N, 256, 12, 12)
 *   NiN block 3×3, pad 1, 384      → (N, 384, 12, 12), max-pool 3×3/2 → (N, 384, 5, 5)
 *   dropout 0.5
 *   NiN block 3×3, pad 1, 10       → (N, 10, 5, 5)
 *   global average pool            → (N, 10, 1, 1), flatten → logits (N, 10)
 *
 * No layer depends on the input size; the smallest input is 67×67 (a 1×1 map after the third pool).
 */
import { AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d, ReLU, Sequential } from '../../src/nn/index.js';
import type { Generator } from '../../src/tensor/rng.js';
import { checkInputSize, convOut, NetOptions } from '../vision/common.js';

/** conv k×k (stride, padding) + ReLU, then twice conv 1×1 + ReLU: (N, Cin, H, W) → (N, Cout, H', W'). */
export function ninBlock(inChannels: number, outChannels: number, kernelSize: number, stride: number, padding: number, g?: Generator): Sequential {
  return new Sequential(
    new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, generator: g }), new ReLU(),
    new Conv2d(outChannels, outChannels, 1, { generator: g }), new ReLU(),
    new Conv2d(outChannels, outChannels, 1, { generator: g }), new ReLU(),
  );
}

/** Width of NiN's feature map after the third max-pool, for an input of n×n. */
export function ninFeatureSize(n: number): number {
  let s = convOut(n, 11, 4); // block 1
  s = convOut(s, 3, 2); //      pool (block 2 keeps the size)
  s = convOut(s, 3, 2); //      pool (block 3 keeps it)
  return convOut(s, 3, 2); //   pool
}

export function nin(opts: NetOptions = {}): Sequential {
  checkInputSize('NiN', opts.size ?? 224, ninFeatureSize);
  const g = opts.generator;
  return new Sequential(
    ninBlock(1, 96, 11, 4, 0, g), //     (N, 96, 54, 54)
    new MaxPool2d(3, 2), //              (N, 96, 26, 26)
    ninBlock(96, 256, 5, 1, 2, g), //    (N, 256, 26, 26)
    new MaxPool2d(3, 2), //              (N, 256, 12, 12)
    ninBlock(256, 384, 3, 1, 1, g), //   (N, 384, 12, 12)
    new MaxPool2d(3, 2), //              (N, 384, 5, 5)
    new Dropout(0.5, opts.dropout),
    ninBlock(384, 10, 3, 1, 1, g), //    (N, 10, 5, 5)
    new AdaptiveAvgPool2d(1), //         (N, 10, 1, 1)
    new Flatten(), //                    (N, 10)
  );
}
