/**
 * LeNet-BN, step for step, in this library and in PyTorch: the TypeScript half of the check
 * (compare_bn_torch.py is the other half; the results are in NOTES.md beside it).
 *
 * It builds `lenetBN` with the seed and init of `pfs train lenet-bn --seed S` (papers/lenet/model.ts, train.ts),
 * converts it to float64 (or keeps float32, the training run's dtype, with `--dtype float32`), writes
 * that initial state dict, then runs `--steps` SGD steps (lr 1.0, as the d2l preset) on batches
 * `--from`, `--from`+1, ... of the training run's first shuffled epoch (`--from 230 --steps 5` ends on
 * the epoch's short last batch of 96 images) and writes what came out: the loss of each step, the
 * parameters and BatchNorm running statistics after the last step, and the logits of the first
 * `--eval` test images in eval mode (running statistics) and in train mode (batch statistics; the
 * running ones are put back afterwards). compare_bn_torch.py loads the same initial state into
 * PyTorch's LeNet-BN, replays the same batches and compares.
 * With `--orders E` it also writes the shuffled orders of the training run's first E epochs; the
 * Python half then trains PyTorch's net from the same start on the same batches for E epochs.
 *
 * Usage (after `npx tsc -p .`):
 *   PFS_DATA_DIR=../shared/data node dist/research/lenet/compare_bn_torch.js OUT_DIR \
 *       [--steps 20] [--from 0] [--seed 0] [--eval 1000] [--dtype float64] [--orders 0]
 *   PFS_DATA_DIR=../shared/data /usr/bin/python3 research/lenet/compare_bn_torch.py OUT_DIR
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/autograd/mode.js';
import { DataLoader, TensorDataset } from '../../src/data/dataset.js';
import { loadFashionMnist } from '../../src/data/load.js';
import { saveSafetensors } from '../../src/io/atomic.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { lenetBN, xavierInit } from '../../papers/lenet/model.js';

interface Args { out: string; steps: number; from: number; seed: number; evalCount: number; dtype: 'float32' | 'float64'; orders: number }

function parse(argv: string[]): Args {
  const usage = 'usage: compare_bn_torch.js OUT_DIR [--steps N] [--from N] [--seed N] [--eval N] [--dtype float64|float32] [--orders E]';
  const [out, ...rest] = argv;
  if (!out || out.startsWith('--')) throw new Error(`${usage}: expected an output directory first, got ${JSON.stringify(out)}`);
  const o: Args = { out, steps: 20, from: 0, seed: 0, evalCount: 1000, dtype: 'float64', orders: 0 };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i];
    if (key === '--dtype') {
      if (rest[i + 1] !== 'float32' && rest[i + 1] !== 'float64') throw new Error(`${usage}: --dtype expects float64 or float32, got ${JSON.stringify(rest[i + 1])}`);
      o.dtype = rest[i + 1] as Args['dtype'];
      continue;
    }
    const v = Number(rest[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${usage}: ${key} expects a non-negative integer, got ${JSON.stringify(rest[i + 1])}`);
    if (key === '--steps') o.steps = v;
    else if (key === '--from') o.from = v;
    else if (key === '--seed') o.seed = v;
    else if (key === '--eval') o.evalCount = v;
    else if (key === '--orders') o.orders = v;
    else throw new Error(`${usage}: unknown option ${JSON.stringify(key)}`);
  }
  if (o.steps < 1) throw new Error(`${usage}: --steps must be at least 1, got ${o.steps}`);
  if (o.evalCount < 2 || o.evalCount > 10000) throw new Error(`${usage}: --eval must be from 2 to 10000 test images, got ${o.evalCount}`);
  return o;
}

async function main(): Promise<void> {
  const { out, steps, from, seed, evalCount, dtype, orders } = parse(process.argv.slice(2));
  mkdirSync(out, { recursive: true });

  // The same draws as train.ts: init from g, the shuffles from a generator seeded by g's first draw.
  const g = new Generator(seed);
  const shuffle = new Generator(g.nextUint32());
  const net = lenetBN(g);
  xavierInit(net, g);
  net.to(dtype);
  await saveSafetensors(join(out, 'init.safetensors'), net.stateDict());

  const train = loadFashionMnist('train');
  const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize: 256, shuffle: true, generator: shuffle });
  if (from + steps > loader.length) throw new Error(`an epoch has ${loader.length} batches; --from ${from} --steps ${steps} runs past its end`);
  const order = loader.order(); // the first epoch's order, as the training run draws it
  // With --orders E, the orders of epochs 2..E too, for a PyTorch run of E epochs on the same batches.
  const epochOrders = [order];
  while (epochOrders.length < orders) epochOrders.push(loader.order());
  const optimizer = new SGD(net.parameters(), { lr: 1.0 });
  // Batches from..from+steps-1 of that order; the epoch's last batch is the short one (60,000 = 234·256 + 96).
  const indices = order.subarray(from * 256, Math.min((from + steps) * 256, order.length));
  const losses: number[] = [];
  net.train();
  for (let s = 0; s < steps; s++) {
    const idx = indices.subarray(s * 256, Math.min((s + 1) * 256, indices.length));
    const [x, y] = loader.dataset.getBatch!(idx) as Tensor[];
    const loss = crossEntropy(net.forward(x.to(dtype)), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
  }

  const test = loadFashionMnist('test');
  const xTest = test.images.narrow(0, 0, evalCount).to(dtype);
  const results: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(net.stateDict())) results[`state.${k}`] = t;
  noGrad(() => {
    net.eval();
    results.eval_logits = net.forward(xTest);
    // Train-mode logits use the batch's statistics; keep a copy of the running ones and put it back.
    const saved = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, t.clone()]));
    net.train();
    results.train_logits = net.forward(xTest);
    net.loadStateDict(saved);
  });
  results.losses = Tensor.from(losses, { dtype: 'float64' }); // as item() returned them
  results.indices = new Tensor(Int32Array.from(indices), [indices.length], 'int32'); // the images, batch after batch of 256
  if (orders > 0) {
    const all = new Int32Array(orders * order.length);
    epochOrders.forEach((o, e) => all.set(o, e * order.length));
    results.orders = new Tensor(all, [orders, order.length], 'int32');
  }
  await saveSafetensors(join(out, 'ours.safetensors'), results, { seed: String(seed), steps: String(steps), from: String(from), eval: String(evalCount), dtype });
  process.stdout.write(`wrote ${out}/init.safetensors and ${out}/ours.safetensors (batches ${from}..${from + steps - 1} of the first epoch, ${dtype}, seed ${seed}, last loss ${losses[steps - 1]})\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
