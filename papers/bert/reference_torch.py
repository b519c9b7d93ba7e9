"""The PyTorch twin of BERT pretraining (Devlin et al. 2018) on WikiText-2.

The same setup as this library's TypeScript implementation (papers/bert), so that the numbers of the two can
be set side by side: d2l's (2nd edition, §15.8–15.10) pretraining data — paragraphs of at least two sentences,
next-sentence pairs, 15% of the tokens chosen for the masked language model (80% <mask>, 10% a random
token, 10% unchanged), padded to max_len — its BERT model (token + segment + learned positional embeddings,
post-norm encoder blocks, the MLM head on the chosen positions, the NSP head on <cls>) and its train_bert
(Adam, the MLM cross-entropy weighted by the prediction weights plus the NSP cross-entropy). Written from
the equations of the paper and of d2l's chapters; its random numbers are its own (Python's random for the
data, torch's for the weights, dropout and batch order), so it is compared with ours over seeds.

Debian's python3-torch (1.13), one thread:

  /usr/bin/python3 papers/bert/reference_torch.py --preset d2l --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
  /usr/bin/python3 papers/bert/reference_torch.py --selftest

--KEY VALUE overrides a key of the preset's config (hidden, ffn_hidden, heads, layers, dropout, max_len,
batch_size, lr, steps, block, min_freq, mlm_reduction: weighted or unweighted). The corpus is wikitext-2/wiki.train.tokens under --data DIR, else
$PFS_DATA_DIR, else ../shared/data beside the repository. Prints the losses after every block of steps and
one JSON line per seed (appended to --out when given): paper, preset, seed, config, mlm_loss and nsp_loss
(the means over all steps' batch losses, as d2l's train_bert prints them), final_mlm_loss and
final_nsp_loss (the means over the last block), mlm_by_block and nsp_by_block (each block's means),
crane_cosine and crane_flying_cosine (crane_cosines: d2l's context-sensitivity example), data (paragraphs,
pairs, vocabulary size), seconds (training only), torch, threads, blas, malloc.
"""
import collections
import ctypes
import json
import math
import os
import random
import re
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # an OpenBLAS libblas.so.3 runs its own threads otherwise
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


def tune_malloc():
    """As the native backend's tuneMalloc() (see papers/translation/twin_torch.py): keep freed buffers in
    the process rather than unmapping them (the MLM logits are (B·10, V) ≈ 100 MB a step)."""
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
    with open('/proc/self/maps') as f:
        paths = {line.split()[-1] for line in f if 'blas' in line.split()[-1].rsplit('/', 1)[-1]}
    return ', '.join(sorted(paths)) or 'unknown'

# ---------------------------------------------------------------------------------------------------
# Presets (papers/bert/train.ts has the same). steps = training steps; block = steps per record (an
# "epoch" of the TypeScript runner: a checkpoint and a point of the curve).


PRESETS = {
    'd2l': dict(hidden=128, ffn_hidden=256, heads=2, layers=2, dropout=0.2, max_len=64, batch_size=512, lr=0.01,
                steps=50, block=10, min_freq=5, mlm_reduction='weighted'),
    'cpu': dict(hidden=128, ffn_hidden=256, heads=2, layers=2, dropout=0.2, max_len=64, batch_size=512, lr=0.01,
                steps=200, block=25, min_freq=5, mlm_reduction='weighted'),
}

# ---------------------------------------------------------------------------------------------------
# Data (d2l §15.9).

PAD, MASK, CLS, SEP, UNK = '<pad>', '<mask>', '<cls>', '<sep>', '<unk>'


def read_wiki(text):
    """Lines with at least two sentences, each stripped, lower-cased and split on ' . '."""
    lines = text.splitlines()
    return [line.strip().lower().split(' . ') for line in lines if len(line.split(' . ')) >= 2]


class Vocab:
    """<unk>, the reserved tokens, then the tokens seen ≥ min_freq times, most frequent first (ties in order of
    first appearance), as the library's Vocab."""

    def __init__(self, sentences, min_freq, reserved=(PAD, MASK, CLS, SEP)):
        counts = collections.Counter(t for s in sentences for t in s)
        self.idx_to_token = [UNK, *reserved]
        for t, n in sorted(counts.items(), key=lambda kv: -kv[1]):  # stable: Counter keeps first appearance
            if n >= min_freq and t not in self.idx_to_token:
                self.idx_to_token.append(t)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def indices(self, tokens):
        return [self.token_to_idx.get(t, 0) for t in tokens]


def tokens_and_segments(a, b=None):
    tokens = [CLS, *a, SEP]
    segments = [0] * (len(a) + 2)
    if b is not None:
        tokens += [*b, SEP]
        segments += [1] * (len(b) + 1)
    return tokens, segments


def nsp_pairs(paragraphs, max_len, rng):
    """Every consecutive pair of sentences of every paragraph: half the time the true next sentence, else a
    random sentence of a random paragraph; pairs longer than max_len − 3 tokens are skipped."""
    out = []
    for p in paragraphs:
        for i in range(len(p) - 1):
            a, b = p[i], p[i + 1]
            is_next = rng.random() < 0.5
            if not is_next:
                b = rng.choice(rng.choice(paragraphs))
            if len(a) + len(b) + 3 > max_len:
                continue
            tokens, segments = tokens_and_segments(a, b)
            out.append((tokens, segments, int(is_next)))
    return out


def mlm_example(tokens, vocab, rng):
    """d2l's _get_mlm_data_from_tokens: max(1, round(0.15·len)) positions of the non-special tokens, in
    random order; each becomes <mask> (80%), stays (10%) or becomes a random vocabulary token (10%)."""
    candidates = [i for i, t in enumerate(tokens) if t not in (CLS, SEP)]
    n = max(1, round(len(tokens) * 0.15))
    rng.shuffle(candidates)
    inp = list(tokens)
    chosen = []
    for pos in candidates[:n]:
        if rng.random() < 0.8:
            inp[pos] = MASK
        elif rng.random() < 0.5:
            inp[pos] = tokens[pos]
        else:
            inp[pos] = rng.choice(vocab.idx_to_token)
        chosen.append(pos)
    chosen.sort()
    return vocab.indices(inp), chosen, vocab.indices([tokens[p] for p in chosen])


def load_data(cfg, directory, seed):
    """The pretraining set of one seed: paragraphs shuffled, pairs drawn and tokens masked with random.Random(seed)."""
    rng = random.Random(seed)
    with open(os.path.join(directory, 'wikitext-2', 'wiki.train.tokens'), encoding='utf-8') as f:
        paragraphs = read_wiki(f.read())
    rng.shuffle(paragraphs)
    paragraphs = [[s.split() for s in p] for p in paragraphs]
    vocab = Vocab([s for p in paragraphs for s in p], cfg['min_freq'])
    L = cfg['max_len']
    P = round(L * 0.15)
    pairs = nsp_pairs(paragraphs, L, rng)
    n = len(pairs)
    tokens = torch.full((n, L), vocab.token_to_idx[PAD], dtype=torch.long)
    segments = torch.zeros((n, L), dtype=torch.long)
    valid = torch.zeros(n, dtype=torch.long)
    positions = torch.zeros((n, P), dtype=torch.long)
    weights = torch.zeros((n, P))
    labels = torch.zeros((n, P), dtype=torch.long)
    nsp = torch.zeros(n, dtype=torch.long)
    for r, (toks, segs, is_next) in enumerate(pairs):
        ids, pos, lab = mlm_example(toks, vocab, rng)
        tokens[r, :len(ids)] = torch.tensor(ids)
        segments[r, :len(segs)] = torch.tensor(segs)
        valid[r] = len(ids)
        positions[r, :len(pos)] = torch.tensor(pos)
        weights[r, :len(pos)] = 1
        labels[r, :len(lab)] = torch.tensor(lab)
        nsp[r] = is_next
    return dict(vocab=vocab, paragraphs=len(paragraphs), tensors=(tokens, segments, valid, positions, weights, labels, nsp))


def data_dir(arg):
    if arg:
        return arg
    if os.environ.get('PFS_DATA_DIR'):
        return os.environ['PFS_DATA_DIR']
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data')

# ---------------------------------------------------------------------------------------------------
# The model (d2l §15.8): post-norm encoder blocks with biased attention projections (d2l's use_bias=True).


class MultiHeadAttention(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.h = heads
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d, d) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(self, X, valid):
        B, T, d = X.shape

        def split(x):  # (B, T, d) → (B, h, T, d/h)
            return x.reshape(B, T, self.h, d // self.h).transpose(1, 2)
        q, k, v = split(self.W_q(X)), split(self.W_k(X)), split(self.W_v(X))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.h)  # (B, h, T, T)
        keep = torch.arange(T)[None, None, None, :] < valid[:, None, None, None]
        weights = torch.softmax(scores.masked_fill(~keep, -1e6), dim=-1)
        out = self.dropout(weights) @ v
        return self.W_o(out.transpose(1, 2).reshape(B, T, d))


class EncoderBlock(nn.Module):
    def __init__(self, d, ffn_hidden, heads, dropout):
        super().__init__()
        self.attention = MultiHeadAttention(d, heads, dropout)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn1, self.ffn2 = nn.Linear(d, ffn_hidden), nn.Linear(ffn_hidden, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, X, valid):
        Y = self.ln1(X + self.dropout(self.attention(X, valid)))
        return self.ln2(Y + self.dropout(self.ffn2(F.relu(self.ffn1(Y)))))


class BERT(nn.Module):
    def __init__(self, vocab, cfg):
        super().__init__()
        d = cfg['hidden']
        self.token_embedding = nn.Embedding(vocab, d)
        self.segment_embedding = nn.Embedding(2, d)
        self.pos_embedding = nn.Parameter(torch.randn(1, cfg['max_len'], d))
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg['ffn_hidden'], cfg['heads'], cfg['dropout'])
                                    for _ in range(cfg['layers']))
        self.mlm = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.LayerNorm(d), nn.Linear(d, vocab))
        self.hidden = nn.Sequential(nn.Linear(d, d), nn.Tanh())
        self.nsp = nn.Linear(d, 2)

    def encode(self, tokens, segments, valid):
        T = tokens.shape[1]
        X = self.token_embedding(tokens) + self.segment_embedding(segments) + self.pos_embedding[:, :T]
        for blk in self.blocks:
            X = blk(X, valid)
        return X

    def forward(self, tokens, segments, valid, positions):
        X = self.encode(tokens, segments, valid)  # (B, T, d)
        B, P = positions.shape
        masked = X[torch.arange(B).repeat_interleave(P), positions.reshape(-1)].reshape(B, P, -1)  # (B, P, d)
        return self.mlm(masked), self.nsp(self.hidden(X[:, 0]))  # (B, P, V), (B, 2)


def bert_loss(mlm_logits, nsp_logits, weights, labels, nsp, reduction='weighted'):
    """weighted: the MLM cross-entropy over the real predictions; unweighted: its mean over all slots, padding
    included, which is what d2l's PyTorch code computes (nn.CrossEntropyLoss()'s mean times the weights, summed and
    divided by their sum)."""
    V = mlm_logits.shape[-1]
    ce = F.cross_entropy(mlm_logits.reshape(-1, V), labels.reshape(-1), reduction='none')
    mlm = (ce * weights.reshape(-1)).sum() / (weights.sum() + 1e-8) if reduction == 'weighted' else ce.mean()
    return mlm, F.cross_entropy(nsp_logits, nsp)

# ---------------------------------------------------------------------------------------------------
# Training (d2l's train_bert, one device).


def train(model, data, cfg, seed, log):
    tensors = data['tensors']
    n = tensors[0].shape[0]
    B = cfg['batch_size']
    opt = torch.optim.Adam(model.parameters(), lr=cfg['lr'])
    gen = torch.Generator().manual_seed(seed)
    mlm_blocks, nsp_blocks, seconds = [], [], 0.0
    mlm_sum = nsp_sum = 0.0
    perm, at = None, n
    model.train()
    t0 = time.time()
    for step in range(cfg['steps']):
        if at >= n:  # a new pass over the pairs, in a new order (the last batch of a pass may be short)
            perm, at = torch.randperm(n, generator=gen), 0
        idx = perm[at:at + B]
        at += B
        tokens, segments, valid, positions, weights, labels, nsp = (t[idx] for t in tensors)
        mlm_logits, nsp_logits = model(tokens, segments, valid, positions)
        mlm, nsp_l = bert_loss(mlm_logits, nsp_logits, weights, labels, nsp, cfg['mlm_reduction'])
        opt.zero_grad()
        (mlm + nsp_l).backward()
        opt.step()
        mlm_sum += mlm.item()
        nsp_sum += nsp_l.item()
        if (step + 1) % cfg['block'] == 0 or step + 1 == cfg['steps']:
            k = (step % cfg['block']) + 1
            mlm_blocks.append(mlm_sum / k)
            nsp_blocks.append(nsp_sum / k)
            mlm_sum = nsp_sum = 0.0
            seconds = time.time() - t0
            log(f'  step {step + 1}/{cfg["steps"]}: MLM {mlm_blocks[-1]:.4f}, NSP {nsp_blocks[-1]:.4f} over the last {k} '
                f'steps ({seconds:.0f} s)')
    counts = [cfg['block']] * (len(mlm_blocks) - 1) + [cfg['steps'] - cfg['block'] * (len(mlm_blocks) - 1)]
    mean = lambda xs: sum(x * c for x, c in zip(xs, counts)) / cfg['steps']  # noqa: E731
    return dict(mlm_loss=mean(mlm_blocks), nsp_loss=mean(nsp_blocks), final_mlm_loss=mlm_blocks[-1],
                final_nsp_loss=nsp_blocks[-1], mlm_by_block=mlm_blocks, nsp_by_block=nsp_blocks, seconds=seconds)

@torch.no_grad()
def crane_cosines(model, vocab):
    """d2l's context-sensitivity example (§15.10), in eval mode: the cosine similarity of `crane` in
    <cls> a crane is flying <sep> and in <cls> a crane driver came <sep>, and of `crane` and `flying` in the
    first (a collapsed encoder, one vector for every token, gives 1 for both)."""
    model.eval()
    enc = []
    for sentence in ('a crane is flying', 'a crane driver came'):
        toks = [CLS, *sentence.split(), SEP]
        ids = torch.tensor([vocab.indices(toks)])
        enc.append(model.encode(ids, torch.zeros_like(ids), torch.tensor([len(toks)]))[0])
    model.train()
    cos = lambda a, b: F.cosine_similarity(a, b, dim=0).item()  # noqa: E731
    return dict(crane_cosine=cos(enc[0][2], enc[1][2]), crane_flying_cosine=cos(enc[0][2], enc[0][4]))

# ---------------------------------------------------------------------------------------------------


def selftest():
    rng = random.Random(0)
    assert read_wiki(' = Title = \n a b . c d . \n e f \n') == [['a b', 'c d .']]
    v = Vocab([['a', 'b', 'a'], ['c', 'a', 'b']], 2)
    assert v.idx_to_token == [UNK, PAD, MASK, CLS, SEP, 'a', 'b'] and v.indices(['b', 'zz']) == [6, 0]
    assert tokens_and_segments(['a'], ['b', 'c']) == ([CLS, 'a', SEP, 'b', 'c', SEP], [0, 0, 0, 1, 1, 1])
    # masking: the counts of d2l's round (half to even), special tokens never chosen, the 80/10/10 split
    big = Vocab([[str(i) for i in range(50)] * 5], 1)
    masked = kept = chosen = 0
    for _ in range(2000):
        toks = [CLS] + [str(rng.randrange(50)) for _ in range(17)] + [SEP, '7', '8', SEP]
        ids, pos, lab = mlm_example(toks, big, rng)
        assert len(pos) == round(22 * 0.15) == 3 and all(toks[p] not in (CLS, SEP) for p in pos)
        assert lab == big.indices([toks[p] for p in pos]) and pos == sorted(pos)
        chosen += len(pos)
        masked += sum(ids[p] == big.token_to_idx[MASK] for p in pos)
        kept += sum(ids[p] == lab[i] for i, p in enumerate(pos))
    assert abs(masked / chosen - 0.8) < 0.02 and 0.08 < kept / chosen < 0.13
    # NSP: half the pairs true, the length cap
    paras = [[[f'{p}.{s}'] * (1 + s % 3) for s in range(6)] for p in range(40)]
    pairs = nsp_pairs(paras, 8, rng)
    assert all(len(t) <= 8 for t, _, _ in pairs) and abs(sum(x for _, _, x in pairs) / len(pairs) - 0.5) < 0.1
    for t, s, is_next in pairs:
        a_end = t.index(SEP)
        assert s == [0] * (a_end + 1) + [1] * (len(t) - a_end - 1)
        if is_next:
            pa, sa = map(int, t[1].split('.'))
            assert t[a_end + 1] == f'{pa}.{sa + 1}'
    # the model: shapes, and the MLM logits depend on the chosen positions only
    torch.manual_seed(0)
    cfg = dict(hidden=8, ffn_hidden=16, heads=2, layers=2, dropout=0.0, max_len=6)
    m = BERT(11, cfg).eval()
    tokens, segments = torch.randint(0, 11, (3, 6)), torch.randint(0, 2, (3, 6))
    valid, positions = torch.tensor([6, 4, 5]), torch.tensor([[1, 2], [3, 0], [4, 4]])
    a, b = m(tokens, segments, valid, positions)
    assert a.shape == (3, 2, 11) and b.shape == (3, 2)
    X = m.encode(tokens, segments, valid)
    assert (a[1, 0] - m.mlm(X[1, 3])).abs().max() < 1e-6
    print('selftest: data pipeline and model checks passed')


def parse(argv):
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
    if opts['preset'] not in PRESETS:
        sys.exit(f'unknown preset {opts["preset"]!r} (known: {", ".join(PRESETS)})')
    cfg = dict(PRESETS[opts['preset']])
    for key, value in overrides.items():
        if key not in cfg:
            sys.exit(f'unknown key --{key} (keys: {", ".join(cfg)})')
        if isinstance(cfg[key], str):
            if value not in ('weighted', 'unweighted'):
                sys.exit(f'--{key}: expected weighted or unweighted, got {value!r}')
            cfg[key] = value
            continue
        number = int(value) if re.fullmatch(r'-?[0-9]+', value) else float(value)
        cfg[key] = float(number) if isinstance(cfg[key], float) else number
    return opts, cfg


def main():
    opts, cfg = parse(sys.argv[1:])
    if opts['selftest']:
        selftest()
        return
    torch.set_num_threads(1)
    malloc = tune_malloc()
    blas = blas_library()
    log = lambda m: print(m, flush=True)  # noqa: E731
    log(f'{blas}; {malloc}')
    for seed in [int(s) for s in opts['seeds'].split(',')]:
        t0 = time.time()
        data = load_data(cfg, data_dir(opts['data']), seed)
        sizes = dict(paragraphs=data['paragraphs'], pairs=int(data['tensors'][0].shape[0]), vocab=len(data['vocab']))
        log(f'bert {opts["preset"]} seed {seed}: {json.dumps(cfg)}; {json.dumps(sizes)} ({time.time() - t0:.0f} s to build)')
        torch.manual_seed(seed)
        model = BERT(len(data['vocab']), cfg)
        log(f'  {sum(p.numel() for p in model.parameters())} parameters')
        result = train(model, data, cfg, seed, log)
        result.update(crane_cosines(model, data['vocab']))
        log(f'  cosine of crane in the two sentences {result["crane_cosine"]:.4f}; of crane and flying {result["crane_flying_cosine"]:.4f}')
        record = dict(paper='bert', preset=opts['preset'], seed=seed, config=cfg,
                      **{k: (float(f'{v:.6g}') if isinstance(v, float) else [float(f'{x:.6g}') for x in v])
                         for k, v in result.items()},
                      data=sizes, torch=torch.__version__, threads=torch.get_num_threads(), blas=blas, malloc=malloc)
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        if opts['out']:
            with open(opts['out'], 'a', encoding='utf-8') as f:
                f.write(line + '\n')


if __name__ == '__main__':
    main()
