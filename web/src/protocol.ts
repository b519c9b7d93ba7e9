/** The messages between the page (main.ts) and the training worker (worker.ts). */

export interface BackendInfo {
  name: string;
  threads: number;
  threaded: boolean;
  relaxed: boolean;
  isolated: boolean;
  file: string;
  describe: string;
}

export interface LeNetSettings {
  lr: number;
  batch: number;
  epochs: number;
  trainLimit: number;
  testLimit: number;
  seed: number;
  /** Stop after this many steps in all (0: run the epochs). */
  maxSteps: number;
}

export interface LMSettings {
  model: 'rnn' | 'gru' | 'lstm';
  hidden: number;
  lr: number;
  epochs: number;
  seed: number;
  /** Stop after this many steps in all (0: run the epochs). */
  maxSteps: number;
}

export type Request =
  | { op: 'init'; threads?: number; dataUrl: string }
  | { op: 'lenet-train'; settings: LeNetSettings }
  | { op: 'lenet-grid'; n: number }
  | { op: 'lenet-classify'; pixels: Float32Array }
  | { op: 'lm-train'; settings: LMSettings }
  | { op: 'lm-sample'; prefix: string; length: number; temperature: number; seed: number }
  | { op: 'optim'; start: [number, number]; lr: number; beta: number; steps: number }
  | { op: 'stop' }
  | { op: 'download'; page: 'lenet' | 'lm' }
  | { op: 'load-checkpoint'; bytes: Uint8Array; name: string }
  | { op: 'translate'; sentence: string; beam: number }
  | { op: 'bench-lenet'; batch: number; steps: number; warmup: number }
  | { op: 'bench-lstm'; steps: number; warmup: number };

export interface LeNetStep {
  kind: 'lenet-step';
  step: number;
  epoch: number;
  loss: number;
  acc: number;
  imagesPerSec: number;
}
export interface LeNetEpoch {
  kind: 'lenet-epoch';
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testAcc: number;
}
export interface LMStep {
  kind: 'lm-step';
  step: number;
  epoch: number;
  loss: number;
  tokensPerSec: number;
}
export interface LMEpoch {
  kind: 'lm-epoch';
  epoch: number;
  ppl: number;
  sample: string;
}
export interface Status {
  kind: 'status';
  text: string;
}
export type Progress = LeNetStep | LeNetEpoch | LMStep | LMEpoch | Status;

/** What the translation page shows: the translation, the words read as <unk>, and the attention heatmaps. */
export interface TranslationResult {
  paper: string;
  words: string[];
  unknown: string[];
  tokens: string[];
  /** One panel per attention map (and head): rows the output tokens (or, for self-attention, the source's), columns the source tokens. */
  attention: { title: string; rows: string[]; cols: string[]; values: number[][] }[];
}

export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string } | { id: -1; progress: Progress };
