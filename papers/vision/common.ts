/**
 * What the vision nets share: the options every constructor takes, and the output-size arithmetic of
 * convolution and pooling, used by the nets whose dense layers depend on the input size.
 */
import type { Generator } from '../../src/tensor/rng.js';

export interface NetOptions {
  /** Input height = width in pixels (the Fashion-MNIST images are resized to it). */
  size?: number;
  /** Source of the initial weights. */
  generator?: Generator;
  /** Source of the dropout masks (nets with dropout only). */
  dropout?: Generator;
}

/**
 * Output size of a convolution or pooling window along one axis (PyTorch's formula, floor mode):
 *   ⌊(n + 2·padding − kernel) / stride⌋ + 1.
 * Zero or less means the input is too small for the window.
 */
export function convOut(n: number, kernel: number, stride = 1, padding = 0): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/**
 * Check that `size` is a valid input size for a net whose last feature map is `final(size)` pixels
 * wide: a positive integer with final(size) ≥ 1. The error names the smallest size that works.
 */
export function checkInputSize(net: string, size: number, final: (n: number) => number): number {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`${net}: input size must be a positive integer, got ${size}`);
  const s = final(size);
  if (s < 1) {
    let min = size;
    while (final(min) < 1) min++;
    throw new RangeError(`${net}: an input of ${size}×${size} is too small (its last feature map would be ${s}×${s}); the smallest input is ${min}×${min}`);
  }
  return s;
}
