/*
 * The C kernels shared by the fast backends (the Node addon in src/backend/native, and the WebAssembly
 * build in src/backend/wasm).
 *
 * Portable C11 plus GCC/Clang vector extensions: the kernels include nothing beyond <math.h>,
 * <stdint.h>, <stddef.h> and <string.h>. Whatever depends on the platform (threads, memory) is
 * reached through the three hooks declared at the end, which each platform supplies.
 *
 * Conventions (they mirror src/backend/kernels.ts, whose TypeScript `ref` backend is the specification):
 *   - arrays are passed as a base pointer plus element offsets and strides (int64_t, in elements);
 *   - outputs are contiguous and preallocated by the caller;
 *   - every entry point returns PFS_OK; PFS_UNSUPPORTED for a case it does not cover (a type
 *     combination, an odd size), where the caller runs the reference kernel instead; or PFS_ENOMEM
 *     when scratch memory could not be allocated.
 *   - `_f32` / `_f64` suffixes name the element type (float / double).
 */
#ifndef PFS_H
#define PFS_H

#include <stddef.h>
#include <stdint.h>

#define PFS_OK 0
#define PFS_UNSUPPORTED 1
#define PFS_ENOMEM (-1)

/* Tensors with more dims than this are left to the TypeScript reference kernels. */
#define PFS_MAX_DIMS 16

/* The most threads a kernel call may be given (MAX_THREADS in src/backend/marshal.ts). */
#define PFS_MAX_THREADS 64

/* A strided view (see View in kernels.ts): element (i0, i1, ...) sits at base[offset + Σ ik·strides[k]]. */
typedef struct {
  const void *base;
  int64_t offset;
  const int64_t *strides; /* ndim entries, shared shape given beside */
} pfs_view;

/* ---------------------------------------------------------------- gemm ---------------------------- */

/*
 * out[b] (m × n, contiguous) = A[b] · B[b] with A[b] (i, p) at a[aoff[b] + i·ars + p·acs] and
 * B[b] (p, j) at b[boff[b] + p·brs + j·bcs]: any strides work (transposed operands are read in place).
 */
typedef struct {
  int64_t batch, m, n, k;
  const void *a;
  const int64_t *aoff;
  int64_t ars, acs;
  const void *b;
  const int64_t *boff;
  int64_t brs, bcs;
  void *out;
  int accumulate; /* out[b] += A[b]·B[b] instead of = */
} pfs_gemm_args;

int pfs_gemm_f32(const pfs_gemm_args *g, int nthreads);
int pfs_gemm_f64(const pfs_gemm_args *g, int nthreads);

/* ---------------------------------------------------------------- conv / pool ---------------------- */

/* conv2d geometry: input (N, C, H, W), weight (O, C/groups, KH, KW), output (N, O, OH, OW). */
typedef struct {
  int64_t n, c, h, w, o, kh, kw, oh, ow;
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} pfs_conv_geom;

int pfs_conv2d_f32(const float *x, const float *w, const pfs_conv_geom *g, float *out, int nthreads);
int pfs_conv2d_f64(const double *x, const double *w, const pfs_conv_geom *g, double *out, int nthreads);
int pfs_conv2d_bwd_input_f32(const float *dy, const float *w, const pfs_conv_geom *g, float *dx, int nthreads);
int pfs_conv2d_bwd_input_f64(const double *dy, const double *w, const pfs_conv_geom *g, double *dx, int nthreads);
int pfs_conv2d_bwd_weight_f32(const float *dy, const float *x, const pfs_conv_geom *g, float *dw, int nthreads);
int pfs_conv2d_bwd_weight_f64(const double *dy, const double *x, const pfs_conv_geom *g, double *dw, int nthreads);

/* pooling geometry: planes of H×W in, OH×OW out; cells in the padding are skipped. */
typedef struct {
  int64_t planes, h, w, oh, ow, kh, kw, stride_h, stride_w, pad_h, pad_w;
  int count_include_pad;
} pfs_pool_geom;

int pfs_max_pool_f32(const float *x, const pfs_pool_geom *g, float *out, int32_t *argmax, int nthreads);
int pfs_max_pool_f64(const double *x, const pfs_pool_geom *g, double *out, int32_t *argmax, int nthreads);
int pfs_max_pool_bwd_f32(const float *dy, const int32_t *argmax, const pfs_pool_geom *g, float *dx, int nthreads);
int pfs_max_pool_bwd_f64(const double *dy, const int32_t *argmax, const pfs_pool_geom *g, double *dx, int nthreads);
int pfs_avg_pool_f32(const float *x, const pfs_pool_geom *g, float *out, int nthreads);
int pfs_avg_pool_f64(const double *x, const pfs_pool_geom *g, double *out, int nthreads);
int pfs_avg_pool_bwd_f32(const float *dy, const pfs_pool_geom *g, float *dx, int nthreads);
int pfs_avg_pool_bwd_f64(const double *dy, const pfs_pool_geom *g, double *dx, int nthreads);

/* ---------------------------------------------------------------- elementwise / reduce ------------- */

/* Element types of the arrays an elementwise kernel sees. */
typedef enum { PFS_F32 = 0, PFS_F64 = 1, PFS_I32 = 2, PFS_U8 = 3 } pfs_dtype;

/* Bytes per element of type t. */
static inline int pfs_dtype_size(pfs_dtype t) { return t == PFS_F64 ? 8 : t == PFS_U8 ? 1 : 4; }

/*
 * The numbering is the order of UNARY_OPS / BINARY_OPS / REDUCE_OPS in src/backend/kernels.ts
 * (test/marshal.test.ts checks it). Unary ops past PFS_UNARY_OPS have no C version.
 */
typedef enum {
  PFS_COPY, PFS_NEG, PFS_EXP, PFS_LOG, PFS_SQRT, PFS_ABS, PFS_SIGN, PFS_SIGMOID, PFS_TANH, PFS_RELU,
  PFS_UNARY_OPS
} pfs_unary_op;

typedef enum {
  PFS_ADD, PFS_SUB, PFS_MUL, PFS_DIV, PFS_POW, PFS_MAXIMUM, PFS_MINIMUM,
  PFS_EQ, PFS_NE, PFS_LT, PFS_LE, PFS_GT, PFS_GE, PFS_AND, PFS_OR,
  PFS_BINARY_OPS
} pfs_binary_op;

typedef enum { PFS_SUM, PFS_MAX, PFS_MIN, PFS_ARGMAX, PFS_ARGMIN, PFS_REDUCE_OPS } pfs_reduce_op;

/*
 *   unary: out (contiguous, type `tout`) = f(x) over `shape`; `copy` also converts float32 ↔ float64;
 *          the other ops need tx == tout, a float type.
 *   binary: a, b of type `tin` (float), out of type tin (arithmetic) or PFS_U8 (comparisons, and/or).
 *   where: cond uint8, a, b and out of float type `t`.
 */
int pfs_unary(pfs_unary_op op, int ndim, const int64_t *shape, pfs_dtype tx, pfs_view x, pfs_dtype tout, void *out,
              int nthreads);
int pfs_binary(pfs_binary_op op, int ndim, const int64_t *shape, pfs_dtype tin, pfs_view a, pfs_view b,
               pfs_dtype tout, void *out, int nthreads);
int pfs_where(int ndim, const int64_t *shape, pfs_view cond, pfs_dtype t, pfs_view a, pfs_view b, void *out,
              int nthreads);
/* Reduce the middle axis of a contiguous (outer, n, inner) array; out is float of tx (sum/max/min) or int32 (arg*). */
int pfs_reduce(pfs_reduce_op op, pfs_dtype tx, const void *x, int64_t outer, int64_t n, int64_t inner, void *out,
               int nthreads);

/* ---------------------------------------------------------------- batch normalisation -------------- */

/*
 * Data (outer, C, inner), contiguous, of float type t; per-channel arrays of C values of type t.
 *   bn_stats: mean[c] and the biased variance var[c] over the channel's outer·inner values.
 *   channel_affine: out = x·scale[c] + shift[c].
 *   bn_backward: with x̂ = (x − mean[c])·invstd[c] and n = outer·inner: sum_g[c] = Σ g,
 *     sum_gx[c] = Σ g·x̂, dx = invstd[c]·w[c]·(g − sum_g[c]/n − x̂·sum_gx[c]/n), w = 1 where weight is NULL.
 */
int pfs_bn_stats(pfs_dtype t, const void *x, int64_t outer, int64_t c, int64_t inner, void *mean, void *var,
                 int nthreads);
int pfs_channel_affine(pfs_dtype t, const void *x, int64_t outer, int64_t c, int64_t inner, const void *scale,
                       const void *shift, void *out, int nthreads);
int pfs_bn_backward(pfs_dtype t, const void *g, const void *x, int64_t outer, int64_t c, int64_t inner,
                    const void *mean, const void *invstd, const void *weight, void *dx, void *sum_g, void *sum_gx,
                    int nthreads);

/* ---------------------------------------------------------------- indexing ------------------------- */

/*
 * Along the middle axis of contiguous (outer, n, inner) arrays of any type t (x, src and out alike):
 *   index_select: out (outer, m, inner), row (o, j) = x row (o, idx[j]); idx has m values.
 *   index_add: out (outer, n, inner), row (o, idx[j]) += src row (o, j), in the order of j.
 *   gather: out (outer, m, inner), out[o, j, i] = x[o, idx[o, j, i], i]; idx has outer·m·inner values.
 *   scatter_add: out (outer, n, inner), out[o, idx[o, j, i], i] += src[o, j, i], in the order of j.
 * Additions wrap around for int32 and uint8. An index outside [0, n) gives PFS_EBADINDEX, and nothing
 * is written.
 */
int pfs_index_select(pfs_dtype t, const void *x, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
                     void *out, int nthreads);
int pfs_index_add(pfs_dtype t, const void *src, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
                  void *out, int nthreads);
int pfs_gather(pfs_dtype t, const void *x, int64_t outer, int64_t n, int64_t inner, const int32_t *idx, int64_t m,
               void *out, int nthreads);
int pfs_scatter_add(pfs_dtype t, const void *src, int64_t outer, int64_t n, int64_t inner, const int32_t *idx,
                    int64_t m, void *out, int nthreads);

/* ---------------------------------------------------------------- softmax -------------------------- */

/*
 * Along the rows of contiguous (rows, n) float arrays (log_softmax 0: softmax, 1: log-softmax):
 *   softmax: out = softmax(x) or log-softmax(x) of each row;
 *   softmax_backward: dx from the output y and its gradient g (softmax: y·(g − Σ g·y); log-softmax:
 *   g − exp(y)·Σ g). Values are computed in double and rounded once.
 */
int pfs_softmax(pfs_dtype t, int log_softmax, const void *x, int64_t rows, int64_t n, void *out, int nthreads);
int pfs_softmax_backward(pfs_dtype t, int log_softmax, const void *y, const void *g, int64_t rows, int64_t n, void *dx,
                         int nthreads);

/* ---------------------------------------------------------------- layer normalisation -------------- */

/*
 * Along the rows of contiguous (rows, n) float arrays, n ≥ 1, in double (see layerNorm and
 * layerNormBackward in src/backend/kernels.ts):
 *   layer_norm: out = (x − μ)·r·w + b per row (w, b of n values, or NULL: 1 and 0), with μ the row's mean,
 *   r = 1/√(σ² + eps) (σ² the biased variance); mean[i] = μ, rstd[i] = r;
 *   layer_norm_backward: dx = r·(ĝ − Σ ĝ/n − x̂·Σ ĝ·x̂/n) with x̂ = (x − μ)·r and ĝ = g·w; dw[j] = Σ_i g·x̂
 *   and db[j] = Σ_i g (each skipped when NULL; summed in row order, so independent of the thread count).
 */
int pfs_layer_norm(pfs_dtype t, const void *x, int64_t rows, int64_t n, double eps, const void *w, const void *b,
                   void *out, void *mean, void *rstd, int nthreads);
int pfs_layer_norm_backward(pfs_dtype t, const void *g, const void *x, int64_t rows, int64_t n, const void *mean,
                            const void *rstd, const void *w, void *dx, void *dw, void *db, int nthreads);

/* ---------------------------------------------------------------- recurrent cells ------------------ */

/*
 * One LSTM step's gates over rows × h (see lstmCell / lstmCellBackward in src/backend/kernels.ts), in
 * the arrays' precision: z (rows, 4h) = [i | f | g | o] pre-activations, c (rows, h) the previous cell; out (rows, 2h) =
 * [H' | C'], acts (rows, 4h) = [σ(i) | σ(f) | tanh(g) | σ(o)]. The backward pass takes gout = [dH' | dC']
 * and writes dz (rows, 4h) and dc (rows, h).
 */
int pfs_lstm_cell(pfs_dtype t, const void *z, const void *c, int64_t rows, int64_t h, void *out, void *acts, int nthreads);
int pfs_lstm_cell_backward(pfs_dtype t, const void *acts, const void *c, const void *out, const void *gout, int64_t rows,
                           int64_t h, void *dz, void *dc, int nthreads);

/*
 * A GRU step's two element-wise halves over rows × h, in the arrays' precision (see gruGates, gruUpdate
 * and their backward passes in src/backend/kernels.ts): gru_gates writes out = [Z | R·H] and acts = [R | Z]
 * from a, rz (rows, 2h) and H; gru_update writes out = Z·H + (1 − Z)·tanh(xh + m) and cand = tanh(xh + m).
 */
int pfs_gru_gates(pfs_dtype t, const void *a, const void *rz, const void *H, int64_t rows, int64_t h, void *out, void *acts,
                  int nthreads);
int pfs_gru_gates_backward(pfs_dtype t, const void *acts, const void *H, const void *g, int64_t rows, int64_t h, void *da,
                           void *dH, int nthreads);
int pfs_gru_update(pfs_dtype t, const void *xh, const void *m, const void *Z, const void *H, int64_t rows, int64_t h,
                   void *out, void *cand, int nthreads);
int pfs_gru_update_backward(pfs_dtype t, const void *cand, const void *Z, const void *H, const void *g, int64_t rows,
                            int64_t h, void *dxh, void *dZ, void *dH, int nthreads);

/* ---------------------------------------------------------------- optimisers ----------------------- */

/*
 * One Adam / AdamW step in place over n contiguous elements of type t (p, g, m, v, and vmax, which is
 * NULL unless AMSGrad); h = [β1, β2, step size α/(1 − β1^t), √(1 − β2^t), ε, coupled weight decay λ,
 * decoupled decay factor (1 − αλ, or 1)]. Per element, in double:
 *   g' = g + λ·p;  m = β1·m + (1 − β1)·g';  v = β2·v + (1 − β2)·g'²;  vmax = max(vmax, v);
 *   p = p·decay − step·m / (√(vmax or v) / √(1 − β2^t) + ε).
 */
int pfs_adam(pfs_dtype t, void *p, const void *g, void *m, void *v, void *vmax, int64_t n, const double *h,
             int nthreads);

/* ---------------------------------------------------------------- packed calls --------------------- */

/*
 * The one entry point of the fast backends' glue (src/backend/native/addon.c, and pfs_wasm_call in
 * src/backend/wasm/platform.c): a kernel call packed by src/backend/marshal.ts, unpacked by call.c.
 * meta[0] is the kernel (a pfs_kernel), meta[1 .. n] the pfs_dtype of each of the kernel's n arrays,
 * then the kernel's integers (sizes, element offsets relative to the array pointers, strides), in the
 * layout marshal.ts writes and call.c reads. An array the kernel does not use is NULL.
 *
 * The caller has checked that the numbers are whole and every element a kernel will touch lies
 * inside its array: pfs_call checks only what the kernels decide (types, dims; PFS_UNSUPPORTED),
 * and the indices that are data: those a max-pool backward reads from its argmax array, and those of
 * the indexing kernels (PFS_EBADINDEX).
 */
typedef enum {
  PFS_CALL_GEMM, PFS_CALL_CONV2D, PFS_CALL_CONV2D_BACKWARD_INPUT, PFS_CALL_CONV2D_BACKWARD_WEIGHT,
  PFS_CALL_MAX_POOL2D, PFS_CALL_MAX_POOL2D_BACKWARD, PFS_CALL_AVG_POOL2D, PFS_CALL_AVG_POOL2D_BACKWARD,
  PFS_CALL_UNARY, PFS_CALL_BINARY, PFS_CALL_WHERE, PFS_CALL_REDUCE,
  PFS_CALL_BN_STATS, PFS_CALL_CHANNEL_AFFINE, PFS_CALL_BN_BACKWARD,
  PFS_CALL_INDEX_SELECT, PFS_CALL_INDEX_ADD, PFS_CALL_GATHER, PFS_CALL_SCATTER_ADD,
  PFS_CALL_SOFTMAX, PFS_CALL_SOFTMAX_BACKWARD, PFS_CALL_ADAM, PFS_CALL_LAYER_NORM, PFS_CALL_LAYER_NORM_BACKWARD,
  PFS_CALL_LSTM_CELL, PFS_CALL_LSTM_CELL_BACKWARD,
  PFS_CALL_GRU_GATES, PFS_CALL_GRU_GATES_BACKWARD, PFS_CALL_GRU_UPDATE, PFS_CALL_GRU_UPDATE_BACKWARD
} pfs_kernel;

#define PFS_EBADINDEX (-2)

int pfs_call(const double *meta, void *const *arrays, int nthreads);

/* ---------------------------------------------------------------- platform hooks ------------------- */

/*
 * Run task(ctx, t, nt) for t = 0 .. nt−1, concurrently where the platform has threads, and return
 * when all are done. Tasks must be independent: which thread runs which t, and whether one thread runs
 * several, is not fixed (the native pool lets the caller take the tasks of a worker that is late).
 * Tasks must not call pfs_parallel again with nt > 1 (nested calls run serially).
 */
typedef void (*pfs_task)(void *ctx, int t, int nt);
void pfs_parallel(pfs_task task, void *ctx, int nt);

/* 64-byte-aligned scratch memory; NULL when none is left. pfs_free(NULL) does nothing. */
void *pfs_alloc(size_t bytes);
void pfs_free(void *p);

#endif
