"""Where the time of the PyTorch peer's skip-gram step goes (bench/peers/torch_bench.py `skipgram`: the same
batch sizes, built by skipgram_setup's rules; the twin's loss and model): the forward pass to the loss,
forward + backward, and the Adam step alone, each over N runs after 3 untimed ones; min and median in ms.
Its counterpart for this library is steptime.ts.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 research/skip-gram/steptime_torch.py [RUNS=40]
"""
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'papers' / 'skip-gram'))
sys.path.insert(0, str(ROOT / 'bench' / 'peers'))
import reference_torch as twin  # noqa: E402
import torch  # noqa: E402
from torch_bench import SKIPGRAM_SIZES as S  # noqa: E402


def main(runs):
    torch.set_num_threads(1)
    twin.tune_malloc()
    torch.manual_seed(7)
    net = twin.make_model(S['vocab'], S['embed'])
    opt = torch.optim.Adam(net.parameters(), lr=S['lr'])
    rows = []
    for _ in range(S['batch']):
        k = int(torch.randint(1, S['max_contexts'] + 1, ()))
        rows.append((int(torch.randint(1, S['vocab'], ())), torch.randint(1, S['vocab'], (k,)).tolist(),
                     torch.randint(1, S['vocab'], (k * S['noise'],)).tolist()))
    centres, words, mask, labels = twin.batchify(rows)

    def forward():
        return twin.skip_gram_loss(twin.scores_of(net, centres, words), labels, mask).sum()

    def backward():
        opt.zero_grad()
        forward().backward()

    for part, f in (('forward (lookups, scores, loss)', lambda: forward().item()), ('forward + backward', backward),
                    ('Adam step', opt.step)):
        for _ in range(3):
            f()
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            f()
            ts.append((time.perf_counter() - t0) * 1000)
        ts.sort()
        print(f'{part}: min {ts[0]:.2f} ms, median {ts[runs // 2]:.2f} ms')


if __name__ == '__main__':
    os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
