/** The vision nets by paper name, from the papers' registry (each net is defined in its paper's folder). */
import type { NetSpec } from '../paper.js';
import { VISION_PAPERS } from './papers.js';

/** A vision paper's net and the paper's name (papers/<name>/). */
export type VisionNet = NetSpec & { name: string };

export const VISION_NETS: readonly VisionNet[] = VISION_PAPERS.map((p) => ({ name: p.name, ...p.net }));

export function findVisionNet(name: string): VisionNet {
  const n = VISION_NETS.find((v) => v.name === name);
  if (!n) throw new Error(`unknown vision net ${JSON.stringify(name)}; available: ${VISION_NETS.map((v) => v.name).join(', ')}`);
  return n;
}
