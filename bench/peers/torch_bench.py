#!/usr/bin/python3
"""PyTorch (CPU) peer of bench/workloads.ts: the same workloads, sizes and timing rule.

    /usr/bin/python3 bench/peers/torch_bench.py [NAME...] [--threads N] [--runs N] [--warmup N]
    /usr/bin/python3 bench/peers/torch_bench.py --info

Prints one JSON line per result, as `pfs bench --json` does:
    {"name", "backend": "pytorch", "threads", "median_ms", "min_ms", "runs", "gflops"?, "tokens_per_s"?, "images_per_s"?,
     "peak_rss_mb", "load_avg"}
peak_rss_mb is the process's peak resident memory so far (the workload's own when it runs alone);
load_avg the machine's 1, 5 and 15-minute load average when the workload started.
For the BLAS threads to follow --threads, also set OPENBLAS_NUM_THREADS (bench/run.sh does).
"""
import argparse
import json
import math
import os
import pathlib
import resource
import statistics
import sys
import time
import warnings

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


# ---------------------------------------------------------------- character-level language models (papers/rnn)
#
# The d2l presets of papers/rnn/train.ts, one per model (a JSON literal: test/bench.test.ts reads it and
# checks it against the presets and bench/workloads.ts). "init": "normal" is d2l's from-scratch
# models (weights N(0, 0.01²), biases 0, the dense head too); "uniform" is PyTorch's nn.LSTM/nn.Linear
# default, which d2l's concise deep and bidirectional models keep.
CHARLM = {
    "charlm-rnn": {"cell": "rnn", "hidden": 512, "layers": 1, "directions": 1, "init": "normal", "lr": 1, "clip": 1},
    "charlm-gru": {"cell": "gru", "hidden": 256, "layers": 1, "directions": 1, "init": "normal", "lr": 1, "clip": 1},
    "charlm-lstm": {"cell": "lstm", "hidden": 256, "layers": 1, "directions": 1, "init": "normal", "lr": 1, "clip": 1},
    "charlm-deep-lstm": {"cell": "lstm", "hidden": 256, "layers": 2, "directions": 1, "init": "uniform", "lr": 2, "clip": 1},
    "charlm-bi-lstm": {"cell": "lstm", "hidden": 256, "layers": 2, "directions": 2, "init": "uniform", "lr": 1, "clip": 1}
}
CHARLM_SIZES = {"vocab": 28, "batch": 32, "steps": 35, "min_runs": 5, "max_runs": 50, "budget_ms": 5000}


class ScratchCell(nn.Module):
    """papers/rnn/cells.ts's RNNCell, GRUCell and LSTMCell, the same equations computed the same way:
    the input terms X_t W_x· + b_· of all steps in one product before the loop, and each step one
    product of H_{t−1} with the gates' hidden weights side by side, cut into the gates. Weights
    N(0, 0.01²), biases 0 (d2l's from-scratch init; the from-scratch presets all use it).

      RNN   H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h)
      GRU   R_t = σ(X_t W_xr + H_{t−1} W_hr + b_r)   Z_t = σ(X_t W_xz + H_{t−1} W_hz + b_z)
            H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t−1}) W_hh + b_h)   H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t
      LSTM  [I | F | C̃ | O] = [σ | σ | tanh | σ](X_t [W_xi|W_xf|W_xc|W_xo] + H_{t−1} [W_hi|W_hf|W_hc|W_ho] + b)
            C_t = F ⊙ C_{t−1} + I ⊙ C̃   H_t = O ⊙ tanh(C_t)
    """

    GATES = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "c", "o")}

    def __init__(self, kind, num_inputs, H):
        super().__init__()
        self.kind, self.H = kind, H
        for g in self.GATES[kind]:
            setattr(self, f"W_x{g}", nn.Parameter(torch.randn(num_inputs, H) * 0.01))
            setattr(self, f"W_h{g}", nn.Parameter(torch.randn(H, H) * 0.01))
            setattr(self, f"b_{g}", nn.Parameter(torch.zeros(H)))

    def forward(self, X):
        """X (T, B, I) → the hidden states (T, B, H), from a zero state."""
        T, B, I = X.shape
        H, gates = self.H, self.GATES[self.kind]
        W_x = torch.cat([getattr(self, f"W_x{g}") for g in gates], 1)
        b = torch.cat([getattr(self, f"b_{g}") for g in gates], 0)
        xs = (X.reshape(T * B, I) @ W_x + b).reshape(T, B, -1)  # (T, B, gates·H)
        Hs = torch.zeros(B, H)
        outs = []
        if self.kind == "rnn":
            for t in range(T):
                Hs = torch.tanh(xs[t] + Hs @ self.W_hh)
                outs.append(Hs)
        elif self.kind == "gru":
            W_hrz = torch.cat([self.W_hr, self.W_hz], 1)
            for t in range(T):
                rz = Hs @ W_hrz  # (B, 2H)
                R = torch.sigmoid(xs[t, :, :H] + rz[:, :H])
                Z = torch.sigmoid(xs[t, :, H:2 * H] + rz[:, H:])
                H_tilde = torch.tanh(xs[t, :, 2 * H:] + (R * Hs) @ self.W_hh)
                Hs = Z * Hs + (1 - Z) * H_tilde
                outs.append(Hs)
        else:
            W_h = torch.cat([self.W_hi, self.W_hf, self.W_hc, self.W_ho], 1)
            C = torch.zeros(B, H)
            for t in range(T):
                z = xs[t] + Hs @ W_h  # (B, 4H)
                I_, F_ = torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2 * H])
                C_tilde, O = torch.tanh(z[:, 2 * H:3 * H]), torch.sigmoid(z[:, 3 * H:])
                C = F_ * C + I_ * C_tilde
                Hs = O * torch.tanh(C)
                outs.append(Hs)
        return torch.stack(outs, 0)


class CharLM(nn.Module):
    """papers/rnn/model.ts's RNNLM: one-hot tokens, time-major → recurrent layers → dense head → logits (T·B, V).
    The from-scratch presets use ScratchCell; the deep and bidirectional ones nn.LSTM, as d2l's concise models."""

    def __init__(self, c, V):
        super().__init__()
        self.V = V
        H, D = c["hidden"], c["directions"]
        if c["init"] == "normal":
            assert c["layers"] == 1 and D == 1, "the from-scratch models are one layer, one direction"
            self.rnn = ScratchCell(c["cell"], V, H)
        else:
            assert c["cell"] == "lstm", "the concise models are LSTMs"
            self.rnn = nn.LSTM(V, H, num_layers=c["layers"], bidirectional=D == 2)  # U(±1/√H), PyTorch's init
        self.head = nn.Linear(D * H, V)
        if c["init"] == "normal":
            nn.init.normal_(self.head.weight, 0, 0.01)
            nn.init.zeros_(self.head.bias)

    def forward(self, tokens):
        X = F.one_hot(tokens.T, self.V).type(torch.float32)  # (T, B, V)
        out = self.rnn(X)
        out = out[0] if isinstance(out, tuple) else out  # (T, B, D·H)
        T, B, DH = out.shape
        return self.head(out.reshape(T * B, DH))  # (T·B, V)


def charlm_setup(name):
    """One train step as papers/rnn's trainEpoch on one batch: forward from a zero state,
    cross-entropy against the time-major targets, backward, clip to the preset's norm, SGD."""
    c, s = CHARLM[name], CHARLM_SIZES

    def setup():
        torch.manual_seed(5)
        net = CharLM(c, s["vocab"])
        opt = torch.optim.SGD(net.parameters(), lr=c["lr"])
        X = torch.randint(0, s["vocab"], (s["batch"], s["steps"]))
        y = torch.randint(0, s["vocab"], (s["batch"], s["steps"])).T.reshape(-1)  # (T·B), time-major as the logits

        def step():
            loss = F.cross_entropy(net(X), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), c["clip"])
            opt.step()
            return loss.item()

        return step

    return setup


# ---------------------------------------------------------------- vision nets at their cpu presets (papers/vision)
#
# The `cpu` preset of each vision paper (papers/<net>/train.ts): input size, batch size, SGD lr (a JSON
# literal: test/bench.test.ts reads it and checks it against the presets and bench/workloads.ts).
VISION = {
    "vision-alexnet": {"net": "alexnet", "size": 65, "batch": 128, "lr": 0.1},
    "vision-vgg": {"net": "vgg", "size": 32, "batch": 128, "lr": 0.05},
    "vision-nin": {"net": "nin", "size": 67, "batch": 128, "lr": 0.1},
    "vision-googlenet": {"net": "googlenet", "size": 28, "batch": 128, "lr": 0.1},
    "vision-resnet": {"net": "resnet", "size": 28, "batch": 256, "lr": 0.05},
    "vision-regnet": {"net": "regnet", "size": 28, "batch": 128, "lr": 0.05}
}
VISION_RUNS = {"min_runs": 3, "max_runs": 20, "budget_ms": 5000}


def vision_setup(name):
    """One train step as papers/vision's fitClassifier: the net as d2l builds it with torch.nn (the
    definitions of test/fixtures/gen_vision.py, the oracle of test/vision.test.ts), one forward pass to
    size AlexNet's and VGG's nn.LazyLinear, Xavier-uniform conv and dense weights (d2l's init_cnn),
    training mode, then forward, cross-entropy, backward, SGD at the preset's lr on random images."""
    c = VISION[name]

    def setup():
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures"))
        import gen_vision  # here, not at the top: the fixtures' folder is on the path only now

        warnings.filterwarnings("ignore", message="Lazy modules are a new feature")  # nn.LazyLinear's notice

        torch.manual_seed(6)
        net = gen_vision.NETS[c["net"]][0]()
        x = torch.rand(c["batch"], 1, c["size"], c["size"])  # (B, 1, S, S) images in [0, 1]
        y = torch.randint(0, 10, (c["batch"],))
        net.eval()
        with torch.no_grad():
            net(x[:1])  # materialises the lazy layers (eval mode: BatchNorm takes a batch of one there)
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=c["lr"])

        def step():
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()

        return step

    return setup


# ---------------------------------------------------------------- translation papers at their d2l presets (papers/translation)
#
# Each workload's paper, and the sizes of bench/workloads.ts (SIZES.translate: d2l's vocabularies, the
# shortest valid length; the d2l presets' batch × steps; its timing rule) as JSON literals that
# test/bench.test.ts checks. The models, their init and the d2l presets come from
# papers/translation/twin_torch.py, the project's PyTorch twin of the three papers.
TRANSLATE = {"translate-seq2seq": "seq2seq", "translate-bahdanau": "bahdanau", "translate-transformer": "transformer"}
TRANSLATE_SIZES = {"src_vocab": 184, "tgt_vocab": 201, "batch": 64, "steps": 10, "min_valid": 2, "min_runs": 5, "max_runs": 50, "budget_ms": 5000}


def translate_setup(name):
    """One train step as twin_torch's train takes it per batch (d2l's train_seq2seq): teacher forcing
    (<bos> y_1 … y_{T−1} in), each sentence's loss the mean over the T steps of its masked token
    cross-entropies, backward of their sum, clip_gradients to the preset's norm, Adam; the model built
    and initialised as the twin does, in training mode (dropout on), on a fixed synthetic batch of the
    preset's shape: random tokens, valid lengths random in [min_valid, num_steps]."""
    paper, s = TRANSLATE[name], TRANSLATE_SIZES

    def setup():
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "papers" / "translation"))
        import twin_torch  # here, not at the top: its folder is on the path only now

        cfg = twin_torch.PRESETS[paper]["d2l"]
        B, T = cfg["batch_size"], cfg["num_steps"]
        assert (B, T) == (s["batch"], s["steps"]), f"{paper}'s d2l preset is {B} × {T}, TRANSLATE_SIZES says {s['batch']} × {s['steps']}"
        torch.manual_seed(7)
        model = twin_torch.MODELS[paper](s["src_vocab"], s["tgt_vocab"], cfg)
        twin_torch.init_weights(model)
        model.train()
        params = list(model.parameters())
        opt = torch.optim.Adam(params, lr=cfg["lr"])
        X = torch.randint(0, s["src_vocab"], (B, T))
        X_valid = torch.randint(s["min_valid"], T + 1, (B,))
        Y = torch.randint(0, s["tgt_vocab"], (B, T))
        Y_valid = torch.randint(s["min_valid"], T + 1, (B,))
        bos = twin_torch.Vocab([], 1).token_to_idx[twin_torch.BOS]  # <unk>, then the reserved tokens
        dec_input = torch.cat([torch.full((B, 1), bos, dtype=torch.long), Y[:, :-1]], 1)
        valid = torch.arange(T)[None, :] < Y_valid[:, None]  # (B, T) the tokens before the padding

        def step():
            logits = model(X, X_valid, dec_input)  # (B, T, V)
            ce = F.cross_entropy(logits.reshape(B * T, -1), Y.reshape(B * T), reduction="none").reshape(B, T)
            l = (ce * valid).mean(1)  # per sentence, over all T steps
            opt.zero_grad()
            l.sum().backward()
            twin_torch.clip_gradients(params, cfg["clip"])
            opt.step()
            return l.sum().item() * T / Y_valid.sum().item()  # the token cross-entropy

        return step

    return setup


# ---------------------------------------------------------------- skip-gram at its d2l preset (papers/skip-gram)
#
# The sizes of bench/workloads.ts (SIZES.skipgram, the d2l preset's d and lr, its timing rule) as a JSON literal
# that test/bench.test.ts checks. The loss, the model and its init come from papers/skip-gram/reference_torch.py,
# the project's PyTorch twin of the paper.
SKIPGRAM_SIZES = {"vocab": 6719, "batch": 512, "max_contexts": 10, "noise": 5, "embed": 100, "lr": 0.002, "min_runs": 10, "max_runs": 100, "budget_ms": 3000}


def skipgram_setup():
    """One train step as the twin takes it per batch (d2l's train body): scores u·v by a batched product,
    each centre's masked BCE averaged over its real words, backward of their sum, Adam; on a fixed synthetic
    batch: 512 centres, each with 1..10 context words and 5 noise words per context, ids uniform in 1..V−1."""
    s = SKIPGRAM_SIZES
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "papers" / "skip-gram"))
    import reference_torch as twin  # here, not at the top: its folder is on the path only now

    torch.manual_seed(7)
    net = twin.make_model(s["vocab"], s["embed"])
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"])
    rows = []
    for _ in range(s["batch"]):
        k = int(torch.randint(1, s["max_contexts"] + 1, ()))
        rows.append((int(torch.randint(1, s["vocab"], ())), torch.randint(1, s["vocab"], (k,)).tolist(),
                     torch.randint(1, s["vocab"], (k * s["noise"],)).tolist()))
    centres, words, mask, labels = twin.batchify(rows)

    def step():
        opt.zero_grad()
        l = twin.skip_gram_loss(twin.scores_of(net, centres, words), labels, mask)
        l.sum().backward()
        opt.step()
        return l.mean().item()

    return step


# The bert workload: papers/bert/reference_torch.py's model at its d2l preset, one train step (d2l's train_bert
# body) on the fixed batch of bench/workloads.ts bertBatch (integer formulas); sizes as SIZES.bert there.
BERT_SIZES = {"vocab": 20256, "batch": 512, "max_len": 64, "preds": 10, "min_runs": 3, "max_runs": 20, "budget_ms": 10000}


def bert_setup():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "papers" / "bert"))
    import reference_torch  # here, not at the top: its folder is on the path only now

    s = BERT_SIZES
    cfg = reference_torch.PRESETS["d2l"]
    B, T, P, V = s["batch"], s["max_len"], s["preds"], s["vocab"]
    assert (B, T) == (cfg["batch_size"], cfg["max_len"]), "BERT_SIZES and the twin's d2l preset disagree"
    torch.manual_seed(7)
    model = reference_torch.BERT(V, cfg)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    b = torch.arange(B)[:, None]
    valid = torch.clamp(20 + (13 * torch.arange(B)) % 45, max=T)  # (B)
    t, j = torch.arange(T)[None, :], torch.arange(P)[None, :]
    tokens = (131 * b + 17 * t) % V
    segments = (t >= (valid // 2)[:, None]).long()
    positions = 1 + (b + 5 * j) % (valid - 2)[:, None]
    k = torch.tensor([max(1, round(int(v) * 0.15)) for v in valid])
    weights = (j < k[:, None]).float()
    labels = (7 * b + 3 * j) % V
    nsp = torch.arange(B) % 2

    def step():
        mlm_logits, nsp_logits = model(tokens, segments, valid, positions)
        mlm, nsp_l = reference_torch.bert_loss(mlm_logits, nsp_logits, weights, labels, nsp)
        opt.zero_grad()
        (mlm + nsp_l).backward()
        opt.step()
        return mlm.item() + nsp_l.item()

    return step


WORKLOADS = [sgemm(n) for n in (256, 512, 1024, 2048)] + [
    dict(name="lenet", min_runs=10, max_runs=100, budget=3.0, setup=lenet_setup),
    dict(name="lstm", min_runs=10, max_runs=100, budget=3.0, setup=lstm_setup),
    dict(name="transformer", min_runs=10, max_runs=100, budget=3.0, setup=transformer_setup),
    dict(name="resnet18", min_runs=5, max_runs=30, budget=5.0, setup=resnet18_setup),
] + [
    dict(name=n, tokens=CHARLM_SIZES["batch"] * CHARLM_SIZES["steps"], min_runs=CHARLM_SIZES["min_runs"],
         max_runs=CHARLM_SIZES["max_runs"], budget=CHARLM_SIZES["budget_ms"] / 1000, setup=charlm_setup(n))
    for n in CHARLM
] + [
    dict(name=n, images=c["batch"], min_runs=VISION_RUNS["min_runs"], max_runs=VISION_RUNS["max_runs"],
         budget=VISION_RUNS["budget_ms"] / 1000, setup=vision_setup(n))
    for n, c in VISION.items()
] + [
    dict(name=n, tokens=TRANSLATE_SIZES["batch"] * TRANSLATE_SIZES["steps"], min_runs=TRANSLATE_SIZES["min_runs"],
         max_runs=TRANSLATE_SIZES["max_runs"], budget=TRANSLATE_SIZES["budget_ms"] / 1000, setup=translate_setup(n))
    for n in TRANSLATE
] + [
    dict(name="skipgram", tokens=SKIPGRAM_SIZES["batch"], min_runs=SKIPGRAM_SIZES["min_runs"], max_runs=SKIPGRAM_SIZES["max_runs"],
         budget=SKIPGRAM_SIZES["budget_ms"] / 1000, setup=skipgram_setup),
    dict(name="bert", tokens=BERT_SIZES["batch"] * BERT_SIZES["max_len"], min_runs=BERT_SIZES["min_runs"],
         max_runs=BERT_SIZES["max_runs"], budget=BERT_SIZES["budget_ms"] / 1000, setup=bert_setup)
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
        load_avg = [round(x, 2) for x in os.getloadavg()]
        med, best, n = measure(w["setup"](), a.warmup, *runs)
        r = {"name": w["name"], "backend": "pytorch", "threads": threads, "median_ms": round(med, 3), "min_ms": round(best, 3), "runs": n}
        if "flops" in w:
            r["gflops"] = round(w["flops"] / med / 1e6, 2)
        if "tokens" in w:
            r["tokens_per_s"] = round(w["tokens"] / med * 1000, 1)
        if "images" in w:
            r["images_per_s"] = round(w["images"] / med * 1000, 1)
        r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # ru_maxrss is in KiB on Linux
        r["load_avg"] = load_avg
        print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
