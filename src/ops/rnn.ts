/**
 * Fused recurrent-cell arithmetic. An LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of
 * Gers et al. 2000), from the pre-activations z = X_t W_x + H_{t−1} W_h + b of its four gates:
 *
 *   I = σ(z_i),  F = σ(z_f),  G = tanh(z_g),  O = σ(z_o)
 *   C_t = F ⊙ C_{t−1} + I ⊙ G,   H_t = O ⊙ tanh(C_t)
 *
 * Composed (lstmCellComposed, the definition the kernels are tested against), that is eleven ops forward,
 * each a kernel call and a tensor, and about twice as many backward; for the small per-step tensors of a
 * recurrent network the calls, not the arithmetic, are the cost. K.lstmCell does the forward in one pass
 * (keeping the activated gates) and K.lstmCellBackward the backward:
 *
 *   t = tanh(C_t),  dC = ∂L/∂C_t + ∂L/∂H_t ⊙ O ⊙ (1 − t²)
 *   ∂L/∂z = [dC⊙G⊙I(1−I) | dC⊙C_{t−1}⊙F(1−F) | dC⊙I⊙(1−G²) | ∂L/∂H_t⊙t⊙O(1−O)],  ∂L/∂C_{t−1} = dC ⊙ F
 *
 * A backward that builds a graph (createGraph) uses the composed formula instead.
 */
import { isGradEnabled } from '../autograd/mode.js';
import { K } from '../backend/registry.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { contiguousData, empty, record, requireFloating } from './core.js';
import { cat } from './shape.js';

/**
 * One LSTM step's gates: z (B, 4h) the pre-activations [i | f | g | o], c (B, h) the cell C_{t−1}.
 * Returns [H_t | C_t] as one (B, 2h) tensor: narrow(1, 0, h) is H_t, narrow(1, h, h) is C_t.
 */
export function lstmCell(z: Tensor, c: Tensor): Tensor {
  const [B, h] = checkLstm(z, c);
  const zc = z.contiguous();
  const cc = c.contiguous();
  const out = empty([B, 2 * h], z.dtype);
  const acts = empty([B, 4 * h], z.dtype);
  K.lstmCell(contiguousData(zc), contiguousData(cc), B, h, out.storage.data, acts.storage.data);
  return record(out, 'lstmCell', [z, c], [zc, cc, out], (g, [zs, cs, o]) => {
    if (isGradEnabled() || g.dtype !== o.dtype) return lstmGradComposed(g, zs, cs, h);
    const dz = empty([B, 4 * h], z.dtype);
    const dc = empty([B, h], z.dtype);
    K.lstmCellBackward(acts.storage.data, contiguousData(cs), contiguousData(o), contiguousData(g.contiguous()), B, h, dz.storage.data, dc.storage.data);
    return [dz, dc];
  }, { hidden: h });
}

/** lstmCell composed from narrow, sigmoid, tanh, mul, add and cat: its definition. */
export function lstmCellComposed(z: Tensor, c: Tensor): Tensor {
  const [, h] = checkLstm(z, c);
  const gate = (k: number) => z.narrow(1, k * h, h);
  const [I, F, G, O] = [gate(0).sigmoid(), gate(1).sigmoid(), gate(2).tanh(), gate(3).sigmoid()];
  const C = F.mul(c).add(I.mul(G));
  return cat([O.mul(C.tanh()), C], 1);
}

/** The backward formula in recorded ops (for createGraph), from z and c again. */
function lstmGradComposed(g: Tensor, z: Tensor, c: Tensor, h: number): Tensor[] {
  const gate = (k: number) => z.narrow(1, k * h, h);
  const [I, F, G, O] = [gate(0).sigmoid(), gate(1).sigmoid(), gate(2).tanh(), gate(3).sigmoid()];
  const t = F.mul(c).add(I.mul(G)).tanh();
  const dH = g.narrow(1, 0, h);
  const dC = g.narrow(1, h, h).add(dH.mul(O).mul(t.mul(t).neg().add(1)));
  const dz = cat([
    dC.mul(G).mul(I.mul(I.neg().add(1))),
    dC.mul(c).mul(F.mul(F.neg().add(1))),
    dC.mul(I).mul(G.mul(G).neg().add(1)),
    dH.mul(t).mul(O.mul(O.neg().add(1))),
  ], 1);
  return [dz, dC.mul(F)];
}

/** [B, h] after checking z (B, 4h) and c (B, h). */
function checkLstm(z: Tensor, c: Tensor): [number, number] {
  requireFloating(z, 'lstmCell');
  if (z.ndim !== 2 || z.shape[1] % 4 !== 0) throw new RangeError(`lstmCell: expected gate pre-activations of shape (B, 4h), got ${shapeStr(z.shape)}`);
  const [B, h4] = z.shape;
  const h = h4 / 4;
  if (c.ndim !== 2 || c.shape[0] !== B || c.shape[1] !== h) {
    throw new RangeError(`lstmCell: expected a cell of shape (${B}, ${h}) for gates ${shapeStr(z.shape)}, got ${shapeStr(c.shape)}`);
  }
  if (c.dtype !== z.dtype) throw new TypeError(`lstmCell: gates are ${z.dtype} but the cell is ${c.dtype}`);
  return [B, h];
}
