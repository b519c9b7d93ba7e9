/** The vision nets by paper name: how to build each, and the input size of the book's setup. */
import type { Classifier } from '../../src/train/loop.js';
import { alexnet } from '../alexnet/model.js';
import { googlenet } from '../googlenet/model.js';
import { nin } from '../nin/model.js';
import { regnetx32 } from '../regnet/model.js';
import { resnet18 } from '../resnet/model.js';
import { vgg11Small } from '../vgg/model.js';
import type { NetOptions } from './common.js';

export interface VisionNet {
  /** The paper's name in `pfs` (papers/<name>/). */
  name: string;
  /** What the net is, in a few words. */
  title: string;
  build(opts: NetOptions): Classifier;
  /** Input height = width in d2l's Fashion-MNIST setup. */
  d2lSize: number;
}

export const VISION_NETS: readonly VisionNet[] = [
  { name: 'alexnet', title: 'AlexNet', build: alexnet, d2lSize: 224 },
  { name: 'vgg', title: 'VGG-11 with channels ÷ 4', build: vgg11Small, d2lSize: 224 },
  { name: 'nin', title: 'Network in Network', build: nin, d2lSize: 224 },
  { name: 'googlenet', title: 'GoogLeNet', build: googlenet, d2lSize: 96 },
  { name: 'resnet', title: 'ResNet-18', build: resnet18, d2lSize: 96 },
  { name: 'regnet', title: 'RegNetX-32 (AnyNet)', build: regnetx32, d2lSize: 96 },
];

export function findVisionNet(name: string): VisionNet {
  const n = VISION_NETS.find((v) => v.name === name);
  if (!n) throw new Error(`unknown vision net ${JSON.stringify(name)}; available: ${VISION_NETS.map((v) => v.name).join(', ')}`);
  return n;
}
