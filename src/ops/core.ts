/** What every op shares: views for kernels, output allocation, recording on the tape, broadcasting's adjoint. */
import { BackwardFn, Node } from '../autograd/node.js';
import { isGradEnabled } from '../autograd/mode.js';
import type { View } from '../backend/kernels.js';
import { allocateEmpty, DType, isFloating, promoteTypes, promoteWithScalar, storedValue, type TypedArray } from '../tensor/dtype.js';
import { numel, Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export type TensorLike = Tensor | number;

export function viewOf(t: Tensor): View {
  return { data: t.storage.data, offset: t.offset, shape: t.shape, strides: t.strides };
}

/** A view of t broadcast to `shape` (t's shape must broadcast to it): broadcast dims get stride 0. */
export function broadcastView(t: Tensor, shape: Shape): View {
  const nd = shape.length;
  const strides = new Array<number>(nd).fill(0);
  for (let i = 0; i < t.ndim; i++) {
    const d = nd - t.ndim + i;
    strides[d] = t.shape[i] === 1 && shape[d] !== 1 ? 0 : t.strides[i];
  }
  return { data: t.storage.data, offset: t.offset, shape, strides };
}

/** t's elements in row-major order as one typed array: t's own storage where t is contiguous from its start, else a view or a copy. */
export function contiguousData(t: Tensor): TypedArray {
  const c = t.contiguous();
  return c.offset === 0 && c.storage.data.length === c.numel ? c.storage.data : c.storage.data.subarray(c.offset, c.offset + c.numel);
}

/**
 * A new contiguous tensor of the given shape and dtype whose elements are unspecified, for an op's
 * output that its kernel writes whole (allocateEmpty); an output that a kernel adds into or writes
 * only in part starts from Tensor.zeros.
 */
export function empty(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocateEmpty(dtype, numel(shape), shape), shape, dtype);
}

/**
 * What watches every primitive op while a forward pass is traced (src/interop/onnx/trace.ts): its name, its
 * tensor inputs, its output, and the arguments that are not tensors (`attrs`: dims, strides, paddings, a
 * condition or an index tensor). Composite ops call no hook of their own: their primitives are seen.
 */
export interface OpTracer {
  op(name: string, inputs: readonly Tensor[], out: Tensor, attrs: Readonly<Record<string, unknown>>): void;
}

let tracer: OpTracer | null = null;

/** Install a tracer (null: none); returns the one it replaces. */
export function setTracer(t: OpTracer | null): OpTracer | null {
  const prev = tracer;
  tracer = t;
  return prev;
}

/** Tell the tracer of an op that records no tape node (the non-differentiable ops); returns out. */
export function traced(out: Tensor, name: string, inputs: Tensor[], attrs: Record<string, unknown> = {}): Tensor {
  if (tracer) tracer.op(name, inputs, out, attrs);
  return out;
}

/**
 * Attach a tape node to `out` when recording and some input requires grad. `backward` receives the
 * output gradient and the saved tensors and returns one gradient (or null) per input. `attrs`, the op's
 * other arguments, go to the tracer when one is installed.
 */
export function record(out: Tensor, name: string, inputs: Tensor[], saved: Tensor[], backward: BackwardFn, attrs?: Record<string, unknown>): Tensor {
  if (tracer) tracer.op(name, inputs, out, attrs ?? {});
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.gradFn = new Node(name, inputs, saved, backward);
  }
  return out;
}

/** Sum a broadcast gradient back to `shape` (the adjoint of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.ndim === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  let r = dims.length > 0 ? g.sum(dims, true) : g;
  if (lead > 0) r = r.reshape(shape);
  return r;
}

/** Turn a JS number into a 0-d tensor of the dtype that PyTorch would compute `t op s` in. */
function scalarFor(t: Tensor, s: number, op: string): Tensor {
  const dtype = promoteWithScalar(t.dtype, s);
  storedValue(dtype, s, op); // an int32 operand out of int32's range is refused, naming the op
  return Tensor.scalar(s, dtype);
}

/** Coerce the operands of a binary op: numbers become 0-d tensors; returns both and the result dtype. */
export function operands(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor, DType] {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`${op}: at least one operand must be a Tensor`);
  const ta = typeof a === 'number' ? scalarFor(b as Tensor, a, op) : a;
  const tb = typeof b === 'number' ? scalarFor(ta, b, op) : b;
  if (!(ta instanceof Tensor) || !(tb instanceof Tensor)) {
    throw new TypeError(`${op}: expected Tensors or numbers, got ${describe(a)} and ${describe(b)}`);
  }
  return [ta, tb, promoteTypes(ta.dtype, tb.dtype)];
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor(${x.dtype}, [${x.shape.join(', ')}])`;
  if (Array.isArray(x)) return 'an array';
  return x === null ? 'null' : typeof x;
}

export function requireFloating(t: Tensor, op: string): void {
  if (!isFloating(t.dtype)) throw new TypeError(`${op}: expected a floating-point tensor (float32 or float64), got ${t.dtype}`);
}


