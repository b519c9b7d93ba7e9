/**
 * VGG (Simonyan & Zisserman 2014): a net built from one repeated block — n convolutions 3×3 (pad 1,
 * so they keep the size) with ReLUs, then a 2×2 max-pool that halves height and width — followed by
 * the dense head of AlexNet. VGG-11 has the blocks (n, c) = (1, 64), (1, 128), (2, 256), (2, 512),
 * (2, 512); d2l trains it on Fashion-MNIST with every channel count divided by 4:
 *
 *   x (N, 1, 224, 224)
 *   block (1, 16)  → (N, 16, 112, 112)
 *   block (1, 32)  → (N, 32, 56, 56)
 *   block (2, 64)  → (N, 64, 28, 28)
 *   block (2, 128) → (N, 128, 14, 14)
 *   block (2, 128) → (N, 128, 7, 7)
 *   flatten → (N, 6272); dense 4096, ReLU, dropout 0.5; dense 4096, ReLU, dropout 0.5; dense 10 → (N, 10)
 *
 * The first dense layer takes the last feature map flattened, c·s·s values with s = ⌊size/32⌋ (7 at
 * 224×224, as in the book; smaller inputs give a smaller s, as the book's LazyLinear does). The
 * smallest input is 32×32.
 */
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../../src/nn/index.js';
import type { Generator } from '../../src/tensor/rng.js';
import { checkInputSize, convOut, NetOptions } from '../vision/common.js';

/** A VGG architecture: (number of convolutions, output channels) per block. */
export type ConvArch = readonly (readonly [numConvs: number, outChannels: number])[];

/** VGG-11 (the paper's configuration A). */
export const VGG11: ConvArch = [[1, 64], [1, 128], [2, 256], [2, 512], [2, 512]];

/** VGG-11 with channels ÷ 4, d2l's net for Fashion-MNIST. */
export const VGG11_SMALL: ConvArch = VGG11.map(([n, c]) => [n, c / 4] as const);

/** numConvs × (conv 3×3 pad 1 + ReLU), then max-pool 2×2/2: (N, Cin, H, W) → (N, Cout, H/2, W/2). */
export function vggBlock(numConvs: number, inChannels: number, outChannels: number, g?: Generator): Sequential {
  const layers: Module[] = [];
  for (let i = 0; i < numConvs; i++) {
    layers.push(new Conv2d(i === 0 ? inChannels : outChannels, outChannels, 3, { padding: 1, generator: g }), new ReLU());
  }
  layers.push(new MaxPool2d(2, 2));
  return new Sequential(...layers);
}

export function vgg(convArch: ConvArch, opts: NetOptions = {}): Sequential {
  const size = opts.size ?? 224;
  const s = checkInputSize('VGG', size, (n) => convArch.reduce((m) => convOut(m, 2, 2), n));
  const g = opts.generator;
  let inChannels = 1;
  const blocks = convArch.map(([numConvs, outChannels]) => {
    const b = vggBlock(numConvs, inChannels, outChannels, g);
    inChannels = outChannels;
    return b;
  });
  return new Sequential(
    ...blocks, //                                                       (N, c, s, s)
    new Flatten(), //                                                   (N, c·s·s)
    new Linear(inChannels * s * s, 4096, { generator: g }), new ReLU(), new Dropout(0.5, opts.dropout),
    new Linear(4096, 4096, { generator: g }), new ReLU(), new Dropout(0.5, opts.dropout),
    new Linear(4096, 10, { generator: g }), //                          (N, 10)
  );
}

/** d2l's Fashion-MNIST VGG: VGG-11 with a quarter of the channels. */
export function vgg11Small(opts: NetOptions = {}): Sequential {
  return vgg(VGG11_SMALL, opts);
}
