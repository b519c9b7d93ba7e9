/**
 * `pfs summary <paper> [--preset P | --size N]`: the layer-by-layer output shapes and parameter counts
 * of a vision net for one input image, at the input size of the preset `pfs train` would use (the
 * paper's default preset unless --preset names another), or at --size N.
 */
import { parseField } from '../src/train/config.js';
import { presetOf } from '../src/train/runner.js';
import { findPaper } from '../papers/index.js';
import { SUMMARY_NETS, summaryNet, summaryText } from '../papers/vision/summary.js';
import { parseArgs } from './args.js';

/** argv after the command name; prints the table, returns the exit status. */
export function summaryCommand(argv: readonly string[], out: { write(s: string): unknown } = process.stdout): number {
  const args = parseArgs(argv, [], ['size', 'preset'], false);
  if (args.positionals.length !== 1) {
    throw new Error(`summary: expected one net name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; available: ${SUMMARY_NETS.map((n) => n.name).join(', ')}`);
  }
  const name = args.positionals[0];
  summaryNet(name); // refuses an unknown net with the list
  if (args.flags.size !== undefined && args.flags.preset !== undefined) throw new Error('summary: give --preset or --size, not both');
  let size: number;
  if (typeof args.flags.size === 'string') size = parseField('size', args.flags.size, { type: 'int', min: 1, max: 1024, help: '' }) as number;
  else {
    const { preset } = presetOf(findPaper(name), args.flags.preset as string | undefined);
    size = typeof preset.config.size === 'number' ? preset.config.size : summaryNet(name).d2lSize;
  }
  out.write(summaryText(name, size));
  return 0;
}
