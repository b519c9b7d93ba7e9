/*
 * The single-matrix product used inside the other kernels (conv2d lowers to it through im2col):
 * C (m × n, row stride ldc) = A · B, or C += A · B when `accumulate` is set. A (i, p) sits at
 * a[i·ars + p·acs] and B (p, j) at b[p·brs + j·bcs], with any strides.
 */
#ifndef PFS_GEMM_H
#define PFS_GEMM_H

#include "pfs.h"

typedef struct {
  int64_t m, n, k;
  const float *a;
  int64_t ars, acs;
  const float *b;
  int64_t brs, bcs;
  float *c;
  int64_t ldc;
  int accumulate;
} pfs_mat_f32;

typedef struct {
  int64_t m, n, k;
  const double *a;
  int64_t ars, acs;
  const double *b;
  int64_t brs, bcs;
  double *c;
  int64_t ldc;
  int accumulate;
} pfs_mat_f64;

/* Runs on up to nthreads threads (1 from inside a pfs_parallel task). */
int pfs_matmul_f32(const pfs_mat_f32 *x, int nthreads);
int pfs_matmul_f64(const pfs_mat_f64 *x, int nthreads);

#endif
