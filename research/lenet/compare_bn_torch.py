"""LeNet-BN, step for step, in PyTorch and in this library: the PyTorch half of the check.

compare_bn_torch.ts wrote OUT_DIR/init.safetensors (our LeNet-BN's initial state) and
OUT_DIR/ours.safetensors (the batch indices it trained on, its loss per step, its state after the
last step, and its logits of the first test images in eval and train mode). This script loads the
initial state into PyTorch's LeNet-BN (reference_torch.lenet(bn=True)), replays the same SGD steps
(lr 1.0) on the same Fashion-MNIST images in the dtype of the files (float64 unless the TypeScript half
ran with --dtype float32), and prints the largest difference in each of those; it exits with status 1
when one exceeds the tolerance. In float64 both libraries should agree to rounding (tolerance 1e-9).
In float32 neither is exact, so the replay is run in float64 too, and ours fails when its distance from
those float64 values exceeds 4 times PyTorch's own float32 distance from them by more than 1e-4.

Usage: PFS_DATA_DIR=../shared/data /usr/bin/python3 research/lenet/compare_bn_torch.py OUT_DIR [--tol T]

When the TypeScript half ran with --orders E, PyTorch then also trains E epochs from the same initial
state on the same shuffled batches as `pfs train lenet-bn` with that seed, printing the test accuracy
after each epoch.

A second use, for trained nets: `compare_bn_torch.py --checkpoint RUN_DIR/checkpoint.safetensors ...` loads
the weights and running statistics a `pfs train lenet-bn --out RUN_DIR` run saved into PyTorch's LeNet-BN
and prints its test accuracy (to set beside result.json's), then the test accuracy of the same weights
with every BatchNorm's statistics recomputed as a plain average over all training batches.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_torch import lenet, load  # noqa: E402

# The safetensors layout (github.com/huggingface/safetensors README): an 8-byte little-endian header
# length N, N bytes of JSON {name: {dtype, shape, data_offsets}}, then the data buffer. Read by hand
# (Debian's python3-torch comes without the safetensors package).
NUMPY_DTYPE = {'F64': '<f8', 'F32': '<f4', 'I32': '<i4'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    buf = raw[8 + n:]
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        begin, end = h['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(buf[begin:end], dtype=NUMPY_DTYPE[h['dtype']]).reshape(h['shape']).copy())
    return out


def torch_lenet_bn(state, dtype=torch.float32):
    """PyTorch's LeNet-BN holding one of our state dicts (our names follow PyTorch's: 0.weight,
    1.running_mean, ..., so it loads as it is; num_batches_tracked is int64 in PyTorch)."""
    net = lenet(bn=True).to(dtype)
    net.load_state_dict({k: v.long() if k.endswith('num_batches_tracked') else v.to(dtype) for k, v in state.items()})
    return net


def sgd_steps(net, opt, xtr, ytr, order, dtype):
    """Train on the images of `order` in batches of 256 (the last of an epoch is short: 96); the losses."""
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    net.train()
    for b in order.split(256):
        loss = loss_fn(net(xtr[b].to(dtype)), ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def replay(init, indices, n_eval, dtype):
    """PyTorch's LeNet-BN from `init`, trained on the batches of `indices` in `dtype`: what ours.safetensors holds."""
    net = torch_lenet_bn(init, dtype)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    xtr, ytr = load('train')
    xte, _ = load('test')
    losses = sgd_steps(net, opt, xtr, ytr, indices, dtype)
    x_eval = xte[:n_eval].to(dtype)
    with torch.no_grad():
        net.eval()
        result = {'eval_logits': net(x_eval)}
        saved = {k: v.clone() for k, v in net.state_dict().items()}
        net.train()  # batch statistics; the running ones are put back after
        result['train_logits'] = net(x_eval)
        net.load_state_dict(saved)
    result['losses'] = torch.tensor(losses, dtype=torch.float64)
    for k, v in net.state_dict().items():
        result[f'state.{k}'] = v
    return result


def train_epochs(init, orders, dtype):
    """PyTorch's LeNet-BN from `init`, trained an epoch per row of `orders` (batches of 256, lr 1.0) as
    `pfs train lenet-bn` trains ours; prints the eval-mode test accuracy after each epoch."""
    net = torch_lenet_bn(init, dtype)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    xtr, ytr = load('train')
    xte, yte = load('test')
    accs = []
    for order in orders.long():
        sgd_steps(net, opt, xtr, ytr, order, dtype)
        net.eval()
        with torch.no_grad():
            accs.append((net(xte.to(dtype)).argmax(1) == yte).float().mean().item())
        print(f'  PyTorch from our initial state on our batches, {dtype}, epoch {len(accs)}: test acc {accs[-1]:.4f}', flush=True)
    return accs


def check_checkpoint(path):
    """Our trained LeNet-BN (a `pfs train lenet-bn` checkpoint, float32) evaluated by PyTorch: in eval mode
    with our running statistics, and with the BatchNorm statistics recomputed over the training set."""
    net = torch_lenet_bn({k[len('model.'):]: v for k, v in read_safetensors(path).items() if k.startswith('model.')})
    xtr, _ = load('train')
    xte, yte = load('test')

    def test_acc():
        net.eval()
        with torch.no_grad():
            return (net(xte).argmax(1) == yte).float().mean().item()

    ours = json.load(open(os.path.join(os.path.dirname(path), 'result.json')))['metrics']['test_acc']
    print(f'{path}: test acc in eval mode, PyTorch with our weights and running statistics {test_acc():.4f} (ours printed {ours:.4f})')
    # The same weights with each BatchNorm's statistics averaged over every training batch (momentum None:
    # a plain cumulative average), instead of the exponential average of the batches as the weights moved.
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    with torch.no_grad():
        for b in torch.arange(len(xtr)).split(256):
            net(xtr[b])
    print(f'  the same weights, BatchNorm statistics recomputed over the 60,000 training images: test acc {test_acc():.4f}')


LABELS = {'losses': 'loss per step', 'eval_logits': 'eval-mode logits (running stats)', 'train_logits': 'train-mode logits (batch stats)'}


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    if args[0] == '--checkpoint':
        for path in args[1:]:
            check_checkpoint(path)
        return
    out = args[0]
    init = read_safetensors(os.path.join(out, 'init.safetensors'))
    ours = read_safetensors(os.path.join(out, 'ours.safetensors'))
    dtype = init['0.weight'].dtype
    indices = ours['indices'].long()
    n_eval = ours['eval_logits'].shape[0]
    torch_run = replay(init, indices, n_eval, dtype)
    # In float32 neither library is exact: the float64 replay says how far each one's rounding took it.
    exact = replay(init, indices, n_eval, torch.float64) if dtype != torch.float64 else None

    keys = ['losses'] + [k for k in torch_run if k.startswith('state.')] + ['eval_logits', 'train_logits']
    print(f'{len(torch_run["losses"])} SGD steps (lr 1.0, {len(indices)} images in batches of 256) in {dtype} from the same '
          f'initial state; largest differences' + (' (float64 = PyTorch replaying in float64):' if exact else ':'))
    header = f'  {"":34s} {"|torch - ours|":>15s}'
    if exact:
        header += f' {"|torch - f64|":>15s} {"|ours - f64|":>15s}'
    print(header + '   scale')
    worst = 0.0
    for k in keys:
        t, o = torch_run[k].double(), ours[k].double()
        d = (t - o).abs().max().item()
        line = f'  {LABELS.get(k, k[len("state."):]):34s} {d:15.3e}'
        if exact:
            e = exact[k].double()
            dt, do = (t - e).abs().max().item(), (o - e).abs().max().item()
            line += f' {dt:15.3e} {do:15.3e}'
            # Judge ours by its distance from the exact values, against PyTorch's own rounding error.
            d = max(0.0, do - 4 * dt)
        worst = max(worst, d)
        print(f'{line}   |torch| up to {t.abs().max().item():.3g}')
    agree = (torch_run['eval_logits'].argmax(1) == ours['eval_logits'].argmax(1)).float().mean().item()
    print(f'eval-mode predictions that agree: {agree:.4f}')
    yte = load('test')[1][:n_eval]
    accs = [('torch', torch_run), ('ours', ours)] + ([('float64', exact)] if exact else [])
    print(f'eval-mode accuracy on the first {n_eval} test images: ' +
          ', '.join(f'{name} {(r["eval_logits"].argmax(1) == yte).float().mean().item():.4f}' for name, r in accs))
    if exact:
        tol = float(args[args.index('--tol') + 1]) if '--tol' in args else 1e-4
        what = 'ours is farther from float64 than 4x PyTorch\'s float32 error, by'
    else:
        tol = float(args[args.index('--tol') + 1]) if '--tol' in args else 1e-9
        what = 'a difference of'
    if worst > tol:
        print(f'FAIL: {what} {worst:.3e}, over the tolerance {tol:g}')
        sys.exit(1)
    print(f'OK: within {tol:g}')
    if 'orders' in ours:
        train_epochs(init, ours['orders'], dtype)


if __name__ == '__main__':
    main()
