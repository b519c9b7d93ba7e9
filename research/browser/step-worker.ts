/** A module worker that runs step-page.ts's timing off the main thread (why-slower.ts). */
import { timeStep } from './step-page.js';

const scope = globalThis as unknown as { onmessage: ((e: { data: { url: string; runs: number; warmup: number } }) => void) | null; postMessage(v: unknown): void };
scope.onmessage = (e) => {
  void timeStep(e.data.url, e.data.runs, e.data.warmup).then((r) => scope.postMessage(r), (err: Error) => scope.postMessage({ error: err.message }));
};
