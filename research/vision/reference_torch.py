"""The first steps of a vision net's training in PyTorch, to compare with ours.

Debian's python3-torch (1.13). The nets are test/fixtures/gen_vision.py's (d2l's, built with torch.nn),
the data the same gzipped IDX files as `pfs train` (research/lenet/reference_torch.py reads them), the
setup d2l's train_ch6: Xavier-uniform conv and dense weights, SGD at the given learning rate, minibatches
of a seeded shuffle, images resized bilinearly to SIZE. One thread (torch.set_num_threads(1)).

Usage: PFS_DATA_DIR=../shared/data /usr/bin/python3 research/vision/reference_torch.py NET SIZE LR BATCH STEPS [SEED=0]
Prints, every 50 steps, the mean training loss so far (what `pfs train` prints every 50 steps) and the
last minibatch's loss.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'test', 'fixtures'))
sys.path.insert(0, os.path.join(HERE, '..', 'lenet'))
from gen_vision import NETS  # noqa: E402
from reference_torch import load  # noqa: E402


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    name, size, lr, batch, steps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    seed = int(sys.argv[6]) if len(sys.argv) == 7 else 0
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    net = NETS[name][0]()
    net.eval()
    net(torch.zeros(1, 1, size, size))  # sizes the lazy dense layer of AlexNet and VGG
    net.train()
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    x, y = load('train')
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    perm = torch.randperm(len(x))
    total, t0 = 0.0, time.time()
    for s in range(steps):
        i = perm[(s * batch) % len(x):][:batch]
        xb = x[i] if size == 28 else F.interpolate(x[i], size=(size, size), mode='bilinear', align_corners=False)
        loss = F.cross_entropy(net(xb), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
        if (s + 1) % 50 == 0:
            print(f'{name} {size}x{size} seed {seed} step {s + 1}: mean loss {total / (s + 1):.4f}, '
                  f'last {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
