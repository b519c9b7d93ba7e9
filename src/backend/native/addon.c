/*
 * The Node-API face of the C kernels (src/backend/csrc): `call(meta, ...arrays)` hands a kernel call
 * that src/backend/marshal.ts packed (and checked) to pfs_call (csrc/call.c) with the typed arrays'
 * data pointers, and returns its status (pfs.h). Besides: the thread count, a description of the
 * build, and the opt-in malloc tuning. JavaScript side: src/backend/native/index.ts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../csrc/pfs.h"

static int g_threads = 1;

/* ---------------------------------------------------------------- the allocator ------------------- */

/*
 * A training step allocates the same large buffers again and again: activations, gradients, and the
 * 64 MB gradient of a 4096×4096 dense layer (AlexNet, VGG). glibc's malloc serves blocks over its
 * mmap threshold (128 KB, adapting up to 32 MB) with fresh pages from the kernel and gives them back
 * when freed, and returns free memory at the top of its heap past the trim threshold: every step then
 * page-faults its buffers in anew, zeroed by the kernel (a quarter of VGG's step time at 32×32 went
 * to that). Raised thresholds keep freed memory in the process for the next step; the process's
 * footprint then stays at its peak instead of shrinking between steps. This changes malloc for the
 * whole process, so loading the addon does not do it: tuneMalloc() does (the `pfs` CLI calls it),
 * unless the user tuned malloc already (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
 * GLIBC_TUNABLES) or asked for glibc's defaults with PFS_MALLOC_TUNING=0.
 */
#if defined(__GLIBC__)
static const char *g_malloc = "glibc malloc defaults";
#else
static const char *g_malloc = "system malloc";
#endif

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

/* ---------------------------------------------------------------- the call ---------------------- */

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "pfs native: internal N-API failure"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

#define STR_(x) #x
#define STR(x) STR_(x)

/* The most arrays a kernel takes (bnBackward's eight), and meta. */
#define MAX_ARGS 9

/* A typed array's data pointer; null and undefined give NULL (an array the kernel does not use). */
static int data_of(napi_env env, napi_value v, void **data) {
  napi_valuetype vt;
  bool is_ta = false;
  if (napi_typeof(env, v, &vt) != napi_ok) return 0;
  if (vt == napi_null || vt == napi_undefined) {
    *data = NULL;
    return 1;
  }
  return napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
         napi_get_typedarray_info(env, v, NULL, NULL, data, NULL, NULL) == napi_ok;
}

/* call(meta: Float64Array, ...arrays): the status of pfs_call. */
static napi_value js_call(napi_env env, napi_callback_info info) {
  size_t argc = MAX_ARGS;
  napi_value argv[MAX_ARGS];
  void *data[MAX_ARGS] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = 0; i < argc && i < MAX_ARGS; i++) {
    if (!data_of(env, argv[i], &data[i]) || (i == 0 && data[0] == NULL)) {
      napi_throw_type_error(env, NULL, "pfs native call: expected a Float64Array and typed arrays");
      return NULL;
    }
  }
  napi_value v;
  CHECK(napi_create_int32(env, pfs_call(data[0], data + 1, g_threads), &v));
  return v;
}

/* ---------------------------------------------------------------- settings ------------------------ */

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > PFS_MAX_THREADS) {
    napi_throw_range_error(env, NULL, "pfs native setThreads: expected a thread count from 1 to " STR(PFS_MAX_THREADS));
    return NULL;
  }
  g_threads = n;
  return NULL;
}

static napi_value js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, g_threads, &v));
  return v;
}

/* tuneMalloc(): raises glibc malloc's thresholds (see tune_malloc); returns what malloc now does. */
static napi_value js_tune_malloc(napi_env env, napi_callback_info info) {
  (void)info;
  static int tuned = 0;
  if (!tuned) {
    tuned = 1;
    tune_malloc();
  }
  napi_value v;
  CHECK(napi_create_string_utf8(env, g_malloc, NAPI_AUTO_LENGTH, &v));
  return v;
}

/* A short description of how the kernels were compiled and of malloc, for `pfs info`. */
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
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"call", js_call},
             {"setThreads", js_set_threads},
             {"getThreads", js_get_threads},
             {"buildInfo", js_build_info},
             {"tuneMalloc", js_tune_malloc}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return NULL;
  }
  return exports;
}
