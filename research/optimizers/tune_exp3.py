"""Learning-rate sweep behind experiment 3's presets (run with PyTorch; not needed by the tests).

The same MLP as papers/optimizers/exp3-fashion-mnist.ts (784-256-10, ReLU, weights N(0, 0.01²), biases 0,
batch 256, 10 epochs), trained on the first N training images (default 10,000, the `cpu` preset's
size) and scored on the last 10,000 training images (a validation split: the test set plays no part
in choosing the rates). Prints the mean train loss of the last epoch and the validation accuracy for
each (optimiser, lr). The presets take, per optimiser, the rate with the lowest train loss: the number
an optimiser is asked to bring down (the final validation accuracy, after 10 epochs on 10,000 images,
jumps by a few points from epoch to epoch and is shown for reference).

    PFS_DATA_DIR=../shared/data /usr/bin/python3 research/optimizers/tune_exp3.py [N] [optimiser]

reads PFS_DATA_DIR/fashion-mnist/ (the data directory `pfs train` reads).
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, header):
    with gzip.open(path, 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main(data_dir, n_train, only=None):
    assert 0 < n_train <= 50000, 'the last 10,000 training images are the validation split'
    torch.set_num_threads(1)
    images = read_idx(f'{data_dir}/train-images-idx3-ubyte.gz', 16).reshape(-1, 784).astype(np.float32) / 255
    labels = read_idx(f'{data_dir}/train-labels-idx1-ubyte.gz', 8).astype(np.int64)
    x_train, y_train = torch.from_numpy(images[:n_train]), torch.from_numpy(labels[:n_train])
    x_val, y_val = torch.from_numpy(images[50000:]), torch.from_numpy(labels[50000:])
    grid = {
        'momentum': (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9), [0.003, 0.01, 0.03, 0.1, 0.3]),
        'adagrad': (lambda p, lr: torch.optim.Adagrad(p, lr=lr), [0.003, 0.01, 0.03, 0.1, 0.3]),
        'rmsprop': (lambda p, lr: torch.optim.RMSprop(p, lr=lr, alpha=0.9), [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]),
        'adadelta': (lambda p, lr: torch.optim.Adadelta(p, lr=lr, rho=0.9), [0.1, 0.3, 1.0, 3.0, 10.0]),
        'adam': (lambda p, lr: torch.optim.Adam(p, lr=lr), [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]),
    }
    for name, (make, lrs) in grid.items():
        if only is not None and name != only:
            continue
        for lr in lrs:
            torch.manual_seed(0)
            net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
            for m in net:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.01)
                    nn.init.zeros_(m.bias)
            opt = make(net.parameters(), lr)
            t0 = time.time()
            for epoch in range(10):
                perm = torch.randperm(n_train)
                total = 0.0
                for i in range(0, n_train, 256):
                    idx = perm[i:i + 256]
                    loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += loss.item() * len(idx)
            with torch.no_grad():
                acc = (net(x_val).argmax(1) == y_val).float().mean().item()
            print(f'{name:9s} lr {lr:<7g} train loss {total / n_train:.4f}  val acc {acc:.4f}  ({time.time() - t0:.0f} s)', flush=True)


if __name__ == '__main__':
    if 'PFS_DATA_DIR' not in os.environ or len(sys.argv) > 3:
        sys.exit(__doc__)
    main(os.path.join(os.environ['PFS_DATA_DIR'], 'fashion-mnist'), int(sys.argv[1]) if len(sys.argv) > 1 else 10000,
         sys.argv[2] if len(sys.argv) > 2 else None)
