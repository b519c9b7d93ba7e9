/**
 * Node start-up of the backends: registers the native addon when it loads, then picks the backend
 * (PFS_BACKEND if set, else the fastest registered). Importing this module does it, once.
 *
 * A missing native build is normal (the TypeScript kernels are complete), so nothing is printed
 * then, unless PFS_BACKEND=native asked for it: that gets one line on stderr with the reason, and
 * the best available backend is used. `nativeStatus()` gives the reason for `pfs info`.
 */
import { backendInfo, chooseDefaultBackend, registerBackend, useBackend } from './registry.js';
import { loadNativeBackend } from './native/index.js';

export interface NativeStatus {
  available: boolean;
  /** What was loaded (kernels, vector width, threads), or why nothing was. */
  reason: string;
}

const load = loadNativeBackend();
const status: NativeStatus = { available: load.backend !== null, reason: load.reason };
if (load.backend) registerBackend(load.backend);

const requested = process.env.PFS_BACKEND;
if (requested === 'native' && !load.backend) {
  process.stderr.write(`papers-from-scratch: PFS_BACKEND=native, but the native backend is unavailable: ${load.reason}\n`);
  chooseDefaultBackend(undefined);
  useBackend(backendInfo().name, `PFS_BACKEND=native was asked for, but the native backend is unavailable (${load.reason})`);
} else {
  chooseDefaultBackend(requested);
}

/** Whether the native addon loaded, and what it is or why it is not there. */
export function nativeStatus(): NativeStatus {
  return { ...status };
}
