/**
 * NASA airfoil self-noise (UCI): 1,503 rows of 5 features (frequency, angle of attack, chord length,
 * free-stream velocity, suction-side displacement thickness) and the sound pressure level in dB.
 * d2l's optimisation chapter (get_data_ch11) reads it with np.genfromtxt, z-scores every column with
 * the mean and (population) standard deviation of the whole file, then keeps the first 1,500 rows:
 * features = the first 5 columns, target = the last.
 */
import { Tensor } from '../tensor/tensor.js';

export const AIRFOIL_COLUMNS = 6;

/** Parse the whitespace-separated table into rows of numbers; every row must have 6 finite values. */
export function parseAirfoil(text: string, source = 'airfoil_self_noise.dat'): number[][] {
  const rows: number[][] = [];
  text.split('\n').forEach((line, i) => {
    const cells = line.trim().split(/\s+/).filter((c) => c !== '');
    if (cells.length === 0) return;
    const row = cells.map(Number);
    if (row.length !== AIRFOIL_COLUMNS || row.some((v) => !Number.isFinite(v))) {
      throw new Error(`${source}: line ${i + 1} is ${JSON.stringify(line.trim())}, expected ${AIRFOIL_COLUMNS} numbers`);
    }
    rows.push(row);
  });
  return rows;
}

/**
 * d2l's preprocessing: z-score each column over all rows, keep the first `n` rows (default 1,500).
 * Returns features float32 (n, 5) and the z-scored target float32 (n), plus the column means and
 * standard deviations used (to map predictions back to dB).
 */
export function airfoilData(text: string, n = 1500): { features: Tensor; labels: Tensor; mean: number[]; std: number[] } {
  const rows = parseAirfoil(text);
  if (!Number.isInteger(n) || n < 1 || n > rows.length) throw new RangeError(`airfoil: n must be an integer in 1..${rows.length}, got ${n}`);
  const mean = new Array<number>(AIRFOIL_COLUMNS).fill(0);
  const std = new Array<number>(AIRFOIL_COLUMNS).fill(0);
  for (const r of rows) r.forEach((v, c) => (mean[c] += v / rows.length));
  for (const r of rows) r.forEach((v, c) => (std[c] += (v - mean[c]) ** 2 / rows.length));
  for (let c = 0; c < AIRFOIL_COLUMNS; c++) std[c] = Math.sqrt(std[c]);
  const F = AIRFOIL_COLUMNS - 1;
  const features = new Float32Array(n * F);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < F; c++) features[i * F + c] = (rows[i][c] - mean[c]) / std[c];
    labels[i] = (rows[i][F] - mean[F]) / std[F];
  }
  return { features: new Tensor(features, [n, F], 'float32'), labels: new Tensor(labels, [n], 'float32'), mean, std };
}
