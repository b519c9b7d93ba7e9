/**
 * Experiment 1: the optimisers on d2l's 2-D quadratic (chapter 11, "Optimization Algorithms")
 *
 *     f(x1, x2) = 0.1·x1² + 2·x2²,   ∇f = (0.2·x1, 4·x2),   start (−5, −2), 20 steps, float64.
 *
 * The curvatures differ 20-fold (0.2 against 4), so one learning rate cannot suit both coordinates:
 * the ill-conditioning that momentum and the per-coordinate methods address.
 *
 * Every run is computed twice:
 *  - `library`: the parameter (x1, x2) is a float64 tensor, ∇f comes from autograd, and one of the
 *    library's optimisers (src/optim) takes the steps. This is the number under test.
 *  - `rule`: d2l's update rule written out with the library's tensors, line for line as d2l's
 *    gd_2d / momentum_2d / adagrad_2d / rmsprop_2d (same ∇f from autograd).
 * For gradient descent and momentum the two are the same method (d2l's v ← βv + g; x ← x − ηv is
 * torch's SGD with momentum β, dampening 0: both start from v = g). d2l's AdaGrad and RMSProp put ε
 * inside the square root (η g / √(s + 1e−6)), the library, as torch, outside (η g / (√s + ε)); the
 * two columns end less than 1e−6 apart here, and both land within 1e−5 of d2l's printed numbers.
 */
import { Adagrad, RMSprop, SGD } from '../../src/optim/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Point } from '../../src/train/plot.js';

export const START: Point = [-5, -2];
export const STEPS = 20;

/** f as a plain function of two numbers (for the contour plot). */
export function f2d(x1: number, x2: number): number {
  return 0.1 * x1 * x1 + 2 * x2 * x2;
}

/** f(x) = Σ c_i x_i² with c = (0.1, 2), for a float64 tensor x of shape (2). */
function fTensor(x: Tensor): Tensor {
  return x.mul(x).mul(Tensor.from(new Float64Array([0.1, 2]))).sum();
}

/** ∇f at x (a detached float64 tensor (2)), by autograd: (0.2·x1, 4·x2). */
function gradAt(x: Tensor): Tensor {
  const leaf = x.detach().clone().requiresGrad_();
  fTensor(leaf).backward();
  return leaf.grad!;
}

/** One step of d2l's rule: new x and state s (s: d2l's s1, s2 or v1, v2) from x, s and g = ∇f(x). */
type Rule = (x: Tensor, s: Tensor, g: Tensor) => [Tensor, Tensor];

export interface Exp1Run {
  /** Metric-name part, e.g. "gd_lr0.4". */
  key: string;
  label: string;
  /** d2l's printed (x1, x2) after 20 steps ("epoch 20, x1: -0.943467, x2: -0.000073"), as printed. */
  d2l: readonly [string, string];
  /** The library optimiser with d2l's hyperparameters. */
  optimizer: (params: Tensor[]) => { zeroGrad(): void; step(): void };
  rule: Rule;
}

// d2l's rules (chapter 11, PyTorch edition), transcribed with tensors; η = eta, β = beta, γ = gamma.
const gdRule = (eta: number): Rule => (x, s, g) => [x.sub(g.mul(eta)), s]; // x ← x − η g
const momentumRule = (eta: number, beta: number): Rule => (x, v, g) => {
  const vNew = v.mul(beta).add(g); // v ← β v + g
  return [x.sub(vNew.mul(eta)), vNew]; // x ← x − η v
};
const adagradRule = (eta: number): Rule => (x, s, g) => {
  const sNew = s.add(g.mul(g)); // s ← s + g²
  return [x.sub(g.div(sNew.add(1e-6).sqrt()).mul(eta)), sNew]; // x ← x − η g / √(s + 1e−6)
};
const rmspropRule = (eta: number, gamma: number): Rule => (x, s, g) => {
  const sNew = s.mul(gamma).add(g.mul(g).mul(1 - gamma)); // s ← γ s + (1 − γ) g²
  return [x.sub(g.div(sNew.add(1e-6).sqrt()).mul(eta)), sNew]; // x ← x − η g / √(s + 1e−6)
};

/** The seven runs of d2l's sections 11.3 (GD), 11.6 (momentum), 11.7 (AdaGrad), 11.8 (RMSProp). */
export const EXP1_RUNS: readonly Exp1Run[] = [
  { key: 'gd_lr0.4', label: 'gradient descent, η 0.4', d2l: ['-0.943467', '-0.000073'], optimizer: (p) => new SGD(p, { lr: 0.4 }), rule: gdRule(0.4) },
  { key: 'gd_lr0.6', label: 'gradient descent, η 0.6', d2l: ['-0.387814', '-1673.365109'], optimizer: (p) => new SGD(p, { lr: 0.6 }), rule: gdRule(0.6) },
  {
    key: 'momentum_lr0.6_beta0.5', label: 'momentum, η 0.6, β 0.5', d2l: ['0.007188', '0.002553'],
    optimizer: (p) => new SGD(p, { lr: 0.6, momentum: 0.5 }), rule: momentumRule(0.6, 0.5),
  },
  {
    key: 'momentum_lr0.6_beta0.25', label: 'momentum, η 0.6, β 0.25', d2l: ['-0.126340', '-0.186632'],
    optimizer: (p) => new SGD(p, { lr: 0.6, momentum: 0.25 }), rule: momentumRule(0.6, 0.25),
  },
  { key: 'adagrad_lr0.4', label: 'AdaGrad, η 0.4', d2l: ['-2.382563', '-0.158591'], optimizer: (p) => new Adagrad(p, { lr: 0.4 }), rule: adagradRule(0.4) },
  { key: 'adagrad_lr2', label: 'AdaGrad, η 2', d2l: ['-0.002295', '-0.000000'], optimizer: (p) => new Adagrad(p, { lr: 2 }), rule: adagradRule(2) },
  {
    key: 'rmsprop_lr0.4_gamma0.9', label: 'RMSProp, η 0.4, γ 0.9', d2l: ['-0.010599', '0.000000'],
    optimizer: (p) => new RMSprop(p, { lr: 0.4, alpha: 0.9 }), rule: rmspropRule(0.4, 0.9),
  },
];

function point(x: Tensor): Point {
  const a = x.toTypedArray();
  return [a[0], a[1]];
}

/** The iterates x_0 .. x_20 of the library's optimiser on f (from another start and for more steps in the browser app). */
export function runLibrary(run: Pick<Exp1Run, 'optimizer'>, steps = STEPS, start: Point = START): Point[] {
  const x = Tensor.from(new Float64Array(start)).requiresGrad_();
  const opt = run.optimizer([x]);
  const path = [point(x)];
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    fTensor(x).backward();
    opt.step();
    path.push(point(x));
  }
  return path;
}

/** The iterates x_0 .. x_20 of d2l's rule (state starts at zero, as d2l's train_2d). */
export function runRule(run: Exp1Run, steps = STEPS): Point[] {
  let x = Tensor.from(new Float64Array(START));
  let s = Tensor.zeros([2], { dtype: 'float64' });
  const path = [point(x)];
  for (let t = 0; t < steps; t++) {
    [x, s] = run.rule(x, s, gradAt(x));
    path.push(point(x));
  }
  return path;
}

export interface Exp1Result {
  run: Exp1Run;
  library: Point[];
  rule: Point[];
  /** max(|x1 − d2l x1|, |x2 − d2l x2|) at the last iterate, for each column. */
  libraryError: number;
  ruleError: number;
}

function errorAgainst(p: Point, printed: readonly [string, string]): number {
  return Math.max(Math.abs(p[0] - Number(printed[0])), Math.abs(p[1] - Number(printed[1])));
}

export function experiment1(): Exp1Result[] {
  return EXP1_RUNS.map((run) => {
    const library = runLibrary(run);
    const rule = runRule(run);
    return {
      run,
      library,
      rule,
      libraryError: errorAgainst(library[STEPS], run.d2l),
      ruleError: errorAgainst(rule[STEPS], run.d2l),
    };
  });
}
