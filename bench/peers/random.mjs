/** The peers' seeded data (browser-safe: the TF.js workloads also run in Chromium, bench/browser.ts). */

/** A seeded uniform generator in [0, 1) (mulberry32), so every peer run draws the same data. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard normal draws (Box–Muller) from a seeded generator, as a Float32Array. */
export function randn(n, seed) {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** n integers in [0, k) from a seeded generator. */
export function randint(n, k, seed) {
  const u = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(u() * k));
}
