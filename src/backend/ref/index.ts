/**
 * The reference backend: plain TypeScript, simple loops, the specification every fast kernel is
 * tested against. Clarity first; it is still written to be usable for small models.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { AdamStep, BinaryOp, Conv2dGeom, GemmArgs, Kernels, Pool2dGeom, ReduceOp, SoftmaxKind, UnaryOp, View } from '../kernels.js';

/**
 * Walks the rows (last dim) of several views with the same shape: after reset, `bases[v]` is the
 * offset of the current row's first element in view v; `next()` moves to the next row.
 */
class RowWalker {
  readonly rows: number;
  readonly len: number;
  readonly bases: number[];
  private idx: number[];
  constructor(private shape: readonly number[], private views: readonly View[]) {
    const nd = shape.length;
    this.len = nd === 0 ? 1 : shape[nd - 1];
    let rows = 1;
    for (let d = 0; d < nd - 1; d++) rows *= shape[d];
    this.rows = this.len === 0 ? 0 : rows;
    this.bases = views.map((v) => v.offset);
    this.idx = new Array(Math.max(nd - 1, 0)).fill(0);
  }
  innerStride(v: number): number {
    const s = this.views[v].strides;
    return s.length === 0 ? 0 : s[s.length - 1];
  }
  next(): void {
    const { shape, idx, bases, views } = this;
    for (let d = idx.length - 1; d >= 0; d--) {
      idx[d]++;
      for (let v = 0; v < views.length; v++) bases[v] += views[v].strides[d];
      if (idx[d] < shape[d]) return;
      for (let v = 0; v < views.length; v++) bases[v] -= views[v].strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

const UNARY: Record<UnaryOp, (x: number) => number> = {
  copy: (x) => x,
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps NaN and ±0
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  tanh: Math.tanh,
  relu: (x) => (x > 0 ? x : x !== x ? x : 0),
  not: (x) => (x ? 0 : 1),
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  and: (a, b) => (a && b ? 1 : 0),
  or: (a, b) => (a || b ? 1 : 0),
};

/** Integer division in an int32 output truncates like C (PyTorch's int `//` differs; ops decide). */
function unary(op: UnaryOp, x: View, out: TypedArray): void {
  const f = UNARY[op];
  const w = new RowWalker(x.shape, [x]);
  const s = w.innerStride(0);
  const data = x.data;
  let o = 0;
  for (let r = 0; r < w.rows; r++) {
    let p = w.bases[0];
    for (let j = 0; j < w.len; j++, p += s) out[o++] = f(data[p]);
    w.next();
  }
}

function binary(op: BinaryOp, a: View, b: View, out: TypedArray): void {
  const f = BINARY[op];
  const w = new RowWalker(a.shape, [a, b]);
  const sa = w.innerStride(0);
  const sb = w.innerStride(1);
  const ad = a.data;
  const bd = b.data;
  let o = 0;
  for (let r = 0; r < w.rows; r++) {
    let p = w.bases[0];
    let q = w.bases[1];
    for (let j = 0; j < w.len; j++, p += sa, q += sb) out[o++] = f(ad[p], bd[q]);
    w.next();
  }
}

function where(c: View, a: View, b: View, out: TypedArray): void {
  const w = new RowWalker(c.shape, [c, a, b]);
  const sc = w.innerStride(0);
  const sa = w.innerStride(1);
  const sb = w.innerStride(2);
  let o = 0;
  for (let r = 0; r < w.rows; r++) {
    let pc = w.bases[0];
    let pa = w.bases[1];
    let pb = w.bases[2];
    for (let j = 0; j < w.len; j++, pc += sc, pa += sa, pb += sb) out[o++] = c.data[pc] ? a.data[pa] : b.data[pb];
    w.next();
  }
}

function reduce(op: ReduceOp, x: TypedArray, outer: number, n: number, inner: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      if (op === 'sum' && x instanceof Int32Array) {
        // Exact for any count: the high and low 16 bits are summed apart (each partial sum stays
        // far below 2**53), so a sum that fits in int32 (or below 2**53) comes out exactly.
        let hi = 0;
        let lo = 0;
        for (let k = 0; k < n; k++) {
          const v = x[base + k * inner];
          hi += v >> 16;
          lo += v & 0xffff;
        }
        out[o * inner + i] = hi * 65536 + lo;
        continue;
      }
      if (op === 'sum') {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += x[base + k * inner];
        out[o * inner + i] = acc;
        continue;
      }
      // max/min/argmax/argmin: NaN wins (as in PyTorch); the first extreme index is kept.
      const isMax = op === 'max' || op === 'argmax';
      let best = x[base];
      let bestK = 0;
      for (let k = 1; k < n && best === best; k++) {
        const v = x[base + k * inner];
        if (v !== v || (isMax ? v > best : v < best)) {
          best = v;
          bestK = k;
        }
      }
      out[o * inner + i] = op === 'argmax' || op === 'argmin' ? bestK : best;
    }
  }
}

function gemm(g: GemmArgs): void {
  const { m, n, k, a, b, out } = g;
  const acc = new Float64Array(n);
  for (let bi = 0; bi < g.batch; bi++) {
    const ao = g.aOffsets[bi];
    const bo = g.bOffsets[bi];
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[ao + i * g.aRowStride + p * g.aColStride];
        const brow = bo + p * g.bRowStride;
        for (let j = 0; j < n; j++) acc[j] += av * b[brow + j * g.bColStride];
      }
      const orow = (bi * m + i) * n;
      if (g.accumulate) for (let j = 0; j < n; j++) out[orow + j] += acc[j];
      else for (let j = 0; j < n; j++) out[orow + j] = acc[j];
    }
  }
}

function indexSelect(x: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, out: TypedArray): void {
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * n + idx[j]) * inner;
      const dst = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = x[src + i];
    }
  }
}

function indexAdd(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, out: TypedArray): void {
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const s = (o * m + j) * inner;
      const d = (o * n + idx[j]) * inner;
      for (let i = 0; i < inner; i++) out[d + i] += src[s + i];
    }
  }
}

function gather(x: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, m: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const p = (o * m + j) * inner + i;
        out[p] = x[(o * n + idx[p]) * inner + i];
      }
    }
  }
}

function scatterAdd(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, m: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const p = (o * m + j) * inner + i;
        out[(o * n + idx[p]) * inner + i] += src[p];
      }
    }
  }
}

/**
 * Direct convolution: out[n, o, y, x] = Σ_{c in o's group, i, j} in[n, c, y·s − p + i·d, x·s − p + j·d] · w[o, c, i, j],
 * cells outside the input read as zero.
 */
function conv2d(x: TypedArray, w: TypedArray, g: Conv2dGeom, out: TypedArray): void {
  const cg = g.c / g.groups;
  const og = g.o / g.groups;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.o; o++) {
      const c0 = Math.floor(o / og) * cg;
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let acc = 0;
          for (let c = 0; c < cg; c++) {
            const xPlane = (n * g.c + c0 + c) * g.h * g.w;
            const wPlane = (o * cg + c) * g.kh * g.kw;
            for (let i = 0; i < g.kh; i++) {
              const iy = oy * g.strideH - g.padH + i * g.dilationH;
              if (iy < 0 || iy >= g.h) continue;
              for (let j = 0; j < g.kw; j++) {
                const ix = ox * g.strideW - g.padW + j * g.dilationW;
                if (ix < 0 || ix >= g.w) continue;
                acc += x[xPlane + iy * g.w + ix] * w[wPlane + i * g.kw + j];
              }
            }
          }
          out[((n * g.o + o) * g.oh + oy) * g.ow + ox] = acc;
        }
      }
    }
  }
}

/** Visits every (input cell, weight cell, output cell) triple of a convolution that reads inside the input. */
function convTriples(g: Conv2dGeom, f: (xi: number, wi: number, yi: number) => void): void {
  const cg = g.c / g.groups;
  const og = g.o / g.groups;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.o; o++) {
      const c0 = Math.floor(o / og) * cg;
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          const yi = ((n * g.o + o) * g.oh + oy) * g.ow + ox;
          for (let c = 0; c < cg; c++) {
            const xPlane = (n * g.c + c0 + c) * g.h * g.w;
            const wPlane = (o * cg + c) * g.kh * g.kw;
            for (let i = 0; i < g.kh; i++) {
              const iy = oy * g.strideH - g.padH + i * g.dilationH;
              if (iy < 0 || iy >= g.h) continue;
              for (let j = 0; j < g.kw; j++) {
                const ix = ox * g.strideW - g.padW + j * g.dilationW;
                if (ix < 0 || ix >= g.w) continue;
                f(xPlane + iy * g.w + ix, wPlane + i * g.kw + j, yi);
              }
            }
          }
        }
      }
    }
  }
}

function conv2dBackwardInput(dy: TypedArray, w: TypedArray, g: Conv2dGeom, dx: TypedArray): void {
  dx.fill(0);
  convTriples(g, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
}

function conv2dBackwardWeight(dy: TypedArray, x: TypedArray, g: Conv2dGeom, dw: TypedArray): void {
  dw.fill(0);
  convTriples(g, (xi, wi, yi) => {
    dw[wi] += dy[yi] * x[xi];
  });
}

/** Visits each pooling window: f(plane, outIndex, cells) with the in-plane indices of the cells inside the input. */
function poolWindows(g: Pool2dGeom, f: (plane: number, yi: number, cells: number[]) => void): void {
  const cells: number[] = [];
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        cells.length = 0;
        for (let i = 0; i < g.kh; i++) {
          const iy = oy * g.strideH - g.padH + i;
          if (iy < 0 || iy >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const ix = ox * g.strideW - g.padW + j;
            if (ix >= 0 && ix < g.w) cells.push(iy * g.w + ix);
          }
        }
        f(p, (p * g.oh + oy) * g.ow + ox, cells);
      }
    }
  }
}

function maxPool2d(x: TypedArray, g: Pool2dGeom, out: TypedArray, argmax: Int32Array): void {
  poolWindows(g, (p, yi, cells) => {
    const base = p * g.h * g.w;
    let best = -Infinity;
    let bestI = cells.length > 0 ? cells[0] : 0;
    for (const c of cells) {
      const v = x[base + c];
      if (v > best || v !== v) {
        best = v;
        bestI = c;
        if (v !== v) break;
      }
    }
    out[yi] = best;
    argmax[yi] = bestI;
  });
}

function maxPool2dBackward(dy: TypedArray, argmax: Int32Array, g: Pool2dGeom, dx: TypedArray): void {
  dx.fill(0);
  const oplane = g.oh * g.ow;
  for (let yi = 0; yi < dy.length; yi++) {
    const p = Math.floor(yi / oplane);
    dx[p * g.h * g.w + argmax[yi]] += dy[yi];
  }
}

function avgPool2d(x: TypedArray, g: Pool2dGeom, out: TypedArray): void {
  poolWindows(g, (p, yi, cells) => {
    const base = p * g.h * g.w;
    let acc = 0;
    for (const c of cells) acc += x[base + c];
    out[yi] = acc / poolDivisor(g, p, yi, cells.length);
  });
}

function avgPool2dBackward(dy: TypedArray, g: Pool2dGeom, dx: TypedArray): void {
  dx.fill(0);
  poolWindows(g, (p, yi, cells) => {
    const base = p * g.h * g.w;
    const v = dy[yi] / poolDivisor(g, p, yi, cells.length);
    for (const c of cells) dx[base + c] += v;
  });
}

/**
 * PyTorch's avg-pool divisor: with countIncludePad, the window clipped to the padded input
 * (cells in the padding count, cells beyond it do not); otherwise the cells inside the input.
 */
function poolDivisor(g: Pool2dGeom, _p: number, yi: number, inside: number): number {
  if (!g.countIncludePad) return inside;
  const ox = yi % g.ow;
  const oy = Math.floor(yi / g.ow) % g.oh;
  const y0 = oy * g.strideH - g.padH;
  const x0 = ox * g.strideW - g.padW;
  const y1 = Math.min(y0 + g.kh, g.h + g.padH);
  const x1 = Math.min(x0 + g.kw, g.w + g.padW);
  return (y1 - y0) * (x1 - x0);
}

// ---------------------------------------------------------------- batch normalisation
// Channel k of (outer, c, inner) data: the values at o·c·inner + k·inner + i. Sums in double (JS numbers).

function bnStats(x: TypedArray, outer: number, c: number, inner: number, mean: TypedArray, varOut: TypedArray): void {
  const n = outer * inner;
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let o = 0; o < outer; o++) for (let i = 0, at = (o * c + k) * inner; i < inner; i++) s += x[at + i];
    const m = s / n;
    let ss = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * c + k) * inner; i < inner; i++) ss += (x[at + i] - m) * (x[at + i] - m);
    }
    mean[k] = m;
    varOut[k] = ss / n;
  }
}

function channelAffine(x: TypedArray, outer: number, c: number, inner: number, scale: TypedArray, shift: TypedArray, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < c; k++) {
      const at = (o * c + k) * inner;
      for (let i = 0; i < inner; i++) out[at + i] = x[at + i] * scale[k] + shift[k];
    }
  }
}

function bnBackward(
  g: TypedArray, x: TypedArray, outer: number, c: number, inner: number, mean: TypedArray, invstd: TypedArray,
  weight: TypedArray | null, dx: TypedArray, sumG: TypedArray, sumGX: TypedArray,
): void {
  const n = outer * inner;
  for (let k = 0; k < c; k++) {
    const m = mean[k];
    const r = invstd[k];
    let sg = 0;
    let sgx = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * c + k) * inner; i < inner; i++) {
        sg += g[at + i];
        sgx += g[at + i] * (x[at + i] - m) * r;
      }
    }
    sumG[k] = sg;
    sumGX[k] = sgx;
    const a = r * (weight ? weight[k] : 1);
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * c + k) * inner; i < inner; i++) dx[at + i] = a * (g[at + i] - sg / n - (x[at + i] - m) * r * (sgx / n));
    }
  }
}

// ---------------------------------------------------------------- layer normalisation
// Each row of a contiguous (rows, n) array, in double (JS numbers).

function layerNorm(
  x: TypedArray, rows: number, n: number, eps: number, w: TypedArray | null, b: TypedArray | null,
  out: TypedArray, mean: TypedArray, rstd: TypedArray,
): void {
  for (let i = 0, at = 0; i < rows; i++, at += n) {
    let s = 0;
    for (let j = 0; j < n; j++) s += x[at + j];
    const m = s / n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += (x[at + j] - m) * (x[at + j] - m);
    const r = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) out[at + j] = (x[at + j] - m) * r * (w ? w[j] : 1) + (b ? b[j] : 0);
    mean[i] = m;
    rstd[i] = r;
  }
}

function layerNormBackward(
  g: TypedArray, x: TypedArray, rows: number, n: number, mean: TypedArray, rstd: TypedArray, w: TypedArray | null,
  dx: TypedArray, dw: TypedArray | null, db: TypedArray | null,
): void {
  const sw = dw ? new Float64Array(n) : null;
  const sb = db ? new Float64Array(n) : null;
  for (let i = 0, at = 0; i < rows; i++, at += n) {
    const m = mean[i];
    const r = rstd[i];
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < n; j++) {
      const gh = g[at + j] * (w ? w[j] : 1);
      s1 += gh;
      s2 += gh * (x[at + j] - m) * r;
    }
    for (let j = 0; j < n; j++) {
      const xh = (x[at + j] - m) * r;
      dx[at + j] = r * (g[at + j] * (w ? w[j] : 1) - s1 / n - xh * (s2 / n));
      if (sw) sw[j] += g[at + j] * xh;
      if (sb) sb[j] += g[at + j];
    }
  }
  if (dw && sw) dw.set(sw.subarray(0, n));
  if (db && sb) db.set(sb.subarray(0, n));
}

// ---------------------------------------------------------------- recurrent cells
// Row r of z holds [i | f | g | o], each h wide; in double (JS numbers).

const sigm = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function lstmCell(z: TypedArray, c: TypedArray, rows: number, h: number, out: TypedArray, acts: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    const zr = r * 4 * h;
    for (let j = 0; j < h; j++) {
      const I = sigm(z[zr + j]);
      const F = sigm(z[zr + h + j]);
      const G = Math.tanh(z[zr + 2 * h + j]);
      const O = sigm(z[zr + 3 * h + j]);
      const C = F * c[r * h + j] + I * G;
      out[r * 2 * h + j] = O * Math.tanh(C);
      out[r * 2 * h + h + j] = C;
      acts[zr + j] = I;
      acts[zr + h + j] = F;
      acts[zr + 2 * h + j] = G;
      acts[zr + 3 * h + j] = O;
    }
  }
}

function lstmCellBackward(acts: TypedArray, c: TypedArray, out: TypedArray, gout: TypedArray, rows: number, h: number, dz: TypedArray, dc: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    const zr = r * 4 * h;
    for (let j = 0; j < h; j++) {
      const [I, F, G, O] = [acts[zr + j], acts[zr + h + j], acts[zr + 2 * h + j], acts[zr + 3 * h + j]];
      const t = Math.tanh(out[r * 2 * h + h + j]);
      const dH = gout[r * 2 * h + j];
      const dC = gout[r * 2 * h + h + j] + dH * O * (1 - t * t);
      dz[zr + j] = dC * G * I * (1 - I);
      dz[zr + h + j] = dC * c[r * h + j] * F * (1 - F);
      dz[zr + 2 * h + j] = dC * I * (1 - G * G);
      dz[zr + 3 * h + j] = dH * t * O * (1 - O);
      dc[r * h + j] = dC * F;
    }
  }
}

function gruGates(a: TypedArray, rz: TypedArray, H: TypedArray, rows: number, h: number, out: TypedArray, acts: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < h; j++) {
      const [i2, ih] = [r * 2 * h + j, r * h + j];
      const R = sigm(a[i2] + rz[i2]);
      const Z = sigm(a[i2 + h] + rz[i2 + h]);
      out[i2] = Z;
      out[i2 + h] = R * H[ih];
      acts[i2] = R;
      acts[i2 + h] = Z;
    }
  }
}

function gruGatesBackward(acts: TypedArray, H: TypedArray, g: TypedArray, rows: number, h: number, da: TypedArray, dH: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < h; j++) {
      const [i2, ih] = [r * 2 * h + j, r * h + j];
      const [R, Z, dZ, dRH] = [acts[i2], acts[i2 + h], g[i2], g[i2 + h]];
      da[i2] = dRH * H[ih] * R * (1 - R);
      da[i2 + h] = dZ * Z * (1 - Z);
      dH[ih] = dRH * R;
    }
  }
}

function gruUpdate(xh: TypedArray, m: TypedArray, Z: TypedArray, H: TypedArray, rows: number, h: number, out: TypedArray, cand: TypedArray): void {
  for (let i = 0; i < rows * h; i++) {
    const C = Math.tanh(xh[i] + m[i]);
    out[i] = Z[i] * H[i] + (1 - Z[i]) * C;
    cand[i] = C;
  }
}

function gruUpdateBackward(cand: TypedArray, Z: TypedArray, H: TypedArray, g: TypedArray, rows: number, h: number, dxh: TypedArray, dZ: TypedArray, dH: TypedArray): void {
  for (let i = 0; i < rows * h; i++) {
    const C = cand[i];
    dxh[i] = g[i] * (1 - Z[i]) * (1 - C * C);
    dZ[i] = g[i] * (H[i] - C);
    dH[i] = g[i] * Z[i];
  }
}

// ---------------------------------------------------------------- softmax along rows
// Each row of a contiguous (rows, n) array, in double (JS numbers).

function softmax(kind: SoftmaxKind, x: TypedArray, rows: number, n: number, out: TypedArray): void {
  for (let r = 0, at = 0; r < rows; r++, at += n) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (x[at + j] > m) m = x[at + j];
    if (kind === 'logSoftmax' && !Number.isFinite(m)) m = 0;
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x[at + j] - m);
    if (kind === 'softmax') {
      for (let j = 0; j < n; j++) out[at + j] = Math.exp(x[at + j] - m) / s;
    } else {
      const lse = m + Math.log(s);
      for (let j = 0; j < n; j++) out[at + j] = x[at + j] - lse;
    }
  }
}

function softmaxBackward(kind: SoftmaxKind, y: TypedArray, g: TypedArray, rows: number, n: number, dx: TypedArray): void {
  for (let r = 0, at = 0; r < rows; r++, at += n) {
    let s = 0;
    if (kind === 'softmax') {
      for (let j = 0; j < n; j++) s += g[at + j] * y[at + j];
      for (let j = 0; j < n; j++) dx[at + j] = y[at + j] * (g[at + j] - s);
    } else {
      for (let j = 0; j < n; j++) s += g[at + j];
      for (let j = 0; j < n; j++) dx[at + j] = g[at + j] - Math.exp(y[at + j]) * s;
    }
  }
}

// ---------------------------------------------------------------- optimisers

function adam(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vmax: TypedArray | null, n: number, h: AdamStep): void {
  for (let i = 0; i < n; i++) {
    const p0 = p[i];
    const gi = g[i] + h.l2 * p0;
    const mi = h.beta1 * m[i] + (1 - h.beta1) * gi;
    const vi = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
    let vu = vi;
    if (vmax) vu = vmax[i] = vmax[i] > vi ? vmax[i] : vi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p0 * h.decay - (h.stepSize * mi) / (Math.sqrt(vu) / h.bc2Sqrt + h.eps);
  }
}

export const refKernels: Kernels = {
  unary,
  binary,
  where,
  reduce,
  gemm,
  indexSelect,
  indexAdd,
  gather,
  scatterAdd,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  bnStats,
  channelAffine,
  bnBackward,
  layerNorm,
  layerNormBackward,
  lstmCell,
  lstmCellBackward,
  gruGates,
  gruGatesBackward,
  gruUpdate,
  gruUpdateBackward,
  softmax,
  softmaxBackward,
  adam,
};
