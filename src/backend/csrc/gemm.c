/*
 * Matrix products (see gemm_impl.h for the method), instantiated for float and double.
 *
 * Register tiles per vector width: with 32 registers (AVX-512) a tile of 8 rows × 2 vectors keeps
 * 16 accumulators, 2 vectors of B and 1 broadcast of A live; with 16 registers (AVX2, SSE,
 * WebAssembly) 6 rows × 2 vectors (12 + 2 + 1).
 */
#include <string.h>

#include "gemm.h"
#include "simd.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/*
 * Square block transposes for packing operands that are stored the other way round (a transposed
 * B, or an A stored row by row): dst[q·ldd + r] = src[r·lds + q] for an 8×8 float or 4×4 double
 * block, rows r ≥ `rows` reading as zero (the padding of a partial tile). Through register
 * shuffles (the unpack / shuffle / permute steps of the classic AVX 8×8 transpose); 256-bit vectors
 * whatever the target: narrower targets split them.
 */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
typedef float vf8 __attribute__((vector_size(32)));
typedef double vd4 __attribute__((vector_size(32)));

static inline void transpose_block_f32(const float *src, int64_t lds, int64_t rows, float *dst, int64_t ldd) {
  vf8 r[8], t[8], u[8];
  for (int i = 0; i < 8; i++) {
    r[i] = (vf8){0};
    if (i < rows) memcpy(&r[i], src + i * lds, sizeof(vf8));
  }
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int i = 0; i < 4; i++) {
    const vf8 lo = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    const vf8 hi = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    memcpy(dst + i * ldd, &lo, sizeof(vf8));
    memcpy(dst + (i + 4) * ldd, &hi, sizeof(vf8));
  }
}

static inline void transpose_block_f64(const double *src, int64_t lds, int64_t rows, double *dst, int64_t ldd) {
  vd4 r[4], t[4];
  for (int i = 0; i < 4; i++) {
    r[i] = (vd4){0};
    if (i < rows) memcpy(&r[i], src + i * lds, sizeof(vd4));
  }
  for (int i = 0; i < 4; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 4, 2, 6);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 1, 5, 3, 7);
  }
  for (int i = 0; i < 2; i++) {
    const vd4 lo = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 4, 5);
    const vd4 hi = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 6, 7);
    memcpy(dst + i * ldd, &lo, sizeof(vd4));
    memcpy(dst + (i + 2) * ldd, &hi, sizeof(vd4));
  }
}
#else
static inline void transpose_block_f32(const float *src, int64_t lds, int64_t rows, float *dst, int64_t ldd) {
  for (int r = 0; r < 8; r++)
    for (int q = 0; q < 8; q++) dst[q * ldd + r] = r < rows ? src[r * lds + q] : 0;
}
static inline void transpose_block_f64(const double *src, int64_t lds, int64_t rows, double *dst, int64_t ldd) {
  for (int r = 0; r < 4; r++)
    for (int q = 0; q < 4; q++) dst[q * ldd + r] = r < rows ? src[r * lds + q] : 0;
}
#endif

#if PFS_VBYTES == 64
#define PFS_MR 8
#elif defined(__wasm__)
/* V8 keeps 15 vector registers for WebAssembly: 8 accumulators + 2 + 4 + a temporary. With relaxed
 * SIMD's fused multiply-add the temporary goes, yet 5 or 6 rows measured slower than 4 (Node 20). */
#define PFS_MR 4
#else
#define PFS_MR 6
#endif

/*
 * acc + a·b for the micro-kernel. With WebAssembly's relaxed SIMD, f32x4.relaxed_madd: one fused
 * multiply-add where the machine has one (no temporary register for the product, and one rounding),
 * else the two operations; elsewhere the compiler contracts a·b + c where the target has FMA.
 */
#if defined(__wasm_relaxed_simd__)
#define MADD_F32(acc, a, b) __builtin_wasm_relaxed_madd_f32x4((a), (b), (acc))
#define MADD_F64(acc, a, b) __builtin_wasm_relaxed_madd_f64x2((a), (b), (acc))
#else
#define MADD_F32(acc, a, b) ((acc) + (a) * (b))
#define MADD_F64(acc, a, b) ((acc) + (a) * (b))
#endif

/* ---- float ---- */
#define T float
#define V vf
#define W PFS_VF
#define MR PFS_MR
#define NV 2
#define NR (NV * W)
#define KC 256
#define MC 120
#define NC 512
/* products of at most this many rows read B in place (mat_small_m): measured with 6 to 128 rows
 * (LeNet's convolutions, a recurrent step's products), 8 row tiles still gained on AVX-512 */
#define SMALL_M (8 * PFS_MR)
#define MAT pfs_mat_f32
#define TB 8 /* block transpose size */
#define TRANSPOSE_BLOCK transpose_block_f32
#define FN(name) PASTE(name, _f32)
#define MADD MADD_F32
#include "gemm_impl.h"
#undef T
#undef V
#undef W
#undef MR
#undef NV
#undef NR
#undef KC
#undef MC
#undef NC
#undef SMALL_M
#undef MAT
#undef TB
#undef TRANSPOSE_BLOCK
#undef FN
#undef MADD

/* ---- double: same tile shape in registers, half the lanes, so half the k-block for the same bytes ---- */
#define T double
#define V vd
#define W PFS_VD
#define MR PFS_MR
#define NV 2
#define NR (NV * W)
#define KC 128
#define MC 120
#define NC 512
#define SMALL_M (8 * PFS_MR)
#define MAT pfs_mat_f64
#define TB 4
#define TRANSPOSE_BLOCK transpose_block_f64
#define FN(name) PASTE(name, _f64)
#define MADD MADD_F64
#include "gemm_impl.h"
