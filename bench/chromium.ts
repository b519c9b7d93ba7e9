/**
 * Finding a Chromium for the real-browser tests (test/browser.test.ts) and the browser benchmarks
 * (bench/browser.ts): $PFS_CHROMIUM, else the usual install paths (Debian's `apt-get install
 * chromium` puts it at /usr/bin/chromium). playwright-core drives it; nothing is downloaded.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_PATHS: readonly string[] = [
  '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** The executable, or why there is none (for a test's skip message). */
export function findChromium(env: Record<string, string | undefined> = process.env): { path: string } | { path: null; why: string } {
  const given = env.PFS_CHROMIUM;
  if (given !== undefined && given !== '') {
    if (!existsSync(given)) return { path: null, why: `PFS_CHROMIUM=${given} does not exist` };
    return { path: given };
  }
  const found = CHROMIUM_PATHS.find((p) => existsSync(p));
  if (found) return { path: found };
  return { path: null, why: `no Chromium found (looked at $PFS_CHROMIUM and ${CHROMIUM_PATHS.join(', ')}); install one (apt-get install chromium) or set PFS_CHROMIUM` };
}
