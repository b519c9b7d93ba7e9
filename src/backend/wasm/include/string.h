/*
 * The part of <string.h> the kernels of src/backend/csrc use, for the WebAssembly build (which has no
 * C library). With the bulk-memory feature clang turns these builtins into the memory.copy and
 * memory.fill instructions.
 */
#ifndef PFS_WASM_STRING_H
#define PFS_WASM_STRING_H

#include <stddef.h>

#define memcpy(d, s, n) __builtin_memcpy(d, s, n)
#define memmove(d, s, n) __builtin_memmove(d, s, n)
#define memset(d, c, n) __builtin_memset(d, c, n)

#endif
