/**
 * `pfs summary <paper> [--size N]`: the layer-by-layer output shapes and parameter counts of a vision
 * net (as d2l's layer_summary prints them) for one input image of N×N (default: d2l's input size).
 */
import { parseArgs } from '../../cli/args.js';
import { formatSummary, layerSummary } from '../../src/nn/summary.js';
import type { Classifier } from '../../src/train/loop.js';
import { lenet, lenetBN } from '../lenet/model.js';
import type { NetOptions } from './common.js';
import { VISION_NETS } from './nets.js';

interface Summarisable {
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

/** The summary table of net `name` for a 1×1×size×size input. */
export function summaryText(name: string, size?: number): string {
  const net = SUMMARY_NETS.find((n) => n.name === name);
  if (!net) throw new Error(`summary: unknown net ${JSON.stringify(name)}; available: ${SUMMARY_NETS.map((n) => n.name).join(', ')}`);
  const s = size ?? net.d2lSize;
  return `${net.title}\n${formatSummary(layerSummary(net.build({ size: s }), [1, 1, s, s]))}`;
}

/** The `pfs summary` command: argv after the command name; prints the table, returns the exit status. */
export function summaryCommand(argv: readonly string[], out: { write(s: string): unknown } = process.stdout): number {
  const args = parseArgs(argv, [], ['size'], false);
  if (args.positionals.length !== 1) {
    throw new Error(`summary: expected one net name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; available: ${SUMMARY_NETS.map((n) => n.name).join(', ')}`);
  }
  let size: number | undefined;
  if (args.flags.size !== undefined) {
    size = Number(args.flags.size);
    if (!Number.isInteger(size) || size < 1 || size > 1024) throw new Error(`--size: expected an integer in [1, 1024], got ${JSON.stringify(args.flags.size)}`);
  }
  out.write(summaryText(args.positionals[0], size));
  return 0;
}
