/**
 * Module: a tree of named parameters, buffers and sub-modules, as torch.nn.Module.
 *
 * Registration is explicit (`this.weight = this.registerParameter('weight', ...)`): the registered name
 * is the one used in the state dict, so a model's names match PyTorch's (`net.0.weight`,
 * `bn.running_mean`) and its checkpoints load in either library.
 */
import { noGrad } from '../autograd/mode.js';
import { DType, isFloating } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _modules = new Map<string, Module>();

  abstract forward(...args: never[]): unknown;

  /** Register a trainable tensor (made a leaf that requires grad). */
  protected registerParameter(name: string, t: Tensor): Tensor;
  protected registerParameter(name: string, t: Tensor | null): Tensor | null;
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName(name);
    if (t !== null) {
      if (!t.isLeaf) throw new Error(`registerParameter(${name}): a parameter must be a leaf tensor; pass t.detach()`);
      t.requiresGrad_(true);
    }
    this._params.set(name, t);
    return t;
  }

  /** Register a non-trainable state tensor saved in the state dict (e.g. BatchNorm's running mean). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name);
    this._buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    if (!(m instanceof Module)) throw new TypeError(`registerModule(${name}): expected a Module`);
    this._modules.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`invalid name ${JSON.stringify(name)}: names are non-empty and contain no '.'`);
    if (this._params.has(name) || this._buffers.has(name) || this._modules.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }

  *children(): IterableIterator<[string, Module]> {
    yield* this._modules.entries();
  }

  /** This module and all below it, with dotted names ('' for this one). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this._modules) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Each parameter once, under the first name it is found by (a tied tensor is not listed, nor updated, twice), as torch. */
  *namedParameters(): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m._params) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        yield [prefix ? `${prefix}.${name}` : name, p];
      }
    }
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(): IterableIterator<[string, Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m._buffers) yield [prefix ? `${prefix}.${name}` : name, b];
    }
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Convert every floating parameter and buffer to `dtype` ('float64' for gradchecks and exact comparisons
   * with PyTorch; layers are created in float32). Integer buffers (BatchNorm's num_batches_tracked) stay.
   * A tensor's dtype is fixed, so each one is replaced by a converted copy (a fresh leaf, without .grad),
   * and the module's fields that held the old tensor (`this.weight`, ...) are pointed at the new one.
   * Convert before creating an optimiser: it would keep the old tensors.
   */
  to(dtype: DType): this {
    if (!isFloating(dtype)) throw new TypeError(`Module.to: expected a floating dtype (float32 or float64), got ${dtype}`);
    const replaced = new Map<Tensor, Tensor>(); // old → new, across the tree, so a shared (tied) tensor stays shared
    noGrad(() => {
      for (const [, m] of this.namedModules()) m.convertOwnTensors(dtype, replaced);
    });
    return this;
  }

  double(): this {
    return this.to('float64');
  }

  float(): this {
    return this.to('float32');
  }

  private convertOwnTensors(dtype: DType, replaced: Map<Tensor, Tensor>): void {
    const convert = (t: Tensor): Tensor => {
      if (!isFloating(t.dtype) || t.dtype === dtype) return t;
      if (!replaced.has(t)) replaced.set(t, t.detach().to(dtype).requiresGrad_(t.requiresGrad));
      return replaced.get(t)!;
    };
    for (const [n, p] of this._params) if (p !== null) this._params.set(n, convert(p));
    for (const [n, b] of this._buffers) this._buffers.set(n, convert(b));
    const fields = this as unknown as Record<string, unknown>;
    for (const k of Object.keys(fields)) {
      const t = fields[k];
      if (t instanceof Tensor && replaced.has(t)) fields[k] = replaced.get(t);
    }
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by dotted name (detached; they share storage with the module). */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [prefix, m] of this.namedModules()) {
      const key = (n: string) => (prefix ? `${prefix}.${n}` : n);
      for (const [n, p] of m._params) if (p !== null) sd[key(n)] = p.detach();
      for (const [n, b] of m._buffers) sd[key(n)] = b.detach();
    }
    return sd;
  }

  /**
   * Copy values from a state dict into this module's tensors (in place, so optimisers keep their
   * references). Names and shapes must match; every difference is listed in the error.
   */
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const problems: string[] = [];
    const missing = Object.keys(own).filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !(k in own));
    if (strict && missing.length === Object.keys(own).length && unexpected.length) {
      problems.push(`none of its ${missing.length} keys is in the state dict, whose keys (${listKeys(unexpected)}) belong to another model`);
    } else {
      if (strict && missing.length) problems.push(`missing keys: ${listKeys(missing)}`);
      if (strict && unexpected.length) problems.push(`unexpected keys: ${listKeys(unexpected)}`);
    }
    for (const [k, t] of Object.entries(own)) {
      const src = sd[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) problems.push(`${k}: expected a Tensor`);
      else if (src.ndim !== t.ndim || src.shape.some((s, i) => s !== t.shape[i])) {
        problems.push(`${k}: shape ${shapeStr(src.shape)} in the state dict, ${shapeStr(t.shape)} in the model`);
      }
    }
    if (problems.length) throw new Error(`loadStateDict into ${this.constructor.name}: ${problems.join('; ')}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) if (k in sd) t.copy_(sd[k]);
    });
  }

  /** One line per module, indented, as PyTorch prints a model. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this._modules.size === 0) return head + ')';
    const lines = [...this._modules].map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /** The arguments shown by toString (override in layers). */
  protected extraRepr(): string {
    return '';
  }
}

/** Up to 8 keys, then how many more: an error about a whole other model stays readable. */
function listKeys(keys: readonly string[]): string {
  return keys.length <= 8 ? keys.join(', ') : `${keys.slice(0, 8).join(', ')}, … and ${keys.length - 8} more`;
}
