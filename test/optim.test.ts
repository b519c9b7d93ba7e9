/**
 * Optimisers, schedules and clipping against torch.optim (1.13): test/fixtures/optim.json, written by
 * test/fixtures/gen_optim.py, holds float64 starting parameters, a seeded sequence of gradients, and
 * torch's parameters after each step of each configuration. We replay the same gradients and compare.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it, test } from 'node:test';
import { Tensor } from '../src/tensor/tensor.js';
import {
  Adadelta, Adagrad, Adam, AdamW, clipGradNorm, CosineAnnealingLR, LinearLR, LRScheduler, Optimizer,
  RMSprop, SequentialLR, SGD, StepLR,
} from '../src/optim/index.js';
import type { BaseOptions } from '../src/optim/index.js';
import { adamStep, adamStepComposed } from '../src/optim/adam.js';
import { noGrad } from '../src/autograd/mode.js';
import { Generator } from '../src/tensor/rng.js';

interface OptimCase {
  name: string;
  type: 'SGD' | 'Adagrad' | 'RMSprop' | 'Adadelta' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups?: ({ params: number[] } & Record<string, unknown>)[];
  nullGrads?: [number, number][];
  trajectory: number[][][];
  finalState: Record<string, number | number[]>;
}
interface Fixture {
  N: number;
  params: { shape: number[]; data: number[] }[];
  grads: number[][][];
  optimizers: OptimCase[];
  schedules: { name: string; lrs: number[][] }[];
  clip: { name: string; maxNorm: number; before: (number[] | null)[]; totalNorm: number; after: (number[] | null)[] }[];
}

const url = new URL(import.meta.url.includes('/dist/test/') ? '../../test/fixtures/optim.json' : './fixtures/optim.json', import.meta.url);
const F = JSON.parse(readFileSync(url, 'utf8')) as Fixture;

type AnyOptimizer = Optimizer<BaseOptions>;
const CLASSES = { SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW } as unknown as Record<string, new (p: unknown, o: unknown) => AnyOptimizer>;

/** Fresh float64 leaf parameters at the fixture's starting point. */
function freshParams(): Tensor[] {
  return F.params.map((p) => Tensor.from(new Float64Array(p.data), { shape: p.shape }).requiresGrad_());
}

function build(c: OptimCase, params: Tensor[], options = c.options): AnyOptimizer {
  const spec = c.groups ? c.groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]) })) : params;
  return new CLASSES[c.type](spec, options);
}

/** Set p.grad to step k's gradient (or null where the case says so), then step. */
function feed(c: OptimCase, opt: AnyOptimizer, params: Tensor[], k: number): void {
  params.forEach((p, i) => {
    const none = c.nullGrads?.some(([s, j]) => s === k && j === i);
    p.grad = none ? null : Tensor.from(new Float64Array(F.grads[k][i]), { shape: p.shape });
  });
  opt.step();
}

function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray());
}

/** |a − e| ≤ rtol·|e| + atol, elementwise, with the first offending index in the message. */
function assertClose(actual: number[], expected: number[], what: string, rtol = 1e-10, atol = 1e-14): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= rtol * Math.abs(e) + atol, `${what}[${i}]: got ${a}, torch ${e} (diff ${a - e})`);
  });
}

describe('optimisers match torch.optim trajectories (float64, 1e-10 relative)', () => {
  for (const c of F.optimizers) {
    it(c.name, () => {
      const params = freshParams();
      const opt = build(c, params);
      for (let k = 0; k < F.N; k++) {
        feed(c, opt, params, k);
        params.forEach((p, i) => assertClose(values(p), c.trajectory[k][i], `${c.name} step ${k + 1} param ${i}`));
      }
      // The final state: the same names as torch's state (translated to state.<i>.<key>), same values.
      const sd = opt.stateDict();
      const ours = new Map<string, number | number[]>();
      for (const [k, t] of Object.entries(sd.tensors)) ours.set(k, values(t));
      for (const [k, v] of Object.entries(sd.meta)) if (k.startsWith('state.')) ours.set(k, v as number);
      assert.deepEqual([...ours.keys()].sort(), Object.keys(c.finalState).sort(), `${c.name}: state names`);
      for (const [k, v] of Object.entries(c.finalState)) {
        if (typeof v === 'number') assert.equal(ours.get(k), v, `${c.name}: ${k}`);
        else assertClose(ours.get(k) as number[], v, `${c.name}: ${k}`);
      }
    });
  }
});

describe('stateDict / loadStateDict', () => {
  for (const c of F.optimizers) {
    it(`${c.name}: 5 steps, save, load into a fresh optimiser, 5 more == 10 straight (bit-exact)`, () => {
      const straightP = freshParams();
      const straight = build(c, straightP);
      for (let k = 0; k < F.N; k++) feed(c, straight, straightP, k);

      const firstP = freshParams();
      const first = build(c, firstP);
      for (let k = 0; k < 5; k++) feed(c, first, firstP, k);
      const sd = first.stateDict();
      // Resume as from a checkpoint: new parameter tensors with the saved values, a new optimiser built
      // with a different lr (the state dict must bring the saved hyperparameters back).
      const resumedP = firstP.map((p) => p.detach().clone().requiresGrad_());
      const resumed = build(c, resumedP, { ...c.options, lr: 123 });
      resumed.loadStateDict(sd);
      assert.deepEqual(resumed.paramGroups.map((g) => g.lr), first.paramGroups.map((g) => g.lr));
      for (let k = 5; k < F.N; k++) feed(c, resumed, resumedP, k);
      resumedP.forEach((p, i) => assert.deepEqual(values(p), values(straightP[i]), `param ${i}`));
    });
  }

  it('stateDict holds copies: stepping on does not change a snapshot', () => {
    const c = F.optimizers.find((o) => o.name === 'adam')!;
    const params = freshParams();
    const opt = build(c, params);
    feed(c, opt, params, 0);
    const sd = opt.stateDict();
    const before = values(sd.tensors['state.0.exp_avg']);
    feed(c, opt, params, 1);
    assert.deepEqual(values(sd.tensors['state.0.exp_avg']), before);
    assert.equal(sd.meta['state.0.step'], 1);
    assert.equal(sd.meta.type, 'Adam');
    assert.equal(sd.meta['param_groups.0.params'], '0,1');
    assert.equal(sd.meta['param_groups.0.betas.1'], 0.999);
    assert.equal(sd.meta['param_groups.0.amsgrad'], 0);
  });

  it('loadStateDict refuses state that does not fit, naming what differs', () => {
    const params = freshParams();
    const adam = new Adam(params, { lr: 0.01 });
    params.forEach((p) => (p.grad = Tensor.ones(p.shape, { dtype: 'float64' })));
    adam.step();
    const good = adam.stateDict();
    const fresh = () => new Adam(freshParams(), { lr: 0.01 });
    const edit = (f: (sd: typeof good) => void) => {
      const sd = { tensors: { ...good.tensors }, meta: { ...good.meta } };
      f(sd);
      return sd;
    };
    assert.throws(() => new SGD(freshParams(), { lr: 0.1 }).loadStateDict(good), /saved from "Adam", this optimiser is SGD/);
    assert.throws(
      () => fresh().loadStateDict(edit((sd) => (sd.tensors['state.1.exp_avg'] = Tensor.zeros([2, 2], { dtype: 'float64' })))),
      /state\.1\.exp_avg has shape \[2, 2\], parameter 1 has shape \[4\]/,
    );
    assert.throws(() => fresh().loadStateDict(edit((sd) => delete sd.tensors['state.0.exp_avg_sq'])), /state\.0\.exp_avg_sq is missing/);
    assert.throws(() => fresh().loadStateDict(edit((sd) => delete sd.meta['state.0.step'])), /state\.0\.step is missing/);
    assert.throws(
      () => fresh().loadStateDict(edit((sd) => (sd.tensors['state.0.momentum_buffer'] = Tensor.zeros([2, 3], { dtype: 'float64' })))),
      /keeps no buffer "momentum_buffer"/,
    );
    assert.throws(() => fresh().loadStateDict(edit((sd) => (sd.tensors['state.7.exp_avg'] = Tensor.zeros([4])))), /state\.7\.exp_avg is not state\.<i>\.<name> with i < 2/);
    assert.throws(() => fresh().loadStateDict(edit((sd) => delete sd.meta['param_groups.0.eps'])), /param_groups\.0\.eps is missing/);
    assert.throws(() => fresh().loadStateDict(edit((sd) => (sd.meta['param_groups.0.betas.0'] = 1.5))), /betas\[0\] must be a number in \[0, 1\), got 1\.5/);
    assert.throws(() => fresh().loadStateDict(edit((sd) => (sd.meta.momentum = 0.9))), /unexpected meta entries: momentum/);
    const [a, b] = freshParams();
    assert.throws(() => new Adam([{ params: [a] }, { params: [b] }]).loadStateDict(good), /it has 1 param groups, this optimiser has 2/);
    // A refused load changes nothing.
    const opt = fresh();
    assert.throws(() => opt.loadStateDict(edit((sd) => delete sd.tensors['state.1.exp_avg'])));
    assert.equal(Object.keys(opt.stateDict().tensors).length, 0);
    assert.equal(opt.paramGroups[0].lr, 0.01);
  });

  it('loads float32 state into float64 parameters by casting', () => {
    const c = F.optimizers.find((o) => o.name === 'sgd_momentum')!;
    const params = freshParams();
    const opt = build(c, params);
    feed(c, opt, params, 0);
    const sd = opt.stateDict();
    for (const k of Object.keys(sd.tensors)) sd.tensors[k] = sd.tensors[k].float();
    const again = build(c, freshParams());
    again.loadStateDict(sd);
    const buf = again.stateDict().tensors['state.0.momentum_buffer'];
    assert.equal(buf.dtype, 'float64');
    assertClose(values(buf), values(opt.stateDict().tensors['state.0.momentum_buffer']), 'momentum_buffer', 1e-7);
  });

  it('Adagrad has state for every parameter before its first step, as torch', () => {
    const sd = new Adagrad(freshParams(), { initialAccumulatorValue: 0.25 }).stateDict();
    assert.deepEqual(Object.keys(sd.tensors).sort(), ['state.0.sum', 'state.1.sum']);
    assert.deepEqual(values(sd.tensors['state.1.sum']), [0.25, 0.25, 0.25, 0.25]);
    assert.equal(sd.meta['state.0.step'], 0);
  });
});

describe('step and zeroGrad', () => {
  it('updates the parameters in place: views of them see the new values', () => {
    const [p] = freshParams();
    const row = p.detach().slice(0, 1, 2); // a view, as a module might hold
    const storage = p.storage;
    const opt = new SGD([p], { lr: 0.5 });
    p.grad = Tensor.ones([2, 3], { dtype: 'float64' });
    const before = values(p);
    opt.step();
    assert.equal(p.storage, storage);
    assert.deepEqual(values(p), before.map((v) => v - 0.5));
    assert.deepEqual(values(row), [before[3] - 0.5, before[4] - 0.5, before[5] - 0.5]);
  });

  it('zeroGrad sets .grad to null (and a step then moves nothing); zeroGrad(false) zeros in place', () => {
    const params = freshParams();
    const opt = new Adam(params, { lr: 0.1 });
    params.forEach((p) => (p.grad = Tensor.ones(p.shape, { dtype: 'float64' })));
    opt.zeroGrad();
    assert.ok(params.every((p) => p.grad === null));
    const before = params.map(values);
    opt.step();
    assert.deepEqual(params.map(values), before);
    assert.equal(Object.keys(opt.stateDict().tensors).length, 0, 'no state for parameters that never had a grad');
    const g = Tensor.ones(params[0].shape, { dtype: 'float64' });
    params[0].grad = g;
    opt.zeroGrad(false);
    assert.equal(params[0].grad, g);
    assert.deepEqual(values(g), [0, 0, 0, 0, 0, 0]);
  });

  it('param groups use their own lr, and a changed group lr takes effect at the next step', () => {
    const [a, b] = freshParams();
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 1 });
    assert.deepEqual(opt.paramGroups.map((g) => g.lr), [1, 0.01]);
    const a0 = values(a);
    const b0 = values(b);
    a.grad = Tensor.ones(a.shape, { dtype: 'float64' });
    b.grad = Tensor.ones(b.shape, { dtype: 'float64' });
    opt.step();
    assert.deepEqual(values(a), a0.map((v) => v - 1));
    assert.deepEqual(values(b), b0.map((v) => v - 0.01));
    opt.paramGroups[0].lr = 0.5;
    opt.step();
    assert.deepEqual(values(a), a0.map((v) => v - 1 - 0.5));
  });

  it('refuses a gradient of the wrong shape', () => {
    const [p] = freshParams();
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = Tensor.ones([3, 2], { dtype: 'float64' });
    assert.throws(() => opt.step(), /parameter 0 has shape \[2, 3\] but its grad has shape \[3, 2\]/);
  });
});

describe('bad options and parameters give clear errors', () => {
  const ps = () => freshParams();
  const cases: [string, () => unknown, RegExp][] = [
    ['negative lr', () => new Adam(ps(), { lr: -1 }), /Adam: lr must be a finite number ≥ 0, got -1 \(param group 0\)/],
    ['negative lr in a group', () => new SGD([{ params: ps(), lr: -0.1 }], { lr: 0.1 }), /SGD: lr must be a finite number ≥ 0, got -0\.1/],
    ['beta1 = 1', () => new Adam(ps(), { betas: [1, 0.999] }), /betas\[0\] must be a number in \[0, 1\), got 1/],
    ['beta2 < 0', () => new AdamW(ps(), { betas: [0.9, -0.1] }), /AdamW: betas\[1\] must be a number in \[0, 1\), got -0\.1/],
    ['rho > 1', () => new Adadelta(ps(), { rho: 1.5 }), /rho must be a number in \[0, 1\], got 1\.5/],
    ['negative eps', () => new RMSprop(ps(), { eps: -1e-8 }), /eps must be a finite number ≥ 0/],
    ['negative lrDecay', () => new Adagrad(ps(), { lrDecay: -1 }), /lrDecay must be a finite number ≥ 0/],
    ['nesterov without momentum', () => new SGD(ps(), { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0 and dampening = 0/],
    ['SGD without lr', () => new SGD(ps(), {} as { lr: number }), /SGD: options\.lr is required/],
    ['unknown option', () => new Adam(ps(), { lr: 0.1, beta1: 0.9 } as object), /unknown option "beta1" in options; expected some of: lr, betas, eps, weightDecay, amsgrad/],
    ['lr not a number', () => new Adam(ps(), { lr: '0.1' as unknown as number }), /lr must be a finite number ≥ 0, got "0\.1"/],
    ['no parameters', () => new Adam([]), /expected a non-empty array of parameters/],
    ['int32 parameter', () => new SGD([Tensor.from([1, 2], { dtype: 'int32' })], { lr: 1 }), /dtype int32; only float32\/float64/],
    ['no requiresGrad', () => new SGD([Tensor.zeros([2])], { lr: 1 }), /shape \[2\]\) does not require grad/],
    ['non-leaf', () => new SGD([ps()[0].mul(2)], { lr: 1 }), /is not a leaf tensor/],
    ['duplicate', () => { const p = ps()[0]; return new SGD([{ params: [p] }, { params: [p] }], { lr: 1 }); }, /appears more than once/],
  ];
  for (const [name, f, re] of cases) it(name, () => assert.throws(f, re));
});

describe('LR schedules match torch.optim.lr_scheduler', () => {
  // Two groups (lr 0.1 and 0.02), as the fixture script builds them.
  const make: Record<string, (o: AnyOptimizer) => LRScheduler> = {
    step: (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }),
    cosine: (o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 }),
    cosine_zero_min: (o) => new CosineAnnealingLR(o, { tMax: 7 }),
    linear: (o) => new LinearLR(o, { startFactor: 0.1, totalIters: 4 }),
    linear_down: (o) => new LinearLR(o, { startFactor: 1, endFactor: 0.25, totalIters: 6 }),
    warmup_cosine: (o) =>
      new SequentialLR(o, [new LinearLR(o, { startFactor: 0.1, totalIters: 5 }), new CosineAnnealingLR(o, { tMax: 15, etaMin: 0.0001 })], [5]),
  };
  const twoGroups = (): AnyOptimizer => {
    const [a, b] = freshParams();
    return new SGD([{ params: [a] }, { params: [b], lr: 0.02 }], { lr: 0.1 });
  };
  it('every fixture schedule has a TypeScript side', () => {
    assert.deepEqual(F.schedules.map((s) => s.name).sort(), Object.keys(make).sort());
  });
  for (const s of F.schedules) {
    it(s.name, () => {
      const opt = twoGroups();
      const sched = make[s.name](opt);
      s.lrs.forEach((want, k) => {
        if (k > 0) sched.step();
        assertClose(sched.getLastLr(), want, `${s.name} epoch ${k}`, 1e-10, 1e-15);
      });
    });
  }

  it('a restored scheduler continues where it stopped', () => {
    const opt = twoGroups();
    const sched = make.warmup_cosine(opt);
    for (let k = 0; k < 8; k++) sched.step();
    const saved = sched.stateDict();
    const opt2 = twoGroups();
    const again = make.warmup_cosine(opt2);
    again.loadStateDict(saved);
    assert.deepEqual(again.getLastLr(), sched.getLastLr());
    sched.step();
    again.step();
    assert.deepEqual(again.getLastLr(), sched.getLastLr());
  });

  it('refuses bad settings', () => {
    assert.throws(() => new StepLR(twoGroups(), { stepSize: 0 }), /StepLR: stepSize must be an integer ≥ 1, got 0/);
    assert.throws(() => new CosineAnnealingLR(twoGroups(), { tMax: 2.5 }), /tMax must be an integer ≥ 1, got 2\.5/);
    assert.throws(() => new LinearLR(twoGroups(), { startFactor: 2 }), /startFactor must be a number in \[0, 1\], got 2/);
    const o = twoGroups();
    assert.throws(() => new SequentialLR(o, [new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 })], []), /expected 1 milestones/);
    assert.throws(() => new SequentialLR(o, [new StepLR(twoGroups(), { stepSize: 2 })], []), /belongs to another optimiser/);
  });
});

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  for (const c of F.clip) {
    it(c.name, () => {
      const params = freshParams();
      params.forEach((p, i) => (p.grad = c.before[i] ? Tensor.from(new Float64Array(c.before[i]!), { shape: p.shape }) : null));
      const grads = params.map((p) => p.grad);
      const total = clipGradNorm(params, c.maxNorm);
      assertClose([total], [c.totalNorm], `${c.name} total norm`);
      params.forEach((p, i) => {
        assert.equal(p.grad, grads[i], 'clipped in place');
        if (c.after[i] === null) assert.equal(p.grad, null);
        else assertClose(values(p.grad!), c.after[i]!, `${c.name} grad ${i}`);
      });
    });
  }
  it('returns 0 without gradients and refuses a bad maxNorm', () => {
    assert.equal(clipGradNorm(freshParams(), 1), 0);
    assert.throws(() => clipGradNorm(freshParams(), -1), /maxNorm must be a finite number ≥ 0, got -1/);
  });
});

test('the fused Adam step equals the composed one (float64 to rounding, float32 closely) over several steps, with AMSGrad, Adam\'s L2 and AdamW\'s decay', () => {
  const gen = new Generator(21);
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [l2, decay, amsgrad] of [[0, 1, false], [0.05, 1, true], [0, 1 - 1e-3 * 0.01, false]] as const) {
      const mk = () => Tensor.randn([5, 33], { generator: gen, dtype });
      const fused = [mk(), Tensor.zeros([5, 33], { dtype }), Tensor.zeros([5, 33], { dtype }), Tensor.zeros([5, 33], { dtype })];
      const composed = fused.map((t) => t.clone());
      noGrad(() => {
        for (let t = 1; t <= 4; t++) {
          const grad = mk();
          const h = { beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.9 ** t), bc2Sqrt: Math.sqrt(1 - 0.999 ** t), eps: 1e-8, l2, decay };
          adamStep(fused[0], grad, fused[1], fused[2], amsgrad ? fused[3] : null, h);
          adamStepComposed(composed[0], grad, composed[1], composed[2], amsgrad ? composed[3] : null, h);
        }
      });
      const tol = dtype === 'float32' ? 1e-6 : 1e-13;
      ['p', 'm', 'v', 'vmax'].forEach((name, i) => {
        const [a, b] = [fused[i].toTypedArray(), composed[i].toTypedArray()];
        a.forEach((x, j) => assert.ok(Math.abs(x - b[j]) <= tol * (1 + Math.abs(b[j])), `${dtype} l2 ${l2} decay ${decay}: ${name}[${j}] ${x} vs ${b[j]}`));
      });
    }
  }
  // a parameter that is a strided view takes the composed path, with the same result
  const base = Tensor.randn([4, 6], { generator: gen, dtype: 'float64' });
  const view = base.clone().transpose(0, 1);
  const dense = view.contiguous();
  const grad = Tensor.randn([6, 4], { generator: gen, dtype: 'float64' });
  const h = { beta1: 0.9, beta2: 0.999, stepSize: 0.01, bc2Sqrt: 0.1, eps: 1e-8, l2: 0, decay: 1 };
  noGrad(() => {
    adamStep(view, grad, Tensor.zeros([6, 4], { dtype: 'float64' }), Tensor.zeros([6, 4], { dtype: 'float64' }), null, h);
    adamStep(dense, grad, Tensor.zeros([6, 4], { dtype: 'float64' }), Tensor.zeros([6, 4], { dtype: 'float64' }), null, h);
  });
  view.toTypedArray().forEach((x, j) => assert.ok(Math.abs(x - dense.toTypedArray()[j]) <= 1e-14, `strided parameter: element ${j}`));
});
