/*
 * The LSTM cell's passes for one element type (T; FN(name) adds the type suffix; V is a vector of W
 * values of T, VLOAD / VSTORE move one, VSIGMOID / VTANH are vmath.h's functions for it, the ones the
 * unary kernels use). Row r of z and acts holds four gates of h values each; a row is done W columns
 * at a time, the last group through a padded buffer.
 */

typedef struct {
  int backward;
  int64_t rows, h;
  const T *z, *c;     /* forward: z, c; backward: acts, c */
  const T *cell, *g;  /* backward: out (whose second half is C') and gout */
  T *out, *acts;      /* forward: out, acts; backward: dz, dc */
} FN(lstm_ctx);

/* n ≤ W values at p (the rest 0), and back. */
static inline V FN(rnn_ld)(const T *p, int64_t n) {
  if (n == W) return VLOAD(p);
  V v = (V){0};
  for (int64_t i = 0; i < n; i++) v[i] = p[i];
  return v;
}
static inline void FN(rnn_st)(T *p, V v, int64_t n) {
  if (n == W) {
    VSTORE(p, v);
    return;
  }
  for (int64_t i = 0; i < n; i++) p[i] = v[i];
}

static void FN(lstm_row)(const FN(lstm_ctx) *k, int64_t r) {
  const int64_t h = k->h;
  const T *z = k->z + r * 4 * h, *c = k->c + r * h;
  T *out = k->out + r * 2 * h, *acts = k->acts + r * 4 * h;
  for (int64_t j = 0; j < h; j += W) {
    const int64_t n = h - j < W ? h - j : W;
    const V I = VSIGMOID(FN(rnn_ld)(z + j, n)), F = VSIGMOID(FN(rnn_ld)(z + h + j, n));
    const V G = VTANH(FN(rnn_ld)(z + 2 * h + j, n)), O = VSIGMOID(FN(rnn_ld)(z + 3 * h + j, n));
    const V C = F * FN(rnn_ld)(c + j, n) + I * G;
    FN(rnn_st)(out + j, O * VTANH(C), n);
    FN(rnn_st)(out + h + j, C, n);
    FN(rnn_st)(acts + j, I, n);
    FN(rnn_st)(acts + h + j, F, n);
    FN(rnn_st)(acts + 2 * h + j, G, n);
    FN(rnn_st)(acts + 3 * h + j, O, n);
  }
}

static void FN(lstm_row_backward)(const FN(lstm_ctx) *k, int64_t r) {
  const int64_t h = k->h;
  const T *acts = k->z + r * 4 * h, *c = k->c + r * h, *cell = k->cell + r * 2 * h + h, *g = k->g + r * 2 * h;
  T *dz = k->out + r * 4 * h, *dc = k->acts + r * h;
  for (int64_t j = 0; j < h; j += W) {
    const int64_t n = h - j < W ? h - j : W;
    const V I = FN(rnn_ld)(acts + j, n), F = FN(rnn_ld)(acts + h + j, n);
    const V G = FN(rnn_ld)(acts + 2 * h + j, n), O = FN(rnn_ld)(acts + 3 * h + j, n);
    const V t = VTANH(FN(rnn_ld)(cell + j, n)), dH = FN(rnn_ld)(g + j, n);
    const V one = (V){0} + 1, dC = FN(rnn_ld)(g + h + j, n) + dH * O * (one - t * t);
    FN(rnn_st)(dz + j, dC * G * I * (one - I), n);
    FN(rnn_st)(dz + h + j, dC * FN(rnn_ld)(c + j, n) * F * (one - F), n);
    FN(rnn_st)(dz + 2 * h + j, dC * I * (one - G * G), n);
    FN(rnn_st)(dz + 3 * h + j, dH * t * O * (one - O), n);
    FN(rnn_st)(dc + j, dC * F, n);
  }
}

static void FN(lstm_task)(void *p, int t, int nt) {
  const FN(lstm_ctx) *k = p;
  for (int64_t r = k->rows * t / nt; r < k->rows * (t + 1) / nt; r++) {
    if (k->backward) FN(lstm_row_backward)(k, r);
    else FN(lstm_row)(k, r);
  }
}

/* The GRU step's halves: kind GRU_GATES, GRU_GATES_BACKWARD, GRU_UPDATE or GRU_UPDATE_BACKWARD; the
 * arrays in the order of their pfs_gru_* function. */
typedef struct {
  int kind;
  int64_t rows, h;
  const T *in[4];
  T *out[3];
} FN(gru_ctx);

static void FN(gru_row)(const FN(gru_ctx) *k, int64_t r) {
  const int64_t h = k->h, r1 = r * h, r2 = r * 2 * h;
  const V one = (V){0} + 1;
  for (int64_t j = 0; j < h; j += W) {
    const int64_t n = h - j < W ? h - j : W;
    switch (k->kind) {
      case GRU_GATES: { /* a, rz, H → out [Z | R·H], acts [R | Z] */
        const V R = VSIGMOID(FN(rnn_ld)(k->in[0] + r2 + j, n) + FN(rnn_ld)(k->in[1] + r2 + j, n));
        const V Z = VSIGMOID(FN(rnn_ld)(k->in[0] + r2 + h + j, n) + FN(rnn_ld)(k->in[1] + r2 + h + j, n));
        FN(rnn_st)(k->out[0] + r2 + j, Z, n);
        FN(rnn_st)(k->out[0] + r2 + h + j, R * FN(rnn_ld)(k->in[2] + r1 + j, n), n);
        FN(rnn_st)(k->out[1] + r2 + j, R, n);
        FN(rnn_st)(k->out[1] + r2 + h + j, Z, n);
        break;
      }
      case GRU_GATES_BACKWARD: { /* acts, H, g → da, dH */
        const V R = FN(rnn_ld)(k->in[0] + r2 + j, n), Z = FN(rnn_ld)(k->in[0] + r2 + h + j, n);
        const V dZ = FN(rnn_ld)(k->in[2] + r2 + j, n), dRH = FN(rnn_ld)(k->in[2] + r2 + h + j, n);
        FN(rnn_st)(k->out[0] + r2 + j, dRH * FN(rnn_ld)(k->in[1] + r1 + j, n) * R * (one - R), n);
        FN(rnn_st)(k->out[0] + r2 + h + j, dZ * Z * (one - Z), n);
        FN(rnn_st)(k->out[1] + r1 + j, dRH * R, n);
        break;
      }
      case GRU_UPDATE: { /* xh, m, Z, H → out, cand */
        const V C = VTANH(FN(rnn_ld)(k->in[0] + r1 + j, n) + FN(rnn_ld)(k->in[1] + r1 + j, n));
        const V Z = FN(rnn_ld)(k->in[2] + r1 + j, n);
        FN(rnn_st)(k->out[0] + r1 + j, Z * FN(rnn_ld)(k->in[3] + r1 + j, n) + (one - Z) * C, n);
        FN(rnn_st)(k->out[1] + r1 + j, C, n);
        break;
      }
      default: { /* GRU_UPDATE_BACKWARD: cand, Z, H, g → dxh, dZ, dH */
        const V C = FN(rnn_ld)(k->in[0] + r1 + j, n), Z = FN(rnn_ld)(k->in[1] + r1 + j, n);
        const V g = FN(rnn_ld)(k->in[3] + r1 + j, n);
        FN(rnn_st)(k->out[0] + r1 + j, g * (one - Z) * (one - C * C), n);
        FN(rnn_st)(k->out[1] + r1 + j, g * (FN(rnn_ld)(k->in[2] + r1 + j, n) - C), n);
        FN(rnn_st)(k->out[2] + r1 + j, g * Z, n);
      }
    }
  }
}

static void FN(gru_task)(void *p, int t, int nt) {
  const FN(gru_ctx) *k = p;
  for (int64_t r = k->rows * t / nt; r < k->rows * (t + 1) / nt; r++) FN(gru_row)(k, r);
}
