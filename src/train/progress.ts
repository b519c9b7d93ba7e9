/**
 * Progress display for a training loop: epoch, step/total, the running-average loss, throughput
 * (samples/s), the time left in the epoch (ETA) and, when the number of epochs is known, in the run.
 *
 * In a terminal it keeps one status line redrawn in place (carriage return + "erase line"), at most
 * `maxRedrawsPerSec` times a second, and prints one permanent line per epoch. When the output is not a
 * terminal (a log file, CI) it prints plain lines only: one per epoch and, with `logEvery: N`, one every
 * N steps; no control characters. `quiet: true` prints nothing (the numbers are still returned).
 *
 *   const p = new Progress({ epochs: 10 });
 *   for (let e = 1; e <= 10; e++) {
 *     p.startEpoch(e, loader.length);
 *     for (const [x, y] of loader) { ...; p.step(loss.item(), x.shape[0]); }
 *     p.endEpoch({ 'test acc': testAcc });
 *   }
 *
 * The stream and the clock are injectable so that tests run without a terminal or real time.
 */
import { Clock, defaultClock, RunningMean } from './metrics.js';

/** The part of a Node writable stream (process.stderr) that the display uses. */
export interface TextStream {
  write(chunk: string): unknown;
  /** True for a terminal. */
  isTTY?: boolean;
  /** Terminal width; the status line is cut to fit so that "\r" can redraw it. */
  columns?: number;
}

export interface ProgressOptions {
  /** Total number of epochs, shown as "epoch 3/10". */
  epochs?: number;
  /** Where to write; default process.stderr (console.log lines where there is no process). */
  stream?: TextStream;
  /** Clock in milliseconds; default performance.now(). */
  now?: Clock;
  /** Print nothing. */
  quiet?: boolean;
  /** Force terminal (true) or plain-line (false) mode; default stream.isTTY. */
  tty?: boolean;
  /** Plain-line mode: also print a line every N steps (0, the default: only per epoch). */
  logEvery?: number;
  /** Terminal mode: the most status redraws per second (default 10). */
  maxRedrawsPerSec?: number;
}

/** What endEpoch() returns: the epoch's numbers, also printed on its line. */
export interface EpochSummary {
  epoch: number;
  steps: number;
  samples: number;
  /** Sample-weighted mean of the losses given to step(). */
  loss: number;
  seconds: number;
  samplesPerSec: number;
  metrics: Record<string, number>;
}

/** ANSI: carriage return, then erase the whole line. */
const CLEAR_LINE = '\r\x1b[2K';

export class Progress {
  private readonly stream: TextStream;
  private readonly now: Clock;
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly logEvery: number;
  private readonly minRedrawMs: number;
  private readonly epochs?: number;

  private epoch = 0;
  private totalSteps?: number;
  private steps = 0;
  private inEpoch = false;
  private readonly loss = new RunningMean();
  /** The running mean loss, when the steps give it as a function (read only when a line is drawn). */
  private lossNow?: () => number;
  /** The samples of such steps. */
  private samples = 0;
  private epochStart = 0;
  /** When this object's first epoch started, and how many epochs it has started since (for the run's ETA). */
  private runStart = 0;
  private epochsStarted = 0;
  private lastDraw = -Infinity;
  /** A status line is on screen (terminal mode) and must be erased before a permanent line. */
  private liveShown = false;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? defaultStream();
    this.now = opts.now ?? defaultClock;
    this.quiet = opts.quiet ?? false;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.logEvery = opts.logEvery ?? 0;
    const rate = opts.maxRedrawsPerSec ?? 10;
    if (!(rate > 0)) throw new RangeError(`Progress: maxRedrawsPerSec must be > 0, got ${rate}`);
    if (!Number.isInteger(this.logEvery) || this.logEvery < 0) {
      throw new RangeError(`Progress: logEvery must be an integer >= 0, got ${this.logEvery}`);
    }
    this.minRedrawMs = 1000 / rate;
    this.epochs = opts.epochs;
  }

  /** Begin an epoch (default: the one after the last) of `totalSteps` steps (unknown when omitted). */
  startEpoch(epoch = this.epoch + 1, totalSteps?: number): void {
    if (totalSteps !== undefined && (!Number.isInteger(totalSteps) || totalSteps < 0)) {
      throw new RangeError(`Progress.startEpoch: totalSteps must be an integer >= 0, got ${totalSteps}`);
    }
    this.epoch = epoch;
    this.totalSteps = totalSteps;
    this.steps = 0;
    this.loss.reset();
    this.lossNow = undefined;
    this.samples = 0;
    this.epochStart = this.now();
    if (this.epochsStarted++ === 0) this.runStart = this.epochStart;
    this.lastDraw = -Infinity;
    this.inEpoch = true;
  }

  /**
   * Record one step: the batch's mean loss and its number of samples. The loss may be given as a
   * function returning the epoch's running mean loss so far: it is called only when a line is drawn,
   * so a loop that keeps its sums as tensors reads them back once per display, not once per step
   * (the epoch's loss then comes with endEpoch).
   */
  step(loss: number | (() => number), batchSize: number): void {
    if (!this.inEpoch) throw new Error('Progress.step: call startEpoch() first');
    if (!Number.isInteger(batchSize) || batchSize < 0) {
      throw new RangeError(`Progress.step: batchSize must be an integer >= 0, got ${batchSize}`);
    }
    this.steps++;
    if (typeof loss === 'number') this.loss.add(loss, batchSize);
    else {
      this.lossNow = loss;
      this.samples += batchSize;
    }
    if (this.quiet) return;
    if (this.tty) {
      const t = this.now();
      const last = this.steps === this.totalSteps;
      if (last || t - this.lastDraw >= this.minRedrawMs) {
        this.lastDraw = t;
        this.drawLive(this.statusLine(t));
      }
    } else if (this.logEvery > 0 && this.steps % this.logEvery === 0) {
      this.stream.write(this.statusLine(this.now()) + '\n');
    }
  }

  /**
   * End the epoch: print its line (loss, extra metrics, time, throughput) and return its numbers.
   * `loss`: the epoch's mean loss, when the steps gave it as a function (default: the mean of the
   * numbers given to step()).
   */
  endEpoch(metrics: Record<string, number> = {}, loss?: number): EpochSummary {
    if (!this.inEpoch) throw new Error('Progress.endEpoch: call startEpoch() first');
    this.inEpoch = false;
    const seconds = (this.now() - this.epochStart) / 1000;
    const samples = this.sampleCount();
    const summary: EpochSummary = {
      epoch: this.epoch,
      steps: this.steps,
      samples,
      loss: loss ?? this.lossMean(),
      seconds,
      samplesPerSec: seconds > 0 ? samples / seconds : NaN,
      metrics: { ...metrics },
    };
    const parts = [this.epochLabel(), `loss ${formatNumber(summary.loss)}`];
    for (const [k, v] of Object.entries(metrics)) parts.push(`${k} ${formatNumber(v)}`);
    parts.push(formatDuration(seconds), `${formatRate(summary.samplesPerSec)} samples/s`);
    this.log(parts.join('  '));
    return summary;
  }

  /** Print a permanent line (erasing the status line first in a terminal). */
  log(line: string): void {
    if (this.quiet) return;
    this.stream.write((this.liveShown ? CLEAR_LINE : '') + line + '\n');
    this.liveShown = false;
  }

  /** Erase a status line left on screen (after an interrupted epoch). */
  close(): void {
    if (this.quiet || !this.liveShown) return;
    this.stream.write(CLEAR_LINE);
    this.liveShown = false;
  }

  private lossMean(): number {
    return this.lossNow ? this.lossNow() : this.loss.mean;
  }

  private sampleCount(): number {
    return this.loss.count + this.samples;
  }

  private epochLabel(): string {
    return `epoch ${this.epoch}${this.epochs !== undefined ? '/' + this.epochs : ''}`;
  }

  /**
   * "epoch 2/10  step 37/235  loss 0.5123  1234 samples/s  ETA 12.0s (run 2:05)": no ETA when the
   * epoch's total is unknown, no run ETA in the last epoch or when the number of epochs is unknown.
   * An epoch still to come is assumed to last as long as the whole epochs before it in this run took
   * from start to start (so evaluation between epochs counts), or, during the first, as long as its
   * steps so far predict.
   */
  private statusLine(t: number): string {
    const seconds = (t - this.epochStart) / 1000;
    const parts = [
      this.epochLabel(),
      `step ${this.steps}${this.totalSteps !== undefined ? '/' + this.totalSteps : ''}`,
      `loss ${formatNumber(this.lossMean())}`,
      `${formatRate(seconds > 0 ? this.sampleCount() / seconds : NaN)} samples/s`,
    ];
    if (this.totalSteps !== undefined && seconds > 0) {
      const epochLeft = (seconds / this.steps) * Math.max(0, this.totalSteps - this.steps);
      let eta = `ETA ${formatDuration(epochLeft)}`;
      const epochsLeft = this.epochs !== undefined ? this.epochs - this.epoch : 0;
      if (epochsLeft > 0) {
        const before = this.epochsStarted - 1;
        const perEpoch = before > 0 ? (this.epochStart - this.runStart) / 1000 / before : (seconds / this.steps) * this.totalSteps;
        eta += ` (run ${formatDuration(epochLeft + epochsLeft * perEpoch)})`;
      }
      parts.push(eta);
    }
    return parts.join('  ');
  }

  private drawLive(text: string): void {
    // A line longer than the terminal wraps, and "\r" would then redraw only its last row.
    const cols = this.stream.columns;
    const fitted = cols !== undefined && cols > 1 && text.length >= cols ? text.slice(0, cols - 1) : text;
    this.stream.write(CLEAR_LINE + fitted);
    this.liveShown = true;
  }
}

/** process.stderr in Node; elsewhere (a browser) whole lines go to console.log. */
function defaultStream(): TextStream {
  const proc = (globalThis as { process?: { stderr?: TextStream } }).process;
  if (proc?.stderr) return proc.stderr;
  return { write: (s: string) => console.log(s.replace(/\n$/, '')), isTTY: false };
}

/** 4 significant digits; integers as they are; exponent form for very large or small values. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}

/** Throughput: whole numbers from 10 up, one decimal below. */
function formatRate(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return v >= 10 ? String(Math.round(v)) : v.toFixed(1);
}

/** "12.3s" under a minute, else "m:ss" or "h:mm:ss". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
