/*
 * Batch normalisation's passes for one element type (T, FN as in pool_impl.h; LOADD(p) reads PFS_VD
 * values of T at p as a vector of doubles). The data is (outer, C, inner), contiguous: channel c holds
 * the outer·inner values x[o·C·inner + c·inner + i], o < outer, i < inner. Sums are taken in double,
 * two vector accumulators wide. Threads take whole channels.
 */

typedef struct {
  int kind; /* BN_STATS, BN_AFFINE or BN_BACKWARD */
  int64_t outer, c, inner;
  const T *x, *g;
  const T *p0, *p1, *p2; /* stats: -; affine: scale, shift; backward: mean, invstd, weight (or NULL) */
  T *out0, *out1, *out2; /* stats: mean, var; affine: out; backward: dx, sum_g, sum_gx */
} FN(bn_ctx);

/* Σ over one channel of x[j] (sq = 0) or of (x[j] − m)² (sq = 1). */
static double FN(channel_sum)(const FN(bn_ctx) *k, const T *x, double m, int sq) {
  const int64_t step = k->c * k->inner, n = k->inner, nv = n / PFS_VD * PFS_VD;
  const vd mv = vd_splat(m);
  vd acc = vd_splat(0);
  double s = 0;
  for (int64_t o = 0; o < k->outer; o++, x += step) {
    int64_t i = 0;
    for (; i < nv; i += PFS_VD) {
      vd v = LOADD(x + i);
      if (sq) {
        v -= mv;
        v *= v;
      }
      acc += v;
    }
    for (; i < n; i++) {
      const double v = sq ? ((double)x[i] - m) * ((double)x[i] - m) : (double)x[i];
      s += v;
    }
  }
  for (int l = 0; l < PFS_VD; l++) s += acc[l];
  return s;
}

/* Σ g and Σ g·(x − m) over one channel. */
static void FN(channel_grad_sums)(const FN(bn_ctx) *k, const T *g, const T *x, double m, double *sg, double *sgx) {
  const int64_t step = k->c * k->inner, n = k->inner, nv = n / PFS_VD * PFS_VD;
  const vd mv = vd_splat(m);
  vd ag = vd_splat(0), agx = vd_splat(0);
  double s1 = 0, s2 = 0;
  for (int64_t o = 0; o < k->outer; o++, x += step, g += step) {
    int64_t i = 0;
    for (; i < nv; i += PFS_VD) {
      const vd gv = LOADD(g + i);
      ag += gv;
      agx += gv * (LOADD(x + i) - mv);
    }
    for (; i < n; i++) {
      s1 += (double)g[i];
      s2 += (double)g[i] * ((double)x[i] - m);
    }
  }
  for (int l = 0; l < PFS_VD; l++) {
    s1 += ag[l];
    s2 += agx[l];
  }
  *sg = s1;
  *sgx = s2;
}

/* out[j] = a·u[j] + b·(v[j] − m) + c over one channel (v may be NULL: then b is 0), in T. */
static void FN(channel_map)(const FN(bn_ctx) *k, const T *u, const T *v, T *out, T a, T b, T m, T c) {
  const int64_t step = k->c * k->inner, n = k->inner;
  for (int64_t o = 0; o < k->outer; o++, u += step, out += step) {
    if (v) {
      for (int64_t i = 0; i < n; i++) out[i] = a * u[i] + b * (v[i] - m) + c;
      v += step;
    } else {
      for (int64_t i = 0; i < n; i++) out[i] = a * u[i] + c;
    }
  }
}

static void FN(bn_task)(void *p, int t, int nt) {
  const FN(bn_ctx) *k = p;
  const int64_t lo = k->c * t / nt, hi = k->c * (t + 1) / nt;
  const double n = (double)k->outer * (double)k->inner;
  for (int64_t ch = lo; ch < hi; ch++) {
    const int64_t at = ch * k->inner;
    if (k->kind == BN_STATS) { /* mean and biased variance, two passes */
      const double mean = FN(channel_sum)(k, k->x + at, 0, 0) / n;
      k->out0[ch] = (T)mean;
      k->out1[ch] = (T)(FN(channel_sum)(k, k->x + at, mean, 1) / n);
    } else if (k->kind == BN_AFFINE) { /* out = x·scale + shift */
      FN(channel_map)(k, k->x + at, NULL, k->out0 + at, k->p0[ch], 0, 0, k->p1[ch]);
    } else { /* dx = r·w·(g − Σg/n − x̂·Σg·x̂/n), x̂ = (x − m)·r */
      const double m = (double)k->p0[ch], r = (double)k->p1[ch], w = k->p2 ? (double)k->p2[ch] : 1;
      double sg, sgxc;
      FN(channel_grad_sums)(k, k->g + at, k->x + at, m, &sg, &sgxc);
      const double sgx = sgxc * r; /* Σ g·x̂ */
      k->out1[ch] = (T)sg;
      k->out2[ch] = (T)sgx;
      const double a = r * w;
      FN(channel_map)(k, k->g + at, k->x + at, k->out0 + at, (T)a, (T)(-a * r * sgx / n), (T)m, (T)(-a * sg / n));
    }
  }
}

static int FN(bn_run)(const FN(bn_ctx) *k, int nthreads) {
  int nt = (double)k->outer * (double)k->c * (double)k->inner < PFS_NORM_PARALLEL_MIN ? 1 : nthreads;
  if (nt > k->c) nt = k->c > 0 ? (int)k->c : 1;
  pfs_parallel(FN(bn_task), (void *)k, nt);
  return PFS_OK;
}
