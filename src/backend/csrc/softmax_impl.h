/*
 * The softmax passes for one element type (T; FN(name) adds the type suffix; LOADD(p) reads PFS_VD
 * values of T at p as a vector of doubles, STORED(p, v) writes one back rounded to T; FLOAT_EXP is 1
 * for float arrays: see row_sum_exp). A row is PFS_VD-wide vectors and a scalar tail.
 */

typedef struct {
  int log;      /* log-softmax rather than softmax */
  int backward; /* the backward pass: x is y (the output), g its gradient, out dx */
  int64_t rows, n;
  const T *x, *g;
  T *out;
} FN(softmax_ctx);

/* The max of a row (NaN values are skipped: they make the sum, and so every output, NaN anyway). */
static double FN(row_max)(const T *x, int64_t n) {
  const int64_t nv = n / PFS_VD * PFS_VD;
  vd acc = vd_splat(-__builtin_inf());
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    const vd v = LOADD(x + j);
    acc = vd_select(v > acc, v, acc);
  }
  double m = -__builtin_inf();
  for (int l = 0; l < PFS_VD; l++) m = acc[l] > m ? acc[l] : m;
  for (int64_t j = nv; j < n; j++) m = (double)x[j] > m ? (double)x[j] : m;
  return m;
}

/*
 * Σ exp(x − m) over a row, each exp(x − m) also stored in out (rounded to T) unless out is NULL.
 * With FLOAT_EXP (float arrays) the vector part takes exp in float, PFS_VF values at a time
 * (vmath.h's vf_exp, within a unit or two in the last place of float), x − m too, and adds both
 * halves of the vector into the double sum: a float result needs no more, and double's exp took
 * three quarters of a Transformer's softmax.
 */
static double FN(row_sum_exp)(const T *x, T *out, int64_t n, double m) {
#if FLOAT_EXP
  const int64_t nv = n / PFS_VF * PFS_VF;
  const vf mv = vf_splat((float)m);
  vd acc = vd_splat(0);
  for (int64_t j = 0; j < nv; j += PFS_VF) {
    const vf e = vf_exp(vf_load(x + j) - mv);
    if (out) memcpy(out + j, &e, sizeof e);
    vd lo, hi;
    vf_halves(e, &lo, &hi);
    acc += lo + hi;
  }
#else
  const int64_t nv = n / PFS_VD * PFS_VD;
  const vd mv = vd_splat(m);
  vd acc = vd_splat(0);
  for (int64_t j = 0; j < nv; j += PFS_VD) {
    const vd e = vd_exp(LOADD(x + j) - mv);
    acc += e;
    if (out) STORED(out + j, e);
  }
#endif
  double s = 0;
  for (int l = 0; l < PFS_VD; l++) s += acc[l];
  for (int64_t j = nv; j < n; j++) {
    const double e = exp1((double)x[j] - m);
    s += e;
    if (out) out[j] = (T)e;
  }
  return s;
}

static void FN(softmax_row)(const T *x, T *out, int64_t n, int log_softmax) {
  const int64_t nv = n / PFS_VD * PFS_VD;
  double m = FN(row_max)(x, n);
  if (log_softmax && !(m - m == 0)) m = 0;
  const double s = FN(row_sum_exp)(x, log_softmax ? NULL : out, n, m);
  if (log_softmax) {
    const double lse = m + log(s);
    const vd lv = vd_splat(lse);
    for (int64_t j = 0; j < nv; j += PFS_VD) STORED(out + j, LOADD(x + j) - lv);
    for (int64_t j = nv; j < n; j++) out[j] = (T)((double)x[j] - lse);
  } else {
    /* each exp(x − m) was stored in out by the sum's pass (rounded to T): divided by the sum here,
     * which rounds once more, so exp runs once per value */
    const vd sv = vd_splat(s);
    for (int64_t j = 0; j < nv; j += PFS_VD) STORED(out + j, LOADD(out + j) / sv);
    for (int64_t j = nv; j < n; j++) out[j] = (T)((double)out[j] / s);
  }
}

/* softmax: dx = y·(g − Σ g·y); log-softmax: dx = g − exp(y)·Σ g. */
static void FN(softmax_backward_row)(const T *y, const T *g, T *dx, int64_t n, int log_softmax) {
  const int64_t nv = n / PFS_VD * PFS_VD;
  vd acc = vd_splat(0);
  double s = 0;
  if (log_softmax) {
    for (int64_t j = 0; j < nv; j += PFS_VD) acc += LOADD(g + j);
    for (int64_t j = nv; j < n; j++) s += (double)g[j];
  } else {
    for (int64_t j = 0; j < nv; j += PFS_VD) acc += LOADD(g + j) * LOADD(y + j);
    for (int64_t j = nv; j < n; j++) s += (double)g[j] * (double)y[j];
  }
  for (int l = 0; l < PFS_VD; l++) s += acc[l];
  const vd sv = vd_splat(s);
  if (log_softmax) {
#if FLOAT_EXP /* exp(y) in float, the rest in double, as the forward's sums */
    const int64_t nf = n / PFS_VF * PFS_VF;
    for (int64_t j = 0; j < nf; j += PFS_VF) {
      vd lo, hi;
      vf_halves(vf_exp(vf_load(y + j)), &lo, &hi);
      STORED(dx + j, LOADD(g + j) - lo * sv);
      STORED(dx + j + PFS_VD, LOADD(g + j + PFS_VD) - hi * sv);
    }
    for (int64_t j = nf; j < nv; j += PFS_VD) STORED(dx + j, LOADD(g + j) - vd_exp(LOADD(y + j)) * sv);
#else
    for (int64_t j = 0; j < nv; j += PFS_VD) STORED(dx + j, LOADD(g + j) - vd_exp(LOADD(y + j)) * sv);
#endif
    for (int64_t j = nv; j < n; j++) dx[j] = (T)((double)g[j] - exp1((double)y[j]) * s);
  } else {
    for (int64_t j = 0; j < nv; j += PFS_VD) STORED(dx + j, LOADD(y + j) * (LOADD(g + j) - sv));
    for (int64_t j = nv; j < n; j++) dx[j] = (T)((double)y[j] * ((double)g[j] - s));
  }
}

static void FN(softmax_task)(void *p, int t, int nt) {
  const FN(softmax_ctx) *c = p;
  const int64_t r0 = c->rows * t / nt, r1 = c->rows * (t + 1) / nt, n = c->n;
  for (int64_t r = r0; r < r1; r++) {
    if (c->backward) {
      FN(softmax_backward_row)(c->x + r * n, c->g + r * n, c->out + r * n, n, c->log);
    } else {
      FN(softmax_row)(c->x + r * n, c->out + r * n, n, c->log);
    }
  }
}
