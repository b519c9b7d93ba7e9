/**
 * ONNX export by tracing: one forward pass, in eval mode and without gradients, with a tracer installed in
 * the op registry's recording hook (src/ops/core.ts setTracer). Every primitive op the pass runs is seen with
 * its tensor inputs, its output and its other arguments; composite ops (softmax's composition,
 * eval-mode batch norm, mean, stack, adaptive pooling) are seen as the primitives they are made of. Each
 * primitive maps to an ONNX operator of opset 17 (EMITTERS); an op with no mapping is an error naming it.
 *
 * A tensor the pass reads that no traced op made is a constant: a parameter or buffer (an initializer under
 * its state-dict name) or a constant made during the pass (0-d operands of `x.add(1)`, zero initial states).
 * Shapes are static: the batch size and (for sequences) the number of steps are those of the traced batch.
 * Nodes whose outputs do not reach the graph's outputs are dropped. Browser-safe (no file system).
 */
import { noGrad } from '../../autograd/mode.js';
import type { Module } from '../../nn/module.js';
import { OpTracer, setTracer } from '../../ops/core.js';
import type { DType } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import { ATTR, DATA_TYPE, encodeModel } from './proto.js';

export const OPSET = 17;
/** The IR version that goes with opset 17. */
export const IR_VERSION = 8;

interface TracedOp {
  op: string;
  inputs: string[];
  /** Names of tensors passed as arguments other than inputs (where's condition, indexSelect's index). */
  extra: Record<string, string>;
  attrs: Readonly<Record<string, unknown>>;
  inTensors: readonly Tensor[];
  out: Tensor;
  output: string;
}

class Tracer implements OpTracer {
  readonly ops: TracedOp[] = [];
  readonly names = new Map<Tensor, string>();
  readonly constants = new Map<string, Tensor>();
  constructor(private readonly known: Map<Tensor, string>) {}

  nameOf(t: Tensor): string {
    let n = this.names.get(t);
    if (n === undefined) {
      n = this.known.get(t) ?? `const_${this.constants.size}`;
      if (this.constants.has(n)) n = `${n}_${this.constants.size}`;
      this.constants.set(n, t);
      this.names.set(t, n);
    }
    return n;
  }

  op(op: string, inputs: readonly Tensor[], out: Tensor, attrs: Readonly<Record<string, unknown>>): void {
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (v instanceof Tensor) extra[k] = this.nameOf(v);
    const names = inputs.map((t) => this.nameOf(t));
    const output = `${op}_${this.ops.length}`;
    this.names.set(out, output); // the last op to make a tensor is its producer from here on
    this.ops.push({ op, inputs: names, extra, attrs, inTensors: inputs, out, output });
  }
}

/** What one emitted ONNX node is. */
interface OnnxNode {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Record<string, unknown>[];
}

class Builder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private n = 0;
  node(opType: string, input: string[], output: string, attrs: Record<string, AttrValue> = {}): void {
    this.nodes.push({ opType, input, output: [output], name: `${opType}_${this.nodes.length}`, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
  }
  /** An int64 constant (shapes, axes, starts): its initializer's name. */
  int64(values: readonly number[], scalar = false): string {
    const name = `i64_${this.n++}`;
    this.initializers.push({ name, dataType: DATA_TYPE.int64, dims: scalar ? [] : [values.length], int64Data: [...values] });
    return name;
  }
  tensor(name: string, t: Tensor): void {
    this.initializers.push(tensorProto(name, t));
  }
  temp(): string {
    return `tmp_${this.n++}`;
  }
}

/** An attribute value: a whole number is an INT unless given as { float: v } (an epsilon of 0 is still a FLOAT). */
type AttrValue = number | number[] | string | { float: number };

function attr(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if (typeof v === 'object') return { name, type: ATTR.FLOAT, f: v.float };
  return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
}

function dataType(d: DType): number {
  return DATA_TYPE[d];
}

function tensorProto(name: string, t: Tensor): Record<string, unknown> {
  const c = t.contiguous();
  const data = c.toTypedArray();
  const bytes = t.dtype === 'bool' ? Uint8Array.from(data as ArrayLike<number>) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dataType: dataType(t.dtype), dims: [...t.shape], rawData: bytes };
}

type Emit = (b: Builder, o: TracedOp) => void;

const unary = (opType: string): Emit => (b, o) => b.node(opType, o.inputs, o.output);
const binary = (opType: string): Emit => (b, o) => b.node(opType, o.inputs, o.output);
const reshapeTo: Emit = (b, o) => b.node('Reshape', [o.inputs[0], b.int64(o.out.shape)], o.output);

/** Each traced primitive's ONNX operator(s), opset 17. */
export const EMITTERS: Record<string, Emit> = {
  add: binary('Add'), sub: binary('Sub'), mul: binary('Mul'), div: binary('Div'), pow: binary('Pow'),
  maximum: binary('Max'), minimum: binary('Min'), matmul: binary('MatMul'),
  eq: binary('Equal'), lt: binary('Less'), le: binary('LessOrEqual'), gt: binary('Greater'), ge: binary('GreaterOrEqual'),
  and: binary('And'), or: binary('Or'), not: unary('Not'),
  ne: (b, o) => {
    const t = b.temp();
    b.node('Equal', o.inputs, t);
    b.node('Not', [t], o.output);
  },
  neg: unary('Neg'), exp: unary('Exp'), log: unary('Log'), sqrt: unary('Sqrt'), abs: unary('Abs'), sign: unary('Sign'),
  sigmoid: unary('Sigmoid'), tanh: unary('Tanh'), relu: unary('Relu'), clone: unary('Identity'),
  to: (b, o) => b.node('Cast', o.inputs, o.output, { to: dataType(o.out.dtype) }),
  view: reshapeTo, squeeze: reshapeTo, unsqueeze: reshapeTo,
  expand: (b, o) => b.node('Expand', [o.inputs[0], b.int64(o.out.shape)], o.output),
  permute: (b, o) => b.node('Transpose', o.inputs, o.output, { perm: o.attrs.dims as number[] }),
  slice: (b, o) => {
    const a = o.attrs as { dim: number; start: number; end: number; step: number };
    b.node('Slice', [o.inputs[0], b.int64([a.start]), b.int64([a.end]), b.int64([a.dim]), b.int64([a.step])], o.output);
  },
  cat: (b, o) => b.node('Concat', o.inputs, o.output, { axis: o.attrs.dim as number }),
  pad: (b, o) => {
    const a = o.attrs as { before: number[]; after: number[]; value: number };
    const value = b.temp();
    b.tensor(value, Tensor.scalar(a.value, o.out.dtype));
    b.node('Pad', [o.inputs[0], b.int64([...a.before, ...a.after]), value], o.output, { mode: 'constant' });
  },
  where: (b, o) => b.node('Where', [o.extra.cond, ...o.inputs], o.output),
  clamp: (b, o) => {
    const a = o.attrs as { min?: number | null; max?: number | null };
    const bound = (v: number | null | undefined) => {
      if (v === undefined || v === null) return '';
      const n = b.temp();
      b.tensor(n, Tensor.scalar(v, o.out.dtype));
      return n;
    };
    b.node('Clip', [o.inputs[0], bound(a.min), bound(a.max)], o.output);
  },
  sum: (b, o) => b.node('ReduceSum', [o.inputs[0], b.int64(o.attrs.dims as number[])], o.output, { keepdims: o.attrs.keepdim ? 1 : 0 }),
  max: (b, o) => b.node('ReduceMax', o.inputs, o.output, { axes: o.attrs.dims as number[], keepdims: o.attrs.keepdim ? 1 : 0 }),
  min: (b, o) => b.node('ReduceMin', o.inputs, o.output, { axes: o.attrs.dims as number[], keepdims: o.attrs.keepdim ? 1 : 0 }),
  // the LSTM step's gates: four slices of z, their activations, and [O·tanh(C) | C]
  lstmCell: (b, o) => {
    const h = o.attrs.hidden as number;
    const [z, c] = o.inputs;
    const act = (k: number, op: string) => {
      const part = b.temp();
      const y = b.temp();
      b.node('Slice', [z, b.int64([k * h]), b.int64([(k + 1) * h]), b.int64([1])], part);
      b.node(op, [part], y);
      return y;
    };
    const [I, F, G, O] = [act(0, 'Sigmoid'), act(1, 'Sigmoid'), act(2, 'Tanh'), act(3, 'Sigmoid')];
    const [fc, ig, C, tc, H] = [b.temp(), b.temp(), b.temp(), b.temp(), b.temp()];
    b.node('Mul', [F, c], fc);
    b.node('Mul', [I, G], ig);
    b.node('Add', [fc, ig], C);
    b.node('Tanh', [C], tc);
    b.node('Mul', [O, tc], H);
    b.node('Concat', [H, C], o.output, { axis: 1 });
  },
  // the GRU step's halves: [σ(a_z + rz_z) | σ(a_r + rz_r)·H], and Z·H + (1 − Z)·tanh(xh + m)
  gruGates: (b, o) => {
    const h = o.attrs.hidden as number;
    const [a, rz, H] = o.inputs;
    const [s, r, z, R, Z, RH] = [b.temp(), b.temp(), b.temp(), b.temp(), b.temp(), b.temp()];
    b.node('Add', [a, rz], s);
    b.node('Slice', [s, b.int64([0]), b.int64([h]), b.int64([1])], r);
    b.node('Slice', [s, b.int64([h]), b.int64([2 * h]), b.int64([1])], z);
    b.node('Sigmoid', [r], R);
    b.node('Sigmoid', [z], Z);
    b.node('Mul', [R, H], RH);
    b.node('Concat', [Z, RH], o.output, { axis: 1 });
  },
  gruUpdate: (b, o) => {
    const [xh, m, Z, H] = o.inputs;
    const [s, C, zh, oneMinus, rest] = [b.temp(), b.temp(), b.temp(), b.temp(), b.temp()];
    const one = b.temp();
    b.tensor(one, Tensor.scalar(1, o.out.dtype));
    b.node('Add', [xh, m], s);
    b.node('Tanh', [s], C);
    b.node('Mul', [Z, H], zh);
    b.node('Sub', [one, Z], oneMinus);
    b.node('Mul', [oneMinus, C], rest);
    b.node('Add', [zh, rest], o.output);
  },
  // opset 17's LayerNormalization needs a scale: ones when the op had no weight
  layerNorm: (b, o) => {
    const a = o.attrs as { normalizedShape: number[]; eps: number; weight: boolean; bias: boolean };
    const ins = [o.inputs[0]];
    if (a.weight) ins.push(o.inputs[1]);
    else {
      const ones = b.temp();
      b.tensor(ones, Tensor.ones(a.normalizedShape, { dtype: o.out.dtype }));
      ins.push(ones);
    }
    if (a.bias) ins.push(o.inputs[a.weight ? 2 : 1]);
    b.node('LayerNormalization', ins, o.output, { axis: -a.normalizedShape.length, epsilon: { float: a.eps } });
  },
  softmax: (b, o) => b.node('Softmax', o.inputs, o.output, { axis: o.attrs.dim as number }),
  logSoftmax: (b, o) => b.node('LogSoftmax', o.inputs, o.output, { axis: o.attrs.dim as number }),
  indexSelect: (b, o) => b.node('Gather', [o.inputs[0], o.extra.index], o.output, { axis: o.attrs.dim as number }),
  // ONNX Runtime implements OneHot for (int32 indices, float values, int32 depth), not int32 values: float, then Cast
  oneHot: (b, o) => {
    const values = b.temp();
    const depth = b.temp();
    const hot = b.temp();
    b.tensor(values, new Tensor(Float32Array.of(0, 1), [2], 'float32'));
    b.tensor(depth, Tensor.scalar(o.attrs.numClasses as number, 'int32'));
    b.node('OneHot', [o.inputs[0], depth, values], hot, { axis: -1 });
    b.node('Cast', [hot], o.output, { to: dataType(o.out.dtype) });
  },
  conv2d: (b, o) => {
    const g = o.attrs.geom as { kh: number; kw: number; strideH: number; strideW: number; padH: number; padW: number; dilationH: number; dilationW: number; groups: number };
    b.node('Conv', o.inputs, o.output, {
      kernel_shape: [g.kh, g.kw], strides: [g.strideH, g.strideW], pads: [g.padH, g.padW, g.padH, g.padW], dilations: [g.dilationH, g.dilationW], group: g.groups,
    });
  },
  maxPool2d: (b, o) => {
    const g = o.attrs.geom as { kh: number; kw: number; strideH: number; strideW: number; padH: number; padW: number };
    b.node('MaxPool', o.inputs, o.output, { kernel_shape: [g.kh, g.kw], strides: [g.strideH, g.strideW], pads: [g.padH, g.padW, g.padH, g.padW] });
  },
  avgPool2d: (b, o) => {
    const g = o.attrs.geom as { kh: number; kw: number; strideH: number; strideW: number; padH: number; padW: number; countIncludePad: boolean };
    b.node('AveragePool', o.inputs, o.output, {
      kernel_shape: [g.kh, g.kw], strides: [g.strideH, g.strideW], pads: [g.padH, g.padW, g.padH, g.padW], count_include_pad: g.countIncludePad ? 1 : 0,
    });
  },
};

export interface OnnxExport {
  bytes: Uint8Array;
  /** The ONNX operators used, with counts. */
  operators: Record<string, number>;
  nodes: number;
  initializers: number;
  /** The graph's inputs; `unused`: the inputs given that the outputs do not depend on (seq2seq's valid lengths). */
  inputs: string[];
  unused: string[];
}

/**
 * Trace `forward` on `inputs` (named; their shapes and dtypes become the graph's) and encode the graph.
 * `model` names the initializers after its state dict; `metadata` goes into the model's metadata_props.
 */
export function exportOnnx(
  model: Module,
  inputs: readonly [string, Tensor][],
  forward: (inputs: Tensor[]) => [string, Tensor][],
  metadata: Record<string, string> = {},
  what = 'the model',
): OnnxExport {
  const known = new Map<Tensor, string>();
  for (const [k, t] of model.namedParameters()) known.set(t, k);
  for (const [k, t] of model.namedBuffers()) known.set(t, k);
  const tracer = new Tracer(known);
  for (const [k, t] of inputs) tracer.names.set(t, k);
  model.eval();
  const prev = setTracer(tracer);
  let outputs: [string, Tensor][];
  try {
    outputs = noGrad(() => forward(inputs.map(([, t]) => t)));
  } finally {
    setTracer(prev);
  }

  // the ops the outputs depend on, last to first
  const final = outputs.map(([k, t]) => {
    const n = tracer.names.get(t);
    if (n === undefined || tracer.constants.has(n)) throw new Error(`export --onnx: ${what}'s output ${k} does not depend on its inputs through traced ops`);
    return n;
  });
  const needed = new Set(final);
  const kept: TracedOp[] = [];
  for (let i = tracer.ops.length - 1; i >= 0; i--) {
    const o = tracer.ops[i];
    if (!needed.has(o.output)) continue;
    kept.push(o);
    for (const n of [...o.inputs, ...Object.values(o.extra)]) needed.add(n);
  }
  kept.reverse();
  const b = new Builder();
  for (const o of kept) {
    const emit = EMITTERS[o.op];
    if (!emit) throw new Error(`export --onnx: the op ${o.op} (traced in ${what}'s forward pass) has no ONNX mapping; mapped ops: ${Object.keys(EMITTERS).join(', ')}`);
    emit(b, o);
  }
  // graph outputs get their names through Identity nodes
  outputs.forEach(([k], i) => b.node('Identity', [final[i]], k));
  for (const [n, t] of tracer.constants) if (needed.has(n)) b.tensor(n, t);

  const valueInfo = (name: string, t: Tensor) => ({ name, type: { tensorType: { elemType: dataType(t.dtype), shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } } });
  const graph = {
    name: what,
    node: b.nodes,
    initializer: b.initializers,
    input: inputs.filter(([k]) => needed.has(k)).map(([k, t]) => valueInfo(k, t)),
    output: outputs.map(([k, t]) => valueInfo(k, t)),
  };
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'papers-from-scratch',
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  const operators: Record<string, number> = {};
  for (const n of b.nodes) operators[n.opType] = (operators[n.opType] ?? 0) + 1;
  return { bytes, operators, nodes: b.nodes.length, initializers: b.initializers.length, inputs: graph.input.map((v) => v.name), unused: inputs.filter(([k]) => !needed.has(k)).map(([k]) => k) };
}
