/* Batch normalisation's statistics, per-channel affine map and backward pass (see norm_impl.h). */
#include <stddef.h>

#include "pfs.h"
#include "simd.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* What a call does (bn_ctx.kind). */
enum { BN_STATS, BN_AFFINE, BN_BACKWARD };

/* Below this many values a call runs on one thread. */
#define PFS_NORM_PARALLEL_MIN (1 << 15)

#define T float
#define FN(name) PASTE(name, _f32)
#define LOADD(p) vd_load_f32(p)
#include "norm_impl.h"
#undef T
#undef FN
#undef LOADD

#define T double
#define FN(name) PASTE(name, _f64)
#define LOADD(p) vd_load(p)
#include "norm_impl.h"
#undef T
#undef FN
#undef LOADD

static int bn(int kind, pfs_dtype t, int64_t outer, int64_t c, int64_t inner, const void *x, const void *g,
              const void *p0, const void *p1, const void *p2, void *o0, void *o1, void *o2, int nthreads) {
  if (outer < 0 || c < 0 || inner < 0) return PFS_UNSUPPORTED;
  if (t == PFS_F32) {
    const bn_ctx_f32 k = {kind, outer, c, inner, x, g, p0, p1, p2, o0, o1, o2};
    return bn_run_f32(&k, nthreads);
  }
  if (t == PFS_F64) {
    const bn_ctx_f64 k = {kind, outer, c, inner, x, g, p0, p1, p2, o0, o1, o2};
    return bn_run_f64(&k, nthreads);
  }
  return PFS_UNSUPPORTED;
}

int pfs_bn_stats(pfs_dtype t, const void *x, int64_t outer, int64_t c, int64_t inner, void *mean, void *var,
                 int nthreads) {
  if (outer * inner == 0) return PFS_UNSUPPORTED; /* no values: the reference says what that gives */
  return bn(BN_STATS, t, outer, c, inner, x, NULL, NULL, NULL, NULL, mean, var, NULL, nthreads);
}

int pfs_channel_affine(pfs_dtype t, const void *x, int64_t outer, int64_t c, int64_t inner, const void *scale,
                       const void *shift, void *out, int nthreads) {
  return bn(BN_AFFINE, t, outer, c, inner, x, NULL, scale, shift, NULL, out, NULL, NULL, nthreads);
}

int pfs_bn_backward(pfs_dtype t, const void *g, const void *x, int64_t outer, int64_t c, int64_t inner,
                    const void *mean, const void *invstd, const void *weight, void *dx, void *sum_g, void *sum_gx,
                    int nthreads) {
  if (outer * inner == 0) return PFS_UNSUPPORTED;
  return bn(BN_BACKWARD, t, outer, c, inner, x, g, mean, invstd, weight, dx, sum_g, sum_gx, nthreads);
}
