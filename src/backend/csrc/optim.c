/*
 * The optimisers' fused update: one Adam / AdamW step over a parameter's n elements in place, the
 * formula of `adam` in src/backend/kernels.ts (and src/optim/adam.ts). Each element's update is
 * computed in double and each stored value rounded once; the loops are plain C that the compilers
 * vectorise. Threads take contiguous ranges.
 */
#include <stddef.h>

#include "pfs.h"

/* Below this many elements a call runs on one thread. */
#define PFS_OPTIM_PARALLEL_MIN (1 << 16)

typedef struct {
  pfs_dtype t;
  int64_t n;
  void *p, *m, *v, *vmax;
  const void *g;
  const double *h; /* beta1, beta2, step_size, bc2_sqrt, eps, l2, decay */
} adam_ctx;

#define PFS_ADAM_LOOP(T)                                                                                   \
  do {                                                                                                     \
    T *p = c->p, *m = c->m, *v = c->v, *vmax = c->vmax;                                                    \
    const T *g = c->g;                                                                                     \
    const double b1 = c->h[0], b2 = c->h[1], step = c->h[2], bc2 = c->h[3], eps = c->h[4], l2 = c->h[5],  \
                 decay = c->h[6];                                                                          \
    for (int64_t i = i0; i < i1; i++) {                                                                    \
      const double p0 = (double)p[i];                                                                      \
      const double gi = (double)g[i] + l2 * p0;                                                            \
      const double mi = b1 * (double)m[i] + (1 - b1) * gi;                                                 \
      const double vi = b2 * (double)v[i] + (1 - b2) * gi * gi;                                            \
      double vu = vi;                                                                                      \
      if (vmax) {                                                                                          \
        const double vm = (double)vmax[i];                                                                 \
        vu = vm > vi ? vm : vi;                                                                            \
        vmax[i] = (T)vu;                                                                                   \
      }                                                                                                    \
      m[i] = (T)mi;                                                                                        \
      v[i] = (T)vi;                                                                                        \
      p[i] = (T)(p0 * decay - step * mi / (__builtin_sqrt(vu) / bc2 + eps));                              \
    }                                                                                                      \
  } while (0)

static void adam_task(void *ctx, int t, int nt) {
  const adam_ctx *c = ctx;
  const int64_t i0 = c->n * t / nt, i1 = c->n * (t + 1) / nt;
  if (c->t == PFS_F32) {
    PFS_ADAM_LOOP(float);
  } else {
    PFS_ADAM_LOOP(double);
  }
}

int pfs_adam(pfs_dtype t, void *p, const void *g, void *m, void *v, void *vmax, int64_t n, const double *h,
             int nthreads) {
  if ((t != PFS_F32 && t != PFS_F64) || n < 0) return PFS_UNSUPPORTED;
  const adam_ctx c = {t, n, p, m, v, vmax, g, h};
  int nt = n < PFS_OPTIM_PARALLEL_MIN ? 1 : nthreads;
  pfs_parallel(adam_task, (void *)&c, nt);
  return PFS_OK;
}
