"""The PyTorch twin of seq2seq (Sutskever et al. 2014; Cho et al. 2014) on English–French: a GRU encoder–decoder
whose decoder reads the encoder's final state as a fixed context at every step (d2l's Seq2SeqEncoder/Decoder).

Usage: /usr/bin/python3 papers/seq2seq/reference_torch.py --preset d2l|full --seeds 0,1,2 [--KEY VALUE ...] [--out FILE.jsonl]
       /usr/bin/python3 papers/seq2seq/reference_torch.py --selftest
The setup, the options and the output: papers/translation/twin_torch.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'translation'))
from twin_torch import main  # noqa: E402

if __name__ == '__main__':
    main('seq2seq')
