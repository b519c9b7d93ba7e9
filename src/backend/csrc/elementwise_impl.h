/*
 * The inner loops of the elementwise kernels for one float type, included by elementwise.c once per
 * type with T (float / double), V, W, V_LOAD / V_STORE (vector load/store of T), FABS, SQRT, and
 * FN(name) (type suffix). Each loop handles one "segment": `len` elements of a row, each operand
 * with its own stride (1 for contiguous, 0 for broadcast), into a contiguous output.
 *
 * The formulas are those of src/backend/ref/index.ts. For + − × ÷ and √ the float result equals
 * the reference's (which computes in double and rounds: double has enough spare bits for these to
 * round the same); pow and log call the C library in double; exp, sigmoid and tanh use vmath.h
 * in T's own precision (a few units in the last place from the reference).
 */

/* Expands LOOP(EXPR) for the stride patterns that vectorise (contiguous, or one operand broadcast)
 * and a general one; x and y name the two operands inside EXPR. */
#define PFS_BIN_LOOPS(TO, EXPR)                                                             \
  do {                                                                                      \
    TO *o = out;                                                                            \
    if (sa == 1 && sb == 1) {                                                               \
      for (int64_t j = 0; j < len; j++) { const T x = a[j], y = b[j]; o[j] = (TO)(EXPR); }  \
    } else if (sa == 1 && sb == 0) {                                                        \
      const T y = b[0];                                                                     \
      for (int64_t j = 0; j < len; j++) { const T x = a[j]; o[j] = (TO)(EXPR); }           \
    } else if (sa == 0 && sb == 1) {                                                        \
      const T x = a[0];                                                                     \
      for (int64_t j = 0; j < len; j++) { const T y = b[j]; o[j] = (TO)(EXPR); }           \
    } else {                                                                                \
      for (int64_t j = 0; j < len; j++) {                                                   \
        const T x = a[j * sa], y = b[j * sb];                                               \
        o[j] = (TO)(EXPR);                                                                  \
      }                                                                                     \
    }                                                                                       \
  } while (0)

/* JavaScript truthiness of a number (NaN is false), which the reference's `a && b` uses. */
#define PFS_TRUTHY(v) (((v) != 0) & ((v) == (v)))

static void FN(binary_seg)(pfs_binary_op op, const T *a, int64_t sa, const T *b, int64_t sb, void *out, int64_t len) {
  switch (op) {
    case PFS_ADD: PFS_BIN_LOOPS(T, x + y); break;
    case PFS_SUB: PFS_BIN_LOOPS(T, x - y); break;
    case PFS_MUL: PFS_BIN_LOOPS(T, x * y); break;
    case PFS_DIV: PFS_BIN_LOOPS(T, x / y); break;
    case PFS_POW: PFS_BIN_LOOPS(T, pow((double)x, (double)y)); break;
    case PFS_MAXIMUM: PFS_BIN_LOOPS(T, (x != x || y != y) ? (T)NAN : (x > y ? x : y)); break;
    case PFS_MINIMUM: PFS_BIN_LOOPS(T, (x != x || y != y) ? (T)NAN : (x < y ? x : y)); break;
    case PFS_EQ: PFS_BIN_LOOPS(uint8_t, x == y); break;
    case PFS_NE: PFS_BIN_LOOPS(uint8_t, x != y); break;
    case PFS_LT: PFS_BIN_LOOPS(uint8_t, x < y); break;
    case PFS_LE: PFS_BIN_LOOPS(uint8_t, x <= y); break;
    case PFS_GT: PFS_BIN_LOOPS(uint8_t, x > y); break;
    case PFS_GE: PFS_BIN_LOOPS(uint8_t, x >= y); break;
    case PFS_AND: PFS_BIN_LOOPS(uint8_t, PFS_TRUTHY(x) & PFS_TRUTHY(y)); break;
    case PFS_OR: PFS_BIN_LOOPS(uint8_t, PFS_TRUTHY(x) | PFS_TRUTHY(y)); break;
    case PFS_BINARY_OPS: break; /* the count, not an op */
  }
}

/* The ops computed through vmath.h, with vectors of T (VMATH(name) is vf_name or vd_name); a
 * chunk at a time through a buffer, which also gathers a strided input and pads the last vector. */
static void FN(unary_math_seg)(pfs_unary_op op, const T *x, int64_t sx, T *out, int64_t len) {
  T buf[PFS_CHUNK] __attribute__((aligned(64)));
  for (int64_t j0 = 0; j0 < len; j0 += PFS_CHUNK) {
    const int64_t n = len - j0 < PFS_CHUNK ? len - j0 : PFS_CHUNK;
    const int64_t nv = (n + W - 1) / W * W; /* whole vectors; the pad is ignored */
    for (int64_t j = 0; j < n; j++) buf[j] = x[(j0 + j) * sx];
    for (int64_t j = n; j < nv; j++) buf[j] = 0;
#define PFS_MATH_LOOP(F) \
  for (int64_t j = 0; j < nv; j += W) *(V *)(buf + j) = F(*(V *)(buf + j))
    switch (op) {
      case PFS_EXP: PFS_MATH_LOOP(VMATH(exp)); break;
      case PFS_SIGMOID: PFS_MATH_LOOP(VMATH(sigmoid)); break;
      case PFS_TANH: PFS_MATH_LOOP(VMATH(tanh)); break;
      default:
        for (int64_t j = 0; j < n; j++) buf[j] = (T)log((double)buf[j]);
    }
#undef PFS_MATH_LOOP
    memcpy(out + j0, buf, sizeof(T) * (size_t)n);
  }
}

#define PFS_UNARY_LOOPS(EXPR)                                                                 \
  do {                                                                                        \
    if (sx == 1) {                                                                            \
      for (int64_t j = 0; j < len; j++) { const T v = x[j]; out[j] = (EXPR); }               \
    } else {                                                                                  \
      for (int64_t j = 0; j < len; j++) { const T v = x[j * sx]; out[j] = (EXPR); }          \
    }                                                                                         \
  } while (0)

static void FN(unary_seg)(pfs_unary_op op, const T *x, int64_t sx, T *out, int64_t len) {
  switch (op) {
    case PFS_COPY: PFS_UNARY_LOOPS(v); break;
    case PFS_NEG: PFS_UNARY_LOOPS(-v); break;
    case PFS_ABS: PFS_UNARY_LOOPS(FABS(v)); break;
    case PFS_SQRT: PFS_UNARY_LOOPS(SQRT(v)); break;
    case PFS_SIGN: PFS_UNARY_LOOPS(v > 0 ? (T)1 : v < 0 ? (T)-1 : v); break; /* keeps NaN and ±0 */
    case PFS_RELU: PFS_UNARY_LOOPS(v > 0 ? v : v != v ? v : (T)0); break;
    case PFS_EXP:
    case PFS_LOG:
    case PFS_SIGMOID:
    case PFS_TANH: FN(unary_math_seg)(op, x, sx, out, len); break;
    case PFS_UNARY_OPS: break; /* the count, not an op */
  }
}

/*
 * Reduction of rows: out[o·inner + i] = op over k of x[(o·n + k)·inner + i], for o in [o0, o1).
 * Sums accumulate in double, as the reference does. max/min: a NaN wins. arg*: first extreme index.
 */
static void FN(reduce_rows)(pfs_reduce_op op, const T *x, int64_t o0, int64_t o1, int64_t n, int64_t inner, void *outp) {
  for (int64_t o = o0; o < o1; o++) {
    const T *xo = x + o * n * inner;
    if (op == PFS_SUM) {
      T *out = (T *)outp + o * inner;
      if (inner == 1) {
        /* four independent double accumulators of vector width, then the tail */
        vd acc[4] = {{0}, {0}, {0}, {0}};
        int64_t k = 0;
        for (; k + 4 * PFS_VD <= n; k += 4 * PFS_VD) {
          for (int u = 0; u < 4; u++) acc[u] += V_LOAD_D(xo + k + u * PFS_VD);
        }
        for (; k + PFS_VD <= n; k += PFS_VD) acc[0] += V_LOAD_D(xo + k);
        const vd s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        double total = 0;
        for (int l = 0; l < PFS_VD; l++) total += s[l];
        for (; k < n; k++) total += xo[k];
        out[0] = (T)total;
      } else {
        double acc[PFS_CHUNK];
        for (int64_t i0 = 0; i0 < inner; i0 += PFS_CHUNK) {
          const int64_t m = inner - i0 < PFS_CHUNK ? inner - i0 : PFS_CHUNK;
          for (int64_t i = 0; i < m; i++) acc[i] = 0;
          for (int64_t k = 0; k < n; k++) {
            const T *row = xo + k * inner + i0;
            for (int64_t i = 0; i < m; i++) acc[i] += row[i];
          }
          for (int64_t i = 0; i < m; i++) out[i0 + i] = (T)acc[i];
        }
      }
    } else if (op == PFS_MAX || op == PFS_MIN) {
      T *out = (T *)outp + o * inner;
      const int mx = op == PFS_MAX;
      if (inner == 1) {
        /* lanes keep their own extreme (a NaN, once in a lane, stays: v > NaN is false) */
        V best = (T)xo[0] - (V){0};
        int64_t k = 0;
        for (; k + W <= n; k += W) {
          const V v = V_LOAD(xo + k);
          const VI take = (mx ? v > best : v < best) | (v != v);
          best = V_SELECT(take, v, best);
        }
        T b = xo[0];
        for (int l = 0; l < W; l++) {
          const T v = best[l];
          if (mx ? v > b : v < b) b = v;
          if (v != v) b = v;
        }
        for (; k < n && b == b; k++) {
          const T v = xo[k];
          if ((mx ? v > b : v < b) || v != v) b = v;
        }
        out[0] = b;
      } else {
        for (int64_t i = 0; i < inner; i++) out[i] = xo[i];
        for (int64_t k = 1; k < n; k++) {
          const T *row = xo + k * inner;
          for (int64_t i = 0; i < inner; i++) {
            const T v = row[i], b = out[i];
            out[i] = ((mx ? v > b : v < b) || v != v) ? v : b;
          }
        }
      }
    } else {
      int32_t *out = (int32_t *)outp + o * inner;
      const int mx = op == PFS_ARGMAX;
      for (int64_t i = 0; i < inner; i++) {
        T b = xo[i];
        int64_t bk = 0;
        for (int64_t k = 1; k < n && b == b; k++) {
          const T v = xo[k * inner + i];
          if (v != v || (mx ? v > b : v < b)) {
            b = v;
            bk = k;
          }
        }
        out[i] = (int32_t)bk;
      }
    }
  }
}
