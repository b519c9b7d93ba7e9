/* The LSTM cell's gate arithmetic, forward and backward (see rnn_impl.h and pfs.h), in the arrays' own
 * precision with vmath.h's sigmoid and tanh, as the unary kernels compute them; threads take whole rows. */
#include <stddef.h>

#include "pfs.h"
#include "simd.h"
#include "vmath.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many gate values a call runs on one thread. */
#define PFS_RNN_PARALLEL_MIN (1 << 15)

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
