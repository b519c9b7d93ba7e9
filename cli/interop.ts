/**
 * `pfs export <paper> --checkpoint F --torch OUT.safetensors [--probe P.safetensors]`: the checkpoint's
 * weights as the PyTorch twin's state dict (names and layouts its load_state_dict(strict=True) takes;
 * papers/interop.ts has the mapping of each paper), and optionally a fixed batch with our outputs on it,
 * which scripts/torch_twin.py check runs through the twin.
 * `pfs export <paper> --checkpoint F --onnx OUT.onnx`: one eval-mode forward pass traced into an ONNX graph.
 * `pfs import <paper> --torch IN.safetensors --out F [--preset P] [--KEY VALUE]`: a twin's state dict
 * (a file `pfs export` wrote, or one saved from PyTorch) as a checkpoint of ours.
 */
import { resolve } from 'node:path';
import { noGrad } from '../src/autograd/mode.js';
import { loadSafetensors, saveSafetensors } from '../src/io/atomic.js';
import type { Module } from '../src/nn/module.js';
import { checkCheckpointPaper, checkpointIdentity, loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { applyOverrides } from '../src/train/config.js';
import { presetOf } from '../src/train/runner.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { findPaper } from '../papers/index.js';
import { findPortable, Portable } from '../papers/interop.js';
import { parseArgs } from './args.js';

type Out = { write(s: string): unknown };

/** The format recorded in an exported file's metadata. */
export const TORCH_EXPORT_FORMAT = 'papers-from-scratch torch export v1';

/** A checkpoint's net, rebuilt from its config and loaded, in eval mode, with that config. */
export async function loadPortable(portable: Portable, checkpoint: string): Promise<{ model: Module; config: Record<string, unknown> }> {
  const path = resolve(checkpoint);
  const { metadata } = await loadSafetensors(path);
  checkCheckpointPaper(metadata, path, portable.paper);
  const { config } = checkpointIdentity(metadata, path);
  const model = portable.build(config);
  await loadCheckpoint(path, { model });
  model.eval();
  return { model, config };
}

/** The twin's state dict of a model, and the metadata an exported file carries (paper, config). */
export function torchStateDict(portable: Portable, model: Module, config: Record<string, unknown>): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return {
    tensors: portable.layout(model).toTorch(model.stateDict()),
    metadata: { format: TORCH_EXPORT_FORMAT, paper: portable.paper, config: JSON.stringify(config) },
  };
}

/** A fixed batch and our outputs on it: tensors `input.<name>` and `output.<name>`; metadata lists their order. */
export function probe(portable: Portable, model: Module, config: Record<string, unknown>, n = 4, seed = 0): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const inputs = portable.inputs(model, config, n, seed);
  const outputs = noGrad(() => portable.outputs(model, inputs.map(([, t]) => t)));
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of inputs) tensors[`input.${k}`] = t;
  for (const [k, t] of outputs) tensors[`output.${k}`] = t;
  return {
    tensors,
    metadata: { paper: portable.paper, config: JSON.stringify(config), inputs: inputs.map(([k]) => k).join(','), outputs: outputs.map(([k]) => k).join(',') },
  };
}

/** Our state dict from a twin's; checked against the names and shapes the net expects. */
export function fromTorchStateDict(portable: Portable, model: Module, theirs: Record<string, Tensor>, what: string): Record<string, Tensor> {
  const layout = portable.layout(model);
  const expected = layout.toTorch(model.stateDict());
  return layout.fromTorch(theirs, expected, what);
}

export async function exportCommand(argv: readonly string[], out: Out = process.stdout): Promise<number> {
  const args = parseArgs(argv, [], ['checkpoint', 'torch', 'onnx', 'probe', 'batch'], false);
  if (args.positionals.length !== 1) throw new Error(`export: expected one paper name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; see \`pfs list\``);
  findPaper(args.positionals[0]); // an unknown paper: the list of papers
  const portable = findPortable(args.positionals[0]);
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('export: --checkpoint FILE is required');
  const torchOut = args.flags.torch as string | undefined;
  const onnxOut = args.flags.onnx as string | undefined;
  if (!torchOut && !onnxOut) throw new Error('export: give --torch OUT.safetensors (the PyTorch twin\'s state dict) or --onnx OUT.onnx, or both');
  if (args.flags.probe !== undefined && !torchOut) throw new Error('export: --probe goes with --torch');
  const { model, config } = await loadPortable(portable, ckpt);
  if (torchOut) {
    const { tensors, metadata } = torchStateDict(portable, model, config);
    await saveSafetensors(resolve(torchOut), tensors, metadata);
    out.write(`wrote ${torchOut}: ${Object.keys(tensors).length} tensors in the layout of ${portable.twin}\n`);
    if (typeof args.flags.probe === 'string') {
      const p = probe(portable, model, config);
      await saveSafetensors(resolve(args.flags.probe), p.tensors, p.metadata);
      out.write(`wrote ${args.flags.probe}: a fixed batch (${p.metadata.inputs}) and our ${p.metadata.outputs} on it; check with /usr/bin/python3 scripts/torch_twin.py check ${torchOut} ${args.flags.probe}\n`);
    }
  }
  if (onnxOut) {
    const { exportOnnx } = await import('./onnx.js');
    const batch = args.flags.batch === undefined ? undefined : Number(args.flags.batch);
    await exportOnnx(portable, model, config, resolve(onnxOut), out, batch);
  }
  return 0;
}

export async function importCommand(argv: readonly string[], out: Out = process.stdout): Promise<number> {
  const args = parseArgs(argv, [], ['torch', 'out', 'preset'], true);
  if (args.positionals.length !== 1) throw new Error(`import: expected one paper name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; see \`pfs list\``);
  const paper = findPaper(args.positionals[0]);
  const portable = findPortable(paper.name);
  const file = args.flags.torch;
  if (typeof file !== 'string') throw new Error('import: --torch IN.safetensors is required (a state dict in the layout of the paper\'s PyTorch twin)');
  const dest = args.flags.out;
  if (typeof dest !== 'string') throw new Error('import: --out FILE is required (the checkpoint to write)');
  const { tensors, metadata } = await loadSafetensors(resolve(file));
  if (metadata.paper !== undefined && metadata.paper !== paper.name) throw new Error(`import: ${file} holds ${metadata.paper}'s weights, not ${paper.name}'s`);
  // the config: the file's (pfs export records it) with --KEY VALUE on top, else the preset's
  const { presetName, preset } = presetOf(paper, args.flags.preset as string | undefined);
  let config: Record<string, unknown>;
  if (metadata.config !== undefined) {
    try {
      config = JSON.parse(metadata.config) as Record<string, unknown>;
    } catch {
      throw new Error(`import: ${file}: its config metadata is not valid JSON`);
    }
    if (args.flags.preset !== undefined) throw new Error(`import: ${file} records its config; --preset does not apply (override single keys with --KEY VALUE)`);
    config = applyOverrides(config as never, args.overrides, paper.schema) as Record<string, unknown>;
  } else {
    config = applyOverrides(preset.config, args.overrides, paper.schema);
  }
  const model = portable.build(config);
  const ours = fromTorchStateDict(portable, model, tensors, `import: ${file}`);
  model.loadStateDict(ours);
  await saveCheckpoint(resolve(dest), { model }, { run: { paper: paper.name, preset: presetName, seed: 0 }, epoch: 0, history: [], config });
  out.write(`wrote ${dest}: ${paper.name}'s checkpoint from the ${Object.keys(tensors).length} tensors of ${file} (${portable.twin.split(':')[0]})\n`);
  return 0;
}
