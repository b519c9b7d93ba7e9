/* conv2d through im2col and the matrix product (see conv_impl.h), for float and double. */
#include <string.h>

#include "gemm.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many multiply-adds a convolution runs on one thread. */
#define PFS_CONV_PARALLEL_MIN (1 << 18)

#define T float
#define MAT pfs_mat_f32
#define MATMUL pfs_matmul_f32
#define FN(name) PASTE(name, _f32)
#include "conv_impl.h"
#undef T
#undef MAT
#undef MATMUL
#undef FN

#define T double
#define MAT pfs_mat_f64
#define MATMUL pfs_matmul_f64
#define FN(name) PASTE(name, _f64)
#include "conv_impl.h"
