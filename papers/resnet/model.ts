/**
 * ResNet-18 (He, Zhang, Ren & Sun 2016) as d2l writes it for Fashion-MNIST. A residual block learns
 * the difference F(x) = H(x) − x to the mapping it should represent, and adds its input back:
 *
 *   Y = ReLU(BN₁(conv₁ x)); Y = BN₂(conv₂ Y)           conv₁, conv₂: 3×3 pad 1 (conv₁ with the stride)
 *   out = ReLU(Y + x)                                  when the shape is kept
 *   out = ReLU(Y + conv₃ x)                            conv₃ 1×1 with the stride, when the block halves
 *                                                      H, W and changes the channels (the projection)
 *
 * The net, for 96×96 inputs:
 *
 *   x (N, 1, 96, 96)
 *   b1: conv 7×7/2 pad 3, 64, BN, ReLU, max-pool 3×3/2 pad 1  → (N, 64, 24, 24)
 *   b2: 2 residual blocks, 64                                 → (N, 64, 24, 24)
 *   b3: 2 residual blocks, 128 (the first /2, projected)      → (N, 128, 12, 12)
 *   b4: 2 residual blocks, 256 (the first /2, projected)      → (N, 256, 6, 6)
 *   b5: 2 residual blocks, 512 (the first /2, projected)      → (N, 512, 3, 3)
 *   global average pool → (N, 512, 1, 1), flatten → (N, 512), dense 10 → logits (N, 10)
 *
 * 18 layers with weights: the stem conv, 4 × 2 blocks × 2 convs, and the dense layer (the projections
 * are not counted). No layer depends on the input size.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../../src/nn/index.js';
import type { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { NetOptions } from '../vision/common.js';

/** d2l's Residual block; fields registered in d2l's order (conv1, conv2, conv3, bn1, bn2) so state dicts match. */
export class Residual extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  /** The 1×1 projection of the shortcut, or null for the identity. */
  readonly conv3: Conv2d | null;
  readonly bn1: BatchNorm2d;
  readonly bn2: BatchNorm2d;

  constructor(inChannels: number, numChannels: number, opts: { use1x1conv?: boolean; stride?: number; generator?: Generator } = {}) {
    super();
    const stride = opts.stride ?? 1;
    const g = opts.generator;
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, numChannels, 3, { padding: 1, stride, generator: g }));
    this.conv2 = this.registerModule('conv2', new Conv2d(numChannels, numChannels, 3, { padding: 1, generator: g }));
    this.conv3 = opts.use1x1conv ? this.registerModule('conv3', new Conv2d(inChannels, numChannels, 1, { stride, generator: g })) : null;
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(numChannels));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(numChannels));
  }

  /** x (N, Cin, H, W) → (N, C, H/stride, W/stride). */
  forward(x: Tensor): Tensor {
    let y = this.bn1.forward(this.conv1.forward(x)).relu();
    y = this.bn2.forward(this.conv2.forward(y));
    const shortcut = this.conv3 ? this.conv3.forward(x) : x;
    return y.add(shortcut).relu();
  }
}

/**
 * A stage of `numResiduals` blocks with `numChannels` channels. The first block halves H and W and
 * projects the shortcut, except in the first stage (firstBlock), which keeps the stem's shape.
 */
export function resnetBlock(inChannels: number, numChannels: number, numResiduals: number, firstBlock = false, g?: Generator): Sequential {
  const blocks: Residual[] = [];
  for (let i = 0; i < numResiduals; i++) {
    if (i === 0 && !firstBlock) blocks.push(new Residual(inChannels, numChannels, { use1x1conv: true, stride: 2, generator: g }));
    else blocks.push(new Residual(numChannels, numChannels, { generator: g }));
  }
  return new Sequential(...blocks);
}

export function resnet18(opts: NetOptions = {}): Sequential {
  const g = opts.generator;
  const b1 = new Sequential(
    new Conv2d(1, 64, 7, { stride: 2, padding: 3, generator: g }), new BatchNorm2d(64), new ReLU(), // (N, 64, 48, 48)
    new MaxPool2d(3, 2, 1), //                                                                        (N, 64, 24, 24)
  );
  return new Sequential(
    b1,
    resnetBlock(64, 64, 2, true, g), //   (N, 64, 24, 24)
    resnetBlock(64, 128, 2, false, g), // (N, 128, 12, 12)
    resnetBlock(128, 256, 2, false, g), // (N, 256, 6, 6)
    resnetBlock(256, 512, 2, false, g), // (N, 512, 3, 3)
    new AdaptiveAvgPool2d(1), //          (N, 512, 1, 1)
    new Flatten(), //                     (N, 512)
    new Linear(512, 10, { generator: g }), // (N, 10)
  );
}
