/**
 * Plots as standalone SVG strings, with no library underneath.
 *
 * - lineSvg(series, opts): curves such as train loss / train acc / test acc per epoch, with axes, ticks,
 *   labels, a legend and a title; points that are NaN or ±Infinity (or ≤ 0 on a log axis) are skipped
 *   and break the line; optional log-scale y.
 * - contourSvg(f, xRange, yRange, levels, paths): contour lines of a 2-D function f(x1, x2), traced by
 *   marching squares, with optimisation trajectories (the iterates x_0, x_1, ...) drawn on top.
 * - contourLines(f, xRange, yRange, level): the same contour lines as line segments in data coordinates.
 * - heatmapSvg(panels): matrices as grids of shaded cells with row and column labels, side by side
 *   (attention weights: one row per query, one column per key).
 */

export type Point = readonly [number, number];

export interface Series {
  name: string;
  y: ArrayLike<number>;
  /** x values; default 1, 2, ..., n (epochs). */
  x?: ArrayLike<number>;
  /** A CSS colour; default from a fixed palette. */
  color?: string;
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Size in pixels (default 640 × 400). */
  width?: number;
  height?: number;
  /** Logarithmic y axis (values ≤ 0 are skipped). */
  logY?: boolean;
  /** Fixed axis ranges; default: the data's range and a 5% margin. */
  xRange?: Point;
  yRange?: Point;
}

/** A path of iterates drawn over a contour plot. */
export interface Trajectory {
  name?: string;
  points: readonly Point[];
  color?: string;
}

export interface ContourOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Grid cells per axis for marching squares (default 80). */
  resolution?: number;
}

/** matplotlib's "tab10" colours (the d2l plots' defaults), and dash patterns to tell curves apart in grey. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const DASHES = ['', '6 3', '6 3 2 3', '2 3'];

// ---------------------------------------------------------------- line plots

export function lineSvg(series: readonly Series[], opts: PlotOptions = {}): string {
  if (!Array.isArray(series)) throw new TypeError(`lineSvg: expected an array of series {name, y, x?}, got ${typeof series}`);
  const logY = opts.logY ?? false;
  const data = series.map((s, i) => {
    if (typeof s?.name !== 'string' || s.y == null || typeof s.y.length !== 'number') {
      throw new TypeError(`lineSvg: series ${i} must be {name: string, y: number[], x?: number[]}`);
    }
    const n = s.y.length;
    if (s.x !== undefined && s.x.length !== n) {
      throw new RangeError(`lineSvg: series ${JSON.stringify(s.name)} has ${s.x.length} x values and ${n} y values`);
    }
    const pts: (Point | null)[] = [];
    for (let k = 0; k < n; k++) {
      const x = s.x ? Number(s.x[k]) : k + 1;
      const y = Number(s.y[k]);
      pts.push(Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) ? [x, y] : null);
    }
    return pts;
  });
  const valid = data.flat().filter((p): p is Point => p !== null);

  const { width, height, box } = layout(opts, opts.title !== undefined);
  const xDomain = opts.xRange ?? dataDomain(valid.map((p) => p[0]), false);
  const yDomain = opts.yRange ?? dataDomain(valid.map((p) => p[1]), logY);
  checkRange(xDomain, 'xRange', false);
  checkRange(yDomain, 'yRange', logY);
  const xAxis: Axis = { lo: xDomain[0], hi: xDomain[1], log: false, px0: box.x, px1: box.x + box.w };
  const yAxis: Axis = { lo: yDomain[0], hi: yDomain[1], log: logY, px0: box.y + box.h, px1: box.y };

  const body: string[] = [];
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = DASHES[i % DASHES.length];
    body.push(`<g class="series" data-name="${esc(s.name)}">`);
    body.push(polyline(data[i], xAxis, yAxis, color, dash));
    body.push('</g>');
  });
  const legend = series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length], dash: DASHES[i % DASHES.length], marker: false }));
  return frame(width, height, box, opts, xAxis, yAxis, body, legend);
}

// ---------------------------------------------------------------- contour plots

/**
 * Contour lines of f over xRange × yRange, with optimisation paths on top. `levels` is a list of f
 * values, or a count n for n values evenly spaced strictly between the smallest and largest f on the grid.
 */
export function contourSvg(
  f: (x: number, y: number) => number,
  xRange: Point,
  yRange: Point,
  levels: number | readonly number[],
  paths: readonly Trajectory[] = [],
  opts: ContourOptions = {},
): string {
  if (typeof f !== 'function') throw new TypeError(`contourSvg: f must be a function (x, y) => number, got ${typeof f}`);
  checkRange(xRange, 'xRange', false);
  checkRange(yRange, 'yRange', false);
  const grid = sampleGrid(f, xRange, yRange, opts.resolution ?? 80);
  const levelList = resolveLevels(levels, grid.values);

  const { width, height, box } = layout(opts, opts.title !== undefined);
  const xAxis: Axis = { lo: xRange[0], hi: xRange[1], log: false, px0: box.x, px1: box.x + box.w };
  const yAxis: Axis = { lo: yRange[0], hi: yRange[1], log: false, px0: box.y + box.h, px1: box.y };

  const body: string[] = [];
  const sorted = [...levelList].sort((a, b) => a - b);
  for (const level of sorted) {
    const segs = marchingSquares(grid, level);
    const d = segs.map(([a, b]) => `M${px(toPx(xAxis, a[0]))} ${px(toPx(yAxis, a[1]))}L${px(toPx(xAxis, b[0]))} ${px(toPx(yAxis, b[1]))}`).join('');
    // Low levels dark blue, high levels light blue.
    const t = sorted.length > 1 ? sorted.indexOf(level) / (sorted.length - 1) : 0;
    const color = mixColor([8, 48, 107], [107, 174, 214], t);
    body.push(`<path class="contour" data-level="${level}" d="${d}" fill="none" stroke="${color}" stroke-width="1"><title>f = ${esc(String(level))}</title></path>`);
  }
  const legend: LegendEntry[] = [];
  paths.forEach((p, i) => {
    if (!p || !Array.isArray(p.points)) throw new TypeError(`contourSvg: path ${i} must be {name?, points: [x, y][]}`);
    // The first trajectory is orange, as in d2l's show_trace_2d.
    const color = p.color ?? PALETTE[(i + 1) % PALETTE.length];
    const pts = p.points.map((q) => (Number.isFinite(q[0]) && Number.isFinite(q[1]) ? ([q[0], q[1]] as Point) : null));
    body.push(`<g class="trajectory" data-name="${esc(p.name ?? `path ${i + 1}`)}">`);
    body.push(polyline(pts, xAxis, yAxis, color, ''));
    for (const q of pts) {
      if (q) body.push(`<circle cx="${px(toPx(xAxis, q[0]))}" cy="${px(toPx(yAxis, q[1]))}" r="2.5" fill="${color}"/>`);
    }
    body.push('</g>');
    if (p.name !== undefined) legend.push({ name: p.name, color, dash: '', marker: true });
  });
  return frame(width, height, box, { ...opts, xLabel: opts.xLabel ?? 'x1', yLabel: opts.yLabel ?? 'x2' }, xAxis, yAxis, body, legend);
}

/** The contour line f = level over xRange × yRange, as segments [[x1, y1], [x2, y2]] in data coordinates. */
export function contourLines(
  f: (x: number, y: number) => number,
  xRange: Point,
  yRange: Point,
  level: number,
  resolution = 80,
): [Point, Point][] {
  checkRange(xRange, 'xRange', false);
  checkRange(yRange, 'yRange', false);
  return marchingSquares(sampleGrid(f, xRange, yRange, resolution), level);
}

interface Grid {
  nx: number;
  ny: number;
  xs: Float64Array;
  ys: Float64Array;
  /** f at node (i, j) is values[j * (nx + 1) + i]. */
  values: Float64Array;
}

function sampleGrid(f: (x: number, y: number) => number, xRange: Point, yRange: Point, resolution: number): Grid {
  if (!Number.isInteger(resolution) || resolution < 2) throw new RangeError(`contour: resolution must be an integer >= 2, got ${resolution}`);
  const nx = resolution;
  const ny = resolution;
  const xs = new Float64Array(nx + 1).map((_, i) => xRange[0] + ((xRange[1] - xRange[0]) * i) / nx);
  const ys = new Float64Array(ny + 1).map((_, j) => yRange[0] + ((yRange[1] - yRange[0]) * j) / ny);
  const values = new Float64Array((nx + 1) * (ny + 1));
  for (let j = 0; j <= ny; j++) for (let i = 0; i <= nx; i++) values[j * (nx + 1) + i] = f(xs[i], ys[j]);
  return { nx, ny, xs, ys, values };
}

function resolveLevels(levels: number | readonly number[], values: Float64Array): number[] {
  if (Array.isArray(levels)) {
    for (const l of levels) if (!Number.isFinite(l)) throw new RangeError(`contourSvg: levels must be finite numbers, got ${levels.join(', ')}`);
    return [...levels];
  }
  if (typeof levels !== 'number' || !Number.isInteger(levels) || levels < 1) {
    throw new RangeError(`contourSvg: levels must be a count >= 1 or a list of f values, got ${String(levels)}`);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (lo === Infinity) return [];
  return Array.from({ length: levels }, (_, k) => lo + ((hi - lo) * (k + 1)) / (levels + 1));
}

/**
 * Marching squares: in each grid cell, the level line crosses the cell edges whose two ends lie on
 * different sides of the level (a node is "inside" when f ≥ level); the crossing point is found by linear
 * interpolation along the edge. Two crossings give one segment. Four crossings (a saddle: diagonal
 * corners on the same side) are paired by the value at the cell centre. Cells touching a non-finite f
 * value are skipped.
 */
function marchingSquares(g: Grid, level: number): [Point, Point][] {
  const { nx, xs, ys, values } = g;
  const v = (i: number, j: number): number => values[j * (nx + 1) + i];
  // Crossing on the edge from node (i0, j0) to node (i1, j1). Always called with the lower-left node
  // first, so that the two cells sharing an edge compute exactly the same point.
  const cross = (i0: number, j0: number, i1: number, j1: number): Point => {
    const a = v(i0, j0);
    const t = (level - a) / (v(i1, j1) - a);
    return [xs[i0] + t * (xs[i1] - xs[i0]), ys[j0] + t * (ys[j1] - ys[j0])];
  };
  const segs: [Point, Point][] = [];
  for (let j = 0; j < g.ny; j++) {
    for (let i = 0; i < nx; i++) {
      // Corners counter-clockwise from the lower left: a (i, j), b (i+1, j), c (i+1, j+1), d (i, j+1).
      const va = v(i, j), vb = v(i + 1, j), vc = v(i + 1, j + 1), vd = v(i, j + 1);
      if (!(Number.isFinite(va) && Number.isFinite(vb) && Number.isFinite(vc) && Number.isFinite(vd))) continue;
      const ia = va >= level, ib = vb >= level, ic = vc >= level, id = vd >= level;
      // Crossings on the edges bottom (a-b), right (b-c), top (d-c) and left (a-d), or null.
      const bottom = ia !== ib ? cross(i, j, i + 1, j) : null;
      const right = ib !== ic ? cross(i + 1, j, i + 1, j + 1) : null;
      const top = id !== ic ? cross(i, j + 1, i + 1, j + 1) : null;
      const left = ia !== id ? cross(i, j, i, j + 1) : null;
      const hits = [bottom, right, top, left].filter((p): p is Point => p !== null);
      if (hits.length === 2) {
        segs.push([hits[0], hits[1]]);
      } else if (hits.length === 4) {
        const centreInside = (va + vb + vc + vd) / 4 >= level;
        if (centreInside === ia) {
          // a and c are joined through the centre: the line cuts off corners b and d.
          segs.push([bottom!, right!], [top!, left!]);
        } else {
          // b and d are joined: the line cuts off corners a and c.
          segs.push([left!, bottom!], [right!, top!]);
        }
      }
    }
  }
  return segs;
}

// ---------------------------------------------------------------- axes, frame, legend

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  /** Pixel positions of lo and hi. */
  px0: number;
  px1: number;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface LegendEntry {
  name: string;
  color: string;
  dash: string;
  marker: boolean;
}

function layout(opts: { width?: number; height?: number }, hasTitle: boolean): { width: number; height: number; box: Box } {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  if (!(width >= 160 && height >= 120 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new RangeError(`plot: width and height must be at least 160 × 120 pixels, got ${width} × ${height}`);
  }
  const top = hasTitle ? 36 : 16;
  const box = { x: 70, y: top, w: width - 70 - 20, h: height - top - 50 };
  return { width, height, box };
}

function checkRange(r: Point, what: string, log: boolean): void {
  if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[0] < r[1])) {
    throw new RangeError(`plot: ${what} must be [lo, hi] with finite lo < hi, got ${JSON.stringify(r)}`);
  }
  if (log && r[0] <= 0) throw new RangeError(`plot: a log axis needs a positive range, got ${JSON.stringify(r)}`);
}

/** Data value to pixel. Far-off values are clamped so that the SVG holds no huge numbers. */
function toPx(a: Axis, v: number): number {
  const t = a.log ? Math.log10(v / a.lo) / Math.log10(a.hi / a.lo) : (v - a.lo) / (a.hi - a.lo);
  return a.px0 + Math.max(-100, Math.min(100, t)) * (a.px1 - a.px0);
}

/** A pixel coordinate with two decimals. */
function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Round step for about `n` ticks over a span: 1, 2 or 5 times a power of ten. */
function niceStep(span: number, n = 5): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/** The data's [min, max] with a 5% margin (on a log axis: of the log range); a single value gets room around it. */
function dataDomain(vals: number[], log: boolean): Point {
  if (vals.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of vals) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (log) [lo, hi] = [Math.log10(lo), Math.log10(hi)];
  if (lo === hi) {
    const pad = log ? 0.5 : Math.abs(lo) * 0.1 || 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const margin = (hi - lo) * 0.05;
  [lo, hi] = [lo - margin, hi + margin];
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

/** Tick values inside the axis range. */
function ticks(a: Axis): number[] {
  if (a.log) {
    const first = Math.ceil(Math.log10(a.lo) - 1e-9);
    const last = Math.floor(Math.log10(a.hi) + 1e-9);
    const every = Math.max(1, Math.ceil((last - first + 1) / 8));
    const out: number[] = [];
    for (let k = first; k <= last; k += every) out.push(10 ** k);
    // Within about one decade, add 2 and 5 times the powers of ten.
    if (out.length < 3) {
      for (let k = first - 1; k <= last; k++) for (const m of [2, 5]) out.push(m * 10 ** k);
    }
    const inside = out.filter((v) => v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9)).sort((x, y) => x - y);
    // Less than a decade wide: round linear values instead.
    if (inside.length >= 2) return inside;
    return ticks({ ...a, log: false }).filter((v) => v > 0);
  }
  const step = niceStep(a.hi - a.lo);
  const out: number[] = [];
  for (let k = Math.ceil(a.lo / step - 1e-9); k * step <= a.hi + step * 1e-9; k++) out.push(k * step);
  return out;
}

/** A tick label without floating-point noise (0.30000000000000004 becomes 0.3). */
function tickLabel(v: number): string {
  return String(Number(v.toPrecision(12)));
}

/** The whole picture: background, grid, axes, ticks, labels, title, the clipped plot body, the legend. */
function frame(
  width: number,
  height: number,
  box: Box,
  opts: { title?: string; xLabel?: string; yLabel?: string },
  xAxis: Axis,
  yAxis: Axis,
  body: string[],
  legend: LegendEntry[],
): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  const bottom = box.y + box.h;
  const right = box.x + box.w;
  out.push('<g class="axes">');
  for (const t of ticks(xAxis)) {
    const x = px(toPx(xAxis, t));
    out.push(`<line x1="${x}" y1="${box.y}" x2="${x}" y2="${bottom}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="black"/>`);
    out.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${esc(tickLabel(t))}</text>`);
  }
  for (const t of ticks(yAxis)) {
    const y = px(toPx(yAxis, t));
    out.push(`<line x1="${box.x}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${box.x - 5}" y1="${y}" x2="${box.x}" y2="${y}" stroke="black"/>`);
    out.push(`<text x="${box.x - 8}" y="${y}" text-anchor="end" dy="0.35em">${esc(tickLabel(t))}</text>`);
  }
  out.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="none" stroke="black"/>`);
  if (opts.xLabel) out.push(`<text x="${box.x + box.w / 2}" y="${height - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = box.y + box.h / 2;
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${esc(opts.yLabel)}</text>`);
  }
  if (opts.title !== undefined) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  out.push('</g>');
  // A nested <svg> clips its content to its viewport: curves stay inside the plot area.
  out.push(`<svg x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" viewBox="${box.x} ${box.y} ${box.w} ${box.h}">`);
  out.push(...body);
  out.push('</svg>');
  if (legend.length) out.push(legendSvg(legend, box));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A legend box in the top-right corner of the plot area. */
function legendSvg(entries: LegendEntry[], box: Box): string {
  const rowH = 18;
  const w = 40 + 7 * Math.max(...entries.map((e) => e.name.length));
  const h = rowH * entries.length + 8;
  const x0 = box.x + box.w - w - 8;
  const y0 = box.y + 8;
  const out = [`<g class="legend">`, `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="white" fill-opacity="0.85" stroke="#bbbbbb"/>`];
  entries.forEach((e, k) => {
    const y = y0 + 4 + rowH * k + rowH / 2;
    const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : '';
    out.push(`<line x1="${x0 + 6}" y1="${y}" x2="${x0 + 30}" y2="${y}" stroke="${e.color}" stroke-width="2"${dash}/>`);
    if (e.marker) out.push(`<circle cx="${x0 + 18}" cy="${y}" r="2.5" fill="${e.color}"/>`);
    out.push(`<text x="${x0 + 36}" y="${y}" dy="0.35em">${esc(e.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * One <path> through the points; a null (a skipped point) breaks the line. A point with no neighbour
 * would be invisible as a path, so it also gets a dot.
 */
function polyline(pts: readonly (Point | null)[], xAxis: Axis, yAxis: Axis, color: string, dash: string): string {
  let d = '';
  const dots: string[] = [];
  for (let k = 0; k < pts.length; k++) {
    const p = pts[k];
    if (!p) continue;
    const x = px(toPx(xAxis, p[0]));
    const y = px(toPx(yAxis, p[1]));
    const startsSegment = k === 0 || !pts[k - 1];
    d += `${startsSegment ? 'M' : 'L'}${x} ${y}`;
    if (startsSegment && (k === pts.length - 1 || !pts[k + 1])) dots.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${color}"/>`);
  }
  const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
  return [`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${dashAttr}/>`, ...dots].join('\n');
}

function mixColor(a: number[], b: number[], t: number): string {
  return '#' + a.map((v, i) => Math.round(v + (b[i] - v) * t).toString(16).padStart(2, '0')).join('');
}

/** Escape text for XML content and attribute values. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A classifier's curves over its epochs: training loss, training accuracy, test accuracy (one plot). */
export function classifierCurves(title: string, h: readonly { train_loss: number; train_acc: number; test_acc: number }[]): string {
  return lineSvg(
    [
      { name: 'train loss', y: h.map((r) => r.train_loss) },
      { name: 'train acc', y: h.map((r) => r.train_acc) },
      { name: 'test acc', y: h.map((r) => r.test_acc) },
    ],
    { title, xLabel: 'epoch' },
  );
}

// ---------------------------------------------------------------- heatmaps

/** One matrix to draw: values[r][c] in [0, 1] (darker is larger), with a label per row and column. */
export interface HeatmapPanel {
  title: string;
  rows: readonly string[];
  cols: readonly string[];
  values: readonly (readonly number[])[];
}

/** Panels side by side, `perRow` to a row (default 4); each cell shaded from white (0) to dark blue (1), its value in a tooltip. */
export function heatmapSvg(panels: readonly HeatmapPanel[], opts: { title?: string; perRow?: number; cell?: number } = {}): string {
  if (panels.length === 0) throw new RangeError('heatmapSvg: no panels to draw');
  const cell = opts.cell ?? 22;
  const perRow = Math.max(1, Math.min(opts.perRow ?? 4, panels.length));
  panels.forEach((p, i) => {
    if (p.values.length !== p.rows.length || p.values.some((r) => r.length !== p.cols.length)) {
      throw new RangeError(`heatmapSvg: panel ${i} (${JSON.stringify(p.title)}) has ${p.rows.length} row and ${p.cols.length} column labels but a ${p.values.length} × ${p.values[0]?.length ?? 0} matrix`);
    }
  });
  const label = (xs: readonly string[]) => Math.max(1, ...xs.map((x) => x.length)) * 7 + 8;
  const left = Math.max(...panels.map((p) => label(p.rows)));
  const top = Math.max(...panels.map((p) => label(p.cols))) + 20;
  const w = left + cell * Math.max(...panels.map((p) => p.cols.length)) + 16;
  const h = top + cell * Math.max(...panels.map((p) => p.rows.length)) + 16;
  const head = opts.title ? 28 : 0;
  const width = w * perRow;
  const height = head + h * Math.ceil(panels.length / perRow);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`);
  panels.forEach((p, i) => {
    const x0 = (i % perRow) * w + left;
    const y0 = head + Math.floor(i / perRow) * h + top;
    out.push(`<g class="panel" data-title="${esc(p.title)}">`);
    out.push(`<text x="${x0}" y="${y0 - top + 13}" font-size="12">${esc(p.title)}</text>`);
    p.rows.forEach((r, k) => out.push(`<text x="${x0 - 4}" y="${y0 + k * cell + cell * 0.65}" text-anchor="end">${esc(r)}</text>`));
    p.cols.forEach((c, k) => {
      const cx = x0 + k * cell + cell * 0.65;
      out.push(`<text x="${cx}" y="${y0 - 4}" transform="rotate(-90 ${cx} ${y0 - 4})">${esc(c)}</text>`);
    });
    p.values.forEach((row, r) => row.forEach((v, c) => {
      const t = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
      out.push(`<rect x="${x0 + c * cell}" y="${y0 + r * cell}" width="${cell}" height="${cell}" fill="${mixColor([255, 255, 255], [8, 48, 107], t)}"><title>${esc(`${p.rows[r]} → ${p.cols[c]}: ${v.toFixed(3)}`)}</title></rect>`);
    }));
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}
