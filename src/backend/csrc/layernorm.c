/* Layer normalisation along the rows of a contiguous (rows, n) array, and its backward pass (see
 * layernorm_impl.h and pfs.h). Threads take whole rows, and for the parameters' gradients whole blocks
 * of columns, so every value is the same whatever the thread count. */
#include <stddef.h>

#include "pfs.h"
#include "simd.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many values a call runs on one thread. */
#define PFS_LN_PARALLEL_MIN (1 << 15)

#define T float
#define FN(name) PASTE(name, _f32)
#define LOADD(p) vd_load_f32(p)
#define STORED(p, v) vd_store_f32(p, v)
#include "layernorm_impl.h"
#undef T
#undef FN
#undef LOADD
#undef STORED

#define T double
#define FN(name) PASTE(name, _f64)
#define LOADD(p) vd_load(p)
#define STORED(p, v) vd_store(p, v)
#include "layernorm_impl.h"
#undef T
#undef FN
#undef LOADD
#undef STORED

static int ln_threads(int64_t rows, int64_t n, int nthreads) {
  int nt = (double)rows * (double)n < PFS_LN_PARALLEL_MIN ? 1 : nthreads;
  return nt > rows ? (rows > 0 ? (int)rows : 1) : nt;
}

int pfs_layer_norm(pfs_dtype t, const void *x, int64_t rows, int64_t n, double eps, const void *w, const void *b,
                   void *out, void *mean, void *rstd, int nthreads) {
  if (rows < 0 || n < 1) return PFS_UNSUPPORTED;
  const int nt = ln_threads(rows, n, nthreads);
  if (t == PFS_F32) {
    const ln_ctx_f32 c = {rows, n, eps, x, NULL, w, b, out, mean, rstd, NULL, NULL};
    pfs_parallel(ln_task_f32, (void *)&c, nt);
    return PFS_OK;
  }
  if (t == PFS_F64) {
    const ln_ctx_f64 c = {rows, n, eps, x, NULL, w, b, out, mean, rstd, NULL, NULL};
    pfs_parallel(ln_task_f64, (void *)&c, nt);
    return PFS_OK;
  }
  return PFS_UNSUPPORTED;
}

int pfs_layer_norm_backward(pfs_dtype t, const void *g, const void *x, int64_t rows, int64_t n, const void *mean,
                            const void *rstd, const void *w, void *dx, void *dw, void *db, int nthreads) {
  if (rows < 0 || n < 1) return PFS_UNSUPPORTED;
  const int nt = ln_threads(rows, n, nthreads);
  const int64_t blocks = (n + LN_COLS - 1) / LN_COLS;
  const int ntp = nt > blocks ? (int)blocks : nt;
  if (t == PFS_F32) {
    const ln_ctx_f32 c = {rows, n, 0, x, g, w, NULL, dx, (float *)mean, (float *)rstd, dw, db};
    pfs_parallel(ln_task_f32, (void *)&c, nt);
    if (dw || db) pfs_parallel(ln_param_task_f32, (void *)&c, ntp);
    return PFS_OK;
  }
  if (t == PFS_F64) {
    const ln_ctx_f64 c = {rows, n, 0, x, g, w, NULL, dx, (double *)mean, (double *)rstd, dw, db};
    pfs_parallel(ln_task_f64, (void *)&c, nt);
    if (dw || db) pfs_parallel(ln_param_task_f64, (void *)&c, ntp);
    return PFS_OK;
  }
  return PFS_UNSUPPORTED;
}
