{
  "sources": ["gemm.c", "conv.c", "pool.c", "elementwise.c", "norm.c", "index.c", "softmax.c", "layernorm.c", "optim.c", "call.c"]
}
