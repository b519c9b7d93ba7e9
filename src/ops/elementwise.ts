/** Elementwise ops with broadcasting, each forward beside its backward. */
import { K } from '../backend/registry.js';
import type { BinaryOp, UnaryOp } from '../backend/kernels.js';
import { isGradEnabled } from '../autograd/mode.js';
import { DType, isFloating } from '../tensor/dtype.js';
import { broadcastShapes } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastView, empty, operands, record, sumTo, traced, TensorLike, viewOf } from './core.js';

/** Run a unary kernel into a new tensor of `dtype` (default: x's). */
export function mapUnary(op: UnaryOp, x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = empty(x.shape, dtype);
  K.unary(op, viewOf(x), out.storage.data);
  return out;
}

/** Broadcast a and b (already of compatible dtypes), run the kernel into a new tensor of `dtype`. */
function mapBinary(op: BinaryOp, a: Tensor, b: Tensor, dtype: DType, name: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = empty(shape, dtype);
  K.binary(op, broadcastView(a, shape), broadcastView(b, shape), out.storage.data);
  return out;
}

/**
 * x ← op(x, other) with the kernel writing x's own elements, where that gives what the out-of-place
 * op and copy_ give: x floating and contiguous, other a tensor of x's dtype in another buffer that
 * broadcasts to x's shape, and no gradient involved (an elementwise kernel reads element i of its
 * operands before it writes element i). Returns false, having done nothing, otherwise: the caller
 * then computes op(x, other) and copies it in (Tensor.add_ and its siblings).
 */
export function binaryInPlace(x: Tensor, op: 'add' | 'sub' | 'mul' | 'div', other: TensorLike): boolean {
  if (!(other instanceof Tensor) || other.dtype !== x.dtype || !isFloating(x.dtype) || !x.isContiguous()) return false;
  if (other.storage.data.buffer === x.storage.data.buffer) return false;
  if (isGradEnabled() && (x.requiresGrad || other.requiresGrad)) return false; // copy_ explains the refusal
  if (other.ndim > x.ndim || other.shape.some((s, i) => s !== 1 && s !== x.shape[x.ndim - other.ndim + i])) return false;
  K.binary(op, viewOf(x), broadcastView(other, x.shape), x.storage.data.subarray(x.offset, x.offset + x.numel));
  x.storage.version++;
  return true;
}

/** Casts an operand to the computation dtype (no copy when it already has it). */
function cast(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : t.to(dtype);
}

function floatUnary(name: string, op: UnaryOp, x: Tensor, backward: (g: Tensor, x: Tensor, out: Tensor) => Tensor, saveOut = false): Tensor {
  const xf = isFloating(x.dtype) ? x : x.to('float32');
  const out = mapUnary(op, xf);
  // The output is saved as it is (not detached): a backward that builds a graph (createGraph) then
  // differentiates through it, so second derivatives of exp, sqrt, sigmoid and tanh are right.
  return record(out, name, [xf], saveOut ? [out] : [xf], (g, [s]) => [saveOut ? backward(g, xf, s) : backward(g, s, out)]);
}

export function neg(x: Tensor): Tensor {
  if (x.dtype === 'bool') throw new TypeError('neg: not defined for bool tensors; use logicalNot');
  return record(mapUnary('neg', x), 'neg', [x], [], (g) => [g.neg()]);
}

export function exp(x: Tensor): Tensor {
  return floatUnary('exp', 'exp', x, (g, _x, out) => g.mul(out), true);
}

export function log(x: Tensor): Tensor {
  return floatUnary('log', 'log', x, (g, x) => g.div(x));
}

export function sqrt(x: Tensor): Tensor {
  return floatUnary('sqrt', 'sqrt', x, (g, _x, out) => g.div(out.mul(2)), true);
}

export function sigmoid(x: Tensor): Tensor {
  return floatUnary('sigmoid', 'sigmoid', x, (g, _x, out) => activationGrad('sigmoid', g, out), true);
}

export function tanh(x: Tensor): Tensor {
  return floatUnary('tanh', 'tanh', x, (g, _x, out) => activationGrad('tanh', g, out), true);
}

/**
 * The backward of sigmoid, g·out·(1 − out), and of tanh, g·(1 − out²), from the output. Composed
 * from differentiable ops when recording (createGraph) or for an unusual g; in a plain backward the
 * same kernels write into one fresh tensor instead of one each, which spares three activation-sized
 * allocations per layer (the composed form is the oracle in test/fused-backward.test.ts).
 */
export function activationGrad(kind: 'sigmoid' | 'tanh', g: Tensor, out: Tensor): Tensor {
  const plain = !isGradEnabled() && g.dtype === out.dtype && g.ndim === out.ndim && g.shape.every((s, i) => s === out.shape[i]);
  if (!plain) return kind === 'sigmoid' ? g.mul(out.mul(out.neg().add(1))) : g.mul(out.mul(out).neg().add(1));
  const r = empty(out.shape, out.dtype);
  const rd = r.storage.data;
  const one = broadcastView(Tensor.scalar(1, out.dtype), out.shape);
  // each kernel may write over an operand in place, element by element
  if (kind === 'sigmoid') {
    K.binary('sub', one, viewOf(out), rd); // 1 − out
    K.binary('mul', viewOf(r), viewOf(out), rd); // · out
  } else {
    K.binary('mul', viewOf(out), viewOf(out), rd); // out²
    K.binary('sub', one, viewOf(r), rd); // 1 − out²
  }
  K.binary('mul', viewOf(r), viewOf(g), rd); // · g
  return r;
}

export function abs(x: Tensor): Tensor {
  return record(mapUnary('abs', x), 'abs', [x], [x], (g, [x]) => [g.mul(sign(x))]);
}

export function sign(x: Tensor): Tensor {
  return record(mapUnary('sign', x), 'sign', [x], [], (g) => [g.mul(0)]);
}

export function relu(x: Tensor): Tensor {
  const out = mapUnary('relu', x);
  return record(out, 'relu', [x], [out.detach()], (g, [out]) => [where(gt(out, 0), g, 0)]);
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt] = operands(a, b, 'add');
  // bool + bool is logical or (as PyTorch), so a bool result stays 0/1
  const out = mapBinary(dt === 'bool' ? 'or' : 'add', cast(ta, dt), cast(tb, dt), dt, 'add');
  return record(out, 'add', [ta, tb], [], (g) => [sumTo(g, ta.shape), sumTo(g, tb.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt] = operands(a, b, 'sub');
  if (dt === 'bool') throw new TypeError('sub: not defined for bool tensors; use logicalXor-style comparisons instead');
  const out = mapBinary('sub', cast(ta, dt), cast(tb, dt), dt, 'sub');
  return record(out, 'sub', [ta, tb], [], (g) => [sumTo(g, ta.shape), sumTo(g.neg(), tb.shape)]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt] = operands(a, b, 'mul');
  const out = mapBinary('mul', cast(ta, dt), cast(tb, dt), dt, 'mul');
  return record(out, 'mul', [ta, tb], [ta, tb], (g, [a, b]) => [
    ta.requiresGrad ? sumTo(g.mul(b), a.shape) : null,
    tb.requiresGrad ? sumTo(g.mul(a), b.shape) : null,
  ]);
}

/** True division (integer operands give float32, as in PyTorch). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt0] = operands(a, b, 'div');
  const dt = isFloating(dt0) ? dt0 : 'float32';
  const out = mapBinary('div', cast(ta, dt), cast(tb, dt), dt, 'div');
  return record(out, 'div', [ta, tb], [ta, tb], (g, [a, b]) => [
    ta.requiresGrad ? sumTo(g.div(b), a.shape) : null,
    tb.requiresGrad ? sumTo(g.mul(a).div(b.mul(b)).neg(), b.shape) : null,
  ]);
}

export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt] = operands(a, b, 'pow');
  const out = mapBinary('pow', cast(ta, dt), cast(tb, dt), dt, 'pow');
  return record(out, 'pow', [ta, tb], [ta, tb, out], (g, [a, b, out]) => [
    // d/da a^b = b·a^(b−1)
    ta.requiresGrad ? sumTo(g.mul(b).mul(pow(a, b.sub(1))), a.shape) : null,
    // d/db a^b = a^b·ln a, taken as 0 where a = 0 and b ≥ 0 (PyTorch's convention)
    tb.requiresGrad
      ? sumTo(where(logicalAnd(eq(a, 0), ge(b, 0)), 0, g.mul(out).mul(log(a))), b.shape)
      : null,
  ]);
}

/** Elementwise max; where a = b the gradient is split evenly (as PyTorch). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return minmax('maximum', a, b);
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return minmax('minimum', a, b);
}

function minmax(op: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError(`${op}: expected two Tensors (use clamp for a number bound)`);
  const [ta, tb, dt] = operands(a, b, op);
  const out = mapBinary(op, cast(ta, dt), cast(tb, dt), dt, op);
  return record(out, op, [ta, tb], [ta, tb], (g, [a, b]) => {
    const aWins = op === 'maximum' ? gt(a, b) : lt(a, b);
    const tie = eq(a, b);
    const half = g.mul(0.5);
    const ga = where(aWins, g, where(tie, half, 0));
    const gb = where(aWins, 0, where(tie, half, g));
    return [sumTo(ga, a.shape), sumTo(gb, b.shape)];
  });
}

/** Clamp into [min, max] (either bound may be omitted); gradient 1 inside the closed interval. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const hasMin = min !== undefined && min !== null;
  const hasMax = max !== undefined && max !== null;
  if (!hasMin && !hasMax) throw new TypeError('clamp: give at least one of min and max');
  let out = x;
  if (hasMin) {
    const [, tmin, dt] = operands(x, min, 'clamp');
    out = mapBinary('maximum', cast(out, dt), tmin, dt, 'clamp');
  }
  if (hasMax) {
    const [, tmax, dt] = operands(out, max, 'clamp');
    out = mapBinary('minimum', cast(out, dt), tmax, dt, 'clamp');
  }
  if (!x.requiresGrad) return traced(out, 'clamp', [x], { min, max });
  const inside = logicalAnd(hasMin ? ge(x, min!) : Tensor.scalar(1, 'bool'), hasMax ? le(x, max!) : Tensor.scalar(1, 'bool'));
  return record(out, 'clamp', [x], [inside], (g, [m]) => [where(m, g, 0)], { min, max });
}

function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dt] = operands(a, b, op);
  return traced(mapBinary(op, cast(ta, dt), cast(tb, dt), 'bool', op), op, [ta, tb]);
}

export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b);
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => compare('and', a, b);
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => compare('or', a, b);
export function logicalNot(x: Tensor): Tensor {
  return traced(mapUnary('not', x, 'bool'), 'not', [x]);
}

/**
 * where(cond, a, b): a where cond is true, else b, all three broadcast together. cond must be bool;
 * no gradient flows through it.
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor) || cond.dtype !== 'bool') {
    throw new TypeError(`where: the condition must be a bool tensor (from a comparison), got ${cond instanceof Tensor ? cond.dtype : typeof cond}`);
  }
  const [ta, tb, dt] = operands(a, b, 'where');
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where'), tb.shape, 'where');
  const out = empty(shape, dt);
  K.where(broadcastView(cond, shape), broadcastView(cast(ta, dt), shape), broadcastView(cast(tb, dt), shape), out.storage.data);
  return record(out, 'where', [ta, tb], [cond], (g, [c]) => [
    ta.requiresGrad ? sumTo(where(c, g, 0), ta.shape) : null,
    tb.requiresGrad ? sumTo(where(c, 0, g), tb.shape) : null,
  ], { cond });
}
