/*
 * Vector types through GCC/Clang vector extensions, one register wide for the target: 64 bytes with
 * AVX-512, 32 with AVX, else 16 (SSE, NEON, WebAssembly SIMD128). Arithmetic on these types is
 * elementwise; a comparison gives an integer vector of 0 / −1 (all bits set) per lane.
 */
#ifndef PFS_SIMD_H
#define PFS_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__)
#define PFS_VBYTES 64
#elif defined(__AVX__)
#define PFS_VBYTES 32
#else
#define PFS_VBYTES 16
#endif

#define PFS_VF (PFS_VBYTES / 4) /* float lanes */
#define PFS_VD (PFS_VBYTES / 8) /* double lanes */

typedef float vf __attribute__((vector_size(PFS_VBYTES)));
typedef double vd __attribute__((vector_size(PFS_VBYTES)));
typedef int32_t vi32 __attribute__((vector_size(PFS_VBYTES)));
typedef int64_t vi64 __attribute__((vector_size(PFS_VBYTES)));
/* PFS_VD floats: half a register, the float counterpart of one vd. */
typedef float vfh __attribute__((vector_size(PFS_VBYTES / 2)));

/* Unaligned loads and stores (the compilers turn these memcpy calls into single vector moves). */
static inline vf vf_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vd vd_load(const double *p) { vd v; memcpy(&v, p, sizeof v); return v; }
static inline void vd_store(double *p, vd v) { memcpy(p, &v, sizeof v); }
/* PFS_VD floats widened to doubles, and back (rounding to nearest). */
static inline vd vd_load_f32(const float *p) { vfh h; memcpy(&h, p, sizeof h); return __builtin_convertvector(h, vd); }
static inline void vd_store_f32(float *p, vd v) { vfh h = __builtin_convertvector(v, vfh); memcpy(p, &h, sizeof h); }

static inline vf vf_splat(float x) { return x - (vf){0}; } /* broadcast; x − 0 = x even for −0 */
static inline vd vd_splat(double x) { return x - (vd){0}; }

/* Lane-wise choice: mask lanes that are all ones take a, the others b. */
static inline vd vd_select(vi64 mask, vd a, vd b) { return (vd)((mask & (vi64)a) | (~mask & (vi64)b)); }
static inline vf vf_select(vi32 mask, vf a, vf b) { return (vf)((mask & (vi32)a) | (~mask & (vi32)b)); }

#endif
