/**
 * The op fixture cases (test/op-cases.ts, test/fixtures/ops.json) run inside a browser page, each
 * on `ref` and on the wasm backend that the page loaded (every kernel call in WebAssembly, however
 * small), forward and backward from the fixture's upstream gradient; the two must agree. Loaded by
 * test/browser.test.ts's harness page as a native ES module from dist/ (an import map stands in for
 * node:fs, which op-cases.ts imports for its Node-side fixture loader). Importing it does nothing.
 *
 * Tolerance (float32): |wasm − ref| ≤ 1e-5 + 1e-4·|ref|, elementwise, NaN where the other is NaN;
 * sums in a different order (matmul, conv, reductions) and exp/log from another math library stay
 * well inside it.
 */
import { loadWasmBackendInBrowser, registerBackend, Tensor, useBackend, type WasmModuleUrls } from '../src/index.js';
import { caseFn, type FixtureCase, toTensor } from './op-cases.js';

export interface PageConformance {
  /** Cases run (outputs and, where differentiable, the gradient of each floating input). */
  cases: number;
  /** Values compared. */
  values: number;
  /** One line per disagreement. */
  mismatches: string[];
  backend: string;
  threads: number;
}

type Run = { out: Float64Array; grads: (Float64Array | null)[] };

function runCase(c: FixtureCase): Run {
  const withGrad = c.grads !== undefined;
  const xs = c.inputs.map((t) => {
    const x = toTensor(t, 'float32');
    return withGrad && (t.dtype === 'float32' || t.dtype === 'float64') ? x.requiresGrad_() : x;
  });
  const out = caseFn(c.name)(xs);
  const values = Float64Array.from(out.contiguous().toTypedArray() as ArrayLike<number>);
  if (!withGrad) return { out: values, grads: [] };
  out.backward(toTensor(c.upstream!, 'float32'));
  const grads = c.grads!.map((g, i) => {
    if (g === null) return null;
    const grad = xs[i].grad ?? Tensor.zeros(xs[i].shape, { dtype: 'float32' });
    return Float64Array.from(grad.toTypedArray() as ArrayLike<number>);
  });
  return { out: values, grads };
}

function compare(what: string, got: Float64Array, want: Float64Array, bad: string[]): number {
  if (got.length !== want.length) {
    bad.push(`${what}: ${got.length} values, ref has ${want.length}`);
    return 0;
  }
  for (let i = 0; i < got.length; i++) {
    const a = got[i], b = want[i];
    const ok = Number.isNaN(b) ? Number.isNaN(a) : a === b || Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);
    if (!ok) {
      bad.push(`${what}: element ${i} is ${a} on wasm, ${b} on ref`);
      break;
    }
  }
  return got.length;
}

/** Loads the wasm backend in this page (threaded where isolated) and runs every case on it and on ref. */
export async function runPageConformance(urls: WasmModuleUrls, fixtures: FixtureCase[], threads = 2): Promise<PageConformance> {
  const load = await loadWasmBackendInBrowser({ urls, threads });
  load.runtime.minElements = 0; // every call in WebAssembly, the small ones too
  registerBackend(load.backend);
  const mismatches: string[] = [];
  let values = 0;
  for (const c of fixtures) {
    useBackend('ref');
    let want: Run;
    try {
      want = runCase(c);
    } catch {
      continue; // a case that errors on ref (none today) says nothing about wasm
    }
    useBackend('wasm');
    let got: Run;
    try {
      got = runCase(c);
    } catch (e) {
      mismatches.push(`${c.name}: throws on wasm: ${(e as Error).message}`);
      continue;
    }
    values += compare(`${c.name} output`, got.out, want.out, mismatches);
    got.grads.forEach((g, i) => {
      if (g && want.grads[i]) values += compare(`${c.name} gradient of input ${i}`, g, want.grads[i]!, mismatches);
    });
  }
  useBackend('ref');
  return { cases: fixtures.length, values, mismatches, backend: load.reason, threads: load.threads };
}
