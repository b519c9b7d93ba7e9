/*
 * exp, expm1, sigmoid and tanh on vectors of doubles (vd_*) and of floats (vf_*), accurate to a
 * few units in the last place, with IEEE behaviour at the edges (exp(+∞) = +∞, exp(−∞) = 0, NaN
 * in → NaN out, overflow to +∞, underflow through the subnormals to 0).
 *
 * Method (as in fdlibm's e_exp.c, whose split of ln 2 is used): with k = round(x / ln 2) and
 * r = x − k·ln 2 (|r| ≤ ln2/2, the product k·ln 2 in two parts so the subtraction is exact),
 * exp(x) = 2^k · exp(r), and exp(r) − 1 is its Taylor series to r^13 (the next term is below
 * 2^−57 relative for |r| ≤ 0.347). 2^k is built from the exponent bits in two halves so k may
 * reach the subnormal range.
 */
#ifndef PFS_VMATH_H
#define PFS_VMATH_H

#include "simd.h"

/* e^r − 1 for |r| ≤ ln2/2: Σ_{i=1..13} r^i / i!, by Horner's rule. */
static inline vd vd_expm1_small(vd r) {
  vd p = vd_splat(1.0 / 6227020800.0); /* 1/13! */
  p = p * r + 1.0 / 479001600.0;        /* 1/12! */
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  return p * r;
}

static inline vd vd_exp(vd x) {
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double log2e = 1.44269504088896338700e+00;
  const double shifter = 6755399441055744.0; /* 1.5·2^52: adding it rounds to an integer */
  /* keep k small and finite: clamp (the edges are fixed up below), NaN → 0 */
  vd xc = vd_select(x > 710.0, vd_splat(710.0), x);
  xc = vd_select(xc < -746.0, vd_splat(-746.0), xc);
  xc = vd_select(xc == xc, xc, vd_splat(0.0));
  const vd kf = (xc * log2e + shifter) - shifter;
  const vd r = (xc - kf * ln2_hi) - kf * ln2_lo;
  const vd p = vd_expm1_small(r) + 1.0;
  const vi64 k = __builtin_convertvector(kf, vi64);
  const vi64 k1 = k >> 1, k2 = k - k1; /* each in [−539, 513]: 2^k1 and 2^k2 are normal numbers */
  const vd s1 = (vd)((k1 + 1023) << 52), s2 = (vd)((k2 + 1023) << 52);
  vd y = p * s1 * s2;
  y = vd_select(x > 709.782712893384, vd_splat(__builtin_inf()), y);
  y = vd_select(x < -745.1332191019412, vd_splat(0.0), y);
  return vd_select(x == x, y, x);
}

/* e^x − 1 without the cancellation of exp(x) − 1 near 0. */
static inline vd vd_expm1(vd x) {
  const vd small = vd_expm1_small(x);
  const vd big = vd_exp(x) - 1.0;
  return vd_select((x < 0.34) & (x > -0.34), small, big);
}

/* 1 / (1 + e^−x), as the reference: e = exp(−|x|), then 1/(1+e) for x ≥ 0 and e/(1+e) below. */
static inline vd vd_sigmoid(vd x) {
  const vd ax = vd_select(x < 0.0, -x, x);
  const vd e = vd_exp(-ax);
  return vd_select(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e));
}

/* tanh x = sign(x) · −m / (2 + m) with m = expm1(−2|x|) ∈ (−1, 0]: no cancellation anywhere. */
static inline vd vd_tanh(vd x) {
  const vi64 sign = (vi64)x & (vi64)vd_splat(-0.0);
  const vd ax = (vd)((vi64)x & ~sign);
  const vd m = vd_expm1(-2.0 * ax);
  const vd t = -m / (2.0 + m);
  return vd_select(x == x, (vd)((vi64)t | sign), x);
}

/* ---- float: the same method with float's split of ln 2 and the series to r^7 (next term < 2^−27) ---- */

static inline vf vf_expm1_small(vf r) {
  vf p = vf_splat(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  return p * r;
}

static inline vf vf_exp(vf x) {
  const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f; /* ln2_hi has 9 bits: k·ln2_hi is exact */
  const float log2e = 1.44269504088896341f, shifter = 12582912.0f; /* 1.5·2^23 */
  vf xc = vf_select(x > 89.0f, vf_splat(89.0f), x);
  xc = vf_select(xc < -104.0f, vf_splat(-104.0f), xc);
  xc = vf_select(xc == xc, xc, vf_splat(0.0f));
  const vf kf = (xc * log2e + shifter) - shifter;
  const vf r = (xc - kf * ln2_hi) - kf * ln2_lo;
  const vf p = vf_expm1_small(r) + 1.0f;
  const vi32 k = __builtin_convertvector(kf, vi32);
  const vi32 k1 = k >> 1, k2 = k - k1; /* each in [−75, 65]: 2^k1 and 2^k2 are normal floats */
  const vf s1 = (vf)((k1 + 127) << 23), s2 = (vf)((k2 + 127) << 23);
  vf y = p * s1 * s2;
  y = vf_select(x > 88.72283905206835f, vf_splat(__builtin_inff()), y);
  y = vf_select(x < -103.97208404541015625f, vf_splat(0.0f), y);
  return vf_select(x == x, y, x);
}

static inline vf vf_expm1(vf x) {
  return vf_select((x < 0.34f) & (x > -0.34f), vf_expm1_small(x), vf_exp(x) - 1.0f);
}

static inline vf vf_sigmoid(vf x) {
  const vf ax = vf_select(x < 0.0f, -x, x);
  const vf e = vf_exp(-ax);
  return vf_select(x >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));
}

static inline vf vf_tanh(vf x) {
  const vi32 sign = (vi32)x & (vi32)vf_splat(-0.0f);
  const vf ax = (vf)((vi32)x & ~sign);
  const vf m = vf_expm1(-2.0f * ax);
  const vf t = -m / (2.0f + m);
  return vf_select(x == x, (vf)((vi32)t | sign), x);
}

#endif
