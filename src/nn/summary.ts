/**
 * A layer-by-layer summary of a net whose forward pass runs its children in order (a Sequential, or
 * any module built as a chain): the output shape after each child and its number of parameters, as
 * d2l's `layer_summary` prints them. The net runs once on zeros, in eval mode (so that BatchNorm
 * accepts a batch of one) and without recording gradients; its training mode is restored after.
 */
import { noGrad } from '../autograd/mode.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface SummaryRow {
  /** The child's name in the net ("0", "stage1", ...). */
  name: string;
  /** Its class ("Conv2d", "Sequential", ...). */
  layer: string;
  outputShape: number[];
  /** Trainable scalars in this child (and below it). */
  params: number;
}

export interface Summary {
  inputShape: number[];
  rows: SummaryRow[];
  /** Trainable scalars of the whole net (a tensor shared by two children counts once). */
  totalParams: number;
}

type Layer = Module & { forward(x: Tensor): Tensor };

export function layerSummary(net: Module, inputShape: readonly number[]): Summary {
  const children = [...net.children()];
  if (children.length === 0) throw new Error(`layerSummary: ${net.constructor.name} has no children to list`);
  const rows: SummaryRow[] = [];
  const wasTraining = net.training;
  net.eval();
  try {
    noGrad(() => {
      let x = Tensor.zeros(inputShape);
      for (const [name, child] of children) {
        try {
          x = (child as Layer).forward(x);
        } catch (e) {
          throw new Error(`layerSummary: layer ${name} (${child.constructor.name}) failed on an input of shape ${shapeStr(x.shape)}: ${(e as Error).message}`);
        }
        rows.push({ name, layer: child.constructor.name, outputShape: [...x.shape], params: child.numParameters() });
      }
    });
  } finally {
    net.train(wasTraining);
  }
  return { inputShape: [...inputShape], rows, totalParams: net.numParameters() };
}

/** The summary as a table: one line per child, then the total. */
export function formatSummary(s: Summary): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const cells = s.rows.map((r) => [`${r.name} ${r.layer}`, shapeStr(r.outputShape), fmt(r.params)]);
  const head = ['layer', 'output shape', 'params'];
  const widths = head.map((h, k) => Math.max(h.length, ...cells.map((c) => c[k].length)));
  const line = (c: string[]) => `${c[0].padEnd(widths[0])}  ${c[1].padEnd(widths[1])}  ${c[2].padStart(widths[2])}`;
  return [
    `input ${shapeStr(s.inputShape)}`,
    line(head),
    ...cells.map(line),
    `total parameters: ${fmt(s.totalParams)}`,
  ].join('\n') + '\n';
}
