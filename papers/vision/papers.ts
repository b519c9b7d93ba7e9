/** The papers that papers/vision/train.ts trains, from the registry (papers/index.ts), in its order. */
import { PAPERS } from '../index.js';
import type { NetSpec, Paper } from '../paper.js';
import { VisionConfig, visionSchema } from './train.js';

export type VisionPaper = Paper<VisionConfig> & { net: NetSpec };

export const VISION_PAPERS: readonly VisionPaper[] = PAPERS.filter((p): p is VisionPaper => p.schema === visionSchema && p.net !== undefined);
