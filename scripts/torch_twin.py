#!/usr/bin/python3
"""Load this library's exported weights into each paper's PyTorch twin, and make the fixtures of the reverse direction.

Standard library and torch only (Debian's python3-torch 1.13): safetensors is read and written by hand (an
8-byte little-endian header length, a JSON header, raw little-endian bytes), so no pip package is needed.

  /usr/bin/python3 scripts/torch_twin.py check EXPORT.safetensors PROBE.safetensors
      EXPORT is what `pfs export <paper> --checkpoint F --torch EXPORT.safetensors --probe PROBE.safetensors`
      wrote: the twin's state dict (metadata: paper, config). Builds the paper's twin from the config, loads the
      file with load_state_dict(strict=True), runs the probe's fixed batch through it in eval mode and compares
      its outputs with ours (in PROBE). Prints one line per output; exit status 1 when a relative difference
      (max |ours − torch| / max |torch|) exceeds 1e-4.

  /usr/bin/python3 scripts/torch_twin.py fixtures [PAPER ...]
      Writes test/fixtures/interop/<paper>.safetensors (a small twin's state dict, as PyTorch initialises it,
      metadata: paper, config) and <paper>.probe.safetensors (a fixed batch and the twin's outputs on it), which
      test/interop-torch.test.ts imports and runs through our net. Deterministic: rerunning writes the same bytes.

The twins (papers/interop.ts has the name/layout mapping of each):
  lenet, lenet-bn       research/lenet/reference_torch.py lenet(bn)
  alexnet ... regnet    test/fixtures/gen_vision.py NETS[name]
  rnn ... bi-lstm       papers/rnn/reference_torch.py CharLM
  seq2seq, bahdanau, transformer   papers/translation/twin_torch.py
  skip-gram             papers/skip-gram/reference_torch.py make_model
  bert                  papers/bert/reference_torch.py BERT
"""
import json
import os
import struct
import sys
import zlib

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
# gen_vision.py and twin_torch.py are imported by name; the twins named reference_torch.py (several) by path
for sub in ('test/fixtures', 'papers/translation'):
    sys.path.insert(0, os.path.join(ROOT, sub))


def load(relpath, name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

TOLERANCE = 1e-4

# ---------------------------------------------------------------------------------------------------
# safetensors by hand

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64, 'BOOL': torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    body = data[8 + n:]
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = DTYPES[info['dtype']]
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if len(raw) else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info['shape']).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))

# ---------------------------------------------------------------------------------------------------
# The twins, built from a checkpoint's config, and run on a probe's inputs


VISION = ('alexnet', 'vgg', 'nin', 'googlenet', 'resnet', 'regnet')
LMS = ('rnn', 'gru', 'lstm', 'deep-lstm', 'bi-lstm')


def build_twin(paper, cfg):
    if paper in ('lenet', 'lenet-bn'):
        return load('research/lenet/reference_torch.py', 'lenet_twin').lenet(paper == 'lenet-bn')
    if paper in VISION:
        from gen_vision import NETS
        net = NETS[paper][0]()
        net.eval()
        with torch.no_grad():
            net(torch.zeros(1, 1, cfg['size'], cfg['size']))  # sizes AlexNet's and VGG's lazy dense layer
        return net
    if paper in LMS:
        mod = load('papers/rnn/reference_torch.py', 'rnn_twin')
        m = cfg['model']
        return mod.CharLM(paper, len(m['vocab']), m['hidden'], m['layers'], m['bidirectional'])
    if paper in ('seq2seq', 'bahdanau', 'transformer'):
        import twin_torch
        cls = {'seq2seq': twin_torch.Seq2Seq, 'bahdanau': twin_torch.Bahdanau, 'transformer': twin_torch.Transformer}[paper]
        return cls(len(cfg['model']['srcVocab']), len(cfg['model']['tgtVocab']), cfg)
    if paper == 'skip-gram':
        return load('papers/skip-gram/reference_torch.py', 'skip_gram_twin').make_model(len(cfg['model']['vocab']), cfg['embed'])
    if paper == 'bert':
        return load('papers/bert/reference_torch.py', 'bert_twin').BERT(len(cfg['model']['vocab']), cfg)
    raise SystemExit(f'no twin for {paper!r}')


def run_twin(paper, net, inputs):
    """The twin's outputs on a probe's inputs (a dict by name), as a list of (name, tensor), in eval mode."""
    net.eval()
    with torch.no_grad():
        if paper in ('lenet', 'lenet-bn') + VISION:
            return [('logits', net(inputs['x'].float()))]
        if paper in LMS:
            return [('logits', net(inputs['tokens'].long()))]
        if paper in ('seq2seq', 'bahdanau', 'transformer'):
            return [('logits', net(inputs['X'].long(), inputs['X_valid'].long(), inputs['Y_in'].long()))]
        if paper == 'skip-gram':
            c, w = inputs['centres'].long(), inputs['words'].long()
            return [('scores', torch.bmm(net[0](c), net[1](w).permute(0, 2, 1)))]  # (B, 1, L), as ours
        if paper == 'bert':
            mlm, nsp = net(inputs['tokens'].long(), inputs['segments'].long(), inputs['valid'].long(), inputs['positions'].long())
            return [('mlm', mlm), ('nsp', nsp)]
    raise SystemExit(f'no twin for {paper!r}')

# ---------------------------------------------------------------------------------------------------
# check: ours → the twin


def check(export_path, probe_path):
    sd, meta = read_safetensors(export_path)
    paper, cfg = meta.get('paper'), json.loads(meta.get('config', '{}'))
    if paper is None:
        raise SystemExit(f'{export_path}: no paper in its metadata (write it with pfs export)')
    probe, pmeta = read_safetensors(probe_path)
    if pmeta.get('paper') != paper:
        raise SystemExit(f'{probe_path} is a probe of {pmeta.get("paper")}, not {paper}')
    torch.set_num_threads(1)
    net = build_twin(paper, cfg)
    net.load_state_dict(sd, strict=True)
    inputs = {k[len('input.'):]: v for k, v in probe.items() if k.startswith('input.')}
    ok = True
    n_params = sum(t.numel() for t in sd.values())
    print(f'{paper}: load_state_dict(strict=True) took {len(sd)} tensors ({n_params} numbers) into {type(net).__name__}')
    for name, out in run_twin(paper, net, inputs):
        ours = probe[f'output.{name}'].double()
        theirs = out.double().reshape(ours.shape)
        diff = (ours - theirs).abs().max().item()
        scale = theirs.abs().max().item()
        rel = diff / max(scale, 1e-30)
        good = rel <= TOLERANCE
        ok = ok and good
        print(f'  {name} {tuple(ours.shape)}: max |ours - torch| = {diff:.3g}, max |torch| = {scale:.3g}, relative {rel:.3g} '
              f'{"<=" if good else ">"} {TOLERANCE:g}: {"PASS" if good else "FAIL"}')
    return 0 if ok else 1

# ---------------------------------------------------------------------------------------------------
# fixtures: the twin → ours


def vocab(n, prefix):
    return ['<unk>', '<pad>', '<bos>', '<eos>'] + [f'{prefix}{i}' for i in range(n - 4)]


TRANSLATION_BASE = dict(layers=2, dropout=0.1, batch_size=64, num_steps=6, lr=0.005, epochs=1, clip=1, max_examples=600,
                        held_out_every=0, min_freq=2, eval_every=1)
FIXTURES = {
    'lenet': {},
    'lenet-bn': {},
    'regnet': {'size': 28},
    'rnn': {'model': dict(name='rnn', cell='rnn', bidirectional=False, layers=1, hidden=8, init='uniform', vocab=vocab(12, 'c'))},
    'gru': {'model': dict(name='gru', cell='gru', bidirectional=False, layers=1, hidden=8, init='uniform', vocab=vocab(12, 'c'))},
    'lstm': {'model': dict(name='lstm', cell='lstm', bidirectional=False, layers=1, hidden=8, init='uniform', vocab=vocab(12, 'c'))},
    'deep-lstm': {'model': dict(name='deep-lstm', cell='lstm', bidirectional=False, layers=2, hidden=8, init='uniform', vocab=vocab(12, 'c'))},
    'bi-lstm': {'model': dict(name='bi-lstm', cell='lstm', bidirectional=True, layers=2, hidden=8, init='uniform', vocab=vocab(12, 'c'))},
    'seq2seq': dict(TRANSLATION_BASE, embed=8, hidden=8, model=dict(srcVocab=vocab(14, 'en'), tgtVocab=vocab(11, 'fr'))),
    'bahdanau': dict(TRANSLATION_BASE, embed=8, hidden=8, model=dict(srcVocab=vocab(14, 'en'), tgtVocab=vocab(11, 'fr'))),
    'transformer': dict(TRANSLATION_BASE, hidden=8, ffn_hidden=16, heads=2, model=dict(srcVocab=vocab(14, 'en'), tgtVocab=vocab(11, 'fr'))),
    'skip-gram': dict(embed=8, batch_size=512, max_window=5, noise_words=5, min_freq=10, subsample_t=1e-4, lr=0.002, epochs=1,
                      model=dict(vocab=vocab(20, 'w'))),
    'bert': dict(hidden=8, ffn_hidden=16, heads=2, layers=2, dropout=0.1, max_len=16, batch_size=4, lr=0.01, epochs=1,
                 steps_per_epoch=1, min_freq=5, max_paragraphs=0, mlm_reduction='weighted', model=dict(vocab=vocab(20, 'w'))),
}


def probe_inputs(paper, cfg, g, n=4):
    if paper in ('lenet', 'lenet-bn') + VISION:
        size = cfg.get('size', 28)
        return {'x': torch.rand(n, 1, size, size, generator=g)}
    if paper in LMS:
        return {'tokens': torch.randint(0, len(cfg['model']['vocab']), (n, 10), generator=g)}
    if paper in ('seq2seq', 'bahdanau', 'transformer'):
        T = cfg['num_steps']
        return {'X': torch.randint(0, len(cfg['model']['srcVocab']), (n, T), generator=g),
                'X_valid': torch.randint(1, T + 1, (n,), generator=g),
                'Y_in': torch.randint(0, len(cfg['model']['tgtVocab']), (n, T), generator=g)}
    if paper == 'skip-gram':
        V = len(cfg['model']['vocab'])
        return {'centres': torch.randint(0, V, (n, 1), generator=g), 'words': torch.randint(0, V, (n, 6), generator=g)}
    if paper == 'bert':
        V, T = len(cfg['model']['vocab']), 12
        segments = torch.zeros(n, T, dtype=torch.long)
        segments[:, T // 2:] = 1
        return {'tokens': torch.randint(0, V, (n, T), generator=g), 'segments': segments,
                'valid': torch.randint(2, T + 1, (n,), generator=g), 'positions': torch.randint(0, T, (n, 3), generator=g)}
    raise SystemExit(f'no probe for {paper!r}')


def fixtures(papers):
    out_dir = os.path.join(ROOT, 'test', 'fixtures', 'interop')
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for paper in papers or FIXTURES:
        cfg = FIXTURES[paper]
        seed = zlib.crc32(paper.encode())
        torch.manual_seed(seed)
        net = build_twin(paper, cfg)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, b in net.named_buffers():  # BatchNorm's running statistics away from 0 and 1, so eval mode uses them
                if name.endswith('running_mean'):
                    b.copy_(0.1 * torch.randn(b.shape, generator=g))
                elif name.endswith('running_var'):
                    b.copy_(0.5 + torch.rand(b.shape, generator=g))
        inputs = probe_inputs(paper, cfg, g)
        outputs = run_twin(paper, net, inputs)
        sd = {k: v for k, v in net.state_dict().items()}
        meta = {'format': 'papers-from-scratch torch export v1', 'paper': paper, 'config': json.dumps(cfg),
                'made_by': 'scripts/torch_twin.py fixtures (torch ' + torch.__version__ + ')'}
        write_safetensors(os.path.join(out_dir, f'{paper}.safetensors'), sd, meta)
        probe = {f'input.{k}': (v.int() if v.dtype == torch.int64 else v) for k, v in inputs.items()}
        probe.update({f'output.{k}': v for k, v in outputs})
        write_safetensors(os.path.join(out_dir, f'{paper}.probe.safetensors'), probe,
                          {'paper': paper, 'config': json.dumps(cfg), 'inputs': ','.join(inputs), 'outputs': ','.join(k for k, _ in outputs)})
        print(f'wrote test/fixtures/interop/{paper}.safetensors ({sum(t.numel() for t in sd.values())} numbers) and {paper}.probe.safetensors')


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == 'check':
        sys.exit(check(args[1], args[2]))
    if args and args[0] == 'fixtures':
        fixtures(args[1:])
        return
    sys.exit(__doc__)


if __name__ == '__main__':
    main()
