"""The PyTorch twin of the Transformer (Vaswani et al. 2017) on English–French: d2l's classic post-norm
encoder–decoder with multi-head attention and sinusoidal positions.

Usage: /usr/bin/python3 papers/transformer/reference_torch.py --preset d2l|full --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
       /usr/bin/python3 papers/transformer/reference_torch.py --selftest
The setup, the options and the output: papers/translation/twin_torch.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'translation'))
from twin_torch import main  # noqa: E402

if __name__ == '__main__':
    main('transformer')
