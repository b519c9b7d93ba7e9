"""Whole training runs of the vision nets in PyTorch, many at once: for choosing a `cpu` preset's
learning rate, schedule, input size and epochs on a GPU machine when a session has one (a run that
takes half an hour here takes seconds there). The evidence is about the setup, not about our code:
PyTorch at seed s does not start from our weights at seed s, so compare the spread over seeds.

The nets are test/fixtures/gen_vision.py's (d2l's, in torch.nn), the data the gzipped IDX files
`pfs train` reads, the setup d2l's train_ch6 as papers/vision/train.ts does it: Xavier-uniform conv and
dense weights (biases as PyTorch's default init draws them), plain SGD, batch B (the last partial
batch kept), a fresh shuffle each epoch, images resized bilinearly to SIZE, cross-entropy loss. A
`cosine` schedule anneals the lr per step to 0 at the end of the run (CosineAnnealingLR, T_max = all
steps), as `--lr_schedule cosine` does. Float32 throughout (TF32 off).

Usage:
  PFS_DATA_DIR=../shared/data python3 research/vision/sweep_torch.py OUT.jsonl WORKERS RUN...
  RUN = net:size:lr:schedule:epochs:seed[:batch=N][:init=I], e.g. nin:67:0.1:cosine:9:0 or
        nin:67:0.1:cosine:9:0:init=kaiming
  batch: 128 unless given. init: how the conv and dense weights are drawn (biases always as PyTorch's
  default init draws them): `xavier` (the default, d2l's and train.ts's Xavier-uniform), `kaiming`
  (He-uniform for ReLU, fan in: nn.init.kaiming_uniform_(nonlinearity='relu')), `torch` (PyTorch's
  default init, left as the layers draw it).
Each finished run appends one JSON line to OUT.jsonl: the run, the classes whose logit is 0 for every
one of the first 2000 test images at init (NiN's dead class scores), and per epoch the mean training
loss, training accuracy and test accuracy (also printed as each epoch ends). PFS_SWEEP_LIMIT=N trains on the first N images only (a
smoke test on a CPU).
"""
import json
import os
import sys
import time

import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'test', 'fixtures'))
sys.path.insert(0, os.path.join(HERE, '..', 'lenet'))
from gen_vision import NETS  # noqa: E402
from reference_torch import load  # noqa: E402


INITS = ('xavier', 'kaiming', 'torch')


def parse(run):
    f = run.split(':')
    usage = f'bad run {run!r}: expected net:size:lr:constant|cosine:epochs:seed[:batch=N][:init={"|".join(INITS)}], net one of {sorted(NETS)}'
    if len(f) < 6 or f[0] not in NETS or f[3] not in ('constant', 'cosine'):
        sys.exit(usage)
    try:
        cfg = dict(net=f[0], size=int(f[1]), lr=float(f[2]), schedule=f[3], epochs=int(f[4]), seed=int(f[5]),
                   batch=128, init='xavier')
    except ValueError:
        sys.exit(usage)
    for extra in f[6:]:
        key, _, value = extra.partition('=')
        if key == 'batch' and value.isdigit():
            cfg['batch'] = int(value)
        elif key == 'init' and value in INITS:
            cfg['init'] = value
        else:
            sys.exit(usage)
    return cfg


def name(cfg):
    return ':'.join(str(cfg[k]) for k in ('net', 'size', 'lr', 'schedule', 'epochs', 'seed')) + \
        ''.join(f':{k}={cfg[k]}' for k, d in (('batch', 128), ('init', 'xavier')) if cfg[k] != d)


def resized(x, size):
    return x if size == x.shape[-1] else F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)


def evaluate(net, x, y, size):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (net(resized(x[i:i + 1000], size)).argmax(1) == y[i:i + 1000]).sum().item()
    net.train()
    return correct / len(x)


def dead_logits(net, x, size):
    net.eval()
    with torch.no_grad():
        z = net(resized(x[:2000], size))
    net.train()
    return [k for k in range(z.shape[1]) if bool((z[:, k] == 0).all())]


def train(cfg, data, dev):
    torch.manual_seed(cfg['seed'])
    net = NETS[cfg['net']][0]()
    net.eval()
    net(torch.zeros(1, 1, cfg['size'], cfg['size']))  # sizes the lazy dense layers of AlexNet and VGG
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if cfg['init'] == 'xavier':
                nn.init.xavier_uniform_(m.weight)
            elif cfg['init'] == 'kaiming':
                nn.init.kaiming_uniform_(m.weight, nonlinearity='relu')
    net = net.to(dev).train()
    xtr, ytr, xte, yte = data
    steps = (len(xtr) + cfg['batch'] - 1) // cfg['batch']
    opt = torch.optim.SGD(net.parameters(), lr=cfg['lr'])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg['epochs'] * steps) if cfg['schedule'] == 'cosine' else None
    g = torch.Generator().manual_seed(cfg['seed'])
    out = dict(cfg, dead_at_init=dead_logits(net, xte, cfg['size']), epochs_done=[])
    t0 = time.time()
    for epoch in range(cfg['epochs']):
        perm = torch.randperm(len(xtr), generator=g).to(dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.long)
        for s in range(steps):
            i = perm[s * cfg['batch']:(s + 1) * cfg['batch']]
            z = net(resized(xtr[i], cfg['size']))
            loss = F.cross_entropy(z, ytr[i])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            loss_sum += loss.detach() * len(i)
            correct += (z.argmax(1) == ytr[i]).sum()
        out['epochs_done'].append(dict(train_loss=round(loss_sum.item() / len(xtr), 4),
                                       train_acc=round(correct.item() / len(xtr), 4),
                                       test_acc=round(evaluate(net, xte, yte, cfg['size']), 4)))
        print(f"{name(cfg)} epoch {epoch + 1}: "
              f"{out['epochs_done'][-1]} ({time.time() - t0:.0f} s)", flush=True)
    out['seconds'] = round(time.time() - t0, 1)
    out['test_acc'] = out['epochs_done'][-1]['test_acc']
    return out


def worker(queue, results, dev):
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    limit = int(os.environ.get('PFS_SWEEP_LIMIT', '0')) or None
    xtr, ytr = load('train')
    xte, yte = load('test')
    data = tuple(t.to(dev) for t in (xtr[:limit], ytr[:limit], xte[:limit], yte[:limit]))
    while True:
        cfg = queue.get()
        if cfg is None:
            return
        try:
            results.put(train(cfg, data, dev))
        except Exception as e:  # one failed run must not stop the others
            results.put(dict(cfg, error=repr(e)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, workers, runs = sys.argv[1], int(sys.argv[2]), [parse(r) for r in sys.argv[3:]]
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    if dev == 'cpu':
        torch.set_num_threads(1)
    ctx = mp.get_context('spawn')
    queue, results = ctx.Queue(), ctx.Queue()
    for r in runs:
        queue.put(r)
    procs = [ctx.Process(target=worker, args=(queue, results, dev)) for _ in range(workers)]
    for p in procs:
        queue.put(None)
        p.start()
    with open(path, 'a') as f:
        for _ in runs:
            r = results.get()
            f.write(json.dumps(r) + '\n')
            f.flush()
            print(json.dumps({k: r.get(k) for k in ('net', 'size', 'lr', 'schedule', 'epochs', 'seed', 'batch', 'init', 'test_acc', 'seconds', 'error')}), flush=True)
    for p in procs:
        p.join()


if __name__ == '__main__':
    main()
