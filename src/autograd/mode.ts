/** Gradient recording mode. */
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Run fn without recording operations for backward (as torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Run fn with recording on (used by backward with createGraph). */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
