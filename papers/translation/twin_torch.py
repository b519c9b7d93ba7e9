"""The PyTorch twin of the translation papers (seq2seq, bahdanau, transformer) on English–French.

The same setup as this library's TypeScript implementation, so that the numbers of the two can be set
side by side: d2l's (classic edition) fra-eng pipeline, its encoder–decoders, its train_seq2seq and
predict_seq2seq, its BLEU, and a corpus BLEU-4 on held-out pairs. Written from the equations of the
papers and of d2l's chapters; the GRU cell is written out (reset gate applied to H before the product
with W_hh, as in Cho et al. 2014), not torch's nn.GRU (which applies it after).

Debian's python3-torch (1.13), one thread. The entry points are papers/<paper>/reference_torch.py:

  /usr/bin/python3 papers/seq2seq/reference_torch.py --preset d2l --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
  /usr/bin/python3 papers/seq2seq/reference_torch.py --selftest

--KEY VALUE overrides a key of the preset's config (embed, hidden, ffn_hidden, heads, layers, dropout,
batch_size, num_steps, lr, epochs, clip, max_examples, held_out_every, min_freq). The corpus is
fra-eng/fra.txt under --data DIR, else $PFS_DATA_DIR, else ../shared/data beside the repository.
Prints the loss every tenth of the epochs and one JSON line per seed (appended to --out when given):
paper, preset, seed, config, d2l_loss (d2l's printed number: Σ per-sequence losses / Σ target valid
lengths, last epoch), train_loss (masked token cross-entropy per valid token = d2l_loss × num_steps),
d2l_loss_by_epoch, bleu and translations of d2l's four sentences, heldout_bleu (corpus BLEU-4 of the
held-out pairs, when held_out_every > 0), data (pair and vocabulary sizes), seconds (training only),
eval_seconds, tokens_per_sec (target tokens incl. pads per second of training), torch, threads, blas
(the libblas torch called), malloc.

Speed: Debian's torch is built against the generic libblas.so.3, which is the slow reference BLAS unless
OpenBLAS provides it (libopenblas0-pthread; or its files on LD_LIBRARY_PATH); OPENBLAS_NUM_THREADS is set
to 1 unless given. glibc malloc is tuned as `pfs` tunes it (tune_malloc).
"""
import collections
import ctypes
import json
import math
import os
import re
import resource
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # an OpenBLAS libblas.so.3 runs its own threads otherwise
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

# ---------------------------------------------------------------------------------------------------
# The process: malloc tuned as `pfs` tunes it, and the BLAS that torch calls.


def tune_malloc():
    """As the native backend's tuneMalloc(): raise glibc malloc's mmap and trim thresholds to 1 GiB, so that
    freed buffers stay in the process instead of being unmapped and page-faulted in anew at every use (the
    (B·T, V) logits of the full preset are ~90 MB: with glibc's defaults each op on them spent most of its
    time in page faults here). Not done when PFS_MALLOC_TUNING=0 or malloc was tuned by the environment."""
    if os.environ.get('PFS_MALLOC_TUNING') == '0':
        return 'glibc malloc defaults (PFS_MALLOC_TUNING=0)'
    if any(os.environ.get(k) for k in ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES')):
        return 'glibc malloc as tuned by the environment'
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return 'system malloc'
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30):
        return 'glibc malloc keeps freed memory'
    return 'glibc malloc defaults'


def blas_library():
    """The BLAS library mapped into this process (Debian's torch calls whatever libblas.so.3 resolves to:
    the reference BLAS unless OpenBLAS is installed or on LD_LIBRARY_PATH)."""
    with open('/proc/self/maps') as f:
        paths = {line.split()[-1] for line in f if 'blas' in line.split()[-1].rsplit('/', 1)[-1]}
    return ', '.join(sorted(paths)) or 'unknown'

# ---------------------------------------------------------------------------------------------------
# Presets. Every key can be overridden with --key value (the value takes the preset value's type).

_D2L_RNN = dict(embed=32, hidden=32, layers=2, dropout=0.1, batch_size=64, num_steps=10, lr=0.005,
                epochs=300, clip=1, max_examples=600, held_out_every=0, min_freq=2)
_FULL = dict(max_examples=0, held_out_every=20, num_steps=10, batch_size=128, min_freq=2, clip=1,
             dropout=0.1, epochs=1)
PRESETS = {
    'seq2seq': {
        'd2l': dict(_D2L_RNN),
        'full': dict(_FULL, embed=64, hidden=64, layers=2, lr=0.005),
    },
    'bahdanau': {
        'd2l': dict(_D2L_RNN, epochs=250),
        'full': dict(_FULL, embed=64, hidden=64, layers=2, lr=0.005),
    },
    'transformer': {
        'd2l': dict(hidden=32, ffn_hidden=64, heads=4, layers=2, dropout=0.1, batch_size=64, num_steps=10,
                    lr=0.005, epochs=200, clip=1, max_examples=600, held_out_every=0, min_freq=2),
        'full': dict(_FULL, hidden=64, ffn_hidden=128, heads=4, layers=2, lr=0.002),
    },
}

# d2l's four test pairs (§9.7, §10.4, §10.7).
D2L_PAIRS = [('go .', 'va !'), ("i lost .", "j'ai perdu ."), ("he's calm .", 'il est calme .'),
             ("i'm home .", 'je suis chez moi .')]

UNK, PAD, BOS, EOS = '<unk>', '<pad>', '<bos>', '<eos>'

# ---------------------------------------------------------------------------------------------------
# Data: d2l's read_data_nmt, preprocess_nmt, tokenize_nmt, Vocab, build_array_nmt.


def preprocess(text):
    """Non-breaking spaces become spaces, lower case, and a space before each , . ! ? that follows a
    character other than a space (the lookbehind needs a previous character: never at index 0)."""
    text = text.replace('\u202f', ' ').replace('\xa0', ' ').lower()
    return re.sub(r'(?<=[^ ])([,.!?])', r' \1', text)


def tokenize(text, max_examples=0):
    """Pairs (source tokens, target tokens) of the lines with at least two tab-separated columns, each
    split on ' ' with empty tokens dropped; with max_examples > 0, the first max_examples pairs."""
    source, target = [], []
    for line in text.split('\n'):
        if max_examples > 0 and len(source) >= max_examples:
            break
        parts = line.split('\t')
        if len(parts) < 2:
            continue
        source.append([w for w in parts[0].split(' ') if w])
        target.append([w for w in parts[1].split(' ') if w])
    return source, target


def split_held_out(n, every):
    """Indices of the training and held-out pairs: pair i is held out iff i % every == every − 1."""
    if every <= 0:
        return list(range(n)), []
    return [i for i in range(n) if i % every != every - 1], [i for i in range(n) if i % every == every - 1]


class Vocab:
    """'<unk>' at 0, the reserved tokens, then the tokens seen at least min_freq times by count,
    most frequent first, ties in order of first appearance."""

    def __init__(self, lines, min_freq, reserved=(PAD, BOS, EOS)):
        counts = {}  # dicts keep insertion order: first appearance
        for line in lines:
            for t in line:
                counts[t] = counts.get(t, 0) + 1
        by_count = sorted(counts.items(), key=lambda kv: -kv[1])  # stable
        self.idx_to_token = [UNK]
        self.token_to_idx = {UNK: 0}
        for t in list(reserved) + [t for t, c in by_count if c >= min_freq]:
            if t not in self.token_to_idx:
                self.token_to_idx[t] = len(self.idx_to_token)
                self.idx_to_token.append(t)

    def __len__(self):
        return len(self.idx_to_token)

    def indices(self, tokens):
        return [self.token_to_idx.get(t, 0) for t in tokens]

    def tokens(self, indices):
        return [self.idx_to_token[i] for i in indices]


def build_array(lines, vocab, num_steps):
    """Each line → indices + <eos>, cut or padded with <pad> to num_steps; (n, T) int64 and the count
    of non-pad entries per row."""
    pad, eos = vocab.token_to_idx[PAD], vocab.token_to_idx[EOS]
    rows = []
    for line in lines:
        row = (vocab.indices(line) + [eos])[:num_steps]
        rows.append(row + [pad] * (num_steps - len(row)))
    array = torch.tensor(rows, dtype=torch.long).reshape(len(rows), num_steps)
    return array, (array != pad).sum(1)


def data_dir(arg):
    if arg:
        return arg
    if os.environ.get('PFS_DATA_DIR'):
        return os.environ['PFS_DATA_DIR']
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data')


def load_data(cfg, directory):
    with open(os.path.join(directory, 'fra-eng', 'fra.txt'), encoding='utf-8') as f:
        source, target = tokenize(preprocess(f.read()), cfg['max_examples'])
    train_idx, held_idx = split_held_out(len(source), cfg['held_out_every'])
    src_train = [source[i] for i in train_idx]
    tgt_train = [target[i] for i in train_idx]
    src_vocab = Vocab(src_train, cfg['min_freq'])
    tgt_vocab = Vocab(tgt_train, cfg['min_freq'])
    X, X_valid = build_array(src_train, src_vocab, cfg['num_steps'])
    Y, Y_valid = build_array(tgt_train, tgt_vocab, cfg['num_steps'])
    return dict(X=X, X_valid=X_valid, Y=Y, Y_valid=Y_valid, src_vocab=src_vocab, tgt_vocab=tgt_vocab,
                held_src=[source[i] for i in held_idx], held_tgt=[target[i] for i in held_idx])

# ---------------------------------------------------------------------------------------------------
# Attention pieces (d2l's masked_softmax, AdditiveAttention, MultiHeadAttention).


def key_mask(valid_lens, num_keys):
    """(B, K) bool: key k of row b is visible iff k < valid_lens[b]."""
    return torch.arange(num_keys)[None, :] < valid_lens[:, None]


def masked_softmax(scores, mask):
    """Softmax over the last axis with the hidden scores set to −1e6 (d2l's value) first."""
    if mask is None:
        return F.softmax(scores, dim=-1)
    return F.softmax(scores.masked_fill(~mask, -1e6), dim=-1)


class AdditiveAttention(nn.Module):
    """a(q, k) = w_vᵀ tanh(W_q q + W_k k) (Bahdanau et al. 2015)."""

    def __init__(self, hidden, dropout):
        super().__init__()
        self.W_k = nn.Linear(hidden, hidden, bias=False)
        self.W_q = nn.Linear(hidden, hidden, bias=False)
        self.w_v = nn.Linear(hidden, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys_projected, values, mask):
        """queries (B, Q, H); keys already through W_k (B, K, H); values (B, K, H); mask (B, 1, K)."""
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + keys_projected.unsqueeze(1))  # (B, Q, K, H)
        weights = masked_softmax(self.w_v(features).squeeze(-1), mask)  # (B, Q, K)
        return torch.bmm(self.dropout(weights), values)


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention in `heads` heads of d/heads each (Vaswani et al. 2017), no biases."""

    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads = heads
        self.W_q = nn.Linear(d, d, bias=False)
        self.W_k = nn.Linear(d, d, bias=False)
        self.W_v = nn.Linear(d, d, bias=False)
        self.W_o = nn.Linear(d, d, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, mask):
        """(B, Tq, d), (B, Tk, d), (B, Tk, d); mask broadcastable to (B, heads, Tq, Tk) or None."""
        B, Tq, d = queries.shape
        dh = d // self.heads

        def split(x):  # (B, T, d) → (B, h, T, d/h)
            return x.reshape(B, x.shape[1], self.heads, dh).permute(0, 2, 1, 3)

        Q, K, V = split(self.W_q(queries)), split(self.W_k(keys)), split(self.W_v(values))
        weights = masked_softmax(Q @ K.transpose(-1, -2) / math.sqrt(dh), mask)
        out = self.dropout(weights) @ V  # (B, h, Tq, d/h)
        return self.W_o(out.permute(0, 2, 1, 3).reshape(B, Tq, d))

# ---------------------------------------------------------------------------------------------------
# The GRU of Cho et al. (2014), written out.


class GRULayer(nn.Module):
    """One layer's weights: W_x· (I, H), W_h· (H, H), one bias per gate (r, z, h)."""

    def __init__(self, inputs, hidden):
        super().__init__()
        self.hidden = hidden
        for g in 'rzh':
            setattr(self, f'W_x{g}', nn.Parameter(torch.empty(inputs, hidden)))
            setattr(self, f'W_h{g}', nn.Parameter(torch.empty(hidden, hidden)))
            setattr(self, f'b_{g}', nn.Parameter(torch.empty(hidden)))
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform with the fans of torch's (3H, I) and (3H, H) GRU matrices; each bias the sum of
        two U(−1/√H, 1/√H) draws (torch's b_ih + b_hh)."""
        H = self.hidden
        with torch.no_grad():
            for g in 'rzh':
                W_x, W_h = getattr(self, f'W_x{g}'), getattr(self, f'W_h{g}')
                bound_x = math.sqrt(6 / (W_x.shape[0] + 3 * H))
                W_x.uniform_(-bound_x, bound_x)
                bound_h = math.sqrt(6 / (H + 3 * H))
                W_h.uniform_(-bound_h, bound_h)
            for g in 'rzh':
                b = getattr(self, f'b_{g}')
                k = 1 / math.sqrt(H)
                b.copy_(torch.empty(H).uniform_(-k, k) + torch.empty(H).uniform_(-k, k))

    def packed(self):
        """[W_xr W_xz W_xh] (I, 3H), [W_hr W_hz] (H, 2H), W_hh (H, H), [b_r b_z b_h] (3H)."""
        return (torch.cat([self.W_xr, self.W_xz, self.W_xh], 1), torch.cat([self.W_hr, self.W_hz], 1),
                self.W_hh, torch.cat([self.b_r, self.b_z, self.b_h]))


def gru_cell(xw, h, W_hrz, W_hh):
    """xw = X W_x + b (B, 3H), h (B, H):
    R = σ(X W_xr + H W_hr + b_r), Z = σ(X W_xz + H W_hz + b_z),
    H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h), H' = Z ⊙ H + (1 − Z) ⊙ H̃."""
    H = h.shape[1]
    rz = torch.sigmoid(xw[:, :2 * H] + h @ W_hrz)
    r, z = rz[:, :H], rz[:, H:]
    h_tilde = torch.tanh(xw[:, 2 * H:] + (r * h) @ W_hh)
    return z * h + (1 - z) * h_tilde


class GRU(nn.Module):
    """Stacked GRU layers; dropout on every layer's output sequence but the last's (as nn.GRU)."""

    def __init__(self, inputs, hidden, layers, dropout):
        super().__init__()
        self.hidden, self.dropout = hidden, dropout
        self.layers = nn.ModuleList([GRULayer(inputs if l == 0 else hidden, hidden) for l in range(layers)])

    def forward(self, X, state):
        """X (T, B, I), state (L, B, H) → outputs of the top layer (T, B, H), final state (L, B, H)."""
        inp, finals = X, []
        for l, layer in enumerate(self.layers):
            W_x, W_hrz, W_hh, b = layer.packed()
            XW = inp @ W_x + b  # every step's input part at once
            h, outs = state[l], []
            for t in range(X.shape[0]):
                h = gru_cell(XW[t], h, W_hrz, W_hh)
                outs.append(h)
            inp = torch.stack(outs)
            finals.append(h)
            if l < len(self.layers) - 1:
                inp = F.dropout(inp, self.dropout, self.training)
        return inp, torch.stack(finals)

# ---------------------------------------------------------------------------------------------------
# The models. Each has forward(X, X_valid, dec_input) → logits (B, T, V) for training (teacher forcing),
# and begin(X, X_valid) → state, step(y (B,), state) → (logits (B, V), state) for greedy decoding.


class Seq2SeqEncoder(nn.Module):
    """Embedding → GRU over all num_steps positions (pads included) from a zero state."""

    def __init__(self, vocab, embed, hidden, layers, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = GRU(embed, hidden, layers, dropout)

    def forward(self, X):
        emb = self.embedding(X).permute(1, 0, 2)  # (T, B, E)
        state = torch.zeros(len(self.rnn.layers), X.shape[0], self.rnn.hidden)
        return self.rnn(emb, state)  # (T, B, H), (L, B, H)


class Seq2Seq(nn.Module):
    """Sutskever et al. (2014) / Cho et al. (2014) as d2l's Seq2SeqEncoder/Decoder: the decoder starts from
    the encoder's final state and reads [embedding(y_{t−1}), c] at every step, c the encoder's final
    top-layer state (fixed, in training and in decoding)."""

    def __init__(self, src_vocab, tgt_vocab, cfg):
        super().__init__()
        E, H, L, p = cfg['embed'], cfg['hidden'], cfg['layers'], cfg['dropout']
        self.encoder = Seq2SeqEncoder(src_vocab, E, H, L, p)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.rnn = GRU(E + H, H, L, p)
        self.dense = nn.Linear(H, tgt_vocab)

    def decode(self, Y_in, state, context):
        emb = self.embedding(Y_in).permute(1, 0, 2)  # (T, B, E)
        X = torch.cat([emb, context.unsqueeze(0).expand(emb.shape[0], -1, -1)], -1)
        out, state = self.rnn(X, state)
        return self.dense(out).permute(1, 0, 2), state

    def forward(self, X, X_valid, Y_in):
        _, state = self.encoder(X)
        return self.decode(Y_in, state, state[-1])[0]

    def begin(self, X, X_valid):
        _, state = self.encoder(X)
        return state, state[-1]

    def step(self, y, st):
        state, context = st
        logits, state = self.decode(y[:, None], state, context)
        return logits[:, 0], (state, context)


class Bahdanau(nn.Module):
    """Bahdanau et al. (2015) as d2l's Seq2SeqAttentionDecoder: at step t the query is the top-layer
    decoder state before the step, the keys and values the encoder outputs (masked by the source valid
    lengths), and the GRU reads [context, embedding(y_{t−1})]."""

    def __init__(self, src_vocab, tgt_vocab, cfg):
        super().__init__()
        E, H, L, p = cfg['embed'], cfg['hidden'], cfg['layers'], cfg['dropout']
        self.encoder = Seq2SeqEncoder(src_vocab, E, H, L, p)
        self.attention = AdditiveAttention(H, p)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.rnn = GRU(H + E, H, L, p)
        self.dense = nn.Linear(H, tgt_vocab)

    def begin(self, X, X_valid):
        outputs, state = self.encoder(X)
        enc = outputs.permute(1, 0, 2)  # (B, T, H)
        # W_k k does not change over the decoder's steps: computed once (d2l recomputes it each step)
        return state, enc, self.attention.W_k(enc), key_mask(X_valid, enc.shape[1])[:, None, :]

    def decode(self, Y_in, st):
        state, enc, keys, mask = st
        outs = []
        for x in self.embedding(Y_in).permute(1, 0, 2):  # (B, E) per step
            context = self.attention(state[-1].unsqueeze(1), keys, enc, mask)  # (B, 1, H)
            out, state = self.rnn(torch.cat([context, x.unsqueeze(1)], -1).permute(1, 0, 2), state)
            outs.append(out)
        return self.dense(torch.cat(outs, 0)).permute(1, 0, 2), (state, enc, keys, mask)

    def forward(self, X, X_valid, Y_in):
        return self.decode(Y_in, self.begin(X, X_valid))[0]

    def step(self, y, st):
        logits, st = self.decode(y[:, None], st)
        return logits[:, 0], st


def positional_encoding(max_len, d):
    """P[t, 2j] = sin(t / 10000^(2j/d)), P[t, 2j+1] = cos(t / 10000^(2j/d))."""
    t = torch.arange(max_len, dtype=torch.float64)[:, None]
    angle = t / torch.pow(10000, torch.arange(0, d, 2, dtype=torch.float64) / d)
    P = torch.zeros(max_len, d, dtype=torch.float64)
    P[:, 0::2] = torch.sin(angle)
    P[:, 1::2] = torch.cos(angle)
    return P.float()


class AddNorm(nn.Module):
    """LayerNorm(dropout(Y) + X) (post-norm)."""

    def __init__(self, d, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(d)

    def forward(self, X, Y):
        return self.ln(self.dropout(Y) + X)


class FFN(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.dense1 = nn.Linear(d, hidden)
        self.dense2 = nn.Linear(hidden, d)

    def forward(self, X):
        return self.dense2(F.relu(self.dense1(X)))


class EncoderBlock(nn.Module):
    def __init__(self, d, ffn_hidden, heads, dropout):
        super().__init__()
        self.attention = MultiHeadAttention(d, heads, dropout)
        self.addnorm1 = AddNorm(d, dropout)
        self.ffn = FFN(d, ffn_hidden)
        self.addnorm2 = AddNorm(d, dropout)

    def forward(self, X, mask):
        Y = self.addnorm1(X, self.attention(X, X, X, mask))
        return self.addnorm2(Y, self.ffn(Y))


class DecoderBlock(nn.Module):
    def __init__(self, d, ffn_hidden, heads, dropout):
        super().__init__()
        self.attention1 = MultiHeadAttention(d, heads, dropout)
        self.addnorm1 = AddNorm(d, dropout)
        self.attention2 = MultiHeadAttention(d, heads, dropout)
        self.addnorm2 = AddNorm(d, dropout)
        self.ffn = FFN(d, ffn_hidden)
        self.addnorm3 = AddNorm(d, dropout)

    def forward(self, X, key_values, self_mask, enc, enc_mask):
        """X the block's input at the query positions; key_values its input at every position seen so far."""
        Y = self.addnorm1(X, self.attention1(X, key_values, key_values, self_mask))
        Z = self.addnorm2(Y, self.attention2(Y, enc, enc, enc_mask))
        return self.addnorm3(Z, self.ffn(Z))


class Transformer(nn.Module):
    """Vaswani et al. (2017) as d2l's classic Transformer (post-norm, no final LayerNorm)."""

    def __init__(self, src_vocab, tgt_vocab, cfg):
        super().__init__()
        d, f, h, L, p = cfg['hidden'], cfg['ffn_hidden'], cfg['heads'], cfg['layers'], cfg['dropout']
        if d % h:
            raise ValueError(f'hidden {d} is not a multiple of heads {h}')
        self.d = d
        self.src_embedding = nn.Embedding(src_vocab, d)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d)
        self.register_buffer('P', positional_encoding(max(1000, cfg['num_steps'] + 1), d), persistent=False)
        self.dropout = nn.Dropout(p)
        self.enc_blocks = nn.ModuleList([EncoderBlock(d, f, h, p) for _ in range(L)])
        self.dec_blocks = nn.ModuleList([DecoderBlock(d, f, h, p) for _ in range(L)])
        self.dense = nn.Linear(d, tgt_vocab)

    def embed(self, embedding, tokens, start):
        """embedding × √d + P[start : start + T], then dropout."""
        T = tokens.shape[1]
        return self.dropout(embedding(tokens) * math.sqrt(self.d) + self.P[start:start + T])

    def begin(self, X, X_valid):
        mask = key_mask(X_valid, X.shape[1])[:, None, None, :]  # (B, 1, 1, K)
        H = self.embed(self.src_embedding, X, 0)
        for blk in self.enc_blocks:
            H = blk(H, mask)
        return dict(enc=H, enc_mask=mask, cache=[None] * len(self.dec_blocks), t=0)

    def forward(self, X, X_valid, Y_in):
        st = self.begin(X, X_valid)
        T = Y_in.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool).tril()  # query t sees keys ≤ t
        H = self.embed(self.tgt_embedding, Y_in, 0)
        for blk in self.dec_blocks:
            H = blk(H, H, causal, st['enc'], st['enc_mask'])
        return self.dense(H)

    def step(self, y, st):
        """Step t: position t's PE; each block's self-attention over its inputs at steps 0 … t."""
        H = self.embed(self.tgt_embedding, y[:, None], st['t'])
        for i, blk in enumerate(self.dec_blocks):
            kv = H if st['cache'][i] is None else torch.cat([st['cache'][i], H], 1)
            st['cache'][i] = kv
            H = blk(H, kv, None, st['enc'], st['enc_mask'])
        st['t'] += 1
        return self.dense(H)[:, 0], st


MODELS = {'seq2seq': Seq2Seq, 'bahdanau': Bahdanau, 'transformer': Transformer}


def init_weights(model):
    """d2l's xavier_init_weights: every Linear weight Xavier-uniform (biases torch's default); the GRU
    weights were drawn by GRULayer; embeddings N(0, 1) and LayerNorm 1/0 are torch's defaults."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)

# ---------------------------------------------------------------------------------------------------
# Training (d2l's train_seq2seq) and greedy decoding (d2l's predict_seq2seq).


def clip_gradients(params, theta):
    """Scale every gradient by theta / ‖g‖ when the global norm ‖g‖ exceeds theta."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > theta:
        for g in grads:
            g.mul_(theta / norm)


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(model, data, cfg, seed, log):
    X, X_valid, Y, Y_valid = data['X'], data['X_valid'], data['Y'], data['Y_valid']
    bos = data['tgt_vocab'].token_to_idx[BOS]
    n, T = Y.shape
    B = cfg['batch_size']
    params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=cfg['lr'])
    gen = torch.Generator().manual_seed(seed)
    steps_mask = torch.arange(T)[None, :]
    curve, seconds = [], 0.0
    every = max(1, cfg['epochs'] // 10)
    for epoch in range(cfg['epochs']):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        sum_l = sum_ce = tokens = 0.0
        batches = (n + B - 1) // B
        quarter = (batches + 3) // 4 if batches >= 500 else 0  # long epochs: progress every quarter
        for i in range(0, n, B):
            b = perm[i:i + B]
            Xb, Xv, Yb, Yv = X[b], X_valid[b], Y[b], Y_valid[b]
            dec_input = torch.cat([torch.full((len(b), 1), bos, dtype=torch.long), Yb[:, :-1]], 1)
            logits = model(Xb, Xv, dec_input)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Yb.reshape(-1), reduction='none').reshape(Yb.shape)  # (B, T)
            masked = ce * (steps_mask < Yv[:, None])
            l = masked.mean(1)  # per sequence, over all T steps
            opt.zero_grad()
            l.sum().backward()
            clip_gradients(params, cfg['clip'])
            opt.step()
            sum_l += l.sum().item()
            sum_ce += masked.sum().item()
            tokens += Yv.sum().item()
            if quarter and (i // B + 1) % quarter == 0 and i + B < n:
                log(f'    epoch {epoch + 1}, batch {i // B + 1}/{batches}: d2l loss so far {sum_l / tokens:.4f} '
                    f'({seconds + time.time() - t0:.0f} s, peak memory {peak_mib():.0f} MiB)')
        seconds += time.time() - t0
        curve.append(sum_l / tokens)
        if (epoch + 1) % every == 0 or epoch == 0 or epoch + 1 == cfg['epochs']:
            log(f'  epoch {epoch + 1}/{cfg["epochs"]}: d2l loss {sum_l / tokens:.4f}, train loss '
                f'{sum_ce / tokens:.4f} ({seconds:.0f} s)')
    return dict(d2l_loss=sum_l / tokens, train_loss=sum_ce / tokens, d2l_loss_by_epoch=curve,
                seconds=seconds, tokens_per_sec=cfg['epochs'] * n * T / seconds)


@torch.no_grad()
def greedy(model, sources, src_vocab, tgt_vocab, num_steps, chunk=1024):
    """Greedy decoding of token lists: source → indices + <eos>, valid length that length (at most
    num_steps), cut/padded to num_steps; from <bos>, the argmax at each step until <eos> (not kept) or
    num_steps tokens. Decoded in chunks; each sentence stops on its own."""
    model.eval()
    pad, eos = src_vocab.token_to_idx[PAD], src_vocab.token_to_idx[EOS]
    t_bos, t_eos = tgt_vocab.token_to_idx[BOS], tgt_vocab.token_to_idx[EOS]
    out = []
    for c in range(0, len(sources), chunk):
        rows, valid = [], []
        for s in sources[c:c + chunk]:
            ids = src_vocab.indices(s) + [eos]
            valid.append(min(len(ids), num_steps))
            ids = ids[:num_steps]
            rows.append(ids + [pad] * (num_steps - len(ids)))
        X, X_valid = torch.tensor(rows, dtype=torch.long), torch.tensor(valid, dtype=torch.long)
        st = model.begin(X, X_valid)
        y = torch.full((len(rows),), t_bos, dtype=torch.long)
        seqs = [[] for _ in rows]
        done = [False] * len(rows)
        for _ in range(num_steps):
            logits, st = model.step(y, st)
            y = logits.argmax(-1)
            for b, v in enumerate(y.tolist()):
                if not done[b]:
                    if v == t_eos:
                        done[b] = True
                    else:
                        seqs[b].append(v)
            if all(done):
                break
        out.extend(tgt_vocab.tokens(s) for s in seqs)
    return out

# ---------------------------------------------------------------------------------------------------
# BLEU.


def ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu_d2l(pred, label, k=2):
    """d2l's BLEU of token lists: exp(min(0, 1 − len_label/len_pred)) · Π_{n=1..k} p_n^(1/2^n), p_n the
    clipped n-gram matches over len_pred − n + 1; 0 for an empty prediction or when len_pred < k."""
    if len(pred) == 0:
        return 0.0
    score = math.exp(min(0.0, 1 - len(label) / len(pred)))
    for n in range(1, k + 1):
        if len(pred) - n + 1 <= 0:
            return 0.0
        label_counts = ngrams(label, n)
        matches = sum(min(c, label_counts[g]) for g, c in ngrams(pred, n).items())
        score *= math.pow(matches / (len(pred) - n + 1), math.pow(0.5, n))
    return score


def corpus_bleu(hypotheses, references, max_n=4):
    """Papineni et al. (2002): clipped n-gram counts summed over the corpus, p_n their ratio, the
    geometric mean with weights 1/max_n, brevity penalty exp(1 − r/c) when c ≤ r (c, r the total
    hypothesis and reference lengths); no smoothing: 0 when some p_n is 0."""
    matches, totals = [0] * max_n, [0] * max_n
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, max_n + 1):
            ref_counts = ngrams(ref, n)
            matches[n - 1] += sum(min(c, ref_counts[g]) for g, c in ngrams(hyp, n).items())
            totals[n - 1] += max(0, len(hyp) - n + 1)
    if min(matches) == 0:
        return 0.0
    c = sum(len(h) for h in hypotheses)
    r = sum(len(x) for x in references)
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)


def selftest():
    """BLEU on hand-computed cases, and the data pipeline on small inputs."""
    close = lambda a, b: abs(a - b) < 1e-12  # noqa: E731
    s = str.split
    # d2l BLEU (k = 2)
    assert bleu_d2l(s('il est calme .'), s('il est calme .')) == 1.0
    # 3 of 4 tokens: BP exp(1 − 4/3); p1 = 3/3; p2: 'il est' of {'il est', 'est .'} matches → 1/2
    assert close(bleu_d2l(s('il est .'), s('il est calme .')), math.exp(-1 / 3) * 0.5 ** 0.25)
    # longer than the label: no penalty; clipping: 'a a b' vs 'a b a' p1 = 3/3, p2 = 1/2 ('a b')
    assert close(bleu_d2l(s('a a b'), s('a b a')), 0.5 ** 0.25)
    # clipped unigrams: 'le le le' vs 'le chat' p1 = 1/3, p2 = 0
    assert bleu_d2l(s('le le le'), s('le chat')) == 0.0
    assert close(bleu_d2l(s('le le chat'), s('le chat')), (2 / 3) ** 0.5 * (1 / 2) ** 0.25)
    # one token: no bigram (len_pred − 2 + 1 = 0) → 0; empty → 0
    assert bleu_d2l(['va'], s('va !')) == 0.0
    assert bleu_d2l([], s('va !')) == 0.0
    # d2l's own example outcome: a perfect prediction of 'va !'
    assert bleu_d2l(s('va !'), s('va !')) == 1.0
    # corpus BLEU-4
    assert corpus_bleu([s('a b c d')], [s('a b c d')]) == 1.0
    # short: all p_n = 1, c = 4, r = 6 → exp(1 − 6/4)
    assert close(corpus_bleu([s('a b c d')], [s('a b c d e f')]), math.exp(-0.5))
    # two sentences, counts summed: p1 = (4+4)/(4+5), p2 = (3+2)/(3+4), p3 = (2+1)/(2+3), p4 = (1+0)/(1+2); c = r = 9
    assert close(corpus_bleu([s('a b c d'), s('a x c d e')], [s('a b c d'), s('a b c d e')]), (8 / 63) ** 0.25)
    # no 4-gram match anywhere → 0 (no smoothing)
    assert corpus_bleu([s('a b c x')], [s('a b c d')]) == 0.0
    # a hypothesis longer than its reference: no penalty; p1 = 4/5 ('a' clipped to 1), p2 = 3/4, p3 = 2/3, p4 = 1/2
    assert close(corpus_bleu([s('a b c d a')], [s('a b c d')]), (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)
    # data
    assert preprocess('Go.\tVa !') == 'go .\tva !'
    assert preprocess('.Hi,there!!\u202f?\xa0OK') == '.hi ,there ! ! ? ok'
    src, tgt = tokenize('go .\tva !\nbad line\nhi  .\tsalut !\tcc-by\n\n', 0)
    assert src == [['go', '.'], ['hi', '.']] and tgt == [['va', '!'], ['salut', '!']]
    assert tokenize('a\tb\nc\td\ne\tf\n', 2)[0] == [['a'], ['c']]
    assert split_held_out(7, 3) == ([0, 1, 3, 4, 6], [2, 5]) and split_held_out(3, 0) == ([0, 1, 2], [])
    v = Vocab([['b', 'a', 'c'], ['a', 'c', 'd', 'b'], ['e']], 2)
    assert v.idx_to_token == [UNK, PAD, BOS, EOS, 'b', 'a', 'c'] and v.indices(['c', 'zz']) == [6, 0]
    arr, valid = build_array([['a', 'b'], ['c', 'a', 'b', 'a', 'c']], v, 4)
    assert arr.tolist() == [[5, 4, 3, 1], [6, 5, 4, 5]] and valid.tolist() == [3, 4]
    # models: decoding step by step (the cache of past inputs, the fixed context, the attention state)
    # gives the training pass's logits on the same prefix, in eval mode
    torch.manual_seed(0)
    cfg = dict(embed=8, hidden=8, ffn_hidden=16, heads=2, layers=2, dropout=0.1, num_steps=6)
    X, X_valid, Y_in = torch.randint(0, 11, (3, 6)), torch.tensor([6, 2, 4]), torch.randint(0, 13, (3, 6))
    for paper, cls in MODELS.items():
        model = cls(11, 13, cfg)
        init_weights(model)
        model.eval()
        with torch.no_grad():
            full = model(X, X_valid, Y_in)
            st = model.begin(X, X_valid)
            steps = []
            for t in range(6):
                logits, st = model.step(Y_in[:, t], st)
                steps.append(logits)
        err = (torch.stack(steps, 1) - full).abs().max().item()
        assert err < 1e-5, f'{paper}: step-by-step decoding is {err} from the training pass'
    # the GRU cell: H' = Z ⊙ H + (1 − Z) ⊙ H̃ with the reset gate on H before the product with W_hh
    layer = GRULayer(3, 4)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    W_x, W_hrz, W_hh, b = layer.packed()
    with torch.no_grad():
        r = torch.sigmoid(x @ layer.W_xr + h @ layer.W_hr + layer.b_r)
        z = torch.sigmoid(x @ layer.W_xz + h @ layer.W_hz + layer.b_z)
        h_tilde = torch.tanh(x @ layer.W_xh + (r * h) @ layer.W_hh + layer.b_h)
        assert (gru_cell(x @ W_x + b, h, W_hrz, W_hh) - (z * h + (1 - z) * h_tilde)).abs().max() < 1e-6
    big = GRULayer(100, 50)
    assert big.W_xr.abs().max() <= math.sqrt(6 / 250) and big.W_xr.abs().max() > 0.9 * math.sqrt(6 / 250)
    assert big.W_hz.abs().max() <= math.sqrt(6 / 200) and big.b_h.abs().max() <= 2 / math.sqrt(50)
    print('selftest: BLEU, data pipeline and model checks passed')

# ---------------------------------------------------------------------------------------------------
# Command line.


def parse(argv, paper):
    opts = dict(preset='d2l', seeds='0', out=None, data=None, selftest=False)
    overrides = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--selftest':
            opts['selftest'] = True
            i += 1
            continue
        if not a.startswith('--') or i + 1 >= len(argv):
            sys.exit(f'bad argument {a!r}\n{__doc__}')
        key, value = a[2:].replace('-', '_'), argv[i + 1]
        if key in opts:
            opts[key] = value
        else:
            overrides[key] = value
        i += 2
    if opts['preset'] not in PRESETS[paper]:
        sys.exit(f'unknown preset {opts["preset"]!r} (known: {", ".join(PRESETS[paper])})')
    cfg = dict(PRESETS[paper][opts['preset']])
    for key, value in overrides.items():
        if key not in cfg:
            sys.exit(f'unknown key --{key} for {paper} (keys: {", ".join(cfg)})')
        number = int(value) if re.fullmatch(r'-?[0-9]+', value) else float(value)
        cfg[key] = float(number) if isinstance(cfg[key], float) else number
    return opts, cfg


def main(paper):
    opts, cfg = parse(sys.argv[1:], paper)
    if opts['selftest']:
        selftest()
        return
    torch.set_num_threads(1)
    malloc = tune_malloc()
    blas = blas_library()
    log = lambda m: print(m, flush=True)  # noqa: E731
    log(f'{blas}; {malloc}')
    data = load_data(cfg, data_dir(opts['data']))
    src_vocab, tgt_vocab = data['src_vocab'], data['tgt_vocab']
    sizes = dict(train_pairs=len(data['X']), held_out_pairs=len(data['held_src']), src_vocab=len(src_vocab),
                 tgt_vocab=len(tgt_vocab))
    log(f'{paper} {opts["preset"]}: {json.dumps(cfg)}; {json.dumps(sizes)}')
    for seed in [int(s) for s in opts['seeds'].split(',')]:
        torch.manual_seed(seed)
        model = MODELS[paper](len(src_vocab), len(tgt_vocab), cfg)
        init_weights(model)
        log(f'{paper} seed {seed}: {sum(p.numel() for p in model.parameters())} parameters')
        result = train(model, data, cfg, seed, log)
        t0 = time.time()
        sentences = [src for src, _ in D2L_PAIRS]
        translated = greedy(model, [src.lower().split(' ') for src in sentences], src_vocab, tgt_vocab, cfg['num_steps'])
        bleu = {src: bleu_d2l(pred, tgt.split(' ')) for (src, tgt), pred in zip(D2L_PAIRS, translated)}
        translations = {src: ' '.join(pred) for src, pred in zip(sentences, translated)}
        record = dict(paper=paper, preset=opts['preset'], seed=seed, config=cfg, d2l_loss=result['d2l_loss'],
                      train_loss=result['train_loss'], bleu=bleu, translations=translations)
        for src in sentences:
            log(f'  {src} => {translations[src]}, bleu {bleu[src]:.3f}')
        if data['held_src']:
            hyps = greedy(model, data['held_src'], src_vocab, tgt_vocab, cfg['num_steps'])
            record['heldout_bleu'] = corpus_bleu(hyps, data['held_tgt'])
            log(f'  held-out BLEU-4 over {len(hyps)} pairs: {record["heldout_bleu"]:.4f}')
        record.update(d2l_loss_by_epoch=[float(f'{x:.6g}') for x in result['d2l_loss_by_epoch']], data=sizes,
                      seconds=result['seconds'], eval_seconds=time.time() - t0,
                      tokens_per_sec=result['tokens_per_sec'], torch=torch.__version__, threads=torch.get_num_threads(),
                      blas=blas, malloc=malloc)
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        if opts['out']:
            with open(opts['out'], 'a', encoding='utf-8') as f:
                f.write(line + '\n')
