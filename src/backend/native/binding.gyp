# The native backend: the shared C kernels (the list in ../csrc/sources.gypi, which
# scripts/build-wasm.mjs reads too) plus the Node-API glue and thread pool of this folder. Built by
# scripts/build-native.mjs (npm's install step) on the machine that runs it, hence -march=native.
{
  "targets": [
    {
      "target_name": "pfs_native",
      "includes": ["../csrc/sources.gypi"],
      "sources": ["addon.c", "threads.c"],
      "cflags": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno"]
      }
    }
  ]
}
