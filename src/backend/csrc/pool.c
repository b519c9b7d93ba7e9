/* Max and average pooling (see pool_impl.h), for float and double. */
#include <math.h>
#include <string.h>

#include "pfs.h"
#include "simd.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many window cells a pooling runs on one thread. */
#define PFS_POOL_PARALLEL_MIN (1 << 16)
/* Average pooling keeps one input row on the stack: wider inputs are left to the reference kernel. */
#define PFS_POOL_ROW 1024
/* Max pooling takes planes of at most this many cells several at a time (max_lanes). */
#define PFS_POOL_SMALL 256

#define T float
#define FN(name) PASTE(name, _f32)
#define V vf
#define VI vi32
#define VL PFS_VF
#define V_LOAD vf_load
#define V_SPLAT vf_splat
#define V_SELECT vf_select
#include "pool_impl.h"
#undef T
#undef FN
#undef V
#undef VI
#undef VL
#undef V_LOAD
#undef V_SPLAT
#undef V_SELECT

#define T double
#define FN(name) PASTE(name, _f64)
#define V vd
#define VI vi64
#define VL PFS_VD
#define V_LOAD vd_load
#define V_SPLAT vd_splat
#define V_SELECT vd_select
#include "pool_impl.h"
