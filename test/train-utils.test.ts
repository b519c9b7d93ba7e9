/**
 * Tests of the training utilities in src/train: progress display, SVG plots (line and contour),
 * metrics, and result.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/tensor.js';
import { backendInfo } from '../src/backend/registry.js';
import { Progress, TextStream } from '../src/train/progress.js';
import { contourLines, contourSvg, lineSvg } from '../src/train/plot.js';
import { accuracy, correctCount, perplexity, RunningMean, TensorSums, Timer } from '../src/train/metrics.js';
import { fit, Training } from '../src/train/loop.js';
import { buildResult, libraryVersion, ResultInput, RunInfo, writeResult } from '../src/train/result.js';
import { gitCommit, packageRoot, runInfo } from '../src/train/provenance.js';

// ------------------------------------------------------------------ helpers

/** A stream that records what is written, and a clock the test moves by hand. */
function fakeStream(isTTY: boolean, columns?: number): TextStream & { chunks: string[]; text(): string } {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}
function fakeClock(): { now: () => number; t: number } {
  const c = { t: 0, now: () => c.t };
  return c;
}

/**
 * What a terminal would show after this output: "\r" moves to column 0, ESC[2K erases the line,
 * "\n" ends a line; other characters overwrite at the cursor. Returns the finished lines and the
 * line being drawn.
 */
function terminalScreen(out: string): { lines: string[]; current: string } {
  const lines: string[] = [];
  let line: string[] = [];
  let col = 0;
  for (let k = 0; k < out.length; k++) {
    if (out.startsWith('\x1b[2K', k)) {
      line = [];
      k += 3;
    } else if (out[k] === '\r') col = 0;
    else if (out[k] === '\n') {
      lines.push(line.join(''));
      line = [];
      col = 0;
    } else {
      assert.ok(out.charCodeAt(k) >= 0x20, `unexpected control character ${out.charCodeAt(k)}`);
      line[col++] = out[k];
    }
  }
  return { lines, current: line.join('') };
}

/**
 * A small XML well-formedness check: after an optional <?xml ...?> declaration, every "<" starts a
 * start tag, end tag or empty-element tag with quoted, unique attributes; tags nest; one root
 * element; "&" only starts a predefined entity. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"<]*")*)\s*(\/?)>/y;
  const names: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let k = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  while (k < xml.length) {
    const lt = xml.indexOf('<', k);
    const text = xml.slice(k, lt === -1 ? xml.length : lt);
    assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos);)/, `bare & in text ${JSON.stringify(text)}`);
    if (stack.length === 0) assert.match(text, /^\s*$/, `text outside the root element: ${JSON.stringify(text)}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    assert.ok(m, `malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 80))}`);
    const [whole, close, name, attrs, selfClose] = m;
    const attrNames = [...attrs.matchAll(/([A-Za-z][\w:.-]*)="/g)].map((a) => a[1]);
    assert.equal(new Set(attrNames).size, attrNames.length, `duplicate attribute in ${whole}`);
    for (const v of attrs.matchAll(/="([^"]*)"/g)) assert.doesNotMatch(v[1], /&(?!(amp|lt|gt|quot|apos);)/, `bare & in ${whole}`);
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      names.push(name);
      if (!selfClose) stack.push(name);
    }
    k = lt + whole.length;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'one root element');
  return names;
}

/** The <path d> vertices of an SVG path made of M and L commands. */
function pathPoints(d: string): { cmd: string; x: number; y: number }[] {
  const out: { cmd: string; x: number; y: number }[] = [];
  for (const m of d.matchAll(/([ML])\s*([^\sML]+)[\s,]+([^\sML]+)/g)) out.push({ cmd: m[1], x: Number(m[2]), y: Number(m[3]) });
  // The regex must have consumed every command letter.
  assert.equal(out.length, (d.match(/[ML]/g) ?? []).length, `unparsed path ${d.slice(0, 80)}`);
  return out;
}

/** The d attribute of the path inside <g ... data-name="name">. */
function seriesPath(svg: string, name: string): string {
  const g = svg.split(`data-name="${name}">`)[1];
  assert.ok(g !== undefined, `no group for ${name}`);
  return /<path d="([^"]*)"/.exec(g)![1];
}

// ------------------------------------------------------------------ progress

test('progress: plain lines when the stream is not a terminal (exact text)', () => {
  const s = fakeStream(false);
  const c = fakeClock();
  const p = new Progress({ epochs: 2, stream: s, now: c.now, logEvery: 2 });
  p.startEpoch(1, 4);
  const steps: [number, number, number][] = [
    // [time ms, batch mean loss, batch size]
    [500, 1.0, 10],
    [1000, 0.5, 10],
    [1500, 0.25, 10],
    [2000, 0.25, 5],
  ];
  for (const [t, loss, bs] of steps) {
    c.t = t;
    p.step(loss, bs);
  }
  const summary = p.endEpoch({ 'test acc': 0.8 });
  // Hand-computed: after 2 steps loss (10·1 + 10·0.5)/20 = 0.75, 20 samples in 1 s, 2 steps left at
  // 0.5 s each; the run's second epoch, by this one's pace, 4 × 0.5 s. After 4: (10 + 5 + 2.5 +
  // 1.25)/35 = 0.535714..., 35 samples in 2 s = 17.5/s.
  assert.deepEqual(s.text().split('\n'), [
    'epoch 1/2  step 2/4  loss 0.7500  20 samples/s  ETA 1.0s (run 3.0s)',
    'epoch 1/2  step 4/4  loss 0.5357  18 samples/s  ETA 0.0s (run 2.0s)',
    'epoch 1/2  loss 0.5357  test acc 0.8000  2.0s  18 samples/s',
    '',
  ]);
  assert.equal(summary.epoch, 1);
  assert.equal(summary.steps, 4);
  assert.equal(summary.samples, 35);
  assert.ok(Math.abs(summary.loss - 18.75 / 35) < 1e-12);
  assert.equal(summary.seconds, 2);
  assert.equal(summary.samplesPerSec, 17.5);
  assert.deepEqual(summary.metrics, { 'test acc': 0.8 });

  // Once an epoch has ended, the epochs to come are as long as the finished ones from start to start,
  // the evaluation between them included: epoch 1 ran from 0 to 2 s, then 1 s of evaluation.
  const s3 = fakeStream(false);
  const p3 = new Progress({ epochs: 4, stream: s3, now: c.now, logEvery: 1 });
  c.t = 0;
  p3.startEpoch(1, 4);
  c.t = 2000;
  p3.endEpoch();
  c.t = 3000;
  p3.startEpoch(2, 4);
  c.t = 3500;
  p3.step(1, 1); // 3 steps of 0.5 s left in epoch 2, then epochs 3 and 4 of 3 s each
  assert.equal(s3.text().split('\n')[1], 'epoch 2/4  step 1/4  loss 1  2.0 samples/s  ETA 1.5s (run 7.5s)');
  p3.endEpoch();
  c.t = 4000;
  p3.startEpoch(4, 4); // resumed at the last epoch: no run ETA beside the epoch's
  c.t = 4500;
  p3.step(1, 1);
  assert.equal(s3.text().split('\n')[3], 'epoch 4/4  step 1/4  loss 1  2.0 samples/s  ETA 1.5s');

  // Without logEvery only the epoch line; the next epoch number follows by default.
  const s2 = fakeStream(false);
  const p2 = new Progress({ stream: s2, now: c.now });
  for (let e = 0; e < 2; e++) {
    p2.startEpoch();
    c.t += 3000;
    p2.step(2, 4);
    p2.step(3, 4);
    c.t += 75_000;
    p2.endEpoch();
  }
  assert.deepEqual(s2.text().split('\n'), ['epoch 1  loss 2.500  1:18  0.1 samples/s', 'epoch 2  loss 2.500  1:18  0.1 samples/s', '']);
  assert.doesNotMatch(s.text() + s2.text(), /[\x00-\x09\x0b-\x1f\x7f]/, 'no control characters but newlines');
});

test('progress: in a terminal, one status line redrawn in place, throttled, then a permanent epoch line', () => {
  const s = fakeStream(true, 200);
  const c = fakeClock();
  const p = new Progress({ epochs: 3, stream: s, now: c.now, maxRedrawsPerSec: 10 });
  p.startEpoch(2, 5);
  const draws = (): number => s.chunks.filter((x) => x.includes('step')).length;
  // 10 redraws a second: at most one per 100 ms; the first step and the last one always draw.
  const times = [0, 50, 99, 100, 150];
  const expected = [1, 1, 1, 2, 3];
  times.forEach((t, k) => {
    c.t = t;
    p.step(1, 8);
    assert.equal(draws(), expected[k], `draws after step ${k + 1} at ${t} ms`);
    assert.equal(terminalScreen(s.text()).lines.length, 0, 'the status line is never a finished line');
  });
  assert.match(terminalScreen(s.text()).current, /^epoch 2\/3  step 5\/5  loss 1  267 samples\/s  ETA 0\.0s \(run 0\.1s\)$/);
  for (const chunk of s.chunks) assert.ok(chunk.startsWith('\r\x1b[2K'), 'each redraw returns to column 0 and erases the line');

  c.t = 1000;
  p.endEpoch({ acc: 0.5 });
  const screen = terminalScreen(s.text());
  assert.deepEqual(screen.lines, ['epoch 2/3  loss 1  acc 0.5000  1.0s  40 samples/s']);
  assert.equal(screen.current, '');

  // A long status line is cut to the terminal width (a wrapped line could not be redrawn by "\r").
  const narrow = fakeStream(true, 20);
  const p2 = new Progress({ stream: narrow, now: c.now });
  p2.startEpoch(1, 100);
  c.t += 10;
  p2.step(0.123456, 1);
  assert.equal(terminalScreen(narrow.text()).current, 'epoch 1  step 1/100');
  p2.close();
  assert.equal(terminalScreen(narrow.text()).current, '', 'close() erases the status line');
});

test('progress: quiet prints nothing but still returns the numbers; misuse is refused', () => {
  for (const tty of [true, false]) {
    const s = fakeStream(tty);
    const c = fakeClock();
    const p = new Progress({ stream: s, now: c.now, quiet: true, logEvery: 1 });
    p.startEpoch(1, 2);
    c.t = 100;
    p.step(4, 2);
    c.t = 200;
    p.step(1, 2);
    p.log('hello');
    const sum = p.endEpoch({ acc: 1 });
    p.close();
    assert.deepEqual(s.chunks, []);
    assert.equal(sum.loss, 2.5);
    assert.equal(sum.samplesPerSec, 20);
  }
  const p = new Progress({ stream: fakeStream(false) });
  assert.throws(() => p.step(1, 1), /startEpoch/);
  assert.throws(() => new Progress({ stream: fakeStream(false), logEvery: 1.5 }), /logEvery/);
  p.startEpoch(1, 3);
  assert.throws(() => p.step(1, -2), /batchSize/);
});

// ------------------------------------------------------------------ line plots

test('lineSvg: well-formed SVG with the series names, a legend and the right number of points', () => {
  const loss = [1.2, 0.8, NaN, 0.5, 0.4, Infinity, 0.3];
  const trainAcc = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9];
  const svg = lineSvg(
    [
      { name: 'train loss', y: loss },
      { name: 'train acc', y: trainAcc },
      { name: 'test acc', y: [0.55, 0.62, 0.71, 0.78, 0.8, 0.82], x: [1, 2, 3, 4, 5, 6] },
    ],
    { title: 'LeNet <cpu> & Fashion-MNIST', xLabel: 'epoch', yLabel: 'value' },
  );
  const names = checkXml(svg);
  assert.equal(names[0], 'svg');
  assert.ok(names.includes('path') && names.includes('text') && names.includes('line'));
  assert.ok(svg.includes('LeNet &lt;cpu&gt; &amp; Fashion-MNIST'), 'title escaped');
  assert.ok(svg.includes('>epoch</text>') && svg.includes('>value</text>'), 'axis labels');
  for (const name of ['train loss', 'train acc', 'test acc']) {
    assert.ok(svg.includes(`data-name="${name}"`), `series ${name}`);
    assert.ok(svg.includes(`>${name}</text>`), `legend entry ${name}`);
  }
  assert.doesNotMatch(svg, /NaN|Infinity/);

  // NaN and Infinity are skipped and break the line: M L, then M L, then a lone point at x = 7.
  const lossPts = pathPoints(seriesPath(svg, 'train loss'));
  assert.deepEqual(lossPts.map((p) => p.cmd).join(''), 'MLMLM');
  const accPts = pathPoints(seriesPath(svg, 'train acc'));
  assert.equal(accPts.length, 6);
  for (const p of [...lossPts, ...accPts]) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
  // x grows to the right with equal spacing per epoch; a higher value is higher up (smaller pixel y).
  for (let k = 1; k < 6; k++) {
    assert.ok(Math.abs(accPts[k].x - accPts[k - 1].x - (accPts[1].x - accPts[0].x)) < 0.02);
    assert.ok(accPts[k].y < accPts[k - 1].y);
  }
  // The lone point (0.3 at x = 7) also gets a dot so that it is visible.
  const lone = lossPts[4];
  assert.ok(svg.includes(`<circle cx="${lone.x}" cy="${lone.y}"`));
  // Tick labels are round numbers.
  const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const l of ['1', '2', '7', '0.4', '1.2']) assert.ok(labels.includes(l), `tick label ${l} in ${labels.join(' ')}`);
});

test('lineSvg: a single point, a constant series, all-NaN, escaping and a log y axis', () => {
  const cases = [
    [{ name: 'one', y: [0.7] }],
    [{ name: 'flat', y: [2, 2, 2, 2] }],
    [{ name: 'zero', y: [0, 0] }],
    [{ name: 'none', y: [NaN, Infinity, -Infinity] }],
    [{ name: 'a<b & "c"', y: [1, 2] }],
    [],
  ];
  for (const series of cases) {
    const svg = lineSvg(series);
    checkXml(svg);
    assert.doesNotMatch(svg, /NaN|Infinity/);
    for (const m of svg.matchAll(/ d="([^"]*)"/g)) for (const p of pathPoints(m[1])) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
  }
  assert.equal(pathPoints(seriesPath(lineSvg([{ name: 'flat', y: [2, 2, 2, 2] }]), 'flat')).length, 4);
  assert.ok(lineSvg([{ name: 'a<b & "c"', y: [1] }]).includes('data-name="a&lt;b &amp; &quot;c&quot;"'));

  // Log scale: 0 and negative values are skipped; equal ratios are equal distances.
  const svg = lineSvg([{ name: 'loss', y: [100, 10, 1, 0, -1, 0.1] }], { logY: true });
  checkXml(svg);
  const pts = pathPoints(seriesPath(svg, 'loss'));
  assert.equal(pts.length, 4);
  const gaps = [pts[1].y - pts[0].y, pts[2].y - pts[1].y, pts[3].y - pts[2].y];
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 0.02 && g > 0, `gaps ${gaps}`);
  const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const l of ['0.1', '1', '10', '100']) assert.ok(labels.includes(l), `log tick ${l} in ${labels.join(' ')}`);

  assert.throws(() => lineSvg([{ name: 'x', y: [1, 2], x: [1] }]), /2 y values/);
  assert.throws(() => lineSvg([{ name: 'x', y: [1] }], { yRange: [0, 1], logY: true }), /positive/);
});

// ------------------------------------------------------------------ contour plots

const bowl = (x: number, y: number): number => x * x + y * y;

test('contourLines: the level lines of x² + y² are closed circles of radius √level', () => {
  const res = 64;
  const h = 4 / res;
  for (const r of [0.5, 1, 1.7]) {
    const segs = contourLines(bowl, [-2, 2], [-2, 2], r * r, res);
    assert.ok(segs.length > (2 * Math.PI * r) / h, `${segs.length} segments for r = ${r}`);
    const angles: number[] = [];
    const seen = new Map<string, number>();
    for (const seg of segs) {
      for (const [x, y] of seg) {
        // Linear interpolation of a quadratic along an edge of length h is off by far less than h.
        assert.ok(Math.abs(Math.hypot(x, y) - r) < 0.01, `point (${x}, ${y}) at radius ${Math.hypot(x, y)}, expected ${r}`);
        angles.push(Math.atan2(y, x));
        const key = `${x},${y}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    // Closed: every end point is shared by exactly two segments.
    for (const [key, n] of seen) assert.equal(n, 2, `end point ${key} used ${n} times`);
    // The whole circle is covered: no gap between consecutive angles wider than a few cells.
    angles.sort((a, b) => a - b);
    let gap = angles[0] + 2 * Math.PI - angles[angles.length - 1];
    for (let k = 1; k < angles.length; k++) gap = Math.max(gap, angles[k] - angles[k - 1]);
    assert.ok(gap < (2 * h) / r, `largest angular gap ${gap}`);
  }
  assert.deepEqual(contourLines(bowl, [-2, 2], [-2, 2], 100), [], 'a level above the maximum has no line');
  // Saddle f = x·y (linear along every grid edge): the level 0 line crosses the edges on the axes.
  const saddle = contourLines((x, y) => x * y, [-1.05, 1], [-1.05, 1], 0, 21);
  assert.ok(saddle.length >= 40);
  for (const [x, y] of saddle.flat()) assert.ok(Math.abs(x) < 1e-12 || Math.abs(y) < 1e-12, `(${x}, ${y}) is on no axis`);
  // A saddle cell (diagonal corners on the same side) is resolved by the centre value: for
  // f = x·y + c the line lies where x·y = −c, so with c > 0 every segment runs through x·y < 0.
  for (const c of [0.05, -0.05]) {
    const segs = contourLines((x, y) => x * y + c, [-1.5, 1.5], [-1.5, 1.5], 0, 3);
    assert.ok(segs.length >= 6);
    for (const [[x1, y1], [x2, y2]] of segs) assert.ok(Math.sign(((x1 + x2) / 2) * ((y1 + y2) / 2)) === -Math.sign(c), `c = ${c}: segment (${x1}, ${y1})-(${x2}, ${y2})`);
  }
  // Cells with a non-finite value are skipped.
  assert.deepEqual(contourLines(() => NaN, [0, 1], [0, 1], 0), []);
  assert.throws(() => contourLines(bowl, [1, -1], [0, 1], 0), /xRange/);
});

test('contourSvg: contour lines plus a gradient-descent trajectory, well-formed', () => {
  // Gradient descent on f(x1, x2) = x1² + 2·x2² from (-1.5, -1.5), learning rate 0.1, as in d2l's demo.
  const f = (x: number, y: number): number => x * x + 2 * y * y;
  const path: [number, number][] = [[-1.5, -1.5]];
  for (let k = 0; k < 10; k++) {
    const [x, y] = path[path.length - 1];
    path.push([x - 0.1 * 2 * x, y - 0.1 * 4 * y]);
  }
  const svg = contourSvg(f, [-2, 2], [-2, 2], 5, [{ name: 'gd, lr 0.1', points: path }], { title: 'f = x1² + 2 x2²' });
  checkXml(svg);
  const contours = [...svg.matchAll(/<path class="contour" data-level="([^"]+)" d="([^"]*)"/g)];
  assert.equal(contours.length, 5);
  // 5 levels evenly spaced strictly inside [min, max] = [0, 12] of f over the grid: 2, 4, ..., 10.
  contours.forEach((m, k) => assert.ok(Math.abs(Number(m[1]) - 2 * (k + 1)) < 1e-9, `level ${m[1]}`));
  for (const m of contours) {
    const pts = pathPoints(m[2]);
    assert.ok(pts.length > 20);
    for (const p of pts) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
  }
  const traj = pathPoints(seriesPath(svg, 'gd, lr 0.1'));
  assert.equal(traj.length, 11);
  assert.equal(svg.split('data-name="gd, lr 0.1">')[1].split('</g>')[0].match(/<circle/g)!.length, 11, 'one dot per iterate');
  assert.ok(svg.includes('>gd, lr 0.1</text>'), 'legend');
  assert.ok(svg.includes('>x1</text>') && svg.includes('>x2</text>'), 'default axis labels');

  // Explicit levels; a diverging path with non-finite iterates stays finite in the SVG.
  const svg2 = contourSvg(bowl, [-2, 2], [-2, 2], [0.5, 1, 3], [{ points: [[1, 1], [10, -10], [1e300, 1e300], [NaN, 0]] }]);
  checkXml(svg2);
  assert.equal([...svg2.matchAll(/class="contour"/g)].length, 3);
  assert.doesNotMatch(svg2, /NaN|Infinity|e\+/);
  assert.throws(() => contourSvg(bowl, [-2, 2], [-2, 2], 0), /levels/);
});

// ------------------------------------------------------------------ metrics

test('accuracy: argmax of logits against int32 labels (hand-computed)', () => {
  const logits = Tensor.from([
    [0.1, 2.0, 0.3], // argmax 1
    [1.0, 0.0, 0.0], // 0
    [0.2, 0.2, 0.9], // 2
    [5.0, 1.0, 6.0], // 2
    [3.0, 3.0, 1.0], // tie: the first index, 0
  ]);
  const labels = Tensor.from(new Int32Array([1, 0, 1, 0, 0]));
  assert.equal(correctCount(logits, labels), 3);
  assert.equal(accuracy(logits, labels), 3 / 5);
  // (B, T, C) logits with (B, T) labels, e.g. a language model: argmaxes [[1, 0], [0, 1]].
  const seq = Tensor.from([[[0, 1], [2, 1]], [[5, -1], [0, 0.5]]]);
  assert.equal(accuracy(seq, Tensor.from(new Int32Array([1, 0, 1, 1]), { shape: [2, 2] })), 3 / 4);
  assert.throws(() => accuracy(logits, Tensor.from([1, 0, 1, 0, 0])), /int32.*float32/);
  assert.throws(() => accuracy(logits, Tensor.from(new Int32Array([1, 0, 1]))), /\[5, 3\].*\[3\]/);
});

test('perplexity and the running mean (hand-computed)', () => {
  // Token NLLs ln 2 and ln 8: mean ln 4, perplexity 4.
  assert.ok(Math.abs(perplexity((Math.log(2) + Math.log(8)) / 2) - 4) < 1e-12);
  assert.ok(Math.abs(perplexity(Tensor.from([Math.log(2), Math.log(8)], { dtype: 'float64' })) - 4) < 1e-12);
  // A uniform prediction over V = 10 tokens has perplexity V.
  const nll = Tensor.zeros([3, 10]).logSoftmax(1).slice(1, 0, 1).neg();
  assert.ok(Math.abs(perplexity(nll) - 10) < 1e-4);
  assert.throws(() => perplexity(Tensor.zeros([0])), /no token/);

  const m = new RunningMean();
  assert.ok(Number.isNaN(m.mean));
  m.add(1.0, 10).add(Tensor.scalar(0.4), 5); // (10·1 + 5·0.4) / 15
  assert.ok(Math.abs(m.mean - 0.8) < 1e-7);
  assert.equal(m.count, 15);
  m.reset();
  m.add(3);
  assert.equal(m.mean, 3);
  assert.throws(() => m.add(1, -1), /weight/);
});

test('Timer: spans measured on an injected clock', () => {
  const c = fakeClock();
  c.t = 1000;
  const t = new Timer(c.now);
  c.t = 3500;
  assert.equal(t.elapsed(), 2.5);
  assert.equal(t.stop(), 2.5);
  t.start();
  c.t = 4000;
  assert.equal(t.stop(), 0.5);
  assert.deepEqual(t.times, [2.5, 0.5]);
  assert.equal(t.sum(), 3);
  assert.equal(t.avg(), 1.5);
  assert.deepEqual(t.cumsum(), [2.5, 3]);
});

// ------------------------------------------------------------------ result.json

const input: ResultInput = {
  paper: 'lenet',
  preset: 'cpu',
  config: { epochs: 2, lr: 0.9, batchSize: 256, bn: false, optimizer: 'sgd' },
  seed: 42,
  wallSeconds: 61.5,
  samples: 123_000,
  metrics: { test_acc: 0.81, train_loss: 0.5, grad_norm: NaN },
  files: ['model.safetensors', 'curves.svg'],
};

test('buildResult: every field; samples/s from samples and wall time; NaN stored as null', () => {
  const info: RunInfo = { version: '9.9.9', commit: 'a'.repeat(40), dirty: false, machine: { cpus: 2 } };
  const r = buildResult(input, info, new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
  const b = backendInfo();
  assert.deepEqual(JSON.parse(JSON.stringify(r)), {
    paper: 'lenet',
    preset: 'cpu',
    config: { epochs: 2, lr: 0.9, batchSize: 256, bn: false, optimizer: 'sgd' },
    seed: 42,
    metrics: { test_acc: 0.81, train_loss: 0.5, grad_norm: null },
    wallSeconds: 61.5,
    samples: 123_000,
    samplesPerSec: 2000,
    backend: { name: b.name, reason: b.reason, fallbacks: b.fallbacks },
    version: '9.9.9',
    commit: 'a'.repeat(40),
    dirty: false,
    machine: { cpus: 2 },
    date: '2024-01-02T03:04:05.000Z',
    files: ['model.safetensors', 'curves.svg'],
  });
  assert.equal(buildResult({ ...input, wallSeconds: 0 }, info).samplesPerSec, null);
  assert.deepEqual(buildResult({ ...input, files: undefined }, info).files, []);
  assert.throws(() => buildResult({ ...input, seed: 1.5 }, info), /seed/);
  assert.throws(() => buildResult({ ...input, preset: '' }, info), /preset/);
  assert.throws(() => buildResult({ ...input, metrics: { acc: '0.9' as unknown as number } }, info), /acc.*number.*string/);
  assert.throws(() => buildResult({ ...input, config: { lr: [1] as unknown as number } }, info), /config\["lr"\]/);
});

test('writeResult: result.json written atomically with version, commit, machine and backend', async () => {
  const root = packageRoot();
  const here = dirname(fileURLToPath(import.meta.url));
  assert.ok(here.startsWith(root), `package root ${root} contains this test (${here})`);
  const pkg = JSON.parse(fs.readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(libraryVersion(), pkg.version);

  const dir = fs.mkdtempSync(join(os.tmpdir(), 'pfs-result-'));
  try {
    const file = join(dir, 'result.json');
    fs.writeFileSync(file, '{"old": true}');
    const r = buildResult(input);
    await writeResult(file, r);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.endsWith('}\n'));
    const json = JSON.parse(text);
    assert.deepEqual(json, JSON.parse(JSON.stringify(r)));
    const keys = ['paper', 'preset', 'config', 'seed', 'metrics', 'wallSeconds', 'samples', 'samplesPerSec', 'backend', 'version', 'commit', 'dirty', 'machine', 'date', 'files'];
    assert.deepEqual(Object.keys(json).sort(), [...keys].sort());
    assert.equal(json.version, pkg.version);
    assert.equal(json.backend.name, backendInfo().name);
    assert.equal(json.machine.cpus, os.cpus().length);
    assert.equal(json.machine.node, process.version);
    assert.ok(Math.abs(Date.parse(json.date) - Date.now()) < 60_000);
    // The commit is what git reports for the package, or "unknown" where it is not a checkout.
    let head = 'unknown';
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      // not a git checkout
    }
    assert.equal(json.commit, head);
    assert.equal(runInfo().commit, head);
    assert.equal(typeof json.dirty, head === 'unknown' ? 'object' : 'boolean');
    assert.deepEqual(fs.readdirSync(dir), ['result.json'], 'no temporary file left behind');
    // Outside a git checkout the commit is "unknown".
    assert.deepEqual(gitCommit(dir), { commit: 'unknown', dirty: null });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit reads its sums back once per drawn line and once per epoch, never per step; the epoch record from the sums', async () => {
  // a Training whose steps return fixed losses: 50 steps of loss 0.5 + 0.01·i over 4 samples each
  const steps = 50;
  const training: Training<number> = {
    epochs: 2,
    batches: () => Array.from({ length: steps }, (_, i) => i),
    step: (i) => ({ loss: Tensor.from([0.5 + 0.01 * i]).reshape([]), count: 4, sums: { correct: Tensor.from([i % 2], { dtype: 'int32' }).reshape([]) } }),
    endEpoch: (t) => ({ record: { epoch: t.epoch, loss: t.loss, correct: t.sums.correct, n: t.count, steps: t.steps }, shown: {} }),
  };
  const item = Tensor.prototype.item;
  let reads = 0;
  Tensor.prototype.item = function (this: Tensor) {
    reads++;
    return item.call(this);
  };
  try {
    const history = await fit(training, { progress: new Progress({ epochs: 2, quiet: true }) });
    assert.equal(reads, 2 * 2, 'two sums read once at the end of each of the two epochs');
    const mean = Array.from({ length: steps }, (_, i) => 0.5 + 0.01 * i).reduce((a, b) => a + Math.fround(b), 0) / steps;
    assert.deepEqual(history.map((r) => [r.epoch, r.correct, r.n, r.steps]), [[1, 25, 200, 50], [2, 25, 200, 50]]);
    assert.ok(Math.abs(history[0].loss - mean) < 1e-12, `${history[0].loss} vs ${mean}`);
    // a plain-line log every 10 steps reads the running loss 5 more times an epoch
    reads = 0;
    const lines: string[] = [];
    await fit(training, { progress: new Progress({ epochs: 2, stream: { write: (s: string) => lines.push(s) }, logEvery: 10 }) });
    assert.equal(reads, 2 * (2 + 5));
    assert.equal(lines.filter((l) => /step \d+\/50/.test(l)).length, 10);
  } finally {
    Tensor.prototype.item = item;
  }
  // a diverging loss stops the run with a clear error
  const nan: Training<number> = { ...training, step: () => ({ loss: Tensor.from([NaN]).reshape([]), count: 1 }) };
  await assert.rejects(fit(nan, { progress: new Progress({ quiet: true }) }), /training diverged: the loss is NaN after epoch 1/);
});

test('TensorSums and the asynchronous reads: Tensor.data(), itemAsync(), readAsync()', async () => {
  const s = new TensorSums();
  s.add('loss', Tensor.from([0.25], { dtype: 'float32' }).reshape([]), 8);
  s.add('loss', Tensor.from([0.5]), 2);
  s.add('correct', Tensor.from([3], { dtype: 'int32' }));
  assert.deepEqual(s.read(), { loss: 3, correct: 3 });
  assert.deepEqual(await s.readAsync(), { loss: 3, correct: 3 });
  assert.equal(s.get('absent'), 0);
  assert.throws(() => s.add('loss', Tensor.from([1, 2])), /TensorSums\.add: loss must be a scalar tensor, got shape \[2\]/);
  const t = Tensor.from([[1, 2], [3, 4]]).transpose(0, 1);
  assert.deepEqual(Array.from(await t.data()), [1, 3, 2, 4]);
  assert.equal(await Tensor.from([7]).itemAsync(), 7);
  await assert.rejects(t.itemAsync(), /itemAsync: the tensor has 4 elements, expected 1/);
});
