/* The LSTM cell's and the GRU's gate arithmetic, forward and backward (see rnn_impl.h and pfs.h), in the arrays' own
 * precision with vmath.h's sigmoid and tanh, as the unary kernels compute them; threads take whole rows. */
#include <stddef.h>

#include "pfs.h"
#include "simd.h"
#include "vmath.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many gate values a call runs on one thread. */
#define PFS_RNN_PARALLEL_MIN (1 << 15)

/* What a GRU call does (gru_ctx.kind). */
enum { GRU_GATES, GRU_GATES_BACKWARD, GRU_UPDATE, GRU_UPDATE_BACKWARD };

#define T float
#define FN(name) PASTE(name, _f32)
#define V vf
#define W PFS_VF
#define VLOAD vf_load
#define VSTORE vf_store
#define VSIGMOID vf_sigmoid
#define VTANH vf_tanh
#include "rnn_impl.h"
#undef T
#undef FN
#undef V
#undef W
#undef VLOAD
#undef VSTORE
#undef VSIGMOID
#undef VTANH

#define T double
#define FN(name) PASTE(name, _f64)
#define V vd
#define W PFS_VD
#define VLOAD vd_load
#define VSTORE vd_store
#define VSIGMOID vd_sigmoid
#define VTANH vd_tanh
#include "rnn_impl.h"
#undef T
#undef FN
#undef V
#undef W
#undef VLOAD
#undef VSTORE
#undef VSIGMOID
#undef VTANH

static int lstm_run(pfs_dtype t, int backward, const void *a, const void *c, const void *cell, const void *g, int64_t rows,
                    int64_t h, void *o0, void *o1, int nthreads) {
  if (rows < 0 || h < 0) return PFS_UNSUPPORTED;
  int nt = (double)rows * (double)h * 4 < PFS_RNN_PARALLEL_MIN ? 1 : nthreads;
  if (nt > rows) nt = rows > 0 ? (int)rows : 1;
  if (t == PFS_F32) {
    const lstm_ctx_f32 k = {backward, rows, h, a, c, cell, g, o0, o1};
    pfs_parallel(lstm_task_f32, (void *)&k, nt);
    return PFS_OK;
  }
  if (t == PFS_F64) {
    const lstm_ctx_f64 k = {backward, rows, h, a, c, cell, g, o0, o1};
    pfs_parallel(lstm_task_f64, (void *)&k, nt);
    return PFS_OK;
  }
  return PFS_UNSUPPORTED;
}

int pfs_lstm_cell(pfs_dtype t, const void *z, const void *c, int64_t rows, int64_t h, void *out, void *acts, int nthreads) {
  return lstm_run(t, 0, z, c, NULL, NULL, rows, h, out, acts, nthreads);
}

int pfs_lstm_cell_backward(pfs_dtype t, const void *acts, const void *c, const void *out, const void *gout, int64_t rows,
                           int64_t h, void *dz, void *dc, int nthreads) {
  return lstm_run(t, 1, acts, c, out, gout, rows, h, dz, dc, nthreads);
}

static int gru_run(pfs_dtype t, int kind, int64_t rows, int64_t h, const void *i0, const void *i1, const void *i2,
                   const void *i3, void *o0, void *o1, void *o2, int nthreads) {
  if (rows < 0 || h < 0) return PFS_UNSUPPORTED;
  int nt = (double)rows * (double)h * 2 < PFS_RNN_PARALLEL_MIN ? 1 : nthreads;
  if (nt > rows) nt = rows > 0 ? (int)rows : 1;
  if (t == PFS_F32) {
    const gru_ctx_f32 k = {kind, rows, h, {i0, i1, i2, i3}, {o0, o1, o2}};
    pfs_parallel(gru_task_f32, (void *)&k, nt);
    return PFS_OK;
  }
  if (t == PFS_F64) {
    const gru_ctx_f64 k = {kind, rows, h, {i0, i1, i2, i3}, {o0, o1, o2}};
    pfs_parallel(gru_task_f64, (void *)&k, nt);
    return PFS_OK;
  }
  return PFS_UNSUPPORTED;
}

int pfs_gru_gates(pfs_dtype t, const void *a, const void *rz, const void *H, int64_t rows, int64_t h, void *out, void *acts,
                  int nthreads) {
  return gru_run(t, GRU_GATES, rows, h, a, rz, H, NULL, out, acts, NULL, nthreads);
}

int pfs_gru_gates_backward(pfs_dtype t, const void *acts, const void *H, const void *g, int64_t rows, int64_t h, void *da,
                           void *dH, int nthreads) {
  return gru_run(t, GRU_GATES_BACKWARD, rows, h, acts, H, g, NULL, da, dH, NULL, nthreads);
}

int pfs_gru_update(pfs_dtype t, const void *xh, const void *m, const void *Z, const void *H, int64_t rows, int64_t h,
                   void *out, void *cand, int nthreads) {
  return gru_run(t, GRU_UPDATE, rows, h, xh, m, Z, H, out, cand, NULL, nthreads);
}

int pfs_gru_update_backward(pfs_dtype t, const void *cand, const void *Z, const void *H, const void *g, int64_t rows,
                            int64_t h, void *dxh, void *dZ, void *dH, int nthreads) {
  return gru_run(t, GRU_UPDATE_BACKWARD, rows, h, cand, Z, H, g, dxh, dZ, dH, nthreads);
}
