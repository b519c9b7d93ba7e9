/*
 * The Node-API face of the C kernels (src/backend/csrc): unpacks typed arrays, checks that every
 * index a kernel will touch lies inside its array, and calls the kernel. JavaScript side:
 * src/backend/native/index.ts, which packs the geometry of each call into a Float64Array `meta`.
 *
 * Each kernel function returns true when it did the work, false when the combination of types is
 * not one the C kernels cover (the caller then runs the reference kernel), and throws on bad
 * geometry or when memory runs out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../src/backend/csrc/pfs.h"

static int g_threads = 1;

/* ---------------------------------------------------------------- the allocator ------------------- */

/*
 * A training step allocates the same large buffers again and again: activations, gradients, and the
 * 64 MB gradient of a 4096×4096 dense layer (AlexNet, VGG). glibc's malloc serves blocks over its
 * mmap threshold (128 KB, adapting up to 32 MB) with fresh pages from the kernel and gives them back
 * when freed, and returns free memory at the top of its heap past the trim threshold: every step then
 * page-faults its buffers in anew, zeroed by the kernel (a quarter of VGG's step time at 32×32 went
 * to that). Raised thresholds keep freed memory in the process for the next step; the process's
 * footprint then stays at its peak instead of shrinking between steps. Set once, when the addon loads,
 * unless the user tuned malloc already (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
 * GLIBC_TUNABLES) or asked for glibc's defaults with PFS_MALLOC_TUNING=0.
 */
static const char *g_malloc = "system malloc";

static void tune_malloc(void) {
#if defined(__GLIBC__)
  const char *off = getenv("PFS_MALLOC_TUNING");
  if (off && strcmp(off, "0") == 0) {
    g_malloc = "glibc malloc defaults (PFS_MALLOC_TUNING=0)";
    return;
  }
  const char *set[] = {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"};
  int tuned = 0;
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) tuned |= getenv(set[i]) != NULL && getenv(set[i])[0] != 0;
  if (tuned) {
    g_malloc = "glibc malloc as tuned by the environment";
    return;
  }
  if (mallopt(M_MMAP_THRESHOLD, 1 << 30) && mallopt(M_TRIM_THRESHOLD, 1 << 30)) g_malloc = "glibc malloc keeps freed memory";
#endif
}

/* ---------------------------------------------------------------- argument helpers --------------- */

typedef struct {
  void *data;
  size_t length; /* elements */
  int type;      /* a pfs_dtype, or −1 for other typed arrays */
} array;

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "pfs native: internal N-API failure"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

static int get_array(napi_env env, napi_value v, array *out) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL) != napi_ok) return 0;
  out->data = data;
  out->length = len;
  switch (t) {
    case napi_float32_array: out->type = PFS_F32; break;
    case napi_float64_array: out->type = PFS_F64; break;
    case napi_int32_array: out->type = PFS_I32; break;
    case napi_uint8_array: out->type = PFS_U8; break;
    default: out->type = -1;
  }
  return 1;
}

/* Fetch argc arguments; throws and returns 0 when fewer came. */
static int get_args(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, const char *fn) {
  size_t n = argc;
  if (napi_get_cb_info(env, info, &n, argv, NULL, NULL) != napi_ok || n < argc) {
    char msg[128];
    snprintf(msg, sizeof msg, "pfs native %s: expected %zu arguments, got %zu", fn, argc, n);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int get_arrays(napi_env env, const napi_value *argv, int n, array *out, const char *fn) {
  for (int i = 0; i < n; i++) {
    if (!get_array(env, argv[i], &out[i])) {
      char msg[128];
      snprintf(msg, sizeof msg, "pfs native %s: argument %d must be a typed array", fn, i + 1);
      napi_throw_type_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

/* The integers packed in a Float64Array `meta`; throws and returns 0 unless there are at least `need`. */
static int get_meta(napi_env env, const array *m, size_t need, int64_t *dst, size_t cap, const char *fn) {
  if (m->type != PFS_F64 || m->length < need || m->length > cap) {
    char msg[160];
    snprintf(msg, sizeof msg, "pfs native %s: geometry must be a Float64Array of %zu to %zu numbers, got %zu", fn,
             need, cap, m->length);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  const double *d = m->data;
  for (size_t i = 0; i < m->length; i++) {
    if (!(d[i] == floor(d[i])) || fabs(d[i]) > 9007199254740992.0) {
      char msg[128];
      snprintf(msg, sizeof msg, "pfs native %s: geometry entry %zu is not an integer (%g)", fn, i, d[i]);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
    dst[i] = (int64_t)d[i];
  }
  return 1;
}

static napi_value boolean(napi_env env, int b) {
  napi_value v;
  return napi_get_boolean(env, b != 0, &v) == napi_ok ? v : NULL;
}

static napi_value fail_range(napi_env env, const char *fn, const char *what) {
  char msg[200];
  snprintf(msg, sizeof msg, "pfs native %s: %s", fn, what);
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* Translates a kernel's status into the function's result: true (done), false (not covered: the
 * caller runs the reference kernel), or an exception. */
static napi_value result(napi_env env, int st, const char *fn) {
  if (st == PFS_ENOMEM) {
    char msg[128];
    snprintf(msg, sizeof msg, "pfs native %s: out of memory for scratch buffers", fn);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  return boolean(env, st == PFS_OK);
}

/* Sizes multiply without overflow (all ≥ 0), or give UINT64_MAX, which no array length reaches. */
static uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t product(int nd, const int64_t *shape) {
  uint64_t p = 1;
  for (int d = 0; d < nd; d++) p = mul(p, (uint64_t)shape[d]);
  return p;
}

/* Whether every element of a strided view (shape ≥ 0, strides, offset) lies in [0, length). */
static int view_inside(int64_t offset, int nd, const int64_t *shape, const int64_t *strides, size_t length) {
  int64_t lo = offset, hi = offset;
  for (int d = 0; d < nd; d++) {
    if (shape[d] < 0) return 0;
    if (shape[d] == 0) return 1; /* nothing is read */
  }
  for (int d = 0; d < nd; d++) {
    int64_t span;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &span)) return 0;
    if (span < 0 ? __builtin_add_overflow(lo, span, &lo) : __builtin_add_overflow(hi, span, &hi)) return 0;
  }
  return lo >= 0 && (uint64_t)hi < (uint64_t)length;
}

/* ---------------------------------------------------------------- gemm ---------------------------- */

/* gemm(meta [batch, m, n, k, ars, acs, brs, bcs], a, aOffsets, b, bOffsets, out); offsets Float64Array. */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  array arr[6];
  int64_t g[8];
  if (!get_args(env, info, 6, argv, "gemm") || !get_arrays(env, argv, 6, arr, "gemm")) return NULL;
  if (!get_meta(env, &arr[0], 8, g, 8, "gemm")) return NULL;
  const array *a = &arr[1], *ao = &arr[2], *b = &arr[3], *bo = &arr[4], *out = &arr[5];
  const int64_t batch = g[0], m = g[1], n = g[2], k = g[3];
  const int t = a->type;
  if ((t != PFS_F32 && t != PFS_F64) || b->type != t || out->type != t) return boolean(env, 0);
  if (batch < 0 || m < 0 || n < 0 || k < 0) return fail_range(env, "gemm", "negative size");
  if (ao->type != PFS_F64 || bo->type != PFS_F64 || (int64_t)ao->length < batch || (int64_t)bo->length < batch)
    return fail_range(env, "gemm", "offsets must be Float64Arrays with one entry per matrix");
  if (mul(mul(batch, m), n) > out->length) return fail_range(env, "gemm", "output too short for batch·m·n");
  int64_t *offs = malloc(sizeof(int64_t) * (size_t)(2 * batch + 1));
  if (!offs) return result(env, PFS_ENOMEM, "gemm");
  const int64_t ashape[2] = {m, k}, astr[2] = {g[4], g[5]}, bshape[2] = {k, n}, bstr[2] = {g[6], g[7]};
  for (int64_t i = 0; i < batch; i++) {
    const double oa = ((const double *)ao->data)[i], ob = ((const double *)bo->data)[i];
    offs[i] = (int64_t)oa;
    offs[batch + i] = (int64_t)ob;
    if (oa != (double)offs[i] || ob != (double)offs[batch + i] || !view_inside(offs[i], 2, ashape, astr, a->length) ||
        !view_inside(offs[batch + i], 2, bshape, bstr, b->length)) {
      free(offs);
      return fail_range(env, "gemm", "an operand reaches outside its array");
    }
  }
  const pfs_gemm_args args = {batch, m, n, k, a->data, offs, g[4], g[5], b->data, offs + batch, g[6], g[7], out->data};
  const int st = t == PFS_F32 ? pfs_gemm_f32(&args, g_threads) : pfs_gemm_f64(&args, g_threads);
  free(offs);
  return result(env, st, "gemm");
}

/* ---------------------------------------------------------------- conv ---------------------------- */

/* conv(kind 0 forward | 1 input grad | 2 weight grad, meta [n c h w o kh kw oh ow sh sw ph pw dh dw groups], p, q, out)
 * forward: p = x, q = w, out = y; input grad: p = dy, q = w, out = dx; weight grad: p = dy, q = x, out = dw. */
static napi_value js_conv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  array arr[5];
  int64_t m[16];
  int32_t kind;
  if (!get_args(env, info, 5, argv, "conv2d")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &kind));
  if (!get_arrays(env, argv + 1, 4, arr, "conv2d") || !get_meta(env, &arr[0], 16, m, 16, "conv2d")) return NULL;
  const array *p = &arr[1], *q = &arr[2], *out = &arr[3];
  const pfs_conv_geom g = {m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11], m[12], m[13], m[14],
                           m[15]};
  const int t = p->type;
  if ((t != PFS_F32 && t != PFS_F64) || q->type != t || out->type != t || kind < 0 || kind > 2) return boolean(env, 0);
  for (int i = 0; i < 16; i++)
    if (m[i] < 0) return fail_range(env, "conv2d", "negative geometry");
  if (g.stride_h < 1 || g.stride_w < 1 || g.dil_h < 1 || g.dil_w < 1 || g.groups < 1 || g.c % g.groups ||
      g.o % g.groups)
    return fail_range(env, "conv2d", "stride, dilation and groups must be ≥ 1, groups dividing C and O");
  const int64_t xs[4] = {g.n, g.c, g.h, g.w}, ws[4] = {g.o, g.c / g.groups, g.kh, g.kw}, ys[4] = {g.n, g.o, g.oh, g.ow};
  const uint64_t nx = product(4, xs), nw = product(4, ws), ny = product(4, ys);
  const uint64_t need_p = kind == 0 ? nx : ny, need_q = kind == 2 ? nx : nw, need_out = kind == 0 ? ny : kind == 1 ? nx : nw;
  if (p->length < need_p || q->length < need_q || out->length < need_out)
    return fail_range(env, "conv2d", "an array is shorter than the geometry needs");
  int st;
  if (t == PFS_F32) {
    st = kind == 0   ? pfs_conv2d_f32(p->data, q->data, &g, out->data, g_threads)
         : kind == 1 ? pfs_conv2d_bwd_input_f32(p->data, q->data, &g, out->data, g_threads)
                     : pfs_conv2d_bwd_weight_f32(p->data, q->data, &g, out->data, g_threads);
  } else {
    st = kind == 0   ? pfs_conv2d_f64(p->data, q->data, &g, out->data, g_threads)
         : kind == 1 ? pfs_conv2d_bwd_input_f64(p->data, q->data, &g, out->data, g_threads)
                     : pfs_conv2d_bwd_weight_f64(p->data, q->data, &g, out->data, g_threads);
  }
  return result(env, st, "conv2d");
}

/* ---------------------------------------------------------------- pooling ------------------------- */

/* pool(kind 0 max | 1 max backward | 2 avg | 3 avg backward,
 *      meta [planes h w oh ow kh kw sh sw ph pw countIncludePad], in, argmax (Int32Array), out) */
static napi_value js_pool(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  array arr[4];
  int64_t m[12];
  int32_t kind;
  if (!get_args(env, info, 5, argv, "pool")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &kind));
  if (!get_arrays(env, argv + 1, 4, arr, "pool") || !get_meta(env, &arr[0], 12, m, 12, "pool")) return NULL;
  const array *in = &arr[1], *am = &arr[2], *out = &arr[3];
  const pfs_pool_geom g = {m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], (int)m[11]};
  const int t = in->type;
  if ((t != PFS_F32 && t != PFS_F64) || out->type != t || am->type != PFS_I32 || kind < 0 || kind > 3)
    return boolean(env, 0);
  for (int i = 0; i < 11; i++)
    if (m[i] < 0) return fail_range(env, "pool", "negative geometry");
  if (g.stride_h < 1 || g.stride_w < 1) return fail_range(env, "pool", "stride must be ≥ 1");
  const int64_t xs[3] = {g.planes, g.h, g.w}, ys[3] = {g.planes, g.oh, g.ow};
  const uint64_t nx = product(3, xs), ny = product(3, ys);
  const int backward = kind == 1 || kind == 3;
  if (in->length < (backward ? ny : nx) || out->length < (backward ? nx : ny) || (kind <= 1 && am->length < ny))
    return fail_range(env, "pool", "an array is shorter than the geometry needs");
  if (kind == 1) { /* the indices come from the forward pass; still, never write outside a plane */
    const int32_t *a = am->data;
    for (uint64_t i = 0; i < ny; i++)
      if (a[i] < 0 || a[i] >= g.h * g.w) return fail_range(env, "pool", "argmax index outside its plane");
  }
  int st;
  if (t == PFS_F32) {
    st = kind == 0   ? pfs_max_pool_f32(in->data, &g, out->data, am->data, g_threads)
         : kind == 1 ? pfs_max_pool_bwd_f32(in->data, am->data, &g, out->data, g_threads)
         : kind == 2 ? pfs_avg_pool_f32(in->data, &g, out->data, g_threads)
                     : pfs_avg_pool_bwd_f32(in->data, &g, out->data, g_threads);
  } else {
    st = kind == 0   ? pfs_max_pool_f64(in->data, &g, out->data, am->data, g_threads)
         : kind == 1 ? pfs_max_pool_bwd_f64(in->data, am->data, &g, out->data, g_threads)
         : kind == 2 ? pfs_avg_pool_f64(in->data, &g, out->data, g_threads)
                     : pfs_avg_pool_bwd_f64(in->data, &g, out->data, g_threads);
  }
  return result(env, st, "pool");
}

/* ---------------------------------------------------------------- elementwise --------------------- */

/*
 * meta for nv strided operands: [ndim, offset_1 .. offset_nv, shape (ndim), strides_1 (ndim) .. strides_nv (ndim)].
 * Fills views, checks each lies inside its array and the output holds numel elements.
 */
static int unpack_views(napi_env env, const array *meta, int nv, const array *arrs, const array *out, int *ndim,
                        int64_t *shape, int64_t (*strides)[PFS_MAX_DIMS], pfs_view *views, const char *fn) {
  int64_t m[1 + 3 + PFS_MAX_DIMS * 4];
  if (meta->type != PFS_F64 || meta->length < 1) {
    fail_range(env, fn, "geometry must be a Float64Array");
    return 0;
  }
  const double nd_d = ((const double *)meta->data)[0];
  if (!(nd_d >= 0 && nd_d <= PFS_MAX_DIMS && nd_d == floor(nd_d))) {
    fail_range(env, fn, "too many dims");
    return 0;
  }
  const int nd = (int)nd_d;
  const size_t need = 1 + (size_t)nv + (size_t)nd * (size_t)(nv + 1);
  if (!get_meta(env, meta, need, m, need, fn)) return 0;
  *ndim = nd;
  for (int d = 0; d < nd; d++) shape[d] = m[1 + nv + d];
  for (int v = 0; v < nv; v++) {
    for (int d = 0; d < nd; d++) strides[v][d] = m[1 + nv + nd * (v + 1) + d];
    views[v].base = arrs[v].data;
    views[v].offset = m[1 + v];
    views[v].strides = strides[v];
    if (!view_inside(views[v].offset, nd, shape, strides[v], arrs[v].length)) {
      fail_range(env, fn, "an operand reaches outside its array");
      return 0;
    }
  }
  for (int d = 0; d < nd; d++)
    if (shape[d] < 0) {
      fail_range(env, fn, "negative size");
      return 0;
    }
  if (product(nd, shape) > out->length) {
    fail_range(env, fn, "output shorter than the shape");
    return 0;
  }
  return 1;
}

/* unary(op, meta, x, out) */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  array arr[3];
  int32_t op;
  int nd;
  int64_t shape[PFS_MAX_DIMS], strides[1][PFS_MAX_DIMS];
  pfs_view v[1];
  if (!get_args(env, info, 4, argv, "unary")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &op));
  if (!get_arrays(env, argv + 1, 3, arr, "unary")) return NULL;
  if (op < PFS_COPY || op > PFS_RELU || arr[1].type < 0 || arr[2].type < 0) return boolean(env, 0);
  if (!unpack_views(env, &arr[0], 1, &arr[1], &arr[2], &nd, shape, strides, v, "unary")) return NULL;
  return result(env, pfs_unary(op, nd, shape, arr[1].type, v[0], arr[2].type, arr[2].data, g_threads), "unary");
}

/* binary(op, meta, a, b, out) */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  array arr[4];
  int32_t op;
  int nd;
  int64_t shape[PFS_MAX_DIMS], strides[2][PFS_MAX_DIMS];
  pfs_view v[2];
  if (!get_args(env, info, 5, argv, "binary")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &op));
  if (!get_arrays(env, argv + 1, 4, arr, "binary")) return NULL;
  if (op < PFS_ADD || op > PFS_OR || arr[1].type < 0 || arr[2].type != arr[1].type || arr[3].type < 0)
    return boolean(env, 0);
  if (!unpack_views(env, &arr[0], 2, &arr[1], &arr[3], &nd, shape, strides, v, "binary")) return NULL;
  return result(env, pfs_binary(op, nd, shape, arr[1].type, v[0], v[1], arr[3].type, arr[3].data, g_threads),
                "binary");
}

/* where(meta, cond, a, b, out) */
static napi_value js_where(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  array arr[5];
  int nd;
  int64_t shape[PFS_MAX_DIMS], strides[3][PFS_MAX_DIMS];
  pfs_view v[3];
  if (!get_args(env, info, 5, argv, "where") || !get_arrays(env, argv, 5, arr, "where")) return NULL;
  if (arr[1].type != PFS_U8 || arr[2].type < 0 || arr[3].type != arr[2].type || arr[4].type != arr[2].type)
    return boolean(env, 0);
  if (!unpack_views(env, &arr[0], 3, &arr[1], &arr[4], &nd, shape, strides, v, "where")) return NULL;
  return result(env, pfs_where(nd, shape, v[0], arr[2].type, v[1], v[2], arr[4].data, g_threads), "where");
}

/* reduce(op, meta [outer, n, inner], x, out) */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  array arr[3];
  int32_t op;
  int64_t m[3];
  if (!get_args(env, info, 4, argv, "reduce")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &op));
  if (!get_arrays(env, argv + 1, 3, arr, "reduce") || !get_meta(env, &arr[0], 3, m, 3, "reduce")) return NULL;
  const array *x = &arr[1], *out = &arr[2];
  const int arg = op == PFS_ARGMAX || op == PFS_ARGMIN;
  if (op < PFS_SUM || op > PFS_ARGMIN || out->type != (arg ? PFS_I32 : x->type)) return boolean(env, 0);
  if (m[0] < 0 || m[1] < 0 || m[2] < 0) return fail_range(env, "reduce", "negative size");
  if (product(3, m) > x->length || mul(m[0], m[2]) > out->length)
    return fail_range(env, "reduce", "an array is shorter than outer·n·inner");
  return result(env, pfs_reduce(op, x->type, x->data, m[0], m[1], m[2], out->data, g_threads), "reduce");
}

/* ---------------------------------------------------------------- batch normalisation -------------- */

/* Unpacks a batch-norm call (meta, arrays...): meta holds nmeta integers [outer, c, inner, ...]; the
 * arrays at indices `big` hold outer·c·inner values, those at `small` c values, all of one float
 * type. Returns that type; −1 when the C kernels do not cover it (false to the caller); −2 after
 * throwing. */
static int bn_unpack(napi_env env, napi_callback_info info, const char *fn, size_t argc, size_t nmeta, array *arr,
                     int64_t *m, const int *big, int nbig, const int *small, int nsmall) {
  napi_value argv[9];
  if (!get_args(env, info, argc, argv, fn) || !get_arrays(env, argv, (int)argc, arr, fn) ||
      !get_meta(env, &arr[0], nmeta, m, nmeta, fn))
    return -2;
  if (m[0] < 0 || m[1] < 0 || m[2] < 0) {
    fail_range(env, fn, "negative size");
    return -2;
  }
  const int t = arr[big[0]].type;
  if (t != PFS_F32 && t != PFS_F64) return -1;
  for (int i = 0; i < nbig + nsmall; i++) {
    const array *a = &arr[i < nbig ? big[i] : small[i - nbig]];
    if (a->type != t) return -1;
    if (a->length < (i < nbig ? product(3, m) : (uint64_t)m[1])) {
      fail_range(env, fn, i < nbig ? "an array is shorter than outer·c·inner" : "a per-channel array is shorter than c");
      return -2;
    }
  }
  return t;
}

#define BN_UNPACK_RESULT(t) \
  if ((t) < 0) return (t) == -1 ? boolean(env, 0) : NULL

/* bnStats(meta [outer, c, inner], x, mean, var) */
static napi_value js_bn_stats(napi_env env, napi_callback_info info) {
  array a[4];
  int64_t m[3];
  static const int big[] = {1}, small[] = {2, 3};
  const int t = bn_unpack(env, info, "bnStats", 4, 3, a, m, big, 1, small, 2);
  BN_UNPACK_RESULT(t);
  return result(env, pfs_bn_stats(t, a[1].data, m[0], m[1], m[2], a[2].data, a[3].data, g_threads), "bnStats");
}

/* channelAffine(meta [outer, c, inner], x, scale, shift, out) */
static napi_value js_channel_affine(napi_env env, napi_callback_info info) {
  array a[5];
  int64_t m[3];
  static const int big[] = {1, 4}, small[] = {2, 3};
  const int t = bn_unpack(env, info, "channelAffine", 5, 3, a, m, big, 2, small, 2);
  BN_UNPACK_RESULT(t);
  return result(env, pfs_channel_affine(t, a[1].data, m[0], m[1], m[2], a[2].data, a[3].data, a[4].data, g_threads),
                "channelAffine");
}

/* bnBackward(meta [outer, c, inner, hasWeight], g, x, mean, invstd, weight, dx, sumG, sumGX); weight is
 * read only when hasWeight is 1 (pass any array of the type otherwise). */
static napi_value js_bn_backward(napi_env env, napi_callback_info info) {
  array a[9];
  int64_t m[4];
  static const int big[] = {1, 2, 6}, small[] = {3, 4, 5, 7, 8};
  const int t = bn_unpack(env, info, "bnBackward", 9, 4, a, m, big, 3, small, 5);
  BN_UNPACK_RESULT(t);
  return result(env,
                pfs_bn_backward(t, a[1].data, a[2].data, m[0], m[1], m[2], a[3].data, a[4].data, m[3] ? a[5].data : NULL,
                                a[6].data, a[7].data, a[8].data, g_threads),
                "bnBackward");
}

/* ---------------------------------------------------------------- settings ------------------------ */

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t n;
  if (!get_args(env, info, 1, argv, "setThreads")) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &n));
  if (n < 1 || n > 64) return fail_range(env, "setThreads", "expected a thread count from 1 to 64");
  g_threads = n;
  return NULL;
}

static napi_value js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, g_threads, &v));
  return v;
}

/* A short description of how the kernels were compiled, for `pfs info`. */
static napi_value js_build_info(napi_env env, napi_callback_info info) {
  (void)info;
  char s[240];
  const char *isa =
#if defined(__AVX512F__)
      "AVX-512";
#elif defined(__AVX2__)
      "AVX2";
#elif defined(__AVX__)
      "AVX";
#elif defined(__SSE2__)
      "SSE2";
#elif defined(__ARM_NEON)
      "NEON";
#else
      "scalar";
#endif
#if defined(__AVX512F__)
  const int vbytes = 64;
#elif defined(__AVX__)
  const int vbytes = 32;
#else
  const int vbytes = 16;
#endif
  snprintf(s, sizeof s, "%s, %d-byte vectors; %s", isa, vbytes, g_malloc);
  napi_value v;
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v));
  return v;
}

NAPI_MODULE_INIT() {
  static int tuned = 0;
  if (!tuned) {
    tuned = 1;
    tune_malloc();
  }
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"gemm", js_gemm},       {"conv", js_conv},     {"pool", js_pool},
             {"unary", js_unary},     {"binary", js_binary}, {"where", js_where},
             {"reduce", js_reduce},   {"bnStats", js_bn_stats}, {"channelAffine", js_channel_affine},
             {"bnBackward", js_bn_backward}, {"setThreads", js_set_threads}, {"getThreads", js_get_threads},
             {"buildInfo", js_build_info}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return NULL;
  }
  return exports;
}
