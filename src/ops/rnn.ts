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
 * A GRU step (Cho et al. 2014, the reset gate applied to H_{t−1} before the product with W_hh) has a
 * matrix product in its middle, so it is two fused ops around it: gruGates (R, Z and R ⊙ H_{t−1}) and
 * gruUpdate (H̃ = tanh(x_h + (R ⊙ H_{t−1}) W_hh) and H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃).
 *
 * A backward that builds a graph (createGraph) uses the composed formulas instead.
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

/**
 * The gates of a GRU step: a (B, 2h) the input terms [x_r | x_z] (X_t W_x + b), rz (B, 2h) the hidden terms
 * H_{t−1} [W_hr | W_hz], H (B, h) = H_{t−1}. R = σ(a_r + rz_r), Z = σ(a_z + rz_z); returns [Z | R ⊙ H] (B, 2h).
 */
export function gruGates(a: Tensor, rz: Tensor, H: Tensor): Tensor {
  const [B, h] = checkGru('gruGates', [['a', a, 2], ['rz', rz, 2]], H);
  const [ac, rc, hc] = [a.contiguous(), rz.contiguous(), H.contiguous()];
  const out = empty([B, 2 * h], H.dtype);
  const acts = empty([B, 2 * h], H.dtype);
  K.gruGates(contiguousData(ac), contiguousData(rc), contiguousData(hc), B, h, out.storage.data, acts.storage.data);
  return record(out, 'gruGates', [a, rz, H], [ac, rc, hc], (g, [as, rs, hs]) => {
    if (isGradEnabled() || g.dtype !== H.dtype) {
      const R = as.narrow(1, 0, h).add(rs.narrow(1, 0, h)).sigmoid();
      const Z = as.narrow(1, h, h).add(rs.narrow(1, h, h)).sigmoid();
      const dRH = g.narrow(1, h, h);
      const da = cat([dRH.mul(hs).mul(R.mul(R.neg().add(1))), g.narrow(1, 0, h).mul(Z.mul(Z.neg().add(1)))], 1);
      return [da, da, dRH.mul(R)];
    }
    const da = empty([B, 2 * h], H.dtype);
    const dH = empty([B, h], H.dtype);
    K.gruGatesBackward(acts.storage.data, contiguousData(hs), contiguousData(g.contiguous()), B, h, da.storage.data, dH.storage.data);
    return [da, da, dH];
  }, { hidden: h });
}

/** gruGates composed: its definition. */
export function gruGatesComposed(a: Tensor, rz: Tensor, H: Tensor): Tensor {
  const [, h] = checkGru('gruGates', [['a', a, 2], ['rz', rz, 2]], H);
  const s = a.add(rz);
  return cat([s.narrow(1, h, h).sigmoid(), s.narrow(1, 0, h).sigmoid().mul(H)], 1);
}

/**
 * The update of a GRU step: xh (B, h) the candidate's input term (X_t W_xh + b_h), m (B, h) its hidden term
 * (R ⊙ H_{t−1}) W_hh, Z (B, h) the update gate, H (B, h) = H_{t−1}. Returns H_t = Z ⊙ H + (1 − Z) ⊙ tanh(xh + m).
 */
export function gruUpdate(xh: Tensor, m: Tensor, Z: Tensor, H: Tensor): Tensor {
  const [B, h] = checkGru('gruUpdate', [['xh', xh, 1], ['m', m, 1], ['Z', Z, 1]], H);
  const [xc, mc, zc, hc] = [xh.contiguous(), m.contiguous(), Z.contiguous(), H.contiguous()];
  const out = empty([B, h], H.dtype);
  const cand = empty([B, h], H.dtype);
  K.gruUpdate(contiguousData(xc), contiguousData(mc), contiguousData(zc), contiguousData(hc), B, h, out.storage.data, cand.storage.data);
  return record(out, 'gruUpdate', [xh, m, Z, H], [xc, mc, zc, hc], (g, [xs, ms, zs, hs]) => {
    if (isGradEnabled() || g.dtype !== H.dtype) {
      const C = xs.add(ms).tanh();
      const dx = g.mul(zs.neg().add(1)).mul(C.mul(C).neg().add(1));
      return [dx, dx, g.mul(hs.sub(C)), g.mul(zs)];
    }
    const [dx, dZ, dH] = [empty([B, h], H.dtype), empty([B, h], H.dtype), empty([B, h], H.dtype)];
    K.gruUpdateBackward(cand.storage.data, contiguousData(zs), contiguousData(hs), contiguousData(g.contiguous()), B, h, dx.storage.data, dZ.storage.data, dH.storage.data);
    return [dx, dx, dZ, dH];
  });
}

/** gruUpdate composed: its definition. */
export function gruUpdateComposed(xh: Tensor, m: Tensor, Z: Tensor, H: Tensor): Tensor {
  checkGru('gruUpdate', [['xh', xh, 1], ['m', m, 1], ['Z', Z, 1]], H);
  return Z.mul(H).add(Z.neg().add(1).mul(xh.add(m).tanh()));
}

/** [B, h] after checking H (B, h) and each named operand (B, k·h), all of H's dtype. */
function checkGru(op: string, operands: readonly [string, Tensor, number][], H: Tensor): [number, number] {
  requireFloating(H, op);
  if (H.ndim !== 2) throw new RangeError(`${op}: expected a state H of shape (B, h), got ${shapeStr(H.shape)}`);
  const [B, h] = H.shape;
  for (const [name, t, k] of operands) {
    if (t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== k * h) {
      throw new RangeError(`${op}: expected ${name} of shape (${B}, ${k * h}) for H ${shapeStr(H.shape)}, got ${shapeStr(t.shape)}`);
    }
    if (t.dtype !== H.dtype) throw new TypeError(`${op}: H is ${H.dtype} but ${name} is ${t.dtype}`);
  }
  return [B, h];
}
