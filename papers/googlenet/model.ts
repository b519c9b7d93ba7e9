/**
 * GoogLeNet (Szegedy et al. 2015) as d2l writes it for Fashion-MNIST. Its unit is the Inception block:
 * four branches read the same input and their outputs are stacked along the channels,
 *
 *   path 1: conv 1×1, c1                                   → (N, c1, H, W)
 *   path 2: conv 1×1, c2[0], ReLU; conv 3×3 pad 1, c2[1]   → (N, c2[1], H, W)
 *   path 3: conv 1×1, c3[0], ReLU; conv 5×5 pad 2, c3[1]   → (N, c3[1], H, W)
 *   path 4: max-pool 3×3/1 pad 1; conv 1×1, c4             → (N, c4, H, W)
 *   each followed by a ReLU, then concatenated             → (N, c1 + c2[1] + c3[1] + c4, H, W)
 *
 * The 1×1 convolutions before the 3×3 and 5×5 ones cut the channels the expensive windows see. The net
 * (the paper's, without its auxiliary classifiers and with one input channel), for 96×96 inputs:
 *
 *   x (N, 1, 96, 96)
 *   b1: conv 7×7/2 pad 3, 64, ReLU, max-pool 3×3/2 pad 1                  → (N, 64, 24, 24)
 *   b2: conv 1×1, 64, ReLU; conv 3×3 pad 1, 192, ReLU; max-pool 3×3/2 pad 1 → (N, 192, 12, 12)
 *   b3: Inception ×2 (→ 256, → 480 channels), max-pool 3×3/2 pad 1        → (N, 480, 6, 6)
 *   b4: Inception ×5 (→ 512, 512, 512, 528, 832), max-pool 3×3/2 pad 1    → (N, 832, 3, 3)
 *   b5: Inception ×2 (→ 832, 1024), global average pool, flatten          → (N, 1024)
 *   dense 10                                                              → logits (N, 10)
 *
 * No layer depends on the input size (the map shrinks by 32 overall; any input of at least 1×1 runs).
 */
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../../src/nn/index.js';
import { cat } from '../../src/ops/shape.js';
import type { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { NetOptions } from '../vision/common.js';

/** The Inception block; names as d2l's (p2_1 is path 2's first layer), so state dicts match. */
export class Inception extends Module {
  readonly p1_1: Conv2d;
  readonly p2_1: Conv2d;
  readonly p2_2: Conv2d;
  readonly p3_1: Conv2d;
  readonly p3_2: Conv2d;
  readonly p4_1: MaxPool2d;
  readonly p4_2: Conv2d;
  readonly outChannels: number;

  constructor(
    readonly inChannels: number,
    c1: number,
    c2: readonly [number, number],
    c3: readonly [number, number],
    c4: number,
    g?: Generator,
  ) {
    super();
    this.p1_1 = this.registerModule('p1_1', new Conv2d(inChannels, c1, 1, { generator: g }));
    this.p2_1 = this.registerModule('p2_1', new Conv2d(inChannels, c2[0], 1, { generator: g }));
    this.p2_2 = this.registerModule('p2_2', new Conv2d(c2[0], c2[1], 3, { padding: 1, generator: g }));
    this.p3_1 = this.registerModule('p3_1', new Conv2d(inChannels, c3[0], 1, { generator: g }));
    this.p3_2 = this.registerModule('p3_2', new Conv2d(c3[0], c3[1], 5, { padding: 2, generator: g }));
    this.p4_1 = this.registerModule('p4_1', new MaxPool2d(3, 1, 1));
    this.p4_2 = this.registerModule('p4_2', new Conv2d(inChannels, c4, 1, { generator: g }));
    this.outChannels = c1 + c2[1] + c3[1] + c4;
  }

  /** x (N, Cin, H, W) → (N, c1 + c2[1] + c3[1] + c4, H, W). */
  forward(x: Tensor): Tensor {
    const p1 = this.p1_1.forward(x).relu();
    const p2 = this.p2_2.forward(this.p2_1.forward(x).relu()).relu();
    const p3 = this.p3_2.forward(this.p3_1.forward(x).relu()).relu();
    const p4 = this.p4_2.forward(this.p4_1.forward(x)).relu();
    return cat([p1, p2, p3, p4], 1);
  }

  protected override extraRepr(): string {
    return `${this.inChannels} → ${this.outChannels}`;
  }
}

export function googlenet(opts: NetOptions = {}): Sequential {
  const g = opts.generator;
  const b1 = new Sequential(
    new Conv2d(1, 64, 7, { stride: 2, padding: 3, generator: g }), new ReLU(), //   (N, 64, 48, 48)
    new MaxPool2d(3, 2, 1), //                                                      (N, 64, 24, 24)
  );
  const b2 = new Sequential(
    new Conv2d(64, 64, 1, { generator: g }), new ReLU(),
    new Conv2d(64, 192, 3, { padding: 1, generator: g }), new ReLU(), //            (N, 192, 24, 24)
    new MaxPool2d(3, 2, 1), //                                                      (N, 192, 12, 12)
  );
  const b3 = new Sequential(
    new Inception(192, 64, [96, 128], [16, 32], 32, g), //                          (N, 256, 12, 12)
    new Inception(256, 128, [128, 192], [32, 96], 64, g), //                        (N, 480, 12, 12)
    new MaxPool2d(3, 2, 1), //                                                      (N, 480, 6, 6)
  );
  const b4 = new Sequential(
    new Inception(480, 192, [96, 208], [16, 48], 64, g), //                         (N, 512, 6, 6)
    new Inception(512, 160, [112, 224], [24, 64], 64, g), //                        (N, 512, 6, 6)
    new Inception(512, 128, [128, 256], [24, 64], 64, g), //                        (N, 512, 6, 6)
    new Inception(512, 112, [144, 288], [32, 64], 64, g), //                        (N, 528, 6, 6)
    new Inception(528, 256, [160, 320], [32, 128], 128, g), //                      (N, 832, 6, 6)
    new MaxPool2d(3, 2, 1), //                                                      (N, 832, 3, 3)
  );
  const b5 = new Sequential(
    new Inception(832, 256, [160, 320], [32, 128], 128, g), //                      (N, 832, 3, 3)
    new Inception(832, 384, [192, 384], [48, 128], 128, g), //                      (N, 1024, 3, 3)
    new AdaptiveAvgPool2d(1), //                                                    (N, 1024, 1, 1)
    new Flatten(), //                                                               (N, 1024)
  );
  return new Sequential(b1, b2, b3, b4, b5, new Linear(1024, 10, { generator: g })); // (N, 10)
}
