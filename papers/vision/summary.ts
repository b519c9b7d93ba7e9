/**
 * The layer-by-layer output shapes and parameter counts of a vision net (as d2l's layer_summary prints
 * them) for one input image of N×N; `pfs summary` (cli/summary.ts) prints them.
 */
import { formatSummary, layerSummary } from '../../src/nn/summary.js';
import type { Classifier } from '../../src/train/loop.js';
import { lenet, lenetBN } from '../lenet/model.js';
import type { NetOptions } from './common.js';
import { VISION_NETS } from './nets.js';

export interface Summarisable {
  name: string;
  title: string;
  build(opts: NetOptions): Classifier;
  d2lSize: number;
}

/** Every net `pfs summary` knows: the vision nets, and LeNet (whose dense layers fix its input at 28×28). */
export const SUMMARY_NETS: readonly Summarisable[] = [
  { name: 'lenet', title: 'LeNet-5', build: (o) => lenet(o.generator), d2lSize: 28 },
  { name: 'lenet-bn', title: 'LeNet with batch normalisation', build: (o) => lenetBN(o.generator), d2lSize: 28 },
  ...VISION_NETS,
];

/** The net `pfs summary` knows by `name`; an unknown name is refused with the list. */
export function summaryNet(name: string): Summarisable {
  const net = SUMMARY_NETS.find((n) => n.name === name);
  if (!net) throw new Error(`summary: unknown net ${JSON.stringify(name)}; available: ${SUMMARY_NETS.map((n) => n.name).join(', ')}`);
  return net;
}

/** The summary table of net `name` for a 1×1×size×size input (default: d2l's input size). */
export function summaryText(name: string, size?: number): string {
  const net = summaryNet(name);
  const s = size ?? net.d2lSize;
  return `${net.title}\n${formatSummary(layerSummary(net.build({ size: s }), [1, 1, s, s]))}`;
}
