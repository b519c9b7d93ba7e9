/* Max and average pooling (see pool_impl.h), for float and double. */
#include <math.h>
#include <string.h>

#include "pfs.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* Below this many window cells a pooling runs on one thread. */
#define PFS_POOL_PARALLEL_MIN (1 << 16)
/* Average pooling keeps one input row on the stack: wider inputs are left to the reference kernel. */
#define PFS_POOL_ROW 1024

#define T float
#define FN(name) PASTE(name, _f32)
#include "pool_impl.h"
#undef T
#undef FN

#define T double
#define FN(name) PASTE(name, _f64)
#include "pool_impl.h"
