/*
 * conv2d forward and backward for one element type, included by conv.c once per type with
 *   T (element type), MAT / MATMUL (the product of gemm.h for T), FN(name) (type suffix).
 *
 * Lowering to matrix products ("im2col", Chellapilla et al. 2006): for one image and one group,
 * the patch matrix col (K × P), K = C/groups·KH·KW rows and P = OH·OW columns, holds in column
 * (oy, ox) the input cells that output cell reads (zero where the kernel hangs over the padding):
 *     col[(c·KH + i)·KW + j][oy·OW + ox] = x[c][oy·sh − ph + i·dh][ox·sw − pw + j·dw]
 * Then, with W_g the group's weights as an (O/groups × K) matrix and dy_g, y_g as (O/groups × P):
 *     forward          y_g  = W_g · col
 *     input gradient   dx  += col2im(W_gᵀ · dy_g)   (col2im adds each patch entry back to its cell)
 *     weight gradient  dW_g += dy_g · colᵀ          (summed over the images)
 * A 1×1 kernel with stride 1 and no padding needs no patch matrix: col is the input itself.
 *
 * Threads take whole images; with fewer images than threads, the products themselves are split.
 * Where one image's product would be narrow, a thread multiplies several images at once (below);
 * where an image is a single cell, one product takes the whole batch (conv_cells).
 */

/* Whether the patch matrix is the input itself. */
static int FN(pointwise)(const pfs_conv_geom *g) {
  return g->kh == 1 && g->kw == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0;
}

/* The range [lo, hi) of output columns ox whose input column ox·s − p + off lies inside [0, w). */
static void FN(inside)(int64_t s, int64_t p, int64_t off, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
  const int64_t a = p - off;         /* ox·s ≥ a */
  const int64_t b = w - 1 + p - off; /* ox·s ≤ b */
  int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t h = b < 0 ? 0 : b / s + 1;
  if (h > ow) h = ow;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

/*
 * dst[0, n) = src[0, n) inline: im2col copies rows of OW cells, which in small maps are short
 * (LeNet's 10 and 28), and a memcpy call per row took longer than the product reading them.
 * Blocks of 8 by fixed-size copies (vector moves), the rest as a block ending where the row ends
 * (overlapping the one before); a row under 8 cells one element at a time.
 */
typedef T FN(block8) __attribute__((vector_size(8 * sizeof(T)), aligned(sizeof(T))));
#if defined(__GNUC__) && !defined(__clang__)
#define PFS_NO_MEMCPY_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PFS_NO_MEMCPY_IDIOM
#endif
PFS_NO_MEMCPY_IDIOM static inline void FN(copy_row)(T *restrict dst, const T *restrict src, int64_t n) {
  if (n < 8) {
    for (int64_t i = 0; i < n; i++) dst[i] = src[i];
    return;
  }
  /* vector moves written as such, and GCC told not to turn the loop back into a memmove call */
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) *(FN(block8) *)(dst + i) = *(const FN(block8) *)(src + i);
  if (i < n) *(FN(block8) *)(dst + n - 8) = *(const FN(block8) *)(src + n - 8);
}

/*
 * col (K × P, row stride ld ≥ P) from the cg input planes at x (each h × w). For each kernel tap
 * (c, i, j) the output rows whose input row lies inside, [ylo, yhi), and the columns whose input
 * column does, [lo, hi), are found once; the rows outside are one zero run each side, and each row
 * inside is zeros, a copy (a strided gather when stride_w > 1), zeros.
 */
PFS_NO_MEMCPY_IDIOM static void FN(im2col)(const T *restrict x, int64_t cg, const pfs_conv_geom *g, T *restrict col, int64_t ld) {
  const int64_t ow = g->ow, oh = g->oh, sw = g->stride_w, step = g->stride_h * g->w;
  for (int64_t c = 0; c < cg; c++) {
    for (int64_t i = 0; i < g->kh; i++) {
      int64_t ylo, yhi;
      FN(inside)(g->stride_h, g->pad_h, i * g->dil_h, g->h, oh, &ylo, &yhi);
      for (int64_t j = 0; j < g->kw; j++) {
        T *row = col + ((c * g->kh + i) * g->kw + j) * ld;
        int64_t lo, hi;
        FN(inside)(sw, g->pad_w, j * g->dil_w, g->w, ow, &lo, &hi);
        memset(row, 0, sizeof(T) * (size_t)(ylo * ow));
        memset(row + yhi * ow, 0, sizeof(T) * (size_t)((oh - yhi) * ow));
        T *dst = row + ylo * ow;
        const T *src = x + (c * g->h + ylo * g->stride_h - g->pad_h + i * g->dil_h) * g->w - g->pad_w + j * g->dil_w;
        for (int64_t oy = ylo; oy < yhi; oy++, dst += ow, src += step) {
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;
          if (sw == 1) {
            FN(copy_row)(dst + lo, src + lo, hi - lo);
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw];
          }
          for (int64_t ox = hi; ox < ow; ox++) dst[ox] = 0;
        }
      }
    }
  }
}

/*
 * The adjoint of im2col: adds each entry of col (K × P, row stride ld) to the input cell it was read from.
 * The kernel column j is the outer loop: consecutive row updates then land on different input
 * rows, where updates for j and j + 1 would overlap one element apart and stall the processor
 * (a load waiting on a store it only partly covers).
 */
static void FN(col2im)(const T *restrict col, int64_t ld, int64_t cg, const pfs_conv_geom *g, T *restrict dx) {
  for (int64_t c = 0; c < cg; c++) {
    for (int64_t j = 0; j < g->kw; j++) {
      int64_t lo, hi;
      FN(inside)(g->stride_w, g->pad_w, j * g->dil_w, g->w, g->ow, &lo, &hi);
      for (int64_t i = 0; i < g->kh; i++) {
        const T *row = col + ((c * g->kh + i) * g->kw + j) * ld;
        for (int64_t oy = 0; oy < g->oh; oy++) {
          const int64_t iy = oy * g->stride_h - g->pad_h + i * g->dil_h;
          if (iy < 0 || iy >= g->h) continue;
          const T *src = row + oy * g->ow;
          T *dst = dx + (c * g->h + iy) * g->w - g->pad_w + j * g->dil_w;
          if (g->stride_w == 1) {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * g->stride_w] += src[ox];
          }
        }
      }
    }
  }
}

enum { FN(FWD), FN(BWD_INPUT), FN(BWD_WEIGHT) };

typedef struct {
  int kind;
  const T *x, *w, *dy; /* those the kind reads */
  T *out;              /* y, dx or dw */
  const pfs_conv_geom *g;
  int inner_threads;   /* threads for each product (when images are not split) */
  T *dw_part[PFS_MAX_THREADS]; /* weight gradient: one partial sum per thread (0: out itself) */
  int status;
} FN(conv_ctx);

/*
 * Images per product. One image's product has P = OH·OW columns: deep in a net that is a handful
 * (ResNet-18 at 28×28 ends at 1×1), and a product of a few columns spends its time packing the
 * weights, not multiplying. So a task lays the patch matrices of nb consecutive images side by side,
 * col (K × nb·P), and makes one product of nb·P columns; the outputs are then moved to their images.
 */
#define PFS_CONV_MIN_COLUMNS 256

static void FN(conv_task)(void *p, int t, int nt) {
  FN(conv_ctx) *s = p;
  const pfs_conv_geom *g = s->g;
  const int64_t cg = g->c / g->groups, og = g->o / g->groups;
  const int64_t K = cg * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
  const int64_t lo = g->n * t / nt, hi = g->n * (t + 1) / nt;
  if (lo >= hi) return;
  const int pw = FN(pointwise)(g);
  int64_t nb = P >= PFS_CONV_MIN_COLUMNS ? 1 : (PFS_CONV_MIN_COLUMNS + P - 1) / P;
  if (nb > hi - lo) nb = hi - lo;
  /* col: the patch matrices (K × nb·P); buf: outputs or output gradients gathered as (og × nb·P) */
  T *col = NULL, *buf = NULL;
  if (!pw || nb > 1) col = pfs_alloc(sizeof(T) * (size_t)(K * nb * P));
  if (nb > 1) buf = pfs_alloc(sizeof(T) * (size_t)(og * nb * P));
  T *dw = NULL;
  if (s->kind == FN(BWD_WEIGHT)) {
    dw = t == 0 ? s->out : pfs_alloc(sizeof(T) * (size_t)(g->o * K));
    s->dw_part[t] = dw;
  }
  const int oom = ((!pw || nb > 1) && !col) || (nb > 1 && !buf) || (s->kind == FN(BWD_WEIGHT) && !dw);
  if (oom) {
    s->status = PFS_ENOMEM;
    pfs_free(col);
    pfs_free(buf);
    return;
  }
  for (int64_t n0 = lo; n0 < hi; n0 += nb) {
    const int64_t m = hi - n0 < nb ? hi - n0 : nb; /* images in this product */
    const int64_t Q = m * P;                        /* its columns */
    if (s->kind == FN(BWD_INPUT) && (!pw || m > 1)) memset(s->out + n0 * g->c * HW, 0, sizeof(T) * (size_t)(m * g->c * HW));
    for (int64_t gi = 0; gi < g->groups; gi++) {
      const int64_t xo = (n0 * g->c + gi * cg) * HW; /* the first image's group of input planes */
      const int64_t yo = (n0 * g->o + gi * og) * P;  /* and of output planes */
      const int64_t xs = g->c * HW, ys = g->o * P;   /* from one image to the next */
      const T *wg = s->w ? s->w + gi * og * K : NULL;
      /* the patches: the input itself (one image, 1×1 kernel), else im2col of each image */
      const T *b = s->x ? s->x + xo : NULL;
      if (s->kind != FN(BWD_INPUT) && (!pw || m > 1)) {
        for (int64_t j = 0; j < m; j++) FN(im2col)(s->x + xo + j * xs, cg, g, col + j * P, Q);
        b = col;
      }
      /* the output gradients of the m images side by side (og × Q), or dy itself for one image */
      const T *dyg = s->dy ? s->dy + yo : NULL;
      if (s->kind != FN(FWD) && m > 1) {
        for (int64_t j = 0; j < m; j++)
          for (int64_t o = 0; o < og; o++) memcpy(buf + o * Q + j * P, s->dy + yo + j * ys + o * P, sizeof(T) * (size_t)P);
        dyg = buf;
      }
      int st = PFS_OK;
      if (s->kind == FN(FWD)) {
        /* y_g (og × Q) = W_g · col, into y directly for one image */
        const MAT y = {og, Q, K, wg, K, 1, b, Q, 1, m > 1 ? buf : s->out + yo, Q, 0};
        st = MATMUL(&y, s->inner_threads);
        if (m > 1)
          for (int64_t j = 0; j < m; j++)
            for (int64_t o = 0; o < og; o++) memcpy(s->out + yo + j * ys + o * P, buf + o * Q + j * P, sizeof(T) * (size_t)P);
      } else if (s->kind == FN(BWD_INPUT)) {
        /* (K × Q) = W_gᵀ (K × og) · dy_g (og × Q), straight into dx for one image and a 1×1 kernel */
        const int direct = pw && m == 1;
        const MAT d = {K, Q, og, wg, 1, K, dyg, Q, 1, direct ? s->out + xo : col, Q, 0};
        st = MATMUL(&d, s->inner_threads);
        if (!direct)
          for (int64_t j = 0; j < m; j++) FN(col2im)(col + j * P, Q, cg, g, s->out + xo + j * xs);
      } else {
        /* dW_g (og × K) += dy_g (og × Q) · colᵀ (Q × K) */
        const MAT d = {og, K, Q, dyg, Q, 1, b, 1, Q, dw + gi * og * K, K, n0 > lo};
        st = MATMUL(&d, s->inner_threads);
      }
      if (st != PFS_OK) s->status = st;
    }
  }
  pfs_free(col);
  pfs_free(buf);
}

/*
 * A 1×1 kernel on 1×1 maps (deep in a net at a small input; after conv2d's cropping, any kernel
 * there): an image is one row of C input and O output cells, so the batch is an (N × C) matrix and
 * each pass is one product over all the images, which splits it between the threads itself:
 *     forward  y (N × O) = x (N × C) · Wᵀ,   input gradient  dx (N × C) = dy (N × O) · W,
 *     weight gradient  dW (O × C) = dyᵀ (O × N) · x.
 */
static int FN(conv_cells)(const FN(conv_ctx) *s, int nthreads) {
  const pfs_conv_geom *g = s->g;
  const int64_t N = g->n, C = g->c, O = g->o;
  if (s->kind == FN(FWD)) {
    const MAT y = {N, O, C, s->x, C, 1, s->w, 1, C, s->out, O, 0};
    return MATMUL(&y, nthreads);
  }
  if (s->kind == FN(BWD_INPUT)) {
    const MAT d = {N, C, O, s->dy, O, 1, s->w, C, 1, s->out, C, 0};
    return MATMUL(&d, nthreads);
  }
  const MAT d = {O, C, N, s->dy, 1, O, s->x, C, 1, s->out, C, 0};
  return MATMUL(&d, nthreads);
}

static int FN(conv_run)(FN(conv_ctx) *s, int nthreads) {
  const pfs_conv_geom *g = s->g;
  const double work = (double)g->n * (double)g->o * (double)(g->oh * g->ow) * (double)(g->c / g->groups) *
                      (double)(g->kh * g->kw);
  int nt = nthreads > PFS_MAX_THREADS ? PFS_MAX_THREADS : nthreads;
  if (work < PFS_CONV_PARALLEL_MIN) nt = 1;
  if (FN(pointwise)(g) && g->h == 1 && g->w == 1 && g->groups == 1 && g->n > 0) return FN(conv_cells)(s, nt);
  s->status = PFS_OK;
  if (g->n >= nt) {
    s->inner_threads = 1;
  } else {
    s->inner_threads = nt; /* few images: one task, the products use the threads */
    nt = 1;
  }
  for (int t = 0; t < PFS_MAX_THREADS; t++) s->dw_part[t] = NULL;
  pfs_parallel(FN(conv_task), s, nt);
  if (s->kind == FN(BWD_WEIGHT)) {
    const int64_t size = g->o * (g->c / g->groups) * g->kh * g->kw;
    if (g->n == 0) memset(s->out, 0, sizeof(T) * (size_t)size);
    for (int t = 1; t < nt; t++) {
      T *part = s->dw_part[t];
      if (!part) continue;
      for (int64_t i = 0; i < size; i++) s->out[i] += part[i];
      pfs_free(part);
    }
  }
  return s->status;
}

int FN(pfs_conv2d)(const T *x, const T *w, const pfs_conv_geom *g, T *out, int nthreads) {
  FN(conv_ctx) s = {.kind = FN(FWD), .x = x, .w = w, .out = out, .g = g};
  return FN(conv_run)(&s, nthreads);
}

int FN(pfs_conv2d_bwd_input)(const T *dy, const T *w, const pfs_conv_geom *g, T *dx, int nthreads) {
  FN(conv_ctx) s = {.kind = FN(BWD_INPUT), .dy = dy, .w = w, .out = dx, .g = g};
  return FN(conv_run)(&s, nthreads);
}

int FN(pfs_conv2d_bwd_weight)(const T *dy, const T *x, const pfs_conv_geom *g, T *dw, int nthreads) {
  FN(conv_ctx) s = {.kind = FN(BWD_WEIGHT), .dy = dy, .x = x, .out = dw, .g = g};
  return FN(conv_run)(&s, nthreads);
}
