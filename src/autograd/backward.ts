/**
 * Reverse-mode differentiation over the tape. The tensors reachable from the root through grad_fn
 * nodes are ordered topologically; each node maps its output gradient to its inputs' gradients,
 * which are summed per tensor. Leaves that require grad accumulate into `.grad`.
 */
import { Tensor } from '../tensor/tensor.js';
import type { PartialGrad } from './node.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { enableGrad, noGrad } from './mode.js';
import { releaseArray, trackAllocations } from '../tensor/dtype.js';
import { inPass } from './pass.js';

export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients. */
  createGraph?: boolean;
}

export function runBackward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward: the tensor does not require grad and has no grad_fn (did you forget requiresGrad, or run under noGrad?)');
  }
  if (grad === undefined) {
    if (root.numel !== 1) {
      throw new Error(`backward: grad can be implicitly created only for scalar outputs; got shape ${shapeStr(root.shape)}. Pass a gradient of that shape.`);
    }
    grad = Tensor.full(root.shape, 1, { dtype: root.dtype });
  } else if (!sameShape(grad.shape, root.shape)) {
    throw new Error(`backward: gradient shape ${shapeStr(grad.shape)} does not match the output shape ${shapeStr(root.shape)}`);
  }
  const retain = opts.retainGraph ?? opts.createGraph ?? false;

  // Topological order of non-leaf tensors (iterative DFS, post-order).
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const node = top[0].gradFn;
    if (node && top[1] < node.inputs.length) {
      const inp = node.inputs[top[1]++];
      if (inp.gradFn && !seen.has(inp)) {
        seen.add(inp);
        stack.push([inp, 0]);
      }
    } else {
      stack.pop();
      if (node) order.push(top[0]);
    }
  }

  const run = (fresh: WeakSet<ArrayBufferLike>) => {
    const grads = new Map<Tensor, Tensor>([[root, grad!]]);
    // buffers already handed to a leaf's .grad in this pass
    const given = new Set<ArrayBufferLike>();
    /**
     * A gradient that .grad can own: g may be a stride-0 expand (from sum's backward), a view of the
     * caller's gradient, or the very tensor handed to another input (add's backward), and optimisers
     * change .grad in place. So g is taken as it is only when it spans the whole of a buffer that
     * this pass allocated and that no other leaf got; otherwise .grad gets a contiguous copy.
     */
    const own = (g: Tensor): Tensor => {
      const buf = g.storage.data.buffer;
      if (fresh.has(buf) && !given.has(buf) && g.offset === 0 && g.storage.data.length === g.numel && g.isContiguous()) {
        given.add(buf);
        return g.gradFn === null ? g : g.detach();
      }
      return noGrad(() => g.detach().clone());
    };
    /**
     * How many entries of `grads` hold a view of each buffer. A running gradient may be summed into in
     * place (instead of into a new tensor) when this pass allocated its buffer, it spans the whole of
     * it, no other entry and no leaf's .grad shares it, and the incoming gradient is another buffer;
     * never while the backward is itself recorded (createGraph).
     */
    const refs = new Map<ArrayBufferLike, number>();
    const hold = (g: Tensor, d: number) => {
      const b = g.storage.data.buffer;
      const n = (refs.get(b) ?? 0) + d;
      if (n === 0) refs.delete(b);
      else refs.set(b, n);
    };
    hold(grad!, 1);
    const whole = (t: Tensor): boolean => t.offset === 0 && t.storage.data.length === t.numel && t.isContiguous();
    /**
     * The buffers that the gradients one node returned still read (each tensor's, each partial
     * gradient's sources) while they are placed one input after another: none of them may be added
     * into in place before the last is placed (matmul's two partial gradients both read the output's
     * gradient, which an add's backward may also have made an input's running gradient).
     */
    const reading = new Set<ArrayBufferLike>();
    const owned = (prev: Tensor): boolean => {
      if (opts.createGraph) return false;
      const b = prev.storage.data.buffer;
      return fresh.has(b) && !given.has(b) && refs.get(b) === 1 && whole(prev) && !reading.has(b);
    };
    /**
     * The .grad each leaf got from own() in this pass: a later gradient for that leaf is added into it
     * in place while no entry of `grads` shares its buffer (PyTorch accumulates .grad in place too).
     */
    const leafGrads = new Map<Tensor, Tensor>();
    const ownedLeaf = (t: Tensor): boolean => {
      if (opts.createGraph || t.grad === null || leafGrads.get(t) !== t.grad) return false;
      const b = t.grad.storage.data.buffer;
      return !refs.has(b) && whole(t.grad) && !reading.has(b);
    };
    const setGrad = (t: Tensor, g: Tensor, prev: Tensor | undefined) => {
      if (prev !== undefined) hold(prev, -1);
      grads.set(t, g);
      hold(g, 1);
    };
    const accumulate = (t: Tensor, gi: Tensor | PartialGrad) => {
      if (!sameShape(gi.shape, t.shape)) {
        throw new Error(`internal: gradient of shape ${shapeStr(gi.shape)} for a tensor of shape ${shapeStr(t.shape)}`);
      }
      const prev = t.gradFn === null ? undefined : grads.get(t);
      if (!(gi instanceof Tensor)) {
        // a partial gradient of t's dtype goes straight into a running gradient this pass owns, else becomes a tensor
        if (gi.dtype === t.dtype && (prev !== undefined ? owned(prev) : t.gradFn === null && ownedLeaf(t))) {
          gi.addInto(prev ?? t.grad!);
          return;
        }
        gi = gi.materialize();
      }
      let g: Tensor = gi;
      if (g.dtype !== t.dtype) g = g.to(t.dtype);
      if (t.gradFn === null) {
        if (t.grad === null) {
          t.grad = opts.createGraph ? g : own(g);
          if (!opts.createGraph) leafGrads.set(t, t.grad);
        } else if (ownedLeaf(t)) {
          t.grad.add_(g);
        } else {
          t.grad = t.grad.add(g);
        }
        return;
      }
      if (prev === undefined) setGrad(t, g, undefined);
      else if (owned(prev)) prev.add_(g);
      else setGrad(t, prev.add(g), prev);
    };
    if (root.gradFn === null) {
      accumulate(root, grad!);
      return;
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      hold(g, -1);
      if (t.retainsGrad) t.grad = t.grad === null ? noGrad(() => g.detach().clone()) : t.grad.add(g);
      const node = t.gradFn!;
      const ins = node.apply(g, retain);
      for (const gi of ins) {
        if (gi instanceof Tensor) reading.add(gi.storage.data.buffer);
        else if (gi) for (const s of gi.sources) reading.add(s.storage.data.buffer);
      }
      node.inputs.forEach((inp, k) => {
        const gi = ins[k];
        if (gi && inp.requiresGrad) accumulate(inp, gi);
      });
      reading.clear();
      // t's gradient, used up: its buffer goes back to the pool when this pass made it and nothing
      // holds it now (no entry of `grads`, no leaf's .grad; retainGrad took a copy)
      const b = g.storage.data.buffer;
      if (!opts.createGraph && fresh.has(b) && !given.has(b) && !refs.has(b)) releaseArray(g.storage.data);
    }
  };
  trackAllocations((fresh) => (opts.createGraph ? enableGrad(() => run(fresh)) : noGrad(() => inPass(() => run(fresh)))));
}
