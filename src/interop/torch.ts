/**
 * Moving state dicts between this library's names and layouts and those of a PyTorch twin.
 *
 * A layout is a list of entries, each taking a group of our tensors to a group of the twin's and back:
 *   - a rename (one tensor, the same values and shape, another name: identity where the names agree);
 *   - a recurrent layer stacked as torch.nn.RNN / torch.nn.LSTM keep it: our cells hold one weight per
 *     gate multiplied on the right, W_x· (I, H) and W_h· (H, H), and one bias per gate b_· (H); torch
 *     holds the gates stacked row-wise and multiplied on the left, weight_ih_l{k} (G·H, I) =
 *     [W_xi | W_xf | W_xc | W_xo]ᵀ (gate order i, f, g, o for the LSTM; h alone for the tanh RNN),
 *     weight_hh_l{k} (G·H, H) likewise, and two biases whose sum is ours: bias_ih_l{k} = [b_i b_f b_c b_o],
 *     bias_hh_l{k} = 0. Back: each gate's rows transposed, b_· = bias_ih + bias_hh of its rows.
 * A layout is built from a model (its names depend on the layers), so toTorch(model.stateDict()) also
 * gives the names and shapes the twin expects: what an imported file is checked against.
 * Browser-safe (no file system).
 */
import { noGrad } from '../autograd/mode.js';
import { cat } from '../ops/shape.js';
import { isFloating } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export type StateDict = Record<string, Tensor>;

export interface LayoutEntry {
  ours: string[];
  torch: string[];
  /** Our tensors (in `ours` order) → the twin's (in `torch` order). */
  toTorch(ts: Tensor[]): Tensor[];
  /** The twin's tensors (in `torch` order) → ours. */
  fromTorch(ts: Tensor[]): Tensor[];
  /** One line for the documentation of the mapping. */
  describe: string;
}

export class TorchLayout {
  constructor(readonly entries: readonly LayoutEntry[]) {
    const seen = new Set<string>();
    for (const e of entries) {
      for (const n of e.ours) {
        if (seen.has(n)) throw new Error(`TorchLayout: our tensor ${n} is in two entries`);
        seen.add(n);
      }
    }
  }

  /** Our state dict → the twin's (new contiguous tensors; ours are left as they are). */
  toTorch(sd: StateDict): StateDict {
    const covered = new Set(this.entries.flatMap((e) => e.ours));
    const stray = Object.keys(sd).filter((k) => !covered.has(k));
    if (stray.length) throw new Error(`the torch layout does not cover ${stray.join(', ')}`);
    const out: StateDict = {};
    noGrad(() => {
      for (const e of this.entries) {
        const ts = e.toTorch(e.ours.map((n) => {
          if (!sd[n]) throw new Error(`the state dict has no ${n}`);
          return sd[n].detach();
        }));
        e.torch.forEach((n, i) => (out[n] = ts[i].contiguous()));
      }
    });
    return out;
  }

  /** The twin's state dict → ours (checked first against `expected`, the twin's names and shapes). */
  fromTorch(sd: StateDict, expected: StateDict, what = 'the file'): StateDict {
    checkAgainst(sd, expected, what);
    const out: StateDict = {};
    noGrad(() => {
      for (const e of this.entries) {
        const ts = e.fromTorch(e.torch.map((n) => castLike(sd[n], expected[n])));
        e.ours.forEach((n, i) => (out[n] = ts[i].contiguous()));
      }
    });
    return out;
  }

  /** The mapping, one line per entry (for READMEs and `pfs export --torch` output). */
  describe(): string[] {
    return this.entries.map((e) => e.describe);
  }
}

/** A float64 file into a float32 model, an I64 (read as int32) into an int32 buffer: the model's dtype. */
function castLike(t: Tensor, like: Tensor): Tensor {
  return t.dtype === like.dtype ? t : t.to(like.dtype);
}

/** Refuse a state dict with missing, unexpected or misshaped tensors, naming each with what was expected and what came. */
export function checkAgainst(got: StateDict, expected: StateDict, what: string): void {
  const problems: string[] = [];
  const missing = Object.keys(expected).filter((k) => !(k in got));
  const extra = Object.keys(got).filter((k) => !(k in expected));
  if (missing.length) problems.push(`missing ${missing.length} tensor(s): ${list(missing.map((k) => `${k} ${shapeStr(expected[k].shape)}`))}`);
  if (extra.length) problems.push(`unexpected ${extra.length} tensor(s): ${list(extra.map((k) => `${k} ${shapeStr(got[k].shape)}`))}`);
  for (const k of Object.keys(expected)) {
    if (!(k in got)) continue;
    const e = expected[k];
    const g = got[k];
    if (g.shape.length !== e.shape.length || g.shape.some((s, i) => s !== e.shape[i])) problems.push(`${k}: expected shape ${shapeStr(e.shape)}, got ${shapeStr(g.shape)}`);
    else if (isFloating(e.dtype) !== isFloating(g.dtype)) problems.push(`${k}: expected a ${isFloating(e.dtype) ? 'floating' : 'integer'} tensor, got ${g.dtype}`);
  }
  if (problems.length) throw new Error(`${what} does not match the twin's state dict:\n  ${problems.join('\n  ')}`);
}

function list(xs: string[]): string {
  return xs.length > 12 ? `${xs.slice(0, 12).join(', ')}, … (${xs.length - 12} more)` : xs.join(', ');
}

/** One tensor under another name (or the same). */
export function rename(ours: string, torch: string): LayoutEntry {
  return {
    ours: [ours], torch: [torch],
    toTorch: (ts) => ts, fromTorch: (ts) => ts,
    describe: ours === torch ? `${ours} = ${torch}` : `${ours} → ${torch}`,
  };
}

/** Gate letters of our cells in torch's stacking order: LSTM i, f, g (our c̃: c), o; the tanh RNN h alone. */
export const TORCH_GATES = { rnn: ['h'], lstm: ['i', 'f', 'c', 'o'] } as const;

/**
 * One direction of one layer of torch.nn.RNN / torch.nn.LSTM from one of our cells.
 * `ours` is the cell's prefix (e.g. `rnn.l0_reverse`), `torch` the torch module's prefix (`rnn`),
 * `suffix` torch's (`l0_reverse`).
 */
export function stackedCell(kind: 'rnn' | 'lstm', ours: string, torch: string, suffix: string): LayoutEntry {
  const gates = TORCH_GATES[kind];
  const names = [...gates.map((g) => `${ours}.W_x${g}`), ...gates.map((g) => `${ours}.W_h${g}`), ...gates.map((g) => `${ours}.b_${g}`)];
  const t = (n: string) => `${torch}.${n}_${suffix}`;
  const G = gates.length;
  return {
    ours: names,
    torch: [t('weight_ih'), t('weight_hh'), t('bias_ih'), t('bias_hh')],
    toTorch: (ts) => {
      const Wx = ts.slice(0, G);
      const Wh = ts.slice(G, 2 * G);
      const b = ts.slice(2 * G);
      const bias = cat(b, 0);
      return [cat(Wx.map((w) => w.T), 0), cat(Wh.map((w) => w.T), 0), bias, Tensor.zeros(bias.shape, { dtype: bias.dtype })];
    },
    fromTorch: ([wih, whh, bih, bhh]) => {
      const H = wih.shape[0] / G;
      const rows = (w: Tensor, k: number) => w.narrow(0, k * H, H);
      const bias = bih.add(bhh);
      return [...gates.map((_, k) => rows(wih, k).T), ...gates.map((_, k) => rows(whh, k).T), ...gates.map((_, k) => rows(bias, k))];
    },
    describe: `${ours}.{${gates.map((g) => `W_x${g}`).join(',')}} → ${t('weight_ih')} = [${gates.map((g) => `W_x${g}`).join(' | ')}]ᵀ stacked row-wise; ` +
      `W_h· → ${t('weight_hh')} likewise; [${gates.map((g) => `b_${g}`).join(' ')}] → ${t('bias_ih')}, ${t('bias_hh')} = 0 (back: b_· = bias_ih + bias_hh)`,
  };
}

/**
 * The entries of a model: stacked recurrent layers where `stacked` says so, then every remaining name
 * through `renameFn` (identity by default; a name the twin lacks is an error here, not a silent drop).
 */
export function buildLayout(names: readonly string[], opts: { stacked?: LayoutEntry[]; renameFn?: (name: string) => string } = {}): TorchLayout {
  const stacked = opts.stacked ?? [];
  const taken = new Set(stacked.flatMap((e) => e.ours));
  const fn = opts.renameFn ?? ((n: string) => n);
  return new TorchLayout([...stacked, ...names.filter((n) => !taken.has(n)).map((n) => rename(n, fn(n)))]);
}
