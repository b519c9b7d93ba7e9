/*
 * Layer normalisation's passes for one element type (T; FN(name) adds the type suffix; LOADD(p) reads
 * PFS_VD values of T at p as a vector of doubles, STORED(p, v) writes one back rounded to T). The data
 * is (rows, n), contiguous; a row is PFS_VD-wide vectors and a scalar tail. Every sum is in double.
 */

typedef struct {
  int64_t rows, n;
  double eps;
  const T *x, *g, *w, *b; /* g: backward only; w, b may be NULL */
  T *out;                 /* forward: the output; backward: dx */
  T *mean, *rstd;         /* forward writes them, backward reads them */
  T *dw, *db;             /* backward, may be NULL */
} FN(ln_ctx);

/* Σ x over a row (sq = 0), or Σ (x − m)² (sq = 1). */
static double FN(ln_row_sum)(const T *x, int64_t n, double m, int sq) {
  const int64_t nv = n / PFS_VD * PFS_VD;
  const vd mv = vd_splat(m);
  vd acc = vd_splat(0);
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    vd v = LOADD(x + j);
    if (sq) {
      v -= mv;
      v *= v;
    }
    acc += v;
  }
  double s = 0;
  for (int l = 0; l < PFS_VD; l++) s += acc[l];
  for (int64_t j = nv; j < n; j++) s += sq ? ((double)x[j] - m) * ((double)x[j] - m) : (double)x[j];
  return s;
}

/* One row forward: its mean and 1/√(σ² + eps), then out = (x − m)·r·w + b. */
static void FN(ln_row)(const FN(ln_ctx) *c, int64_t i) {
  const int64_t n = c->n, nv = n / PFS_VD * PFS_VD;
  const T *x = c->x + i * n;
  T *out = c->out + i * n;
  const double m = FN(ln_row_sum)(x, n, 0, 0) / (double)n;
  const double r = 1 / __builtin_sqrt(FN(ln_row_sum)(x, n, m, 1) / (double)n + c->eps);
  const vd mv = vd_splat(m), rv = vd_splat(r);
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    vd v = (LOADD(x + j) - mv) * rv;
    if (c->w) v *= LOADD(c->w + j);
    if (c->b) v += LOADD(c->b + j);
    STORED(out + j, v);
  }
  for (int64_t j = nv; j < n; j++) {
    double v = ((double)x[j] - m) * r;
    if (c->w) v *= (double)c->w[j];
    if (c->b) v += (double)c->b[j];
    out[j] = (T)v;
  }
  c->mean[i] = (T)m;
  c->rstd[i] = (T)r;
}

/* One row backward: s1 = Σ ĝ, s2 = Σ ĝ·x̂ (ĝ = g·w), then dx = r·(ĝ − s1/n − x̂·s2/n). */
static void FN(ln_row_backward)(const FN(ln_ctx) *c, int64_t i) {
  const int64_t n = c->n, nv = n / PFS_VD * PFS_VD;
  const T *x = c->x + i * n, *g = c->g + i * n;
  T *dx = c->out + i * n;
  const double m = (double)c->mean[i], r = (double)c->rstd[i];
  const vd mv = vd_splat(m), rv = vd_splat(r);
  vd a1 = vd_splat(0), a2 = vd_splat(0);
  double s1 = 0, s2 = 0;
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    vd gh = LOADD(g + j);
    if (c->w) gh *= LOADD(c->w + j);
    a1 += gh;
    a2 += gh * ((LOADD(x + j) - mv) * rv);
  }
  for (int64_t j = nv; j < n; j++) {
    const double gh = (double)g[j] * (c->w ? (double)c->w[j] : 1);
    s1 += gh;
    s2 += gh * (((double)x[j] - m) * r);
  }
  for (int l = 0; l < PFS_VD; l++) {
    s1 += a1[l];
    s2 += a2[l];
  }
  const double k1 = s1 / (double)n, k2 = s2 / (double)n;
  const vd k1v = vd_splat(k1), k2v = vd_splat(k2);
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    vd gh = LOADD(g + j);
    if (c->w) gh *= LOADD(c->w + j);
    STORED(dx + j, rv * (gh - k1v - (LOADD(x + j) - mv) * rv * k2v));
  }
  for (int64_t j = nv; j < n; j++) {
    const double gh = (double)g[j] * (c->w ? (double)c->w[j] : 1);
    dx[j] = (T)(r * (gh - k1 - ((double)x[j] - m) * r * k2));
  }
}

static void FN(ln_task)(void *p, int t, int nt) {
  const FN(ln_ctx) *c = p;
  const int64_t r0 = c->rows * t / nt, r1 = c->rows * (t + 1) / nt;
  for (int64_t i = r0; i < r1; i++) {
    if (c->g) FN(ln_row_backward)(c, i);
    else FN(ln_row)(c, i);
  }
}

/* Columns a thread's block of dw / db sums at a time (the sums stay in a stack buffer). */
#define LN_COLS 256

/* dw[j] = Σ_i g·x̂ and db[j] = Σ_i g over the rows in order; threads take blocks of columns. */
static void FN(ln_param_task)(void *p, int t, int nt) {
  const FN(ln_ctx) *c = p;
  const int64_t n = c->n, blocks = (n + LN_COLS - 1) / LN_COLS;
  for (int64_t blk = blocks * t / nt; blk < blocks * (t + 1) / nt; blk++) {
    const int64_t j0 = blk * LN_COLS, w = n - j0 < LN_COLS ? n - j0 : LN_COLS, wv = w / PFS_VD * PFS_VD;
    double sw[LN_COLS] __attribute__((aligned(64))), sb[LN_COLS] __attribute__((aligned(64)));
    for (int64_t j = 0; j < w; j++) sw[j] = sb[j] = 0;
    for (int64_t i = 0; i < c->rows; i++) {
      const T *x = c->x + i * n + j0, *g = c->g + i * n + j0;
      const double m = (double)c->mean[i], r = (double)c->rstd[i];
      const vd mv = vd_splat(m), rv = vd_splat(r);
      for (int64_t j = 0; j < wv; j += PFS_VD) {
        const vd gv = LOADD(g + j);
        vd_store(sw + j, vd_load(sw + j) + gv * ((LOADD(x + j) - mv) * rv));
        vd_store(sb + j, vd_load(sb + j) + gv);
      }
      for (int64_t j = wv; j < w; j++) {
        sw[j] += (double)g[j] * (((double)x[j] - m) * r);
        sb[j] += (double)g[j];
      }
    }
    for (int64_t j = 0; j < w; j++) {
      if (c->dw) c->dw[j0 + j] = (T)sw[j];
      if (c->db) c->db[j0 + j] = (T)sb[j];
    }
  }
}
