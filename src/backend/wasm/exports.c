/*
 * The kernel entry points the WebAssembly module exports to JavaScript (src/backend/wasm/index.ts).
 * As with the Node addon, each call's geometry comes packed in an array of doubles `meta` (written
 * into memory by the caller); the operands were copied into the module's memory beforehand, and
 * their element offsets are relative to those copies. The return value is pfs.h's: PFS_OK,
 * PFS_UNSUPPORTED (the caller runs the reference kernel) or PFS_ENOMEM.
 */
#include <stddef.h>
#include <stdint.h>

#include "../csrc/pfs.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* Scratch a kernel would allocate past this many bytes is refused (PFS_UNSUPPORTED): sizes are
 * 32-bit here, and such a call is better left to the reference kernel than risked. */
#define MAX_SCRATCH ((int64_t)1 << 30)

/* meta's i-th number as an integer */
#define M(i) ((int64_t)meta[i])

/* meta: [batch, m, n, k, ars, acs, brs, bcs]; aoff, boff: batch offsets each. */
EXPORT(pfs_wasm_gemm)
int pfs_wasm_gemm(int f64, const double *meta, const void *a, const double *aoff, const void *b, const double *boff,
                  void *out, int nthreads) {
  const int64_t batch = M(0);
  int64_t *off = pfs_alloc(sizeof(int64_t) * 2 * (size_t)(batch > 0 ? batch : 1));
  if (!off) return PFS_ENOMEM;
  for (int64_t i = 0; i < batch; i++) {
    off[i] = (int64_t)aoff[i];
    off[batch + i] = (int64_t)boff[i];
  }
  const pfs_gemm_args g = {batch, M(1), M(2), M(3), a, off, M(4), M(5), b, off + batch, M(6), M(7), out};
  const int st = f64 ? pfs_gemm_f64(&g, nthreads) : pfs_gemm_f32(&g, nthreads);
  pfs_free(off);
  return st;
}

/* kind 0: forward (p = x, q = w), 1: input gradient (p = dy, q = w), 2: weight gradient (p = dy, q = x).
 * meta: the 16 numbers of Conv2dGeom in the order of pfs_conv_geom. */
EXPORT(pfs_wasm_conv)
int pfs_wasm_conv(int kind, int f64, const double *meta, const void *p, const void *q, void *out, int nthreads) {
  const pfs_conv_geom g = {M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7), M(8), M(9), M(10), M(11), M(12), M(13), M(14), M(15)};
  const int64_t size = f64 ? 8 : 4;
  const int64_t patch = (g.c / g.groups) * g.kh * g.kw * g.oh * g.ow * size;
  const int64_t wsize = g.o * (g.c / g.groups) * g.kh * g.kw * size;
  if (patch > MAX_SCRATCH || wsize > MAX_SCRATCH) return PFS_UNSUPPORTED;
  switch (kind) {
    case 0: return f64 ? pfs_conv2d_f64(p, q, &g, out, nthreads) : pfs_conv2d_f32(p, q, &g, out, nthreads);
    case 1: return f64 ? pfs_conv2d_bwd_input_f64(p, q, &g, out, nthreads) : pfs_conv2d_bwd_input_f32(p, q, &g, out, nthreads);
    default: return f64 ? pfs_conv2d_bwd_weight_f64(p, q, &g, out, nthreads) : pfs_conv2d_bwd_weight_f32(p, q, &g, out, nthreads);
  }
}

/* kind 0: max forward (argmax written), 1: max backward (argmax read), 2: avg forward, 3: avg backward.
 * meta: [planes, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW, countIncludePad]. */
EXPORT(pfs_wasm_pool)
int pfs_wasm_pool(int kind, int f64, const double *meta, const void *in, int32_t *argmax, void *out, int nthreads) {
  const pfs_pool_geom g = {M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7), M(8), M(9), M(10), meta[11] != 0};
  switch (kind) {
    case 0: return f64 ? pfs_max_pool_f64(in, &g, out, argmax, nthreads) : pfs_max_pool_f32(in, &g, out, argmax, nthreads);
    case 1: return f64 ? pfs_max_pool_bwd_f64(in, argmax, &g, out, nthreads) : pfs_max_pool_bwd_f32(in, argmax, &g, out, nthreads);
    case 2: return f64 ? pfs_avg_pool_f64(in, &g, out, nthreads) : pfs_avg_pool_f32(in, &g, out, nthreads);
    default: return f64 ? pfs_avg_pool_bwd_f64(in, &g, out, nthreads) : pfs_avg_pool_bwd_f32(in, &g, out, nthreads);
  }
}

/* ---------------------------------------------------------------- elementwise / reduce ------------- */

/*
 * Views of one shape from meta = [ndim, the nv views' offsets, shape (ndim), the strides of each view
 * (ndim each)], over the arrays at `bases`. Returns ndim, or −1 past PFS_MAX_DIMS.
 */
static int unpack_views(const double *meta, int nv, const void *const *bases, int64_t *shape,
                        int64_t (*strides)[PFS_MAX_DIMS], pfs_view *views) {
  const int nd = (int)meta[0];
  if (nd > PFS_MAX_DIMS) return -1;
  const double *dims = meta + 1 + nv;
  for (int d = 0; d < nd; d++) shape[d] = (int64_t)dims[d];
  for (int v = 0; v < nv; v++) {
    for (int d = 0; d < nd; d++) strides[v][d] = (int64_t)dims[nd * (v + 1) + d];
    views[v].base = bases[v];
    views[v].offset = M(1 + v);
    views[v].strides = strides[v];
  }
  return nd;
}

/* The dtype arguments are pfs_dtype codes, the ops those of pfs_unary_op / pfs_binary_op / pfs_reduce_op. */
EXPORT(pfs_wasm_unary)
int pfs_wasm_unary(int op, int tx, int tout, const double *meta, const void *x, void *out, int nthreads) {
  int64_t shape[PFS_MAX_DIMS], strides[1][PFS_MAX_DIMS];
  pfs_view v[1];
  const void *bases[1] = {x};
  const int nd = unpack_views(meta, 1, bases, shape, strides, v);
  if (nd < 0) return PFS_UNSUPPORTED;
  return pfs_unary((pfs_unary_op)op, nd, shape, (pfs_dtype)tx, v[0], (pfs_dtype)tout, out, nthreads);
}

EXPORT(pfs_wasm_binary)
int pfs_wasm_binary(int op, int tin, int tout, const double *meta, const void *a, const void *b, void *out, int nthreads) {
  int64_t shape[PFS_MAX_DIMS], strides[2][PFS_MAX_DIMS];
  pfs_view v[2];
  const void *bases[2] = {a, b};
  const int nd = unpack_views(meta, 2, bases, shape, strides, v);
  if (nd < 0) return PFS_UNSUPPORTED;
  return pfs_binary((pfs_binary_op)op, nd, shape, (pfs_dtype)tin, v[0], v[1], (pfs_dtype)tout, out, nthreads);
}

EXPORT(pfs_wasm_where)
int pfs_wasm_where(int t, const double *meta, const void *cond, const void *a, const void *b, void *out, int nthreads) {
  int64_t shape[PFS_MAX_DIMS], strides[3][PFS_MAX_DIMS];
  pfs_view v[3];
  const void *bases[3] = {cond, a, b};
  const int nd = unpack_views(meta, 3, bases, shape, strides, v);
  if (nd < 0) return PFS_UNSUPPORTED;
  return pfs_where(nd, shape, v[0], (pfs_dtype)t, v[1], v[2], out, nthreads);
}

/* meta: [outer, n, inner] */
EXPORT(pfs_wasm_reduce)
int pfs_wasm_reduce(int op, int tx, const double *meta, const void *x, void *out, int nthreads) {
  return pfs_reduce((pfs_reduce_op)op, (pfs_dtype)tx, x, M(0), M(1), M(2), out, nthreads);
}

/* Batch normalisation, meta: [outer, c, inner] (pfs.h). */
EXPORT(pfs_wasm_bn_stats)
int pfs_wasm_bn_stats(int t, const double *meta, const void *x, void *mean, void *var, int nthreads) {
  return pfs_bn_stats((pfs_dtype)t, x, M(0), M(1), M(2), mean, var, nthreads);
}

EXPORT(pfs_wasm_channel_affine)
int pfs_wasm_channel_affine(int t, const double *meta, const void *x, const void *scale, const void *shift, void *out,
                            int nthreads) {
  return pfs_channel_affine((pfs_dtype)t, x, M(0), M(1), M(2), scale, shift, out, nthreads);
}

/* weight is 0 (a null pointer) when there is none */
EXPORT(pfs_wasm_bn_backward)
int pfs_wasm_bn_backward(int t, const double *meta, const void *g, const void *x, const void *mean, const void *invstd,
                         const void *weight, void *dx, void *sum_g, void *sum_gx, int nthreads) {
  return pfs_bn_backward((pfs_dtype)t, g, x, M(0), M(1), M(2), mean, invstd, weight, dx, sum_g, sum_gx, nthreads);
}
