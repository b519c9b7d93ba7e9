/*
 * Elementwise kernels (unary, binary, where) over strided views, and reductions.
 *
 * A view's walk is simplified before it starts: dims of size 1 are dropped and neighbouring dims
 * that every operand steps through as one (stride[d] = stride[d+1]·shape[d+1] for all) are merged,
 * so a contiguous tensor is one long row, and a bias broadcast over (N, C, H, W) becomes rows of
 * H·W with a stride-0 operand. The output (contiguous) is then cut into equal element ranges, one
 * per thread, and each range is walked row by row: the inner loops in elementwise_impl.h see a
 * row segment with one stride per operand.
 */
#include <math.h>
#include <string.h>

#include "pfs.h"
#include "simd.h"
#include "vmath.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Elements per chunk in the loops that go through a buffer. */
#define PFS_CHUNK 256
/* Below this many elements an elementwise kernel runs on one thread (cheap ops; the
 * transcendental ones split from PFS_PARALLEL_MATH_MIN). */
#define PFS_PARALLEL_MIN (1 << 16)
#define PFS_PARALLEL_MATH_MIN (1 << 13)

static inline vd load_f32_as_vd(const float *p) { return vd_load_f32(p); }

#define T float
#define V vf
#define VI vi32
#define W PFS_VF
#define V_LOAD vf_load
#define V_LOAD_D load_f32_as_vd
#define V_SELECT vf_select
#define FABS fabsf
#define SQRT sqrtf
#define VMATH(name) vf_##name
#define FN(name) PASTE(name, _f32)
#include "elementwise_impl.h"
#undef T
#undef V
#undef VI
#undef W
#undef V_LOAD
#undef V_LOAD_D
#undef V_SELECT
#undef FABS
#undef SQRT
#undef VMATH
#undef FN

#define T double
#define V vd
#define VI vi64
#define W PFS_VD
#define V_LOAD vd_load
#define V_LOAD_D vd_load
#define V_SELECT vd_select
#define FABS fabs
#define SQRT sqrt
#define VMATH(name) vd_##name
#define FN(name) PASTE(name, _f64)
#include "elementwise_impl.h"

/* ---------------------------------------------------------------- the walk ----------------------- */

#define MAXV 3 /* operands per walk */

typedef struct {
  int nd;          /* dims after simplification (≥ 1) */
  int nv;          /* operands */
  int64_t total;   /* elements */
  int64_t shape[PFS_MAX_DIMS];
  int64_t strides[MAXV][PFS_MAX_DIMS];
  int64_t offset[MAXV];
} walk;

static void walk_init(walk *w, int ndim, const int64_t *shape, int nv, const pfs_view *v) {
  w->nv = nv;
  w->total = 1;
  for (int d = 0; d < ndim; d++) w->total *= shape[d];
  for (int k = 0; k < nv; k++) w->offset[k] = v[k].offset;
  int nd = 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 1) continue;
    int merge = nd > 0;
    for (int k = 0; k < nv && merge; k++) merge = w->strides[k][nd - 1] == v[k].strides[d] * shape[d];
    if (merge) {
      w->shape[nd - 1] *= shape[d];
      for (int k = 0; k < nv; k++) w->strides[k][nd - 1] = v[k].strides[d];
    } else {
      w->shape[nd] = shape[d];
      for (int k = 0; k < nv; k++) w->strides[k][nd] = v[k].strides[d];
      nd++;
    }
  }
  if (nd == 0) {
    w->shape[0] = 1;
    for (int k = 0; k < nv; k++) w->strides[k][0] = 0;
    nd = 1;
  }
  w->nd = nd;
}

/* Called for each row segment: element offsets of the operands' first elements, their inner
 * strides, the output index of the first element, and the length. */
typedef void (*segment_fn)(void *ctx, const int64_t *off, const int64_t *stride, int64_t e, int64_t len);

/* Walks output elements [e0, e1) row by row. */
static void walk_range(const walk *w, int64_t e0, int64_t e1, segment_fn f, void *ctx) {
  if (e0 >= e1) return;
  const int nd = w->nd, nv = w->nv;
  const int64_t L = w->shape[nd - 1];
  int64_t idx[PFS_MAX_DIMS], off[MAXV], inner[MAXV], cur[MAXV];
  int64_t row = e0 / L, j = e0 % L;
  for (int k = 0; k < nv; k++) {
    off[k] = w->offset[k];
    inner[k] = w->strides[k][nd - 1];
  }
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = row % w->shape[d];
    row /= w->shape[d];
    for (int k = 0; k < nv; k++) off[k] += idx[d] * w->strides[k][d];
  }
  for (int64_t e = e0; e < e1;) {
    const int64_t len = L - j < e1 - e ? L - j : e1 - e;
    for (int k = 0; k < nv; k++) cur[k] = off[k] + j * inner[k];
    f(ctx, cur, inner, e, len);
    e += len;
    j = 0;
    for (int d = nd - 2; d >= 0; d--) { /* next row: an odometer over the outer dims */
      for (int k = 0; k < nv; k++) off[k] += w->strides[k][d];
      if (++idx[d] < w->shape[d]) break;
      for (int k = 0; k < nv; k++) off[k] -= w->strides[k][d] * w->shape[d];
      idx[d] = 0;
    }
  }
}

typedef struct {
  const walk *w;
  segment_fn f;
  void *ctx;
} walk_job;

static void walk_task(void *p, int t, int nt) {
  const walk_job *j = p;
  walk_range(j->w, j->w->total * t / nt, j->w->total * (t + 1) / nt, j->f, j->ctx);
}

static void walk_run(const walk *w, segment_fn f, void *ctx, int nthreads, int64_t parallel_min) {
  if (w->total == 0) return;
  int nt = w->total < parallel_min ? 1 : nthreads;
  walk_job j = {w, f, ctx};
  pfs_parallel(walk_task, &j, nt);
}

/* ---------------------------------------------------------------- unary --------------------------- */

typedef struct {
  pfs_unary_op op;
  pfs_dtype tx, tout;
  const void *x;
  void *out;
} unary_ctx;

static void unary_segment(void *p, const int64_t *off, const int64_t *stride, int64_t e, int64_t len) {
  const unary_ctx *c = p;
  const int64_t sx = stride[0];
  if (c->op == PFS_COPY && c->tx != c->tout) { /* float ↔ double */
    if (c->tx == PFS_F32) {
      const float *x = (const float *)c->x + off[0];
      double *o = (double *)c->out + e;
      for (int64_t j = 0; j < len; j++) o[j] = x[j * sx];
    } else {
      const double *x = (const double *)c->x + off[0];
      float *o = (float *)c->out + e;
      for (int64_t j = 0; j < len; j++) o[j] = (float)x[j * sx];
    }
    return;
  }
  if (c->tx == PFS_F32) {
    unary_seg_f32(c->op, (const float *)c->x + off[0], sx, (float *)c->out + e, len);
  } else if (c->tx == PFS_F64) {
    unary_seg_f64(c->op, (const double *)c->x + off[0], sx, (double *)c->out + e, len);
  } else if (c->tx == PFS_I32) { /* copy only */
    const uint32_t *x = (const uint32_t *)c->x + off[0];
    uint32_t *o = (uint32_t *)c->out + e;
    for (int64_t j = 0; j < len; j++) o[j] = x[j * sx];
  } else {
    const uint8_t *x = (const uint8_t *)c->x + off[0];
    uint8_t *o = (uint8_t *)c->out + e;
    for (int64_t j = 0; j < len; j++) o[j] = x[j * sx];
  }
}

int pfs_unary(pfs_unary_op op, int ndim, const int64_t *shape, pfs_dtype tx, pfs_view x, pfs_dtype tout, void *out,
              int nthreads) {
  const int xfloat = tx == PFS_F32 || tx == PFS_F64, ofloat = tout == PFS_F32 || tout == PFS_F64;
  if (op == PFS_COPY) {
    if (tx != tout && !(xfloat && ofloat)) return PFS_UNSUPPORTED;
  } else if (tx != tout || !xfloat) {
    return PFS_UNSUPPORTED;
  }
  if (ndim > PFS_MAX_DIMS) return PFS_UNSUPPORTED;
  walk w;
  walk_init(&w, ndim, shape, 1, &x);
  unary_ctx c = {op, tx, tout, x.base, out};
  const int math = op == PFS_EXP || op == PFS_LOG || op == PFS_SIGMOID || op == PFS_TANH;
  walk_run(&w, unary_segment, &c, nthreads, math ? PFS_PARALLEL_MATH_MIN : PFS_PARALLEL_MIN);
  return PFS_OK;
}

/* ---------------------------------------------------------------- binary / where ------------------ */

typedef struct {
  pfs_binary_op op;
  pfs_dtype t;
  const void *a, *b;
  void *out;
  int out_bytes;
} binary_ctx;

static void binary_segment(void *p, const int64_t *off, const int64_t *stride, int64_t e, int64_t len) {
  const binary_ctx *c = p;
  void *o = (char *)c->out + e * c->out_bytes;
  if (c->t == PFS_F32) {
    binary_seg_f32(c->op, (const float *)c->a + off[0], stride[0], (const float *)c->b + off[1], stride[1], o, len);
  } else {
    binary_seg_f64(c->op, (const double *)c->a + off[0], stride[0], (const double *)c->b + off[1], stride[1], o, len);
  }
}

int pfs_binary(pfs_binary_op op, int ndim, const int64_t *shape, pfs_dtype tin, pfs_view a, pfs_view b,
               pfs_dtype tout, void *out, int nthreads) {
  if (tin != PFS_F32 && tin != PFS_F64) return PFS_UNSUPPORTED;
  const int compare = op >= PFS_EQ;
  if (tout != (compare ? PFS_U8 : tin) || ndim > PFS_MAX_DIMS) return PFS_UNSUPPORTED;
  const pfs_view v[2] = {a, b};
  walk w;
  walk_init(&w, ndim, shape, 2, v);
  binary_ctx c = {op, tin, a.base, b.base, out, pfs_dtype_size(tout)};
  walk_run(&w, binary_segment, &c, nthreads, op == PFS_POW ? PFS_PARALLEL_MATH_MIN : PFS_PARALLEL_MIN);
  return PFS_OK;
}

typedef struct {
  const uint8_t *cond;
  const void *a, *b;
  void *out;
  int bytes;
} where_ctx;

/* The choice copies elements, so one loop per element size serves every type. A scalar operand
 * (stride 0: where(mask, g, 0), as relu's gradient) gets a loop of its own, which the compiler vectorises. */
#define PFS_WHERE_LOOP(U)                                                            \
  do {                                                                               \
    const U *a = (const U *)c->a + off[1], *b = (const U *)c->b + off[2];            \
    U *o = (U *)c->out + e;                                                          \
    const int64_t sc = stride[0], sa = stride[1], sb = stride[2];                    \
    if (sc == 1 && sa == 1 && sb == 1) {                                             \
      for (int64_t j = 0; j < len; j++) o[j] = cond[j] ? a[j] : b[j];                \
    } else if (sc == 1 && sa == 1 && sb == 0) {                                      \
      const U y = b[0];                                                              \
      for (int64_t j = 0; j < len; j++) o[j] = cond[j] ? a[j] : y;                   \
    } else if (sc == 1 && sa == 0 && sb == 1) {                                      \
      const U x = a[0];                                                              \
      for (int64_t j = 0; j < len; j++) o[j] = cond[j] ? x : b[j];                   \
    } else {                                                                         \
      for (int64_t j = 0; j < len; j++) o[j] = cond[j * sc] ? a[j * sa] : b[j * sb]; \
    }                                                                                \
  } while (0)

static void where_segment(void *p, const int64_t *off, const int64_t *stride, int64_t e, int64_t len) {
  const where_ctx *c = p;
  const uint8_t *cond = c->cond + off[0];
  switch (c->bytes) {
    case 8: PFS_WHERE_LOOP(uint64_t); break;
    case 4: PFS_WHERE_LOOP(uint32_t); break;
    default: PFS_WHERE_LOOP(uint8_t); break;
  }
}

int pfs_where(int ndim, const int64_t *shape, pfs_view cond, pfs_dtype t, pfs_view a, pfs_view b, void *out,
              int nthreads) {
  if (ndim > PFS_MAX_DIMS) return PFS_UNSUPPORTED;
  const pfs_view v[3] = {cond, a, b};
  walk w;
  walk_init(&w, ndim, shape, 3, v);
  where_ctx c = {cond.base, a.base, b.base, out, pfs_dtype_size(t)};
  walk_run(&w, where_segment, &c, nthreads, PFS_PARALLEL_MIN);
  return PFS_OK;
}

/* ---------------------------------------------------------------- reduce -------------------------- */

typedef struct {
  pfs_reduce_op op;
  pfs_dtype t;
  const void *x;
  int64_t outer, n, inner;
  void *out;
} reduce_ctx;

static void reduce_task(void *p, int t, int nt) {
  const reduce_ctx *c = p;
  const int64_t o0 = c->outer * t / nt, o1 = c->outer * (t + 1) / nt;
  if (c->t == PFS_F32) {
    reduce_rows_f32(c->op, c->x, o0, o1, c->n, c->inner, c->out);
  } else {
    reduce_rows_f64(c->op, c->x, o0, o1, c->n, c->inner, c->out);
  }
}

int pfs_reduce(pfs_reduce_op op, pfs_dtype tx, const void *x, int64_t outer, int64_t n, int64_t inner, void *out,
               int nthreads) {
  if (tx != PFS_F32 && tx != PFS_F64) return PFS_UNSUPPORTED;
  if (n == 0) {
    if (op != PFS_SUM) return PFS_UNSUPPORTED; /* the op refuses these; leave any message to the reference */
    memset(out, 0, (size_t)(outer * inner) * (size_t)pfs_dtype_size(tx));
    return PFS_OK;
  }
  const reduce_ctx c = {op, tx, x, outer, n, inner, out};
  int nt = (double)outer * (double)n * (double)inner < PFS_PARALLEL_MIN ? 1 : nthreads;
  if (nt > outer) nt = outer > 0 ? (int)outer : 1;
  pfs_parallel(reduce_task, (void *)&c, nt);
  return PFS_OK;
}
