/*
 * The body of the matrix product for one element type, included by gemm.c once per type with:
 *   T        element type              V   vector of T (one register), W lanes
 *   MR × NR  register tile of C (NR = NV·W columns, NV vectors per row)
 *   KC, MC, NC  cache blocks: a KC×NC panel of B and an MC×KC block of A are packed at a time
 *   MAT      the product descriptor of gemm.h for T (pfs_mat_f32, pfs_mat_f64)
 *   TB, TRANSPOSE_BLOCK  a TB×TB block transpose, for operands stored the other way round
 *   FN(name) appends the type suffix (_f32, _f64); MADD(acc, a, b) is acc + a·b on vectors V.
 *
 * The scheme is the classic one of Goto and van de Geijn ("Anatomy of high-performance matrix
 * multiplication", 2008): B and A are copied ("packed") into buffers laid out in the exact order the
 * micro-kernel reads them, zero-padded to whole tiles, so the innermost loop streams contiguous
 * memory whatever the operands' strides; the micro-kernel keeps an MR×NR tile of C in registers
 * and adds one rank-1 update (a column of A times a row of B) per step of k.
 */

/*
 * Transposing copy for the packers: dst[p·ld + i] = src[i·ls + p] for i < n (zero for n ≤ i < ld)
 * and p < kc, where ld (the sliver width, MR or NR) is a multiple of the block size TB.
 */
static void FN(pack_transposed)(const T *src, int64_t ls, int64_t n, int64_t kc, int64_t ld, T *restrict dst) {
  const int64_t pdone = kc / TB * TB;
  for (int64_t i = 0; i < ld; i += TB) {
    const int64_t rows = n - i < 0 ? 0 : n - i < TB ? n - i : TB;
    for (int64_t p = 0; p < pdone; p += TB) TRANSPOSE_BLOCK(src + i * ls + p, ls, rows, dst + p * ld + i, ld);
  }
  for (int64_t p = pdone; p < kc; p++)
    for (int64_t i = 0; i < ld; i++) dst[p * ld + i] = i < n ? src[i * ls + p] : 0;
}

/* Pack rows [0, kc) × columns [0, nc) of B into NR-wide column slivers: sliver s holds
 * B[p][s·NR + j] at dst[s·NR·kc + p·NR + j], zero where j runs past nc. */
static void FN(pack_b)(const T *b, int64_t brs, int64_t bcs, int64_t kc, int64_t nc, T *restrict dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const int64_t nr = nc - j0 < NR ? nc - j0 : NR;
    const T *src = b + j0 * bcs;
    if (bcs == 1 && nr == NR) { /* rows of B are contiguous */
      for (int64_t p = 0; p < kc; p++) memcpy(dst + p * NR, src + p * brs, NR * sizeof(T));
    } else if (brs == 1) { /* B stored transposed: its columns are contiguous */
      FN(pack_transposed)(src, bcs, nr, kc, NR, dst);
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int64_t j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? src[j * bcs + p * brs] : 0;
    }
  }
}

/* Pack rows [0, mc) × columns [0, kc) of A into MR-tall row slivers: sliver s holds
 * A[s·MR + i][p] at dst[s·MR·kc + p·MR + i], zero where i runs past mc. */
static void FN(pack_a)(const T *a, int64_t ars, int64_t acs, int64_t mc, int64_t kc, T *restrict dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const int64_t mr = mc - i0 < MR ? mc - i0 : MR;
    const T *src = a + i0 * ars;
    if (ars == 1 && mr == MR) { /* A stored transposed: its columns are contiguous */
      for (int64_t p = 0; p < kc; p++) memcpy(dst + p * MR, src + p * acs, MR * sizeof(T));
    } else if (acs == 1 && MR % TB == 0) { /* rows of A are contiguous */
      FN(pack_transposed)(src, ars, mr, kc, MR, dst);
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int64_t i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? src[i * ars + p * acs] : 0;
    }
  }
}

/*
 * C[0:mr, 0:nr] (+)= Ap · Bp for one packed sliver of A (kc × MR) and a sliver of B (kc × NR) whose
 * rows lie ldb elements apart: a packed sliver (ldb = NR) or B itself, read in place (mat_small_m).
 * The MR×NV accumulator vectors live in registers (the loops over them are unrolled at compile time).
 */
static inline void FN(micro)(int64_t kc, const T *restrict ap, const T *restrict bp, int64_t ldb, T *restrict c,
                             int64_t ldc, int64_t mr, int64_t nr, int accumulate) {
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[i][v] = (V){0};
  for (int64_t p = 0; p < kc; p++, ap += MR, bp += ldb) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) memcpy(&bv[v], bp + v * W, sizeof(V)); /* B in place need not be aligned */
#pragma GCC unroll 32
    for (int i = 0; i < MR; i++) {
      const V ai = ap[i] - (V){0}; /* a broadcast (x − 0 is x, for −0 too) */
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[i][v] = MADD(acc[i][v], ai, bv[v]);
    }
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) {
        T *dst = c + i * ldc + v * W;
        V cur;
        if (accumulate) {
          memcpy(&cur, dst, sizeof cur);
          cur += acc[i][v];
        } else {
          cur = acc[i][v];
        }
        memcpy(dst, &cur, sizeof cur);
      }
    }
    return;
  }
  /* an edge tile: go through a buffer and write only the rows and columns that exist */
  T tile[MR * NR] __attribute__((aligned(64)));
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) memcpy(tile + i * NR + v * W, &acc[i][v], sizeof(V));
  for (int64_t i = 0; i < mr; i++) {
    for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
  }
}

/* Packing buffers for one thread, sized for the blocks of a product of this shape. */
typedef struct {
  T *a, *b;
} FN(bufs);

static int FN(bufs_alloc)(FN(bufs) *bf, int64_t m, int64_t n, int64_t k) {
  const int64_t kc = k < KC ? k : KC;
  const int64_t mc = m < MC ? m : MC;
  const int64_t nc = n < NC ? n : NC;
  bf->a = pfs_alloc(sizeof(T) * (size_t)(((mc + MR - 1) / MR) * MR * (kc > 0 ? kc : 1)));
  bf->b = pfs_alloc(sizeof(T) * (size_t)(((nc + NR - 1) / NR) * NR * (kc > 0 ? kc : 1)));
  if (!bf->a || !bf->b) {
    pfs_free(bf->a);
    pfs_free(bf->b);
    return PFS_ENOMEM;
  }
  return PFS_OK;
}

static void FN(bufs_free)(FN(bufs) *bf) {
  pfs_free(bf->a);
  pfs_free(bf->b);
}

/*
 * A product with few rows (m ≤ SMALL_M) and B's rows contiguous: each element of a packed B would
 * be used by only m / MR micro-kernel calls, too few to pay for copying it, so B is read in place
 * and only A is packed; a last sliver narrower than NR goes through a zero-padded copy (bf->b), so
 * that no load reads past B's rows. (LeNet's convolutions, 6 and 16 output channels; a recurrent
 * step's (batch, hidden) products.)
 */
static void FN(mat_small_m)(const MAT *x, FN(bufs) *bf) {
  const int64_t m = x->m, n = x->n, k = x->k;
  for (int64_t pc = 0; pc < k; pc += KC) {
    const int64_t kc = k - pc < KC ? k - pc : KC;
    const int accumulate = x->accumulate || pc > 0;
    FN(pack_a)(x->a + pc * x->acs, x->ars, x->acs, m, kc, bf->a);
    const T *b = x->b + pc * x->brs;
    for (int64_t jr = 0; jr < n; jr += NR) {
      const int64_t nr = n - jr < NR ? n - jr : NR;
      const T *bp = b + jr;
      int64_t ldb = x->brs;
      if (nr < NR) {
        FN(pack_b)(bp, x->brs, 1, kc, nr, bf->b);
        bp = bf->b;
        ldb = NR;
      }
      for (int64_t ir = 0; ir < m; ir += MR) {
        const int64_t mr = m - ir < MR ? m - ir : MR;
        FN(micro)(kc, bf->a + ir * kc, bp, ldb, x->c + ir * x->ldc + jr, x->ldc, mr, nr, accumulate);
      }
    }
  }
}

/* The blocked loops around the micro-kernel (buffers from bufs_alloc for at least this shape). */
static void FN(mat_serial)(const MAT *x, FN(bufs) *bf) {
  const int64_t m = x->m, n = x->n, k = x->k;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!x->accumulate)
      for (int64_t i = 0; i < m; i++) memset(x->c + i * x->ldc, 0, sizeof(T) * (size_t)n);
    return;
  }
  if (m <= SMALL_M && x->bcs == 1) {
    FN(mat_small_m)(x, bf);
    return;
  }
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = n - jc < NC ? n - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = k - pc < KC ? k - pc : KC;
      const int accumulate = x->accumulate || pc > 0;
      FN(pack_b)(x->b + pc * x->brs + jc * x->bcs, x->brs, x->bcs, kc, nc, bf->b);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = m - ic < MC ? m - ic : MC;
        FN(pack_a)(x->a + ic * x->ars + pc * x->acs, x->ars, x->acs, mc, kc, bf->a);
        /* the A sliver (MR × kc) stays in L1 while the B slivers stream from L2 */
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int64_t mr = mc - ir < MR ? mc - ir : MR;
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int64_t nr = nc - jr < NR ? nc - jr : NR;
            FN(micro)(kc, bf->a + ir * kc, bf->b + jr * kc, NR, x->c + (ic + ir) * x->ldc + jc + jr, x->ldc, mr, nr,
                      accumulate);
          }
        }
      }
    }
  }
}

/* mat_serial with its own buffers. */
static int FN(mat_alone)(const MAT *x) {
  FN(bufs) bf;
  if (FN(bufs_alloc)(&bf, x->m, x->n, x->k) != PFS_OK) return PFS_ENOMEM;
  FN(mat_serial)(x, &bf);
  FN(bufs_free)(&bf);
  return PFS_OK;
}

/* Threads share one product by splitting the longer side of C into tile-aligned strips. */
typedef struct {
  const MAT *x;
  int status;
} FN(split_ctx);

static void FN(split_task)(void *p, int t, int nt) {
  FN(split_ctx) *s = p;
  MAT part = *s->x;
  const int by_rows = part.m >= part.n;
  const int64_t len = by_rows ? part.m : part.n;
  const int64_t tile = by_rows ? MR : NR;
  const int64_t tiles = (len + tile - 1) / tile;
  const int64_t lo = tiles * t / nt * tile;
  int64_t hi = tiles * (t + 1) / nt * tile;
  if (hi > len) hi = len;
  if (lo >= hi) return;
  if (by_rows) {
    part.m = hi - lo;
    part.a += lo * part.ars;
    part.c += lo * part.ldc;
  } else {
    part.n = hi - lo;
    part.b += lo * part.bcs;
    part.c += lo;
  }
  if (FN(mat_alone)(&part) != PFS_OK) s->status = PFS_ENOMEM;
}

/* Below this many multiply-adds a product is not worth waking other threads for. */
#define PFS_GEMM_PARALLEL_MIN (1 << 17)

/* One matrix product on up to nthreads threads (declared in gemm.h). */
int FN(pfs_matmul)(const MAT *x, int nthreads) {
  const double work = (double)x->m * (double)x->n * (double)x->k;
  const int64_t longest = x->m >= x->n ? (x->m + MR - 1) / MR : (x->n + NR - 1) / NR;
  int nt = nthreads;
  if (work < PFS_GEMM_PARALLEL_MIN) nt = 1;
  if (nt > longest) nt = (int)longest;
  if (nt <= 1) return FN(mat_alone)(x);
  FN(split_ctx) s = {x, PFS_OK};
  pfs_parallel(FN(split_task), &s, nt);
  return s.status;
}

/* The batched entry point: a batch at least as large as the thread count is split by matrices. */
typedef struct {
  const pfs_gemm_args *g;
  int status;
} FN(batch_ctx);

static MAT FN(batch_mat)(const pfs_gemm_args *g, int64_t i) {
  MAT x = {g->m, g->n, g->k, (const T *)g->a + g->aoff[i], g->ars, g->acs, (const T *)g->b + g->boff[i],
           g->brs, g->bcs, (T *)g->out + i * g->m * g->n, g->n, g->accumulate};
  return x;
}

static void FN(batch_task)(void *p, int t, int nt) {
  FN(batch_ctx) *s = p;
  const pfs_gemm_args *g = s->g;
  const int64_t lo = g->batch * t / nt, hi = g->batch * (t + 1) / nt;
  if (lo >= hi) return;
  FN(bufs) bf;
  if (FN(bufs_alloc)(&bf, g->m, g->n, g->k) != PFS_OK) {
    s->status = PFS_ENOMEM;
    return;
  }
  for (int64_t i = lo; i < hi; i++) {
    MAT x = FN(batch_mat)(g, i);
    FN(mat_serial)(&x, &bf);
  }
  FN(bufs_free)(&bf);
}

int FN(pfs_gemm)(const pfs_gemm_args *g, int nthreads) {
  const double work = (double)g->batch * (double)g->m * (double)g->n * (double)g->k;
  if (g->batch >= nthreads && nthreads > 1 && work >= PFS_GEMM_PARALLEL_MIN) {
    FN(batch_ctx) s = {g, PFS_OK};
    pfs_parallel(FN(batch_task), &s, nthreads);
    return s.status;
  }
  for (int64_t i = 0; i < g->batch; i++) {
    MAT x = FN(batch_mat)(g, i);
    const int st = FN(pfs_matmul)(&x, nthreads);
    if (st != PFS_OK) return st;
  }
  return PFS_OK;
}
