/*
 * The indexing kernels, along the middle axis of contiguous (outer, n, inner) arrays (kernels.ts):
 *
 *   index_select  out (outer, m, inner): row (o, j) = x row (o, idx[j])            idx: m values
 *   index_add     out (outer, n, inner): row (o, idx[j]) += src row (o, j)
 *   gather        out[o, j, i] = x[o, idx[o, j, i], i]                             idx: outer·m·inner values
 *   scatter_add   out[o, idx[o, j, i], i] += src[o, j, i]
 *
 * for every element type: the copies move 1, 4 or 8-byte elements as they are, the additions are the
 * type's own (float and double; int32 and uint8 wrap around, as JavaScript's typed arrays store them).
 * The indices are data, so they are checked here, before anything is written (PFS_EBADINDEX).
 *
 * Threads never write the same element, and each output element of an addition receives its terms in
 * the order of j whatever the thread count: the result is the reference's, bit for bit. The copies
 * split the output rows. The additions never split j (a repeated index would be two threads adding
 * into one row). index_add splits the slices o, or, with fewer slices than threads, the destination
 * rows: each thread walks all of idx and adds the picks that fall in its own range of rows, the
 * ranges cut so that each gets as many picks as the others (the indices counted per row first: word
 * ids are far from uniform). Cutting every row in pieces instead has threads walking idx in step write
 * the same cache line of a row at once: in a test of the two, 2 threads adding skip-gram's 30720 rows
 * of 100 into its (6719, 100) table took a median 1.3 ms that way, against 0.8 ms for one thread and
 * 0.65 ms with ranges of rows. scatter_add, whose rows are picked per element, splits (o, chunk of
 * inner) pairs.
 */
#include <stdint.h>
#include <string.h>

#include "pfs.h"
#include "simd.h" /* the vector types */

/* Below this many elements moved a call runs on one thread. */
#define PFS_INDEX_PARALLEL_MIN (1 << 15)
/* scatter_add's inner chunks hold at least this many elements and start at multiples of it (64 bytes of float). */
#define PFS_INDEX_CHUNK 16

typedef enum { INDEX_SELECT, INDEX_ADD, GATHER, SCATTER_ADD } index_kind;

typedef struct {
  index_kind kind;
  pfs_dtype t;
  const void *x; /* x (select, gather) or src (the additions) */
  const int32_t *idx;
  int64_t outer, n, inner, m;
  void *out;
  int64_t chunks; /* scatter_add: chunks of inner per slice */
  int by_rows;    /* index_add: thread t adds into rows bounds[t] .. bounds[t + 1] − 1 */
  int64_t bounds[PFS_MAX_THREADS + 1];
} index_ctx;

/* Whether every one of the count indices lies in [0, n). */
static int indices_ok(const int32_t *idx, int64_t count, int64_t n) {
  const uint32_t limit = n > INT32_MAX ? (uint32_t)INT32_MAX + 1 : (uint32_t)n; /* a negative index is ≥ 2^31 as uint32 */
  uint32_t bad = 0;
  for (int64_t i = 0; i < count; i++) bad |= (uint32_t)idx[i] >= limit;
  return !bad;
}

/* ---------------------------------------------------------------- rows ---------------------------- */

/* Unsigned lanes: copies move bits, and integer sums wrap around as an Int32Array or a Uint8Array stores them. */
typedef uint32_t vu32 __attribute__((vector_size(PFS_VBYTES)));
typedef uint8_t vu8 __attribute__((vector_size(PFS_VBYTES)));

/*
 * Over a row of len elements of T from s to d (not overlapping): d[i] = s[i], or with `add` (a constant)
 * d[i] += s[i]; a register V at a time (loaded and stored as simd.h's helpers do), the rest one by one.
 */
#define ROW(T, V, add)                                                \
  do {                                                                \
    T *o = d;                                                         \
    const T *x = s;                                                   \
    const int64_t lanes = (int64_t)(sizeof(V) / sizeof(T));           \
    int64_t i = 0;                                                    \
    for (; i + lanes <= len; i += lanes) {                            \
      V v;                                                            \
      memcpy(&v, x + i, sizeof v);                                    \
      if (add) {                                                      \
        V a;                                                          \
        memcpy(&a, o + i, sizeof a);                                  \
        v = a + v;                                                    \
      }                                                               \
      memcpy(o + i, &v, sizeof v);                                    \
    }                                                                 \
    for (; i < len; i++) o[i] = add ? (T)(o[i] + x[i]) : x[i];        \
  } while (0)

/* len elements of es bytes each. */
static void copy_row(int64_t es, void *restrict d, const void *restrict s, int64_t len) {
  switch (es) {
    case 8: ROW(uint64_t, vu8, 0); break;
    case 4: ROW(uint32_t, vu8, 0); break;
    default: ROW(uint8_t, vu8, 0); break;
  }
}

/* len elements of type t. */
static void add_row(pfs_dtype t, void *restrict d, const void *restrict s, int64_t len) {
  switch (t) {
    case PFS_F32: ROW(float, vf, 1); break;
    case PFS_F64: ROW(double, vd, 1); break;
    case PFS_I32: ROW(uint32_t, vu32, 1); break;
    default: ROW(uint8_t, vu8, 1); break;
  }
}

/* ---------------------------------------------------------------- element by element -------------- */

/* gather over output rows r0 .. r1 − 1 (row r = (o, j)): out[r, i] = x[o, idx[r, i], i]. */
#define GATHER_ROWS(T)                                                     \
  do {                                                                     \
    const T *x = c->x;                                                     \
    T *out = c->out;                                                       \
    for (int64_t r = r0; r < r1; r++) {                                    \
      const T *xo = x + r / c->m * c->n * inner;                           \
      const int32_t *ir = c->idx + r * inner;                              \
      T *orow = out + r * inner;                                           \
      for (int64_t i = 0; i < inner; i++) orow[i] = xo[ir[i] * inner + i]; \
    }                                                                      \
  } while (0)

static void gather_rows(const index_ctx *c, int64_t r0, int64_t r1) {
  const int64_t inner = c->inner;
  switch (pfs_dtype_size(c->t)) {
    case 8: GATHER_ROWS(uint64_t); break;
    case 4: GATHER_ROWS(uint32_t); break;
    default: GATHER_ROWS(uint8_t); break;
  }
}

/* scatter_add over slice o, elements i0 .. i1 − 1 of each row: out[o, idx[o, j, i], i] += src[o, j, i]. */
#define SCATTER(T)                                                           \
  do {                                                                       \
    const T *src = (const T *)c->x + o * c->m * inner;                       \
    const int32_t *io = c->idx + o * c->m * inner;                           \
    T *out = (T *)c->out + o * c->n * inner;                                 \
    for (int64_t j = 0; j < c->m; j++)                                       \
      for (int64_t i = i0; i < i1; i++) {                                    \
        T *p = out + io[j * inner + i] * inner + i;                          \
        *p = (T)(*p + src[j * inner + i]);                                   \
      }                                                                      \
  } while (0)

static void scatter_slice(const index_ctx *c, int64_t o, int64_t i0, int64_t i1) {
  const int64_t inner = c->inner;
  switch (c->t) {
    case PFS_F32: SCATTER(float); break;
    case PFS_F64: SCATTER(double); break;
    case PFS_I32: SCATTER(uint32_t); break; /* wrapping */
    default: SCATTER(uint8_t); break;
  }
}

/* ---------------------------------------------------------------- tasks --------------------------- */

/* The start of chunk k of the inner axis cut in `chunks`: a multiple of PFS_INDEX_CHUNK, or inner itself. */
static int64_t chunk_start(int64_t inner, int64_t k, int64_t chunks) {
  return k == chunks ? inner : inner * k / chunks / PFS_INDEX_CHUNK * PFS_INDEX_CHUNK;
}

static void index_task(void *p, int t, int nt) {
  const index_ctx *c = p;
  const int64_t inner = c->inner, es = pfs_dtype_size(c->t);
  if (c->kind == INDEX_SELECT || c->kind == GATHER) { /* output rows (o, j), split evenly */
    const int64_t rows = c->outer * c->m, r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (c->kind == GATHER) {
      gather_rows(c, r0, r1);
      return;
    }
    const char *x = c->x;
    char *out = c->out;
    for (int64_t r = r0; r < r1; r++) {
      const int64_t o = r / c->m, j = r - o * c->m;
      copy_row(es, out + r * inner * es, x + (o * c->n + c->idx[j]) * inner * es, inner);
    }
    return;
  }
  if (c->by_rows) { /* index_add: the picks whose row falls in this thread's range, in every slice */
    const int64_t lo = c->bounds[t], rows = c->bounds[t + 1] - lo;
    for (int64_t o = 0; o < c->outer; o++) {
      const char *src = (const char *)c->x + o * c->m * inner * es;
      char *out = (char *)c->out + o * c->n * inner * es;
      for (int64_t j = 0; j < c->m; j++) {
        const int64_t r = c->idx[j];
        if ((uint64_t)(r - lo) < (uint64_t)rows) add_row(c->t, out + r * inner * es, src + j * inner * es, inner);
      }
    }
    return;
  }
  /* the additions: units (o, chunk k), each adding every j into its own part of the output */
  const int64_t units = c->outer * c->chunks, u0 = units * t / nt, u1 = units * (t + 1) / nt;
  for (int64_t u = u0; u < u1; u++) {
    const int64_t o = u / c->chunks, k = u - o * c->chunks;
    const int64_t i0 = chunk_start(inner, k, c->chunks), i1 = chunk_start(inner, k + 1, c->chunks);
    if (c->kind == SCATTER_ADD) {
      scatter_slice(c, o, i0, i1);
      continue;
    }
    const char *src = (const char *)c->x + (o * c->m * inner + i0) * es;
    char *out = (char *)c->out + (o * c->n * inner + i0) * es;
    for (int64_t j = 0; j < c->m; j++) add_row(c->t, out + c->idx[j] * inner * es, src + j * inner * es, i1 - i0);
  }
}

/*
 * index_add's ranges of destination rows for nt threads, each receiving about m / nt of the picks;
 * 0 (one thread then) where counting the picks per row would cost more than the additions (a table of
 * more rows than the elements added) or there is no memory to count in.
 */
static int row_ranges(index_ctx *c, int nt) {
  if (c->n > c->m * c->inner) return 0;
  int32_t *count = pfs_alloc((size_t)c->n * sizeof *count);
  if (!count) return 0;
  memset(count, 0, (size_t)c->n * sizeof *count);
  for (int64_t j = 0; j < c->m; j++) count[c->idx[j]]++;
  int64_t *b = c->bounds, seen = 0, r = 0;
  b[0] = 0;
  for (int k = 1; k < nt; k++) {
    while (r < c->n && seen < c->m * k / nt) seen += count[r++];
    b[k] = r;
  }
  b[nt] = c->n;
  pfs_free(count);
  return c->by_rows = 1;
}

static int index_run(index_kind kind, pfs_dtype t, const void *x, int64_t outer, int64_t n, int64_t inner,
                     const int32_t *idx, int64_t m, void *out, int nthreads) {
  if (outer < 0 || n < 0 || inner < 0 || m < 0 || (int)t < PFS_F32 || t > PFS_U8) return PFS_UNSUPPORTED;
  const int per_element = kind == GATHER || kind == SCATTER_ADD;
  if (!indices_ok(idx, per_element ? outer * m * inner : m, n)) return PFS_EBADINDEX;
  if (outer == 0 || inner == 0 || m == 0) return PFS_OK; /* nothing to move */
  index_ctx c = {.kind = kind, .t = t, .x = x, .idx = idx, .outer = outer, .n = n, .inner = inner, .m = m, .out = out, .chunks = 1};
  int nt = (double)outer * (double)m * (double)inner < PFS_INDEX_PARALLEL_MIN ? 1 : nthreads;
  int64_t units = outer * m;
  if (kind == INDEX_ADD) {
    units = outer;
    if (outer < nt) units = row_ranges(&c, nt) ? nt : 1;
  } else if (kind == SCATTER_ADD) {
    if (outer < nt) { /* too few slices for the threads: cut inner into chunks as well */
      const int64_t want = (nt + outer - 1) / outer, most = inner / PFS_INDEX_CHUNK;
      c.chunks = want < most ? want : most > 0 ? most : 1;
    }
    units = outer * c.chunks;
  }
  if (nt > units) nt = (int)units;
  pfs_parallel(index_task, &c, nt);
  return PFS_OK;
}

int pfs_index_select(pfs_dtype t, const void *x, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
                     void *out, int nthreads) {
  return index_run(INDEX_SELECT, t, x, outer, n, inner, idx, m, out, nthreads);
}

int pfs_index_add(pfs_dtype t, const void *src, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
                  void *out, int nthreads) {
  return index_run(INDEX_ADD, t, src, outer, n, inner, idx, m, out, nthreads);
}

int pfs_gather(pfs_dtype t, const void *x, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
               void *out, int nthreads) {
  return index_run(GATHER, t, x, outer, n, inner, idx, m, out, nthreads);
}

int pfs_scatter_add(pfs_dtype t, const void *src, int64_t outer, int64_t n, int64_t inner, const int32_t *idx,
                    int64_t m, void *out, int nthreads) {
  return index_run(SCATTER_ADD, t, src, outer, n, inner, idx, m, out, nthreads);
}
