#!/usr/bin/python3
"""PyTorch (CPU) peer of bench/workloads.ts: the same workloads, sizes and timing rule.

    /usr/bin/python3 bench/peers/torch_bench.py [NAME...] [--threads N] [--runs N] [--warmup N]
    /usr/bin/python3 bench/peers/torch_bench.py --info

Prints one JSON line per result, as `pfs bench --json` does:
    {"name", "backend": "pytorch", "threads", "median_ms", "min_ms", "runs", "gflops"?, "peak_rss_mb"}
peak_rss_mb is the process's peak resident memory so far (the workload's own when it runs alone).
For the BLAS threads to follow --threads, also set OPENBLAS_NUM_THREADS (bench/run.sh does).
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- the workloads (sizes as bench/workloads.ts)


def sgemm(n):
    def setup():
        g = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        return lambda: torch.mm(a, b)

    return dict(name=f"sgemm-{n}", flops=2 * n**3, min_runs=5, max_runs=200, budget=2.0, setup=setup)


def lenet_setup():
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10),
    )
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=0.9)
    x = torch.randn(256, 1, 28, 28)
    y = torch.randint(0, 10, (256,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    return step


def lstm_setup():
    """d2l's LSTM from scratch, one time step at a time (see bench/workloads.ts for the equations)."""
    V, H, T, B = 28, 256, 35, 32
    torch.manual_seed(2)

    def normal(*shape):
        return (torch.randn(*shape) * 0.01).requires_grad_()

    def gate():
        return normal(V, H), normal(H, H), torch.zeros(H, requires_grad=True)

    W_xi, W_hi, b_i = gate()
    W_xf, W_hf, b_f = gate()
    W_xo, W_ho, b_o = gate()
    W_xc, W_hc, b_c = gate()
    W_hq, b_q = normal(H, V), torch.zeros(V, requires_grad=True)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]
    opt = torch.optim.SGD(params, lr=1)
    tokens = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T)).T.reshape(-1)  # time-major, as the outputs

    def step():
        opt.zero_grad()
        X = F.one_hot(tokens.T, V).type(torch.float32)  # (T, B, V)
        Hs = torch.zeros(B, H)
        C = torch.zeros(B, H)
        outputs = []
        for Xt in X:
            I = torch.sigmoid(Xt @ W_xi + Hs @ W_hi + b_i)
            Fg = torch.sigmoid(Xt @ W_xf + Hs @ W_hf + b_f)
            O = torch.sigmoid(Xt @ W_xo + Hs @ W_ho + b_o)
            C_tilde = torch.tanh(Xt @ W_xc + Hs @ W_hc + b_c)
            C = Fg * C + I * C_tilde
            Hs = O * torch.tanh(C)
            outputs.append(Hs @ W_hq + b_q)
        loss = F.cross_entropy(torch.cat(outputs, dim=0), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1)
        opt.step()

    return step


class EncoderLayer(nn.Module):
    """d2l's TransformerEncoderBlock without dropout (post-norm), attention composed by hand."""

    def __init__(self, d, h, dff):
        super().__init__()
        self.h = h
        self.Wq, self.Wk, self.Wv, self.Wo = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.norm1 = nn.LayerNorm(d)
        self.ffn1 = nn.Linear(d, dff)
        self.ffn2 = nn.Linear(dff, d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, X):
        B, T, d = X.shape
        h, dh = self.h, d // self.h

        def heads(z):
            return z.reshape(B, T, h, dh).permute(0, 2, 1, 3).reshape(B * h, T, dh)

        Q, K, V = heads(self.Wq(X)), heads(self.Wk(X)), heads(self.Wv(X))
        A = torch.softmax(Q @ K.transpose(1, 2) / math.sqrt(dh), dim=-1) @ V
        concat = A.reshape(B, h, T, dh).permute(0, 2, 1, 3).reshape(B, T, d)
        Y = self.norm1(X + self.Wo(concat))
        return self.norm2(Y + self.ffn2(torch.relu(self.ffn1(Y))))


def transformer_setup():
    torch.manual_seed(3)
    layer = EncoderLayer(256, 4, 1024)
    X = torch.randn(32, 64, 256)
    R = torch.randn(32, 64, 256)  # the gradient reaching the output (see bench/workloads.ts)

    def step():
        layer.zero_grad(set_to_none=True)
        (layer(X) * R).sum().backward()

    return step


class Residual(nn.Module):
    """d2l's residual block."""

    def __init__(self, cin, c, use_1x1conv=False, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.conv3 = nn.Conv2d(cin, c, 1, stride=stride) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(c)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        return F.relu(Y + (self.conv3(X) if self.conv3 is not None else X))


def resnet_block(cin, c, n, first_block=False):
    return nn.Sequential(*[
        Residual(cin, c, use_1x1conv=True, stride=2) if i == 0 and not first_block else Residual(c, c) for i in range(n)
    ])


def resnet18_setup():
    torch.manual_seed(4)
    net = nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)),
        resnet_block(64, 64, 2, first_block=True),
        resnet_block(64, 128, 2),
        resnet_block(128, 256, 2),
        resnet_block(256, 512, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10),
    )
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    x = torch.randn(32, 1, 96, 96)
    y = torch.randint(0, 10, (32,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    return step


WORKLOADS = [sgemm(n) for n in (256, 512, 1024, 2048)] + [
    dict(name="lenet", min_runs=10, max_runs=100, budget=3.0, setup=lenet_setup),
    dict(name="lstm", min_runs=10, max_runs=100, budget=3.0, setup=lstm_setup),
    dict(name="transformer", min_runs=10, max_runs=100, budget=3.0, setup=transformer_setup),
    dict(name="resnet18", min_runs=5, max_runs=30, budget=5.0, setup=resnet18_setup),
]

# ---------------------------------------------------------------- timing (the rule of bench/workloads.ts `measure`)


def measure(run, warmup, min_runs, max_runs, budget):
    for _ in range(warmup):
        run()
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), len(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--info", action="store_true")
    a = p.parse_args()
    if a.info:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))
        return 0
    known = {w["name"]: w for w in WORKLOADS}
    unknown = [n for n in a.names if n not in known]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; benchmarks: {', '.join(known)}", file=sys.stderr)
        return 2
    if a.threads is not None:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    for w in [known[n] for n in a.names] if a.names else WORKLOADS:
        runs = (a.runs, a.runs, 0) if a.runs else (w["min_runs"], w["max_runs"], w["budget"])
        med, best, n = measure(w["setup"](), a.warmup, *runs)
        r = {"name": w["name"], "backend": "pytorch", "threads": threads, "median_ms": round(med, 3), "min_ms": round(best, 3), "runs": n}
        if "flops" in w:
            r["gflops"] = round(w["flops"] / med / 1e6, 2)
        r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # ru_maxrss is in KiB on Linux
        print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
