/**
 * Backend registry. A backend supplies any subset of the kernel table; `useBackend(name)` resolves
 * every kernel to that backend's implementation where it has one and to `ref` otherwise, so a fast
 * backend can grow kernel by kernel. Ops call kernels through `K`, which always holds the resolved table.
 *
 * Choice: `useBackend()` from code, else the PFS_BACKEND environment variable, else the best one registered.
 */
import type { KernelName, Kernels } from './kernels.js';
import { refKernels } from './ref/index.js';

export interface Backend {
  name: string;
  /** Higher is preferred when nothing is chosen explicitly. */
  priority: number;
  kernels: Partial<Kernels>;
}

const backends = new Map<string, Backend>([['ref', { name: 'ref', priority: 0, kernels: refKernels }]]);

/** The resolved kernel table in use. */
export const K: Kernels = { ...refKernels };
let current = 'ref';
let reason = 'the only backend registered';

/**
 * An error in the environment found at start-up (a bad PFS_* variable; see auto.ts): every use of
 * the backends throws it (a kernel call, useBackend, backendInfo), so that it surfaces where a
 * program can catch it (`pfs` prints it as one line and exits 2) rather than while modules load.
 */
let startupError: Error | null = null;

/** Makes every kernel call, useBackend() and backendInfo() throw err (auto.ts, for a bad environment). */
export function failBackends(err: Error): void {
  startupError = err;
  const fail = (): never => {
    throw err;
  };
  for (const k of Object.keys(refKernels) as KernelName[]) (K as unknown as Record<string, unknown>)[k] = fail;
  current = 'ref';
  reason = `unusable: ${err.message}`;
}

function checkStartup(): void {
  if (startupError) throw startupError;
}

export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

export function availableBackends(): string[] {
  return [...backends.keys()];
}

export function useBackend(name: string, why = 'chosen by useBackend()'): void {
  checkStartup();
  const b = backends.get(name);
  if (!b) throw new Error(`unknown backend ${JSON.stringify(name)}: available are ${availableBackends().join(', ')}`);
  for (const k of Object.keys(refKernels) as KernelName[]) {
    (K as unknown as Record<string, unknown>)[k] = b.kernels[k] ?? refKernels[k];
  }
  current = name;
  reason = why;
}

/** Which kernels of the current backend fall back to ref. */
export function backendInfo(): { name: string; reason: string; fallbacks: KernelName[] } {
  checkStartup();
  const b = backends.get(current)!;
  const fallbacks = (Object.keys(refKernels) as KernelName[]).filter((k) => !b.kernels[k]);
  return { name: current, reason, fallbacks };
}

/** Pick the backend at start-up: PFS_BACKEND if set, else the highest priority registered. */
export function chooseDefaultBackend(env: string | undefined): void {
  if (env) {
    useBackend(env, 'PFS_BACKEND');
    return;
  }
  const best = [...backends.values()].sort((a, b) => b.priority - a.priority)[0];
  useBackend(best.name, best.name === 'ref' ? 'no fast backend is available' : 'the fastest available');
}
