/*
 * Max and average pooling for one element type (T, FN as in conv_impl.h), following the reference
 * kernels of src/backend/ref: windows are clipped to the input (padded cells are skipped), max
 * pooling keeps the first maximum and lets a NaN win, average pooling divides by PyTorch's divisor.
 * Threads take whole planes. V, VI and VL (simd.h's vector of T, the integer vector of as many lanes,
 * and that number of lanes) are defined with T.
 */

/* The span [lo, hi) of input rows (or columns) under output row o: its window clipped to the
 * input; [ps, pe) is the window clipped to the padded input (for avg pool's divisor). */
typedef struct {
  int64_t lo, hi, ps, pe;
} FN(span);

static inline FN(span) FN(span_of)(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t size) {
  const int64_t s = o * stride - pad;
  FN(span) r;
  r.lo = s < 0 ? 0 : s;
  r.hi = s + k < size ? s + k : size;
  if (r.hi < r.lo) r.hi = r.lo; /* a window wholly in the padding covers no cell */
  r.ps = s;
  r.pe = s + k < size + pad ? s + k : size + pad;
  return r;
}

typedef struct {
  const pfs_pool_geom *g;
  const T *in;
  const int32_t *argmax_in;
  T *out;
  int32_t *argmax_out;
  int kind;
} FN(pool_ctx);

enum { FN(MAXF), FN(MAXB), FN(AVGF), FN(AVGB) };

/* Max pool over one plane: the first maximum of each window, or its first NaN. */
static void FN(max_plane)(const pfs_pool_geom *g, const T *x, T *out, int32_t *am) {
  for (int64_t oy = 0; oy < g->oh; oy++) {
    const FN(span) ry = FN(span_of)(oy, g->stride_h, g->pad_h, g->kh, g->h);
    for (int64_t ox = 0; ox < g->ow; ox++, out++, am++) {
      const FN(span) rx = FN(span_of)(ox, g->stride_w, g->pad_w, g->kw, g->w);
      T best = -INFINITY;
      int64_t besti = ry.lo < ry.hi && rx.lo < rx.hi ? ry.lo * g->w + rx.lo : 0;
      for (int64_t iy = ry.lo; iy < ry.hi; iy++) {
        for (int64_t ix = rx.lo; ix < rx.hi; ix++) {
          const T v = x[iy * g->w + ix];
          if (v > best || v != v) {
            best = v;
            besti = iy * g->w + ix;
            if (v != v) goto done;
          }
        }
      }
    done:
      *out = best;
      *am = (int32_t)besti;
    }
  }
}

/*
 * Max pool over one plane (at most PFS_POOL_ROW output columns), output row by output row, with
 * max_plane's rule: each cell of the windows, in the windows' row-major order, updates every output
 * of the row whose window holds it, by compare-select (max_plane's branch per cell mispredicts
 * about half the time on real data: a 3×3 stride-2 pool of 64 × 48 × 48 maps took 31 ms a batch of 32).
 */
static void FN(max_rows)(const pfs_pool_geom *g, const T *x, T *out, int32_t *am) {
  T best[PFS_POOL_ROW];
  int32_t at[PFS_POOL_ROW];
  const int64_t ow = g->ow, sw = g->stride_w;
  for (int64_t oy = 0; oy < g->oh; oy++, out += ow, am += ow) {
    const FN(span) ry = FN(span_of)(oy, g->stride_h, g->pad_h, g->kh, g->h);
    for (int64_t ox = 0; ox < ow; ox++) {
      const FN(span) rx = FN(span_of)(ox, sw, g->pad_w, g->kw, g->w);
      best[ox] = -INFINITY;
      at[ox] = (int32_t)(ry.lo < ry.hi && rx.lo < rx.hi ? ry.lo * g->w + rx.lo : 0);
    }
    for (int64_t iy = ry.lo; iy < ry.hi; iy++) {
      for (int64_t j = 0; j < g->kw; j++) {
        /* the outputs whose window column j is inside the row: 0 ≤ ox·sw − pad_w + j < w */
        const int64_t a = g->pad_w - j, b = g->w - 1 + g->pad_w - j;
        int64_t lo = a <= 0 ? 0 : (a + sw - 1) / sw;
        int64_t hi = b < 0 ? 0 : b / sw + 1;
        if (hi > ow) hi = ow;
        const int64_t base = iy * g->w - g->pad_w + j;
        const T *row = x + base;
        for (int64_t ox = lo; ox < hi; ox++) {
          const T v = row[ox * sw];
          const int take = (v > best[ox]) | ((v != v) & (best[ox] == best[ox]));
          best[ox] = take ? v : best[ox];
          at[ox] = take ? (int32_t)(base + ox * sw) : at[ox];
        }
      }
    }
    memcpy(out, best, sizeof(T) * (size_t)ow);
    memcpy(am, at, sizeof(int32_t) * (size_t)ow);
  }
}

/*
 * Max pool over VL planes at once (planes of at most PFS_POOL_SMALL cells), one vector lane per
 * plane: small planes (GoogLeNet's end in 4×4, 2×2 and 1×1 maps) have too few outputs per plane for
 * anything else to pay. The planes' cells are first copied lane-interleaved (cell j of every plane
 * in one vector), then each window is a run of vector compare-selects with max_plane's rule: a lane
 * takes a cell that is greater than its best so far, or the first NaN (once its best is NaN nothing
 * replaces it); its index starts at the window's first cell, as in max_plane.
 */
static void FN(max_lanes)(const pfs_pool_geom *g, const T *x, T *out, int32_t *am) {
  const int64_t HW = g->h * g->w, OHW = g->oh * g->ow;
  T cells[PFS_POOL_SMALL * VL];
  for (int64_t j = 0; j < HW; j++)
    for (int l = 0; l < VL; l++) cells[j * VL + l] = x[l * HW + j];
  for (int64_t oy = 0; oy < g->oh; oy++) {
    const FN(span) ry = FN(span_of)(oy, g->stride_h, g->pad_h, g->kh, g->h);
    for (int64_t ox = 0; ox < g->ow; ox++) {
      const FN(span) rx = FN(span_of)(ox, g->stride_w, g->pad_w, g->kw, g->w);
      V best = V_SPLAT(-INFINITY);
      VI besti = (VI){0} + (int32_t)(ry.lo < ry.hi && rx.lo < rx.hi ? ry.lo * g->w + rx.lo : 0);
      for (int64_t iy = ry.lo; iy < ry.hi; iy++) {
        for (int64_t ix = rx.lo; ix < rx.hi; ix++) {
          const V v = V_LOAD(cells + (iy * g->w + ix) * VL);
          const VI take = (VI)(v > best) | ((VI)(v != v) & (VI)(best == best));
          best = V_SELECT(take, v, best);
          besti = (take & ((VI){0} + (int32_t)(iy * g->w + ix))) | (~take & besti);
        }
      }
      const int64_t o = oy * g->ow + ox;
      for (int l = 0; l < VL; l++) {
        out[l * OHW + o] = best[l];
        am[l * OHW + o] = (int32_t)besti[l];
      }
    }
  }
}

/*
 * Avg pool over one plane (forward, or backward when `bwd`), the divisor as PyTorch's: the window
 * clipped to the padded input when count_include_pad, else the cells inside the input.
 * Per output row, the window's input rows are first added into one row (a vectorisable loop),
 * which leaves short sums along that row per output cell. Backward runs the same steps in reverse.
 */
static void FN(avg_plane)(const pfs_pool_geom *g, const T *in, T *out, int bwd) {
  T rows[PFS_POOL_ROW];
  if (bwd) memset(out, 0, sizeof(T) * (size_t)(g->h * g->w));
  for (int64_t oy = 0; oy < g->oh; oy++) {
    const FN(span) ry = FN(span_of)(oy, g->stride_h, g->pad_h, g->kh, g->h);
    if (!bwd) {
      for (int64_t ix = 0; ix < g->w; ix++) rows[ix] = 0;
      for (int64_t iy = ry.lo; iy < ry.hi; iy++) {
        const T *src = in + iy * g->w;
        for (int64_t ix = 0; ix < g->w; ix++) rows[ix] += src[ix];
      }
    } else {
      for (int64_t ix = 0; ix < g->w; ix++) rows[ix] = 0;
    }
    for (int64_t ox = 0; ox < g->ow; ox++) {
      const FN(span) rx = FN(span_of)(ox, g->stride_w, g->pad_w, g->kw, g->w);
      const int64_t div = g->count_include_pad ? (ry.pe - ry.ps) * (rx.pe - rx.ps) : (ry.hi - ry.lo) * (rx.hi - rx.lo);
      if (!bwd) {
        T acc = 0;
        for (int64_t ix = rx.lo; ix < rx.hi; ix++) acc += rows[ix];
        out[oy * g->ow + ox] = acc / (T)div;
      } else {
        const T v = in[oy * g->ow + ox] / (T)div;
        for (int64_t ix = rx.lo; ix < rx.hi; ix++) rows[ix] += v;
      }
    }
    if (bwd) {
      for (int64_t iy = ry.lo; iy < ry.hi; iy++) {
        T *dst = out + iy * g->w;
        for (int64_t ix = 0; ix < g->w; ix++) dst[ix] += rows[ix];
      }
    }
  }
}

static void FN(pool_task)(void *p, int t, int nt) {
  const FN(pool_ctx) *s = p;
  const pfs_pool_geom *g = s->g;
  const int64_t lo = g->planes * t / nt, hi = g->planes * (t + 1) / nt;
  const int64_t HW = g->h * g->w, OHW = g->oh * g->ow;
  if (s->kind == FN(MAXB)) { /* these planes' cells are zeroed at once, then each maximum adds its gradient */
    memset(s->out + lo * HW, 0, sizeof(T) * (size_t)((hi - lo) * HW));
    for (int64_t pl = lo; pl < hi; pl++) {
      T *dx = s->out + pl * HW;
      const T *dy = s->in + pl * OHW;
      const int32_t *am = s->argmax_in + pl * OHW;
      for (int64_t i = 0; i < OHW; i++) dx[am[i]] += dy[i];
    }
    return;
  }
  int64_t pl = lo;
  if (s->kind == FN(MAXF) && HW <= PFS_POOL_SMALL) /* VL planes at a time, the rest one by one below */
    for (; pl + VL <= hi; pl += VL) FN(max_lanes)(g, s->in + pl * HW, s->out + pl * OHW, s->argmax_out + pl * OHW);
  for (; pl < hi; pl++) {
    switch (s->kind) {
      case FN(MAXF):
        if (g->ow <= PFS_POOL_ROW) FN(max_rows)(g, s->in + pl * HW, s->out + pl * OHW, s->argmax_out + pl * OHW);
        else FN(max_plane)(g, s->in + pl * HW, s->out + pl * OHW, s->argmax_out + pl * OHW);
        break;
      case FN(AVGF): FN(avg_plane)(g, s->in + pl * HW, s->out + pl * OHW, 0); break;
      default: FN(avg_plane)(g, s->in + pl * OHW, s->out + pl * HW, 1); break; /* AVGB */
    }
  }
}

static int FN(pool_run)(const FN(pool_ctx) *s, int nthreads) {
  const pfs_pool_geom *g = s->g;
  const double work = (double)g->planes * (double)(g->oh * g->ow) * (double)(g->kh * g->kw);
  int nt = work < PFS_POOL_PARALLEL_MIN ? 1 : nthreads;
  if (nt > g->planes) nt = g->planes > 0 ? (int)g->planes : 1;
  pfs_parallel(FN(pool_task), (void *)s, nt);
  return PFS_OK;
}

int FN(pfs_max_pool)(const T *x, const pfs_pool_geom *g, T *out, int32_t *argmax, int nthreads) {
  const FN(pool_ctx) s = {g, x, NULL, out, argmax, FN(MAXF)};
  return FN(pool_run)(&s, nthreads);
}

int FN(pfs_max_pool_bwd)(const T *dy, const int32_t *argmax, const pfs_pool_geom *g, T *dx, int nthreads) {
  const FN(pool_ctx) s = {g, dy, argmax, dx, NULL, FN(MAXB)};
  return FN(pool_run)(&s, nthreads);
}

int FN(pfs_avg_pool)(const T *x, const pfs_pool_geom *g, T *out, int nthreads) {
  if (g->w > PFS_POOL_ROW) return PFS_UNSUPPORTED;
  const FN(pool_ctx) s = {g, x, NULL, out, NULL, FN(AVGF)};
  return FN(pool_run)(&s, nthreads);
}

int FN(pfs_avg_pool_bwd)(const T *dy, const pfs_pool_geom *g, T *dx, int nthreads) {
  if (g->w > PFS_POOL_ROW) return PFS_UNSUPPORTED;
  const FN(pool_ctx) s = {g, dy, NULL, dx, NULL, FN(AVGB)};
  return FN(pool_run)(&s, nthreads);
}
