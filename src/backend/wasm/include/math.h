/*
 * The part of <math.h> the kernels of src/backend/csrc use, for the WebAssembly build (which has no C
 * library): constants, and the functions WebAssembly has as instructions (through clang's builtins).
 * log and pow have no instruction: they are imported from JavaScript (Math.log, Math.pow), the very
 * functions the reference kernels call.
 */
#ifndef PFS_WASM_MATH_H
#define PFS_WASM_MATH_H

#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")

#define fabs(x) __builtin_fabs(x)
#define fabsf(x) __builtin_fabsf(x)
#define sqrt(x) __builtin_sqrt(x)
#define sqrtf(x) __builtin_sqrtf(x)

__attribute__((import_module("env"), import_name("log"))) double log(double x);
__attribute__((import_module("env"), import_name("pow"))) double pow(double x, double y);

#endif
