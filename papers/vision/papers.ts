/** The vision papers, in the order of the book's chapter (LeNet, in papers/lenet, comes before them). */
import type { Paper } from '../paper.js';
import { alexnetPaper } from '../alexnet/train.js';
import { googlenetPaper } from '../googlenet/train.js';
import { ninPaper } from '../nin/train.js';
import { regnetPaper } from '../regnet/train.js';
import { resnetPaper } from '../resnet/train.js';
import { vggPaper } from '../vgg/train.js';
import type { VisionConfig } from './train.js';

export const VISION_PAPERS: readonly Paper<VisionConfig>[] = [alexnetPaper, vggPaper, ninPaper, googlenetPaper, resnetPaper, regnetPaper];
