/*
 * pfs_call: unpacks a kernel call that src/backend/marshal.ts packed, for both entry points (the
 * Node addon's `call`, the wasm module's pfs_wasm_call). Each case below reads the layout the
 * same-named packer in marshal.ts writes; meta[0] is the kernel, meta[1 .. n] the pfs_dtype of each
 * of its n arrays, and the kernel's integers follow from meta + 1 + n.
 *
 * The caller has checked the numbers and every index (see pfs.h); what is left here is the choice
 * of kernel for the element types, which may be PFS_UNSUPPORTED (the caller runs the reference).
 */
#include <stdint.h>

#include "pfs.h"

/* meta's i-th integer after the kernel code and the n dtypes */
#define M(i) ((int64_t)m[i])

static int is_float(int t) { return t == PFS_F32 || t == PFS_F64; }

/* The one float type of n arrays, or −1. */
static int float_type(const double *dt, int n) {
  for (int i = 1; i < n; i++)
    if (dt[i] != dt[0]) return -1;
  return is_float((int)dt[0]) ? (int)dt[0] : -1;
}

/*
 * gemm, arrays [a, b, out]: m = [batch, m, n, k, ars, acs, brs, bcs, accumulate, a's offsets (batch),
 * b's (batch)].
 */
static int call_gemm(int t, const double *m, void *const *arr, int nthreads) {
  const int64_t batch = M(0);
  int64_t *off = pfs_alloc(sizeof(int64_t) * 2 * (size_t)(batch > 0 ? batch : 1));
  if (!off) return PFS_ENOMEM;
  for (int64_t i = 0; i < 2 * batch; i++) off[i] = (int64_t)m[9 + i];
  const pfs_gemm_args g = {batch, M(1), M(2), M(3), arr[0], off, M(4), M(5), arr[1], off + batch, M(6), M(7), arr[2], M(8) != 0};
  const int st = t == PFS_F64 ? pfs_gemm_f64(&g, nthreads) : pfs_gemm_f32(&g, nthreads);
  pfs_free(off);
  return st;
}

/* The conv kernels, arrays [p, q, out]: m = the 16 numbers of pfs_conv_geom in its order. */
static int call_conv(int kernel, int t, const double *m, void *const *arr, int nthreads) {
  const pfs_conv_geom g = {M(0), M(1), M(2),  M(3),  M(4),  M(5),  M(6),  M(7),
                           M(8), M(9), M(10), M(11), M(12), M(13), M(14), M(15)};
#if SIZE_MAX <= UINT32_MAX
  /* 32-bit sizes (wasm32): a call needing more than 1 GiB of scratch is left to the reference */
  const int64_t size = t == PFS_F64 ? 8 : 4, max_scratch = (int64_t)1 << 30;
  if ((g.c / g.groups) * g.kh * g.kw * g.oh * g.ow * size > max_scratch || g.o * (g.c / g.groups) * g.kh * g.kw * size > max_scratch)
    return PFS_UNSUPPORTED;
#endif
  const int f64 = t == PFS_F64;
  switch (kernel) {
    case PFS_CALL_CONV2D: return f64 ? pfs_conv2d_f64(arr[0], arr[1], &g, arr[2], nthreads) : pfs_conv2d_f32(arr[0], arr[1], &g, arr[2], nthreads);
    case PFS_CALL_CONV2D_BACKWARD_INPUT:
      return f64 ? pfs_conv2d_bwd_input_f64(arr[0], arr[1], &g, arr[2], nthreads) : pfs_conv2d_bwd_input_f32(arr[0], arr[1], &g, arr[2], nthreads);
    default:
      return f64 ? pfs_conv2d_bwd_weight_f64(arr[0], arr[1], &g, arr[2], nthreads) : pfs_conv2d_bwd_weight_f32(arr[0], arr[1], &g, arr[2], nthreads);
  }
}

/*
 * The pool kernels: m = the 12 numbers of pfs_pool_geom in its order. Arrays: max [x, out, argmax],
 * max backward [dy, argmax, dx], avg [x, out], avg backward [dy, dx].
 */
static int call_pool(int kernel, int t, const double *m, void *const *arr, int nthreads) {
  const pfs_pool_geom g = {M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7), M(8), M(9), M(10), m[11] != 0};
  const int f64 = t == PFS_F64;
  switch (kernel) {
    case PFS_CALL_MAX_POOL2D: return f64 ? pfs_max_pool_f64(arr[0], &g, arr[1], arr[2], nthreads) : pfs_max_pool_f32(arr[0], &g, arr[1], arr[2], nthreads);
    case PFS_CALL_MAX_POOL2D_BACKWARD: {
      /* the indices come from the forward pass; still, never write outside a plane */
      const int32_t *am = arr[1];
      const int64_t ny = g.planes * g.oh * g.ow, cells = g.h * g.w;
      for (int64_t i = 0; i < ny; i++)
        if (am[i] < 0 || am[i] >= cells) return PFS_EBADINDEX;
      return f64 ? pfs_max_pool_bwd_f64(arr[0], am, &g, arr[2], nthreads) : pfs_max_pool_bwd_f32(arr[0], am, &g, arr[2], nthreads);
    }
    case PFS_CALL_AVG_POOL2D: return f64 ? pfs_avg_pool_f64(arr[0], &g, arr[1], nthreads) : pfs_avg_pool_f32(arr[0], &g, arr[1], nthreads);
    default: return f64 ? pfs_avg_pool_bwd_f64(arr[0], &g, arr[1], nthreads) : pfs_avg_pool_bwd_f32(arr[0], &g, arr[1], nthreads);
  }
}

/* The indexing kernels, arrays [x or src, idx, out] (idx int32, the others of type t): m = [outer, n, inner, m]. */
static int call_index(int kernel, pfs_dtype t, const double *m, void *const *arr, int nthreads) {
  switch (kernel) {
    case PFS_CALL_INDEX_SELECT: return pfs_index_select(t, arr[0], M(0), M(1), M(2), arr[1], M(3), arr[2], nthreads);
    case PFS_CALL_INDEX_ADD: return pfs_index_add(t, arr[0], M(0), M(1), M(2), arr[1], M(3), arr[2], nthreads);
    case PFS_CALL_GATHER: return pfs_gather(t, arr[0], M(0), M(1), M(2), arr[1], M(3), arr[2], nthreads);
    default: return pfs_scatter_add(t, arr[0], M(0), M(1), M(2), arr[1], M(3), arr[2], nthreads);
  }
}

/*
 * nv views of one shape over arrays arr[0 .. nv−1]: m = [ndim, shape (ndim), then for each view its
 * offset and strides (ndim)]. Returns ndim, or −1 past PFS_MAX_DIMS.
 */
static int unpack_views(const double *m, int nv, void *const *arr, int64_t *shape, int64_t (*strides)[PFS_MAX_DIMS],
                        pfs_view *views) {
  const int nd = (int)m[0];
  if (nd > PFS_MAX_DIMS) return -1;
  for (int d = 0; d < nd; d++) shape[d] = M(1 + d);
  for (int v = 0; v < nv; v++) {
    const double *p = m + 1 + nd + v * (1 + nd);
    for (int d = 0; d < nd; d++) strides[v][d] = (int64_t)p[1 + d];
    views[v].base = arr[v];
    views[v].offset = (int64_t)p[0];
    views[v].strides = strides[v];
  }
  return nd;
}

int pfs_call(const double *meta, void *const *arr, int nthreads) {
  const int kernel = (int)meta[0];
  const double *dt = meta + 1;
  int64_t shape[PFS_MAX_DIMS], strides[3][PFS_MAX_DIMS];
  pfs_view v[3];
  int t, nd, op;
  switch (kernel) {
    case PFS_CALL_GEMM:
      if ((t = float_type(dt, 3)) < 0) return PFS_UNSUPPORTED;
      return call_gemm(t, meta + 4, arr, nthreads);
    case PFS_CALL_CONV2D:
    case PFS_CALL_CONV2D_BACKWARD_INPUT:
    case PFS_CALL_CONV2D_BACKWARD_WEIGHT:
      if ((t = float_type(dt, 3)) < 0) return PFS_UNSUPPORTED;
      return call_conv(kernel, t, meta + 4, arr, nthreads);
    case PFS_CALL_MAX_POOL2D: /* arrays [x, out, argmax] */
      if ((t = float_type(dt, 2)) < 0 || dt[2] != PFS_I32) return PFS_UNSUPPORTED;
      return call_pool(kernel, t, meta + 4, arr, nthreads);
    case PFS_CALL_MAX_POOL2D_BACKWARD: /* arrays [dy, argmax, dx] */
      if ((t = float_type(dt, 1)) < 0 || dt[2] != t || dt[1] != PFS_I32) return PFS_UNSUPPORTED;
      return call_pool(kernel, t, meta + 4, arr, nthreads);
    case PFS_CALL_AVG_POOL2D:
    case PFS_CALL_AVG_POOL2D_BACKWARD:
      if ((t = float_type(dt, 2)) < 0) return PFS_UNSUPPORTED;
      return call_pool(kernel, t, meta + 3, arr, nthreads);
    /* unary, arrays [x, out]: meta + 3 = [op, views of x] */
    case PFS_CALL_UNARY:
      op = (int)meta[3];
      if (op < 0 || op >= PFS_UNARY_OPS || (nd = unpack_views(meta + 4, 1, arr, shape, strides, v)) < 0) return PFS_UNSUPPORTED;
      return pfs_unary((pfs_unary_op)op, nd, shape, (pfs_dtype)dt[0], v[0], (pfs_dtype)dt[1], arr[1], nthreads);
    /* binary, arrays [a, b, out]: meta + 4 = [op, views of a and b] */
    case PFS_CALL_BINARY:
      op = (int)meta[4];
      if (op < 0 || op >= PFS_BINARY_OPS || dt[1] != dt[0] || (nd = unpack_views(meta + 5, 2, arr, shape, strides, v)) < 0)
        return PFS_UNSUPPORTED;
      return pfs_binary((pfs_binary_op)op, nd, shape, (pfs_dtype)dt[0], v[0], v[1], (pfs_dtype)dt[2], arr[2], nthreads);
    /* where, arrays [cond, a, b, out]: meta + 5 = [views of cond, a and b] */
    case PFS_CALL_WHERE:
      if (dt[0] != PFS_U8 || (t = float_type(dt + 1, 3)) < 0 || (nd = unpack_views(meta + 5, 3, arr, shape, strides, v)) < 0)
        return PFS_UNSUPPORTED;
      return pfs_where(nd, shape, v[0], (pfs_dtype)t, v[1], v[2], arr[3], nthreads);
    /* reduce, arrays [x, out]: meta + 3 = [op, outer, n, inner] */
    case PFS_CALL_REDUCE: {
      const double *m = meta + 3;
      op = (int)m[0];
      const int arg = op == PFS_ARGMAX || op == PFS_ARGMIN;
      if (op < 0 || op >= PFS_REDUCE_OPS || dt[1] != (arg ? PFS_I32 : dt[0])) return PFS_UNSUPPORTED;
      return pfs_reduce((pfs_reduce_op)op, (pfs_dtype)dt[0], arr[0], M(1), M(2), M(3), arr[1], nthreads);
    }
    /* batch normalisation, m = [outer, c, inner]; arrays [x, mean, var] */
    case PFS_CALL_BN_STATS: {
      const double *m = meta + 4;
      if ((t = float_type(dt, 3)) < 0) return PFS_UNSUPPORTED;
      return pfs_bn_stats((pfs_dtype)t, arr[0], M(0), M(1), M(2), arr[1], arr[2], nthreads);
    }
    /* arrays [x, scale, shift, out] */
    case PFS_CALL_CHANNEL_AFFINE: {
      const double *m = meta + 5;
      if ((t = float_type(dt, 4)) < 0) return PFS_UNSUPPORTED;
      return pfs_channel_affine((pfs_dtype)t, arr[0], M(0), M(1), M(2), arr[1], arr[2], arr[3], nthreads);
    }
    /* arrays [g, x, mean, invstd, weight (NULL when there is none), dx, sum_g, sum_gx] */
    case PFS_CALL_BN_BACKWARD: {
      const double *m = meta + 9;
      if ((t = (int)dt[0]) != PFS_F32 && t != PFS_F64) return PFS_UNSUPPORTED;
      for (int i = 1; i < 8; i++)
        if (dt[i] != t && !(i == 4 && arr[4] == NULL)) return PFS_UNSUPPORTED;
      return pfs_bn_backward((pfs_dtype)t, arr[0], arr[1], M(0), M(1), M(2), arr[2], arr[3], arr[4], arr[5], arr[6], arr[7],
                             nthreads);
    }
    case PFS_CALL_INDEX_SELECT:
    case PFS_CALL_INDEX_ADD:
    case PFS_CALL_GATHER:
    case PFS_CALL_SCATTER_ADD:
      if (dt[1] != PFS_I32 || dt[2] != dt[0]) return PFS_UNSUPPORTED;
      return call_index(kernel, (pfs_dtype)dt[0], meta + 4, arr, nthreads);
    /* softmax, arrays [x, out]: meta + 3 = [log, rows, n] */
    case PFS_CALL_SOFTMAX: {
      const double *m = meta + 3;
      if ((t = float_type(dt, 2)) < 0) return PFS_UNSUPPORTED;
      return pfs_softmax((pfs_dtype)t, (int)M(0), arr[0], M(1), M(2), arr[1], nthreads);
    }
    /* arrays [y, g, dx]: meta + 4 = [log, rows, n] */
    case PFS_CALL_SOFTMAX_BACKWARD: {
      const double *m = meta + 4;
      if ((t = float_type(dt, 3)) < 0) return PFS_UNSUPPORTED;
      return pfs_softmax_backward((pfs_dtype)t, (int)M(0), arr[0], arr[1], M(1), M(2), arr[2], nthreads);
    }
    /* adam, arrays [p, g, m, v, vmax (NULL without AMSGrad)]: meta + 6 = [n, then the 7 numbers of h] */
    case PFS_CALL_ADAM: {
      const double *m = meta + 6;
      if ((t = float_type(dt, 4)) < 0 || (arr[4] != NULL && dt[4] != t)) return PFS_UNSUPPORTED;
      return pfs_adam((pfs_dtype)t, arr[0], arr[1], arr[2], arr[3], arr[4], M(0), m + 1, nthreads);
    }
    /* layer norm, arrays [x, w, b, out, mean, rstd] (w, b NULL when absent): meta + 7 = [rows, n, eps] */
    case PFS_CALL_LAYER_NORM: {
      const double *m = meta + 7;
      if ((t = (int)dt[0]) != PFS_F32 && t != PFS_F64) return PFS_UNSUPPORTED;
      for (int i = 1; i < 6; i++)
        if (dt[i] != t && !(arr[i] == NULL && (i == 1 || i == 2))) return PFS_UNSUPPORTED;
      return pfs_layer_norm((pfs_dtype)t, arr[0], M(0), M(1), m[2], arr[1], arr[2], arr[3], arr[4], arr[5], nthreads);
    }
    /* arrays [g, x, mean, rstd, w, dx, dw, db] (w, dw, db NULL when absent): meta + 9 = [rows, n] */
    case PFS_CALL_LAYER_NORM_BACKWARD: {
      const double *m = meta + 9;
      if ((t = (int)dt[0]) != PFS_F32 && t != PFS_F64) return PFS_UNSUPPORTED;
      for (int i = 1; i < 8; i++)
        if (dt[i] != t && !(arr[i] == NULL && (i == 4 || i == 6 || i == 7))) return PFS_UNSUPPORTED;
      return pfs_layer_norm_backward((pfs_dtype)t, arr[0], arr[1], M(0), M(1), arr[2], arr[3], arr[4], arr[5], arr[6],
                                     arr[7], nthreads);
    }
    /* lstm cell, arrays [z, c, out, acts]: meta + 5 = [rows, h] */
    case PFS_CALL_LSTM_CELL: {
      const double *m = meta + 5;
      if ((t = float_type(dt, 4)) < 0) return PFS_UNSUPPORTED;
      return pfs_lstm_cell((pfs_dtype)t, arr[0], arr[1], M(0), M(1), arr[2], arr[3], nthreads);
    }
    /* arrays [acts, c, out, gout, dz, dc]: meta + 7 = [rows, h] */
    case PFS_CALL_LSTM_CELL_BACKWARD: {
      const double *m = meta + 7;
      if ((t = float_type(dt, 6)) < 0) return PFS_UNSUPPORTED;
      return pfs_lstm_cell_backward((pfs_dtype)t, arr[0], arr[1], arr[2], arr[3], M(0), M(1), arr[4], arr[5], nthreads);
    }
    /* gru, arrays [a, rz, H, out, acts]: meta + 6 = [rows, h] */
    case PFS_CALL_GRU_GATES: {
      const double *m = meta + 6;
      if ((t = float_type(dt, 5)) < 0) return PFS_UNSUPPORTED;
      return pfs_gru_gates((pfs_dtype)t, arr[0], arr[1], arr[2], M(0), M(1), arr[3], arr[4], nthreads);
    }
    /* arrays [acts, H, g, da, dH]: meta + 6 = [rows, h] */
    case PFS_CALL_GRU_GATES_BACKWARD: {
      const double *m = meta + 6;
      if ((t = float_type(dt, 5)) < 0) return PFS_UNSUPPORTED;
      return pfs_gru_gates_backward((pfs_dtype)t, arr[0], arr[1], arr[2], M(0), M(1), arr[3], arr[4], nthreads);
    }
    /* arrays [xh, m, Z, H, out, cand]: meta + 7 = [rows, h] */
    case PFS_CALL_GRU_UPDATE: {
      const double *m = meta + 7;
      if ((t = float_type(dt, 6)) < 0) return PFS_UNSUPPORTED;
      return pfs_gru_update((pfs_dtype)t, arr[0], arr[1], arr[2], arr[3], M(0), M(1), arr[4], arr[5], nthreads);
    }
    /* arrays [cand, Z, H, g, dxh, dZ, dH]: meta + 8 = [rows, h] */
    case PFS_CALL_GRU_UPDATE_BACKWARD: {
      const double *m = meta + 8;
      if ((t = float_type(dt, 7)) < 0) return PFS_UNSUPPORTED;
      return pfs_gru_update_backward((pfs_dtype)t, arr[0], arr[1], arr[2], arr[3], M(0), M(1), arr[4], arr[5], arr[6],
                                     nthreads);
    }
    default: return PFS_UNSUPPORTED;
  }
}
