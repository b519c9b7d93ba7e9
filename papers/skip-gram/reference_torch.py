"""The PyTorch twin of skip-gram with negative sampling (Mikolov et al. 2013) on PTB.

The setup of this library's TypeScript implementation (papers/skip-gram), so that the numbers of the two
can be set side by side: d2l's (2nd ed. §15.3–15.4) pipeline and training, written from its equations and
its description: the vocabulary of ptb.train.txt with min_freq 10, the words that map to <unk> dropped;
subsampling (a token kept when u < √(t·N/count), t = 1e-4); for each centre a window size drawn from
1..5 and its contexts within it in the same sentence; 5 noise words per context word from unigram^0.75,
a draw equal to a context drawn again; batches of 512 centres padded with masks and labels; two
Xavier-uniform embeddings of 100 (centre v, context u), scores u·v by a batched product; the masked BCE
with logits of each centre averaged over its real words; the gradient of the batch's sum; Adam 0.002,
5 epochs. Its random draws come from Python's `random` and torch's generator seeded with the seed: the
numbers are compared with ours as a spread over seeds, not draw for draw.

  /usr/bin/python3 papers/skip-gram/reference_torch.py --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
  /usr/bin/python3 papers/skip-gram/reference_torch.py --selftest

--KEY VALUE overrides a key of the config (embed, batch_size, max_window, noise_words, min_freq,
subsample_t, lr, epochs, max_sentences). The corpus is ptb/ptb.train.txt under --data DIR, else
$PFS_DATA_DIR, else ../shared/data beside the repository. Prints the loss every epoch and one JSON line per
seed (appended to --out when given): paper, preset, seed, config, d2l_loss (d2l's printed number: the mean
centre loss over all the epochs), train_loss (the last epoch's), d2l_loss_by_epoch, chip (its 3 nearest
words and their cosine), chip_top3_hit (microprocessor or intel among them), data (sizes), prep_seconds,
seconds (training only), tokens_per_sec (centres per second of training), torch, threads, blas, malloc.

Debian's python3-torch (1.13), one thread; glibc malloc tuned as `pfs` tunes it and OPENBLAS_NUM_THREADS=1
unless given (papers/translation/twin_torch.py: tune_malloc, blas_library).
"""
import bisect
import collections
import itertools
import json
import math
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'translation'))
from twin_torch import blas_library, tune_malloc  # noqa: E402  (sets OPENBLAS_NUM_THREADS=1 unless given)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

CONFIG = dict(embed=100, batch_size=512, max_window=5, noise_words=5, min_freq=10, subsample_t=1e-4, lr=0.002,
              epochs=5, max_sentences=0)
UNK = '<unk>'
PROBE, EXPECTED = 'chip', ('microprocessor', 'intel')

# ---------------------------------------------------------------------------------------------------
# Data (d2l §15.3).


def read_ptb(path, max_sentences=0):
    """One sentence per line, split on whitespace; the empty string after the last newline is a last, empty sentence."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    sentences = [line.split() for line in lines]
    return sentences[:max_sentences] if max_sentences > 0 else sentences


class Vocab:
    """<unk> at 0, then the tokens seen at least min_freq times, most frequent first, ties in first-appearance order."""

    def __init__(self, sentences, min_freq):
        counts = collections.Counter(t for line in sentences for t in line)  # insertion order = first appearance
        freqs = sorted(counts.items(), key=lambda kv: -kv[1])  # stable
        self.idx_to_token = [UNK] + [t for t, n in freqs if n >= min_freq and t != UNK]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def index(self, token):
        return self.token_to_idx.get(token, 0)


def corpus_ids(sentences, vocab):
    """The sentences as ids without the words that map to <unk>, and each id's count."""
    corpus = [[i for i in (vocab.index(t) for t in line) if i != 0] for line in sentences]
    counts = [0] * len(vocab)
    for line in corpus:
        for i in line:
            counts[i] += 1
    return corpus, counts


def subsample(corpus, counts, rng, t):
    n = sum(counts)
    keep = [math.sqrt(t * n / c) if c > 0 else 0.0 for c in counts]
    return [[w for w in line if rng.random() < keep[w]] for line in corpus]


def centres_and_contexts(corpus, max_window, rng):
    centres, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        for i, c in enumerate(line):
            w = rng.randint(1, max_window)
            centres.append(c)
            contexts.append([line[j] for j in range(max(0, i - w), min(len(line), i + 1 + w)) if j != i])
    return centres, contexts


def negatives(contexts, counts, k, rng):
    """k noise words per context word, drawn from counts^0.75 (id 0 has count 0), none equal to a context."""
    cum = list(itertools.accumulate(c ** 0.75 for c in counts))
    total = cum[-1]
    out = []
    for ctx in contexts:
        drawn = []
        while len(drawn) < len(ctx) * k:
            w = bisect.bisect_right(cum, rng.random() * total)
            if w not in ctx:
                drawn.append(w)
        out.append(drawn)
    return out


def batchify(examples):
    """Rows of contexts then noise words, padded with 0 to the longest; mask 1 on real words, labels 1 on contexts."""
    L = max(len(c) + len(n) for _, c, n in examples)
    centres, words, mask, labels = [], [], [], []
    for centre, c, n in examples:
        m = len(c) + len(n)
        centres.append([centre])
        words.append(c + n + [0] * (L - m))
        mask.append([1.0] * m + [0.0] * (L - m))
        labels.append([1.0] * len(c) + [0.0] * (L - len(c)))
    return torch.tensor(centres), torch.tensor(words), torch.tensor(mask), torch.tensor(labels)


def prepare(sentences, cfg, rng):
    vocab = Vocab(sentences, cfg['min_freq'])
    corpus, counts = corpus_ids(sentences, vocab)
    kept = subsample(corpus, counts, rng, cfg['subsample_t'])
    centres, contexts = centres_and_contexts(kept, cfg['max_window'], rng)
    noise = negatives(contexts, counts, cfg['noise_words'], rng)
    sizes = dict(vocab=len(vocab), tokens=sum(map(len, corpus)), kept_tokens=sum(map(len, kept)), centres=len(centres),
                 contexts=sum(map(len, contexts)), noise_words=sum(map(len, noise)))
    return vocab, list(zip(centres, contexts, noise)), sizes

# ---------------------------------------------------------------------------------------------------
# Model and training (d2l §15.4).


def skip_gram_loss(scores, labels, mask):
    """Each centre's BCE with logits, the padding weighted 0, averaged over its real words (d2l's normalisation)."""
    l = F.binary_cross_entropy_with_logits(scores, labels, weight=mask, reduction='none').mean(dim=1)
    return l / mask.sum(dim=1) * mask.shape[1]


def make_model(vocab_size, embed):
    net = nn.Sequential(nn.Embedding(vocab_size, embed), nn.Embedding(vocab_size, embed))
    for m in net:
        nn.init.xavier_uniform_(m.weight)
    return net


def scores_of(net, centres, words):
    v = net[0](centres)  # (B, 1, d)
    u = net[1](words)  # (B, L, d)
    return torch.bmm(v, u.permute(0, 2, 1)).reshape(words.shape)  # (B, L)


def nearest(W, vocab, token, k):
    """The k words of largest cosine with `token`'s row, the word itself left out (d2l's get_similar_tokens)."""
    x = W[vocab.index(token)]
    cos = torch.mv(W, x) / torch.sqrt(torch.sum(W * W, dim=1) * torch.sum(x * x) + 1e-9)
    order = [i for i in torch.argsort(cos, descending=True).tolist() if i != vocab.index(token)]
    return [(vocab.idx_to_token[i], float(cos[i])) for i in order[:k]]


def train(cfg, examples, vocab, seed, log):
    torch.manual_seed(seed)
    net = make_model(len(vocab), cfg['embed'])
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg['lr'])
    g = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(examples, cfg['batch_size'], shuffle=True, collate_fn=batchify, generator=g)
    total, count, by_epoch, seconds = 0.0, 0, [], 0.0
    for epoch in range(1, cfg['epochs'] + 1):
        t0 = time.time()
        e_total, e_count = 0.0, 0
        for centres, words, mask, labels in loader:
            optimizer.zero_grad()
            l = skip_gram_loss(scores_of(net, centres, words), labels, mask)
            l.sum().backward()
            optimizer.step()
            e_total += float(l.sum())
            e_count += l.numel()
        seconds += time.time() - t0
        total, count = total + e_total, count + e_count
        by_epoch.append(total / count)
        log(f'epoch {epoch}: loss {e_total / e_count:.4f}, d2l loss {total / count:.4f}, {time.time() - t0:.1f} s')
    return net, dict(d2l_loss=total / count, train_loss=e_total / e_count, d2l_loss_by_epoch=by_epoch, seconds=seconds,
                     tokens_per_sec=count / seconds)

# ---------------------------------------------------------------------------------------------------


def selftest():
    rng = random.Random(0)
    # subsampling: counts 8000, 1500, 490, 10 (N = 10000), t = 0.02; kept fractions within 4.5 binomial sd
    counts = [0, 8000, 1500, 490, 10]
    corpus = [[w for w, c in enumerate(counts) for _ in range(c)]]
    kept = collections.Counter(subsample(corpus, counts, rng, 0.02)[0])
    for w in (1, 2, 3, 4):
        p = min(1.0, math.sqrt(0.02 * 10000 / counts[w]))
        assert abs(kept[w] / counts[w] - p) <= 4.5 * math.sqrt(p * (1 - p) / counts[w]) + 1e-12, (w, kept[w], p)
    # windows of 1; a one-word sentence has no centre
    c, ctx = centres_and_contexts([[1, 2, 3], [9], [4, 5]], 1, rng)
    assert c == [1, 2, 3, 4, 5] and ctx == [[2], [1, 3], [2], [5], [4]]
    # noise words: k per context word, none a context; proportions ∝ count^0.75
    noise = negatives([[1, 2], [1]], counts, 5, rng)
    assert len(noise[0]) == 10 and all(w in (3, 4) for w in noise[0]) and len(noise[1]) == 5 and 1 not in noise[1]
    draws = collections.Counter(itertools.chain.from_iterable(negatives([[0]] * 20000, counts, 5, rng)))
    z = sum(x ** 0.75 for x in counts)
    for w in (1, 2, 3, 4):
        p = counts[w] ** 0.75 / z
        assert abs(draws[w] / 100000 - p) <= 4.5 * math.sqrt(p * (1 - p) / 100000), (w, draws[w], p)
    # batches
    centres, words, mask, labels = batchify([(7, [1], [5, 6]), (8, [2, 3], [1, 1, 5, 6])])
    assert centres.tolist() == [[7], [8]] and words.tolist() == [[1, 5, 6, 0, 0, 0], [2, 3, 1, 1, 5, 6]]
    assert mask.tolist() == [[1, 1, 1, 0, 0, 0], [1] * 6] and labels.tolist() == [[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]]
    # the loss: per centre, the mean BCE over its real words
    bce = lambda x, y: -(y * math.log(1 / (1 + math.exp(-x))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-x))))  # noqa: E731
    got = skip_gram_loss(torch.tensor([[0.0, 1, 5], [2, -1, 0.5]]), torch.tensor([[1.0, 0, 0], [1, 1, 0]]),
                         torch.tensor([[1.0, 1, 0], [1, 1, 1]])).tolist()
    want = [(bce(0, 1) + bce(1, 0)) / 2, (bce(2, 1) + bce(-1, 1) + bce(0.5, 0)) / 3]
    assert all(abs(a - b) < 1e-6 for a, b in zip(got, want)), (got, want)
    # the vocabulary: <unk> first, ties by first appearance, the file's <unk> not repeated
    v = Vocab([['b', 'a', UNK], ['a', 'b', 'c', UNK]], 2)
    assert v.idx_to_token == [UNK, 'b', 'a']
    print('selftest: subsampling, windows, noise words, batches, loss and vocabulary checks passed')


def data_dir(given):
    if given:
        return given
    if os.environ.get('PFS_DATA_DIR'):
        return os.environ['PFS_DATA_DIR']
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data')


def main():
    argv, opts, cfg = sys.argv[1:], dict(seeds='0', out=None, data=None), dict(CONFIG)
    if argv == ['--selftest']:
        selftest()
        return
    if len(argv) % 2:
        sys.exit(f'expected --KEY VALUE pairs, got {argv}\n{__doc__}')
    for key, value in zip(argv[::2], argv[1::2]):
        key = key[2:] if key.startswith('--') else sys.exit(f'bad argument {key!r}\n{__doc__}')
        if key in opts:
            opts[key] = value
        elif key in cfg:
            number = int(value) if re.fullmatch(r'-?[0-9]+', value) else float(value)
            cfg[key] = float(number) if isinstance(cfg[key], float) else number
        else:
            sys.exit(f'unknown key --{key} (keys: {", ".join(list(opts) + list(cfg))})')
    torch.set_num_threads(1)
    malloc, blas = tune_malloc(), blas_library()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f'{blas}; {malloc}')
    sentences = read_ptb(os.path.join(data_dir(opts['data']), 'ptb', 'ptb.train.txt'), cfg['max_sentences'])
    for seed in [int(s) for s in opts['seeds'].split(',')]:
        t0 = time.time()
        vocab, examples, sizes = prepare(sentences, cfg, random.Random(seed))
        prep_seconds = time.time() - t0
        log(f'skip-gram seed {seed}: {json.dumps(sizes)}; prepared in {prep_seconds:.1f} s')
        net, result = train(cfg, examples, vocab, seed, log)
        chip = nearest(net[0].weight.detach(), vocab, PROBE, 3) if PROBE in vocab.token_to_idx else []
        record = dict(paper='skip-gram', preset='d2l', seed=seed, config=cfg, d2l_loss=result['d2l_loss'],
                      train_loss=result['train_loss'],
                      d2l_loss_by_epoch=[float(f'{x:.6g}') for x in result['d2l_loss_by_epoch']],
                      chip=[[t, round(c, 4)] for t, c in chip],
                      chip_top3_hit=int(any(t in EXPECTED for t, _ in chip)) if chip else None, data=sizes,
                      prep_seconds=prep_seconds, seconds=result['seconds'], tokens_per_sec=result['tokens_per_sec'],
                      torch=torch.__version__, threads=torch.get_num_threads(), blas=blas, malloc=malloc)
        line = json.dumps(record)
        print(line, flush=True)
        if opts['out']:
            with open(opts['out'], 'a', encoding='utf-8') as f:
                f.write(line + '\n')


if __name__ == '__main__':
    main()
