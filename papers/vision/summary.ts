/**
 * The layer-by-layer output shapes and parameter counts of a vision net (as d2l's layer_summary prints
 * them) for one input image of N×N; `pfs summary` (cli/summary.ts) prints them.
 */
import { formatSummary, layerSummary } from '../../src/nn/summary.js';
import { PAPERS } from '../index.js';
import type { NetSpec } from '../paper.js';

export type Summarisable = NetSpec & { name: string };

/** Every net `pfs summary` knows: those of the papers that train an image classifier. */
export const SUMMARY_NETS: readonly Summarisable[] = PAPERS.flatMap((p) => (p.net ? [{ name: p.name, ...p.net }] : []));

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
