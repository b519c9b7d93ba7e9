/*
 * Softmax and log-softmax along the rows of a contiguous (rows, n) array, and their backward passes:
 * the formulas of `softmax` / `softmaxBackward` in src/backend/kernels.ts. Values are computed in
 * double (a row's max, its sum of exponentials, each output), as the reference does, and rounded to
 * the array's type; exp is vmath.h's, for the rows' scalar tails too. Softmax stores each exp(x − m)
 * in the output and then divides it by the sum (exp once per value, the output rounded twice). On
 * float arrays the sums' exps are taken in float (softmax_impl.h's row_sum_exp): within the
 * conformance test's 3e-7 of the reference. Threads take whole rows.
 */
#include <math.h> /* log */
#include <stddef.h>

#include "pfs.h"
#include "simd.h"
#include "vmath.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many values a call runs on one thread. */
#define PFS_SOFTMAX_PARALLEL_MIN (1 << 15)

/* exp of one double, through the vector exp (the tails of rows then round as their vector parts do; the
 * wasm build has no C library exp). */
static inline double exp1(double x) { return vd_exp(vd_splat(x))[0]; }

/* The two halves of a vector of floats as vectors of doubles. */
static inline void vf_halves(vf v, vd *lo, vd *hi) {
  vfh h;
  memcpy(&h, &v, sizeof h);
  *lo = __builtin_convertvector(h, vd);
  memcpy(&h, (const char *)&v + sizeof h, sizeof h);
  *hi = __builtin_convertvector(h, vd);
}

#define T float
#define FN(name) PASTE(name, _f32)
#define LOADD(p) vd_load_f32(p)
#define STORED(p, v) vd_store_f32(p, v)
#define FLOAT_EXP 1
#include "softmax_impl.h"
#undef FLOAT_EXP
#undef T
#undef FN
#undef LOADD
#undef STORED

#define T double
#define FN(name) PASTE(name, _f64)
#define LOADD(p) vd_load(p)
#define STORED(p, v) vd_store(p, v)
#define FLOAT_EXP 0
#include "softmax_impl.h"
#undef FLOAT_EXP
#undef T
#undef FN
#undef LOADD
#undef STORED

/* Either pass (backward: x is the output y, g its gradient, out dx) over the rows, threads taking whole rows. */
static int softmax_run(pfs_dtype t, int log_softmax, int backward, const void *x, const void *g, int64_t rows, int64_t n,
                       void *out, int nthreads) {
  if (rows < 0 || n < 0) return PFS_UNSUPPORTED;
  int nt = (double)rows * (double)n < PFS_SOFTMAX_PARALLEL_MIN ? 1 : nthreads;
  if (nt > rows) nt = rows > 0 ? (int)rows : 1;
  if (t == PFS_F32) {
    const softmax_ctx_f32 c = {log_softmax, backward, rows, n, x, g, out};
    pfs_parallel(softmax_task_f32, (void *)&c, nt);
    return PFS_OK;
  }
  if (t == PFS_F64) {
    const softmax_ctx_f64 c = {log_softmax, backward, rows, n, x, g, out};
    pfs_parallel(softmax_task_f64, (void *)&c, nt);
    return PFS_OK;
  }
  return PFS_UNSUPPORTED;
}

int pfs_softmax(pfs_dtype t, int log_softmax, const void *x, int64_t rows, int64_t n, void *out, int nthreads) {
  return softmax_run(t, log_softmax, 0, x, NULL, rows, n, out, nthreads);
}

int pfs_softmax_backward(pfs_dtype t, int log_softmax, const void *y, const void *g, int64_t rows, int64_t n, void *dx,
                         int nthreads) {
  return softmax_run(t, log_softmax, 1, y, g, rows, n, dx, nthreads);
}
