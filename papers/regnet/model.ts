/**
 * AnyNet and RegNetX-32 (Radosavovic, Kosaraju, Girshick, He & Dollár 2020) as d2l writes them for
 * Fashion-MNIST. An AnyNet is a stem, a body of stages and a head:
 *
 *   stem:  conv 3×3/2 pad 1, c₀ channels, BN, ReLU                    (N, 1, H, W) → (N, c₀, H/2, W/2)
 *   stage i (depth dᵢ, width cᵢ, group width g, bottleneck multiplier k):
 *          dᵢ ResNeXt blocks of cᵢ channels; the first halves H and W
 *   head:  global average pool, flatten, dense 10                     → logits (N, 10)
 *
 * The ResNeXt block (bottleneck width b = round(cᵢ·k) channels, b/g groups in the 3×3 conv):
 *
 *   Y = ReLU(BN₁(conv 1×1, b))
 *   Y = ReLU(BN₂(conv 3×3 pad 1 with the stride, b channels in b/g groups of g))
 *   Y = BN₃(conv 1×1, cᵢ)
 *   out = ReLU(Y + x), or ReLU(Y + BN₄(conv 1×1 with the stride, cᵢ)(x)) in a stage's first block
 *
 * RegNetX-32: c₀ = 32, stages (d, c) = (4, 32), (6, 80), g = 16, k = 1 (no bottleneck). For 96×96:
 *
 *   x (N, 1, 96, 96) → stem (N, 32, 48, 48) → stage1 (N, 32, 24, 24) → stage2 (N, 80, 12, 12) → head (N, 10)
 *
 * No layer depends on the input size.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential } from '../../src/nn/index.js';
import type { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { NetOptions } from '../vision/common.js';

/**
 * d2l's ResNeXtBlock. `groupWidth` is g, the channels per group of the 3×3 conv (d2l calls it
 * `groups`; the conv has bottleneck/g groups). Fields registered in d2l's order so state dicts match.
 */
export class ResNeXtBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly conv3: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly bn2: BatchNorm2d;
  readonly bn3: BatchNorm2d;
  /** The projection of the shortcut (1×1 conv with the stride, then BN), or null for the identity. */
  readonly conv4: Conv2d | null;
  readonly bn4: BatchNorm2d | null;

  constructor(
    inChannels: number,
    numChannels: number,
    groupWidth: number,
    botMul: number,
    opts: { use1x1conv?: boolean; stride?: number; generator?: Generator } = {},
  ) {
    super();
    const stride = opts.stride ?? 1;
    const g = opts.generator;
    const botChannels = Math.round(numChannels * botMul);
    if (botChannels % groupWidth !== 0) {
      throw new RangeError(`ResNeXtBlock: the group width ${groupWidth} must divide the bottleneck width ${botChannels} (${numChannels} channels × ${botMul})`);
    }
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, botChannels, 1, { generator: g }));
    this.conv2 = this.registerModule('conv2', new Conv2d(botChannels, botChannels, 3, { stride, padding: 1, groups: botChannels / groupWidth, generator: g }));
    this.conv3 = this.registerModule('conv3', new Conv2d(botChannels, numChannels, 1, { generator: g }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(botChannels));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(botChannels));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(numChannels));
    this.conv4 = opts.use1x1conv ? this.registerModule('conv4', new Conv2d(inChannels, numChannels, 1, { stride, generator: g })) : null;
    this.bn4 = opts.use1x1conv ? this.registerModule('bn4', new BatchNorm2d(numChannels)) : null;
  }

  /** x (N, Cin, H, W) → (N, C, H/stride, W/stride). */
  forward(x: Tensor): Tensor {
    let y = this.bn1.forward(this.conv1.forward(x)).relu();
    y = this.bn2.forward(this.conv2.forward(y)).relu();
    y = this.bn3.forward(this.conv3.forward(y));
    const shortcut = this.conv4 && this.bn4 ? this.bn4.forward(this.conv4.forward(x)) : x;
    return y.add(shortcut).relu();
  }
}

/** One stage of an AnyNet: depth d, width c, group width g, bottleneck multiplier k. */
export interface StageSpec {
  depth: number;
  width: number;
  groupWidth: number;
  botMul: number;
}

/**
 * An AnyNet: children '0' (the stem), 'stage1', 'stage2', ..., 'head', named as d2l's so state dicts
 * match; the forward pass runs them in that order.
 */
export class AnyNet extends Module {
  private readonly parts: Module[] = [];

  constructor(readonly arch: readonly StageSpec[], readonly stemChannels: number, opts: NetOptions = {}) {
    super();
    const g = opts.generator;
    this.add('0', new Sequential(new Conv2d(1, stemChannels, 3, { stride: 2, padding: 1, generator: g }), new BatchNorm2d(stemChannels), new ReLU()));
    let inChannels = stemChannels;
    arch.forEach((s, i) => {
      const blocks: ResNeXtBlock[] = [];
      for (let j = 0; j < s.depth; j++) {
        const first = j === 0;
        blocks.push(new ResNeXtBlock(first ? inChannels : s.width, s.width, s.groupWidth, s.botMul, { use1x1conv: first, stride: first ? 2 : 1, generator: g }));
      }
      this.add(`stage${i + 1}`, new Sequential(...blocks));
      inChannels = s.width;
    });
    this.add('head', new Sequential(new AdaptiveAvgPool2d(1), new Flatten(), new Linear(inChannels, 10, { generator: g })));
  }

  private add(name: string, m: Module): void {
    this.parts.push(this.registerModule(name, m));
  }

  /** x (N, 1, H, W) → logits (N, 10). */
  forward(x: Tensor): Tensor {
    for (const m of this.parts) x = (m as Module & { forward(x: Tensor): Tensor }).forward(x);
    return x;
  }
}

/** RegNetX-32: stem 32, stages (depth 4, width 32) and (depth 6, width 80), group width 16, k = 1. */
export const REGNETX32: readonly StageSpec[] = [
  { depth: 4, width: 32, groupWidth: 16, botMul: 1 },
  { depth: 6, width: 80, groupWidth: 16, botMul: 1 },
];

export function regnetx32(opts: NetOptions = {}): AnyNet {
  return new AnyNet(REGNETX32, 32, opts);
}
