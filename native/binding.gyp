# The native backend: the shared C kernels of src/backend/csrc plus the Node-API glue and thread
# pool of this folder. Built by scripts/build-native.mjs (npm's install step) on the machine that
# runs it, hence -march=native.
{
  "targets": [
    {
      "target_name": "pfs_native",
      "sources": [
        "addon.c",
        "threads.c",
        "../src/backend/csrc/gemm.c",
        "../src/backend/csrc/conv.c",
        "../src/backend/csrc/pool.c",
        "../src/backend/csrc/elementwise.c",
        "../src/backend/csrc/norm.c"
      ],
      "cflags": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno"]
      }
    }
  ]
}
