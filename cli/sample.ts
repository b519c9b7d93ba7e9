/**
 * `pfs sample <paper> --checkpoint FILE [--prefix "time traveller"] [--length 50] [--temperature T] [--seed N]`:
 * continue a text with a trained character-level language model (papers/rnn/sample.ts).
 */
import { Generator } from '../src/tensor/rng.js';
import { parseField } from '../src/train/config.js';
import { parseSeed } from '../src/train/runner.js';
import { LM_SPECS, LMName } from '../papers/rnn/model.js';
import { loadLanguageModel, predict } from '../papers/rnn/sample.js';
import { parseArgs } from './args.js';

/** `pfs sample <paper> --checkpoint FILE ...`: prints the prefix and its continuation; returns the exit status. */
export async function sampleCommand(argv: readonly string[], out: { write(s: string): unknown } = process.stdout): Promise<number> {
  const args = parseArgs(argv, [], ['checkpoint', 'prefix', 'length', 'temperature', 'seed'], false);
  const names = Object.keys(LM_SPECS);
  if (args.positionals.length !== 1) throw new Error(`sample: expected one paper name (${names.join(', ')}), got ${args.positionals.length ? args.positionals.join(' ') : 'none'}`);
  const name = args.positionals[0];
  if (!(name in LM_SPECS)) throw new Error(`sample: ${JSON.stringify(name)} is not a language model; papers that sample: ${names.join(', ')}`);
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('sample: --checkpoint FILE is required (train writes out/<paper>-<preset>/checkpoint.safetensors)');
  const length = intFlag(args.flags.length, 'length', 50);
  const seed = typeof args.flags.seed === 'string' ? parseSeed(args.flags.seed) : 0;
  let temperature: number | undefined;
  if (args.flags.temperature !== undefined) {
    temperature = Number(args.flags.temperature);
    if (args.flags.temperature === '' || !Number.isFinite(temperature) || temperature < 0) {
      throw new Error(`sample: --temperature expects a number ≥ 0, got ${JSON.stringify(args.flags.temperature)}`);
    }
  }
  const { net, saved } = await loadLanguageModel(ckpt);
  const spec = LM_SPECS[name as LMName];
  if (saved.cell !== spec.cell || saved.bidirectional !== spec.bidirectional) {
    throw new Error(`sample: ${ckpt} holds a ${saved.name} model, not ${name}`);
  }
  const prefix = typeof args.flags.prefix === 'string' ? args.flags.prefix : 'time traveller';
  out.write(predict(net, { idxToToken: saved.vocab }, prefix, length, { temperature, generator: new Generator(seed) }) + '\n');
  return 0;
}

function intFlag(v: string | true | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  return parseField(name, String(v), { type: 'int', min: 0, help: '' }) as number;
}
