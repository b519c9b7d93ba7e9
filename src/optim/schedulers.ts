/**
 * Learning-rate schedules, as torch.optim.lr_scheduler (1.13). A scheduler sets `lr` of every param
 * group of its optimiser; call step() once per epoch or once per iteration (the unit is whatever your
 * loop counts), after optimiser.step(). Construction already applies epoch 0.
 *
 *     const opt = new SGD(params, { lr: 0.1 });
 *     const sched = new SequentialLR(opt, [new LinearLR(opt, { startFactor: 0.1, totalIters: 5 }),
 *                                          new CosineAnnealingLR(opt, { tMax: 95 })], [5]);
 *     for (...) { ...; opt.step(); sched.step(); }
 *
 * Each schedule is written in closed form, lr = f(epoch, base lr), where base lr is the group's lr
 * when the first scheduler was built (kept as group.initialLr, as torch's initial_lr). torch's step()
 * uses an equivalent "chainable" recursion on the current lr; the values agree to rounding as long as
 * nothing else changes lr in between (the closed form ignores such outside changes; the recursion
 * would carry them along).
 */
import type { BaseOptions, Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  /** How many times step() has run (0 right after construction), as torch's last_epoch. */
  lastEpoch = -1;
  readonly baseLrs: number[];

  constructor(readonly optimizer: Optimizer<BaseOptions>) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) {
      throw new TypeError(`${new.target.name}: expected an Optimizer, got ${String(optimizer)}`);
    }
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The learning rate at `epoch` for a group whose base lr is `baseLr`. */
  abstract lrAt(epoch: number, baseLr: number): number;

  /** Advance one epoch (or iteration) and set every group's lr. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The lr of each group as last set. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, number> {
    return { last_epoch: this.lastEpoch };
  }

  /** Restore the epoch counter (and the groups' lr for it). */
  loadStateDict(sd: Record<string, number>): void {
    const e = sd?.last_epoch;
    if (!Number.isInteger(e) || e < 0) throw new RangeError(`${this.constructor.name}.loadStateDict: last_epoch must be an integer ≥ 0, got ${String(e)}`);
    this.lastEpoch = e;
    this.apply();
  }

  /** Subclasses call this at the end of their constructor: torch's initial step to epoch 0. */
  protected start(): void {
    this.lastEpoch = 0;
    this.apply();
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, this.baseLrs[i])));
  }
}

function check(ok: boolean, cls: string, name: string, want: string, got: unknown): void {
  if (!ok) throw new RangeError(`${cls}: ${name} must be ${want}, got ${String(got)}`);
}

/** lr = base · γ^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseOptions>, opts: { stepSize: number; gamma?: number }) {
    super(optimizer);
    this.stepSize = opts?.stepSize;
    this.gamma = opts?.gamma ?? 0.1;
    check(Number.isInteger(this.stepSize) && this.stepSize > 0, 'StepLR', 'stepSize', 'an integer ≥ 1', this.stepSize);
    check(Number.isFinite(this.gamma) && this.gamma >= 0, 'StepLR', 'gamma', 'a finite number ≥ 0', this.gamma);
    this.start();
  }

  lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Cosine annealing (Loshchilov & Hutter, "SGDR", 2017, eq. 5, without restarts):
 *     η_t = η_min + (η_max − η_min)(1 + cos(π t / T_max)) / 2
 * with η_max the base lr. Past T_max it keeps following the cosine (back up over the next T_max), as torch.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<BaseOptions>, opts: { tMax: number; etaMin?: number }) {
    super(optimizer);
    this.tMax = opts?.tMax;
    this.etaMin = opts?.etaMin ?? 0;
    check(Number.isInteger(this.tMax) && this.tMax > 0, 'CosineAnnealingLR', 'tMax', 'an integer ≥ 1', this.tMax);
    check(Number.isFinite(this.etaMin) && this.etaMin >= 0, 'CosineAnnealingLR', 'etaMin', 'a finite number ≥ 0', this.etaMin);
    this.start();
  }

  lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/**
 * Linear warmup (or decay) of the lr factor from startFactor to endFactor over totalIters steps, then
 * constant (torch's LinearLR):  lr = base · (s + (e − s) · min(epoch, totalIters) / totalIters).
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer<BaseOptions>, opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer);
    this.startFactor = opts.startFactor ?? 1 / 3;
    this.endFactor = opts.endFactor ?? 1;
    this.totalIters = opts.totalIters ?? 5;
    // torch accepts startFactor 0, but its recursion then divides by zero at epoch 1; the closed form does not.
    check(this.startFactor >= 0 && this.startFactor <= 1, 'LinearLR', 'startFactor', 'a number in [0, 1]', this.startFactor);
    check(this.endFactor >= 0 && this.endFactor <= 1, 'LinearLR', 'endFactor', 'a number in [0, 1]', this.endFactor);
    check(Number.isInteger(this.totalIters) && this.totalIters > 0, 'LinearLR', 'totalIters', 'an integer ≥ 1', this.totalIters);
    this.start();
  }

  lrAt(epoch: number, base: number): number {
    return base * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(this.totalIters, epoch)) / this.totalIters);
  }
}

/**
 * Run schedulers one after another (torch's SequentialLR): schedulers[k] takes over at milestones[k−1]
 * and counts its own epochs from 0 there. Linear warmup then cosine annealing:
 *     new SequentialLR(opt, [new LinearLR(opt, { startFactor: 0.01, totalIters: w }),
 *                            new CosineAnnealingLR(opt, { tMax: total − w })], [w])
 */
export class SequentialLR extends LRScheduler {
  constructor(optimizer: Optimizer<BaseOptions>, readonly schedulers: LRScheduler[], readonly milestones: number[]) {
    super(optimizer);
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new TypeError('SequentialLR: expected a non-empty array of schedulers');
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new Error(`SequentialLR: scheduler ${i} belongs to another optimiser`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(`SequentialLR: expected ${schedulers.length - 1} milestones (one fewer than the ${schedulers.length} schedulers), got ${JSON.stringify(milestones)}`);
    }
    milestones.forEach((m, i) => {
      check(Number.isInteger(m) && m > (i > 0 ? milestones[i - 1] : 0), 'SequentialLR', `milestones[${i}]`, 'an integer, increasing and ≥ 1', m);
    });
    this.start();
  }

  lrAt(epoch: number, base: number): number {
    let k = 0; // the scheduler in charge: the number of milestones ≤ epoch (bisect_right)
    while (k < this.milestones.length && this.milestones[k] <= epoch) k++;
    return this.schedulers[k].lrAt(epoch - (k > 0 ? this.milestones[k - 1] : 0), base);
  }
}
