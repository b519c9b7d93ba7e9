/**
 * `pfs export <paper> --checkpoint F --onnx OUT.onnx [--batch N]`: one eval-mode forward pass on a fixed batch
 * of N examples, traced into an ONNX graph (src/interop/onnx/export.ts); the file's metadata_props record the
 * paper and its config.
 * `pfs eval <paper> --onnx OUT.onnx`: the image classifiers' test set through ONNX Runtime (onnxruntime-node,
 * loaded only here: a devDependency, installed with `npm install onnxruntime-node`), batches of the graph's
 * fixed size, the last one padded with zeros (their predictions dropped).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic.js';
import type { Module } from '../src/nn/module.js';
import { exportOnnx as traceToOnnx } from '../src/interop/onnx/export.js';
import { decodeModel } from '../src/interop/onnx/proto.js';
import { ensureDataset } from '../src/data/datadir.js';
import { checkDataDir } from '../src/train/runner.js';
import type { Portable } from '../papers/interop.js';
import { fashionMnistLoader } from '../papers/vision/train.js';
import { findPaper } from '../papers/index.js';
import { parseArgs } from './args.js';

type Out = { write(s: string): unknown };

/** The papers whose test set `pfs eval --onnx` runs: the Fashion-MNIST classifiers. */
export const ONNX_EVAL_PAPERS = ['lenet', 'lenet-bn', 'alexnet', 'vgg', 'nin', 'googlenet', 'resnet', 'regnet'];

export async function exportOnnx(portable: Portable, model: Module, config: Record<string, unknown>, path: string, out: Out, batch = 32): Promise<void> {
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096) throw new Error(`export: --batch must be a whole number from 1 to 4096, got ${batch}`);
  const inputs = portable.inputs(model, config, batch, 0);
  const ex = traceToOnnx(model, inputs, (ts) => portable.outputs(model, ts), {
    format: 'papers-from-scratch onnx export v1', paper: portable.paper, config: JSON.stringify(config),
  }, portable.paper);
  await writeFileAtomic(path, ex.bytes);
  const shapes = inputs.filter(([k]) => ex.inputs.includes(k)).map(([k, t]) => `${k} ${t.dtype} (${t.shape.join(', ')})`).join(', ');
  const ops = Object.entries(ex.operators).map(([k, v]) => `${k} ${v}`).join(', ');
  out.write(`wrote ${path}: opset 17, inputs ${shapes}${ex.unused.length ? ` (${ex.unused.join(', ')}: not used by the net)` : ''}; ` +
    `${ex.nodes} nodes (${ops}), ${ex.initializers} initializers\n`);
}

/** onnxruntime-node, or an error that says how to get it. */
export async function loadOnnxRuntime(): Promise<typeof import('onnxruntime-node')> {
  try {
    const m = await import('onnxruntime-node');
    return ((m as { default?: unknown }).default ?? m) as typeof import('onnxruntime-node');
  } catch (e) {
    throw new Error(`eval --onnx needs onnxruntime-node, which is not installed (${(e as Error).message.split('\n')[0]}); install it with \`npm install onnxruntime-node\``);
  }
}

/** The metadata and input shape of an exported file. */
export function onnxInfo(bytes: Uint8Array, path: string): { metadata: Record<string, string>; inputs: { name: string; shape: number[] }[] } {
  let model: Record<string, unknown>;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new Error(`${path} is not an ONNX model (${(e as Error).message})`);
  }
  const metadata = Object.fromEntries(((model.metadataProps ?? []) as { key: string; value: string }[]).map((p) => [p.key, p.value]));
  const graph = (model.graph ?? {}) as { input?: { name: string; type?: { tensorType?: { shape?: { dim?: { dimValue?: number }[] } } } }[] };
  const inputs = (graph.input ?? []).map((v) => ({ name: v.name, shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue ?? 0)) }));
  return { metadata, inputs };
}

export async function evalOnnxCommand(argv: readonly string[], out: Out = process.stdout): Promise<number> {
  const args = parseArgs(argv, ['json'], ['onnx', 'data', 'test_limit'], false);
  if (args.positionals.length !== 1) throw new Error('eval: expected one paper name; see `pfs list`');
  const paper = findPaper(args.positionals[0]);
  const file = args.flags.onnx as string;
  if (!ONNX_EVAL_PAPERS.includes(paper.name)) {
    throw new Error(`eval --onnx runs the Fashion-MNIST classifiers (${ONNX_EVAL_PAPERS.join(', ')}); ${paper.name} exports to ONNX, but its test metrics are computed only by \`pfs eval ${paper.name} --checkpoint F\``);
  }
  const path = resolve(file);
  const bytes = new Uint8Array(await readFile(path));
  const { metadata, inputs } = onnxInfo(bytes, path);
  if (metadata.paper !== undefined && metadata.paper !== paper.name) throw new Error(`eval: ${file} is an export of ${metadata.paper}, not ${paper.name}`);
  const x = inputs.find((i) => i.name === 'x');
  if (!x || x.shape.length !== 4 || x.shape[1] !== 1 || x.shape[2] !== x.shape[3]) {
    throw new Error(`eval: ${file} has no image input x of shape (N, 1, S, S) (inputs: ${inputs.map((i) => `${i.name} (${i.shape.join(', ')})`).join(', ') || 'none'})`);
  }
  const [N, , S] = x.shape;
  const limit = args.flags.test_limit === undefined ? 0 : Number(args.flags.test_limit);
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`--test_limit: expected a whole number, got ${JSON.stringify(args.flags.test_limit)}`);
  const dataDir = args.flags.data as string | undefined;
  checkDataDir(dataDir);
  const ort = await loadOnnxRuntime();
  await ensureDataset('fashion-mnist', { dataDir });
  const session = await ort.InferenceSession.create(bytes);
  const output = session.outputNames[0];
  let correct = 0;
  let n = 0;
  const t0 = Date.now();
  for (const [images, labels] of fashionMnistLoader('test', S, { batchSize: N, limit, dataDir })) {
    const b = images.shape[0];
    const data = new Float32Array(N * S * S);
    data.set(images.contiguous().toTypedArray() as Float32Array);
    const logits = (await session.run({ x: new ort.Tensor('float32', data, [N, 1, S, S]) }))[output].data as Float32Array;
    const C = logits.length / N;
    const y = labels.toTypedArray();
    for (let i = 0; i < b; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      if (best === y[i]) correct++;
    }
    n += b;
  }
  const metrics = { test_acc: correct / n };
  if (args.flags.json === true) out.write(JSON.stringify(metrics) + '\n');
  else out.write(`test_acc ${metrics.test_acc.toFixed(4)} (${n} test images through ONNX Runtime ${ort.env.versions?.common ?? ''}, batches of ${N}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return 0;
}
