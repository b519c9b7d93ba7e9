"""The PyTorch twin of Bahdanau et al. (2015) on English–French: the GRU encoder–decoder with additive attention
over the encoder outputs at every decoder step (d2l's Seq2SeqAttentionDecoder).

Usage: /usr/bin/python3 papers/bahdanau/reference_torch.py --preset d2l|full --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
       /usr/bin/python3 papers/bahdanau/reference_torch.py --selftest
The setup, the options and the output: papers/translation/twin_torch.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'translation'))
from twin_torch import main  # noqa: E402

if __name__ == '__main__':
    main('bahdanau')
