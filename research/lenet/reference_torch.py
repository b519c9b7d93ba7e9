"""The same LeNet runs in PyTorch, to see how much the final test accuracy varies with the seed.

Debian's python3-torch (1.13) with numpy; reads the same gzipped IDX files as `pfs train lenet`.
Usage: PFS_DATA_DIR=../shared/data /usr/bin/python3 research/lenet/reference_torch.py [--bn] SEED...
Prints one line per seed: train loss, train acc, test acc after 10 epochs (d2l's setup: SGD lr 0.9
(1.0 with --bn), batch 256, Xavier-uniform conv/dense weights, PyTorch's default biases), then the
test accuracy after each epoch (in eval mode, so with BatchNorm's running statistics).
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn


def idx(path, offset):
    with gzip.open(path, 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(split):
    d = os.path.join(os.environ['PFS_DATA_DIR'], 'fashion-mnist')
    prefix = 'train' if split == 'train' else 't10k'
    x = idx(os.path.join(d, f'{prefix}-images-idx3-ubyte.gz'), 16).reshape(-1, 1, 28, 28)
    y = idx(os.path.join(d, f'{prefix}-labels-idx1-ubyte.gz'), 8)
    return torch.tensor(x, dtype=torch.float32) / 255, torch.tensor(y, dtype=torch.long)


def lenet(bn):
    if not bn:
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
            nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))


def run(seed, bn):
    torch.manual_seed(seed)
    xtr, ytr = load('train')
    xte, yte = load('test')
    net = lenet(bn)
    for m in net:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=1.0 if bn else 0.9)
    loss_fn = nn.CrossEntropyLoss()
    per_epoch = []
    for _ in range(10):
        net.train()
        perm = torch.randperm(len(xtr))
        tot = correct = n = 0
        for i in range(0, len(xtr), 256):
            b = perm[i:i + 256]
            out = net(xtr[b])
            loss = loss_fn(out, ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(b)
            correct += (out.argmax(1) == ytr[b]).sum().item()
            n += len(b)
        net.eval()
        with torch.no_grad():
            test_acc = (net(xte).argmax(1) == yte).float().mean().item()
        per_epoch.append(test_acc)
    print(f'seed {seed}: train loss {tot / n:.4f}, train acc {correct / n:.4f}, test acc {test_acc:.4f}; '
          f'test acc by epoch {" ".join(f"{a:.4f}" for a in per_epoch)}', flush=True)


if __name__ == '__main__':
    args = sys.argv[1:]
    bn = '--bn' in args
    for s in [int(a) for a in args if a != '--bn']:
        run(s, bn)
