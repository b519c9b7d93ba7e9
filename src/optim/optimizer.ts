/**
 * The optimiser base: parameter groups, per-parameter state, step / zeroGrad, and a flat state dict
 * for checkpoints. Each algorithm (sgd.ts, adam.ts, ...) supplies only its update rule, the checks
 * on its hyperparameters and the names of the buffers it keeps.
 *
 * Semantics follow torch.optim (1.13): parameters whose .grad is null are skipped, groups override the
 * defaults, and state is created lazily on a parameter's first step. zeroGrad() sets .grad to null by
 * default, as torch 2.x does (1.13's default zeroed in place; zeroGrad(false) does that).
 */
import { noGrad } from '../autograd/mode.js';
import { isFloating } from '../tensor/dtype.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A hyperparameter's value: a number, a flag, or a fixed-length tuple such as Adam's betas. */
export type OptionValue = number | boolean | readonly number[];

/** What every optimiser's options have: a learning rate, mutable per group (schedules set it). */
export interface BaseOptions {
  lr: number;
}

/** One parameter group as the optimiser holds it: the full options plus its parameters. */
export type ParamGroup<O> = O & {
  params: Tensor[];
  /** The lr before any schedule touched it; set by the first LR scheduler built on this optimiser. */
  initialLr?: number;
};

/** A parameter group as the caller gives it: parameters, and any options that override the defaults. */
export type ParamGroupSpec<O> = Partial<O> & { params: Tensor[] };

/** Plain parameters (one group with the defaults) or a list of groups, as torch's param_groups. */
export type ParamsArg<O> = Tensor[] | ParamGroupSpec<O>[];

/** Per-parameter state: a step count (all optimisers but SGD keep one) and named buffers. */
export interface ParamState {
  step?: number;
  buffers: Record<string, Tensor>;
}

/**
 * A snapshot of an optimiser, flat so that a checkpoint writer can put `tensors` in safetensors and
 * `meta` in its header. Names follow torch's state_dict: `state.<i>.exp_avg` (i counts parameters
 * across groups in order), `state.<i>.step`, `param_groups.<g>.lr`, `param_groups.<g>.weight_decay`,
 * `param_groups.<g>.betas.0`, `param_groups.<g>.params` ("0,1": the parameter indices), `type`.
 * Flags are stored as 0/1.
 */
export interface OptimizerStateDict {
  tensors: Record<string, Tensor>;
  meta: Record<string, number | string>;
}

/** camelCase option name → the snake_case name torch's state_dict uses (weightDecay → weight_decay). */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** Untyped access to an option by name (groups are typed per algorithm; the base walks them by key). */
function fields(g: object): Record<string, unknown> {
  return g as Record<string, unknown>;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

/**
 * Check that `v` is a number in [lo, hi] (hi excluded when openHi); returns the problem or null.
 * For the optimisers' validate() methods.
 */
export function rangeProblem(name: string, v: unknown, lo: number, hi = Infinity, openHi = false): string | null {
  const ok = typeof v === 'number' && !Number.isNaN(v) && v >= lo && (openHi ? v < hi : v <= hi) && (hi !== Infinity || Number.isFinite(v));
  if (ok) return null;
  const range = hi === Infinity ? `a finite number${lo === -Infinity ? '' : ` ≥ ${lo}`}` : `a number in [${lo}, ${hi}${openHi ? ')' : ']'}`;
  return `${name} must be ${range}, got ${show(v)}`;
}

export function boolProblem(name: string, v: unknown): string | null {
  return typeof v === 'boolean' ? null : `${name} must be true or false, got ${show(v)}`;
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The groups, in order; change `paramGroups[g].lr` (or other options) between steps as torch allows. */
  readonly paramGroups: ParamGroup<O>[] = [];
  protected readonly state = new Map<Tensor, ParamState>();
  /** The options every new group starts from. */
  readonly defaults: O;

  /**
   * @param name     the algorithm's name, used in messages and stored in the state dict
   * @param params   parameters, or groups of them with option overrides
   * @param defaults the algorithm's default options
   * @param options  the caller's options; unknown names are refused
   */
  protected constructor(readonly name: string, params: ParamsArg<O>, defaults: O, options: Partial<O>) {
    this.defaults = { ...defaults, ...this.checkKeys(options, Object.keys(defaults), 'options') };
    if (!Array.isArray(params) || params.length === 0) {
      throw new TypeError(`${name}: expected a non-empty array of parameters or of param groups, got ${Array.isArray(params) ? 'an empty array' : show(params)}`);
    }
    const allTensors = params.every((p) => p instanceof Tensor);
    if (!allTensors && params.some((p) => p instanceof Tensor)) {
      throw new TypeError(`${name}: give either parameters (Tensors) or param groups ({ params, ...options }), not a mix`);
    }
    const specs = allTensors ? [{ params: params as Tensor[] } as ParamGroupSpec<O>] : (params as ParamGroupSpec<O>[]);
    for (const spec of specs) this.addParamGroup(spec);
  }

  // ---------- hooks for the algorithms ----------

  /** Problems with one group's options (empty when they are valid). */
  protected abstract validate(g: O): (string | null)[];

  /** The buffer names kept per parameter under these options (torch's names: exp_avg, ...). */
  protected abstract bufferNames(g: O): string[];

  /** Update parameter p in place from its gradient (already p's dtype and shape); runs under noGrad. */
  protected abstract update(p: Tensor, grad: Tensor, g: ParamGroup<O>, s: ParamState): void;

  /** Whether the per-parameter state holds a step count (torch's SGD keeps none). */
  protected get countsSteps(): boolean {
    return true;
  }

  /** The named buffer of s, created filled with `fill` (p's shape and dtype) the first time it is asked for. */
  protected buffer(s: ParamState, name: string, p: Tensor, fill = 0): Tensor {
    return (s.buffers[name] ??= Tensor.full(p.shape, fill, { dtype: p.dtype }));
  }

  /** The state of p, created empty (step 0) on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = { step: this.countsSteps ? 0 : undefined, buffers: {} };
      this.state.set(p, s);
    }
    return s;
  }

  // ---------- public API ----------

  /** Add a group (as torch's add_param_group): its options override the defaults. */
  addParamGroup(spec: ParamGroupSpec<O>): void {
    const gi = this.paramGroups.length;
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.params)) {
      throw new TypeError(`${this.name}: param group ${gi} must be { params: Tensor[], ...options }, got ${show(spec)}`);
    }
    const { params, ...overrides } = spec;
    const seen = new Set(this.allParams());
    params.forEach((p, i) => {
      const where = `${this.name}: parameter ${i} of param group ${gi}`;
      if (!(p instanceof Tensor)) throw new TypeError(`${where} is not a Tensor (got ${show(p)})`);
      if (!isFloating(p.dtype)) throw new TypeError(`${where} has dtype ${p.dtype}; only float32/float64 tensors can be optimised`);
      if (!p.isLeaf) throw new TypeError(`${where} is not a leaf tensor (it was computed from others); optimise the leaves, or detach() it`);
      if (!p.requiresGrad) throw new TypeError(`${where} (shape ${shapeStr(p.shape)}) does not require grad; set requiresGrad, or leave frozen parameters out`);
      if (seen.has(p)) throw new Error(`${where} (shape ${shapeStr(p.shape)}) appears more than once among the optimiser's parameters`);
      seen.add(p);
    });
    const group = { ...this.defaults, ...this.checkKeys(overrides as unknown as Partial<O>, this.optionKeys(), `param group ${gi}`), params: [...params] } as ParamGroup<O>;
    // Copy tuple options so that a group never shares an array with the defaults or the caller.
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && Array.isArray(v)) fields(group)[k] = [...v];
    this.throwProblems(this.validate(group), `param group ${gi}`);
    this.paramGroups.push(group);
  }

  /** One update of every parameter that has a gradient, in place (views of the parameters stay valid). */
  step(): void {
    noGrad(() => {
      let i = 0;
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          const index = i++;
          if (p.grad === null) continue;
          let grad = p.grad;
          if (!sameShape(grad.shape, p.shape)) {
            throw new RangeError(`${this.name}.step: parameter ${index} has shape ${shapeStr(p.shape)} but its grad has shape ${shapeStr(grad.shape)}`);
          }
          if (grad.dtype !== p.dtype) grad = grad.to(p.dtype);
          this.update(p, grad, g, this.stateOf(p));
        }
      }
    });
  }

  /** Forget the gradients: .grad = null (torch's set_to_none, the default), or zero them in place (false). */
  zeroGrad(setToNone = true): void {
    for (const p of this.allParams()) {
      if (p.grad === null) continue;
      if (setToNone) p.grad = null;
      else noGrad(() => p.grad!.zero_());
    }
  }

  /** Every parameter, in the order that state-dict indices count them. */
  allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** A snapshot (tensors are copies) of the options and state; see OptimizerStateDict for the names. */
  stateDict(): OptimizerStateDict {
    const tensors: Record<string, Tensor> = {};
    const meta: Record<string, number | string> = { type: this.name };
    let i = 0;
    this.paramGroups.forEach((g, gi) => {
      const prefix = `param_groups.${gi}.`;
      meta[prefix + 'params'] = g.params.map((_, j) => i + j).join(',');
      for (const key of this.optionKeys()) {
        const v = fields(g)[key] as OptionValue;
        if (Array.isArray(v)) v.forEach((x, j) => (meta[`${prefix}${snake(key)}.${j}`] = x));
        else meta[prefix + snake(key)] = typeof v === 'boolean' ? Number(v) : (v as number);
      }
      if (g.initialLr !== undefined) meta[prefix + 'initial_lr'] = g.initialLr;
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) {
          if (s.step !== undefined) meta[`state.${i}.step`] = s.step;
          for (const [name, t] of Object.entries(s.buffers)) tensors[`state.${i}.${name}`] = noGrad(() => t.clone());
        }
        i++;
      }
    });
    return { tensors, meta };
  }

  /**
   * Restore options and state saved by stateDict() from an optimiser of the same kind over parameters
   * of the same shapes, in the same groups. Everything is checked before anything changes; the error
   * lists every name that is missing, unexpected, or of the wrong shape. Tensors are copied (and cast
   * to each parameter's dtype).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const fail = (problems: string[]): never => {
      throw new Error(`${this.name}.loadStateDict: the state does not fit this optimiser:\n  ${problems.join('\n  ')}`);
    };
    if (!sd || typeof sd !== 'object' || typeof sd.meta !== 'object' || typeof sd.tensors !== 'object') {
      fail([`expected { tensors, meta } as stateDict() returns, got ${show(sd)}`]);
    }
    const { meta, tensors } = sd;
    if (meta.type !== this.name) fail([`it was saved from ${show(meta.type)}, this optimiser is ${this.name}`]);
    const problems: string[] = [];
    const used = new Set<string>(['type']);
    const take = (key: string): number | string | undefined => {
      used.add(key);
      return meta[key];
    };

    // Groups: the same number, holding the same parameter indices, with every option present.
    const nSaved = Object.keys(meta).filter((k) => /^param_groups\.\d+\.params$/.test(k)).length;
    if (nSaved !== this.paramGroups.length) {
      fail([`it has ${nSaved} param groups, this optimiser has ${this.paramGroups.length}`]);
    }
    const params = this.allParams();
    const groupOf: O[] = [];
    const loaded: { opts: Record<string, OptionValue>; initialLr?: number }[] = [];
    let i = 0;
    this.paramGroups.forEach((g, gi) => {
      const prefix = `param_groups.${gi}.`;
      const want = g.params.map((_, j) => i + j).join(',');
      const got = take(prefix + 'params');
      if (got !== want) problems.push(`${prefix}params is ${show(got)}, this optimiser's group ${gi} holds parameters "${want}"`);
      const opts: Record<string, OptionValue> = {};
      for (const key of this.optionKeys()) {
        const cur = fields(g)[key] as OptionValue;
        const name = prefix + snake(key);
        const read = (n: string): number | undefined => {
          const v = take(n);
          if (typeof v !== 'number') problems.push(v === undefined ? `${n} is missing` : `${n} must be a number, got ${show(v)}`);
          return typeof v === 'number' ? v : undefined;
        };
        if (Array.isArray(cur)) opts[key] = cur.map((_, j) => read(`${name}.${j}`) ?? NaN);
        else if (typeof cur === 'boolean') {
          const v = read(name);
          if (v !== undefined && v !== 0 && v !== 1) problems.push(`${name} is a flag and must be 0 or 1, got ${v}`);
          opts[key] = v === 1;
        } else opts[key] = read(name) ?? NaN;
      }
      const initialLr = take(prefix + 'initial_lr');
      if (initialLr !== undefined && typeof initialLr !== 'number') problems.push(`${prefix}initial_lr must be a number, got ${show(initialLr)}`);
      if (problems.length === 0) {
        for (const pr of this.validate(opts as unknown as O)) if (pr) problems.push(`param_groups.${gi}: ${pr}`);
      }
      loaded.push({ opts, initialLr: initialLr as number | undefined });
      for (let j = 0; j < g.params.length; j++) groupOf.push(opts as unknown as O);
      i += g.params.length;
    });

    // Per-parameter state: known names, matching shapes, and complete for every parameter that has any.
    const newState = new Map<Tensor, ParamState>();
    const stateFor = (idx: number): ParamState => {
      let s = newState.get(params[idx]);
      if (!s) newState.set(params[idx], (s = { buffers: {} }));
      return s;
    };
    const parseName = (key: string, kind: string): [number, string] | null => {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key);
      if (!m || Number(m[1]) >= params.length) {
        problems.push(`${kind} ${key} is not state.<i>.<name> with i < ${params.length} (the number of parameters)`);
        return null;
      }
      return [Number(m[1]), m[2]];
    };
    for (const [key, t] of Object.entries(tensors)) {
      const parsed = parseName(key, 'tensor');
      if (!parsed) continue;
      const [idx, name] = parsed;
      const p = params[idx];
      if (!(t instanceof Tensor)) problems.push(`tensor ${key} is not a Tensor (got ${show(t)})`);
      else if (!this.bufferNames(groupOf[idx]).includes(name)) {
        problems.push(`tensor ${key}: ${this.name} keeps no buffer "${name}" with these options (it keeps: ${this.bufferNames(groupOf[idx]).join(', ') || 'none'})`);
      } else if (!sameShape(t.shape, p.shape)) {
        problems.push(`tensor ${key} has shape ${shapeStr(t.shape)}, parameter ${idx} has shape ${shapeStr(p.shape)}`);
      } else stateFor(idx).buffers[name] = noGrad(() => t.to(p.dtype).clone());
    }
    for (const key of Object.keys(meta)) {
      if (!key.startsWith('state.')) continue;
      used.add(key);
      const parsed = parseName(key, 'meta');
      if (!parsed) continue;
      const [idx, name] = parsed;
      const v = meta[key];
      if (name !== 'step' || !this.countsSteps) problems.push(`meta ${key}: ${this.name} keeps no per-parameter number "${name}"`);
      else if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) problems.push(`meta ${key} must be a step count (integer ≥ 0), got ${show(v)}`);
      else stateFor(idx).step = v;
    }
    for (const [p, s] of newState) {
      const idx = params.indexOf(p);
      for (const name of this.bufferNames(groupOf[idx])) {
        if (!(name in s.buffers)) problems.push(`tensor state.${idx}.${name} is missing (parameter ${idx} has other state)`);
      }
      if (this.countsSteps && s.step === undefined) problems.push(`meta state.${idx}.step is missing (parameter ${idx} has other state)`);
    }
    const unknown = Object.keys(meta).filter((k) => !used.has(k));
    if (unknown.length > 0) problems.push(`unexpected meta entries: ${unknown.join(', ')}`);
    if (problems.length > 0) fail(problems);

    // All checked: apply.
    this.paramGroups.forEach((g, gi) => {
      Object.assign(g, loaded[gi].opts);
      if (loaded[gi].initialLr === undefined) delete g.initialLr;
      else g.initialLr = loaded[gi].initialLr;
    });
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }

  // ---------- helpers ----------

  /** The option names of this algorithm (those of its defaults), in a fixed order. */
  private optionKeys(): string[] {
    return Object.keys(this.defaults);
  }

  /** Refuse option names the algorithm does not have; drop undefined values (they mean "default"). */
  private checkKeys(options: Partial<O> | undefined, known: string[], where: string): Partial<O> {
    if (options === undefined) return {};
    if (options === null || typeof options !== 'object') throw new TypeError(`${this.name}: ${where} must be an object, got ${show(options)}`);
    const out = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const bad = Object.keys(out).filter((k) => !known.includes(k));
    if (bad.length > 0) throw new TypeError(`${this.name}: unknown option ${bad.map((b) => `"${b}"`).join(', ')} in ${where}; expected some of: ${known.join(', ')}`);
    return out as Partial<O>;
  }

  private throwProblems(problems: (string | null)[], where: string): void {
    const list = problems.filter((p): p is string => p !== null);
    if (list.length > 0) throw new RangeError(`${this.name}: ${list.join('; ')} (${where})`);
  }
}
