"""The PyTorch twin of the character-level language models (papers/rnn): d2l's RNNModel in torch.nn.

One-hot tokens, time-major, through the recurrent layers, then a dense layer to the vocabulary at every step:
tokens (B, T) → logits (T·B, V), row t·B + b for sequence b at step t (as ours, papers/rnn/model.ts RNNLM).

  rnn, lstm, deep-lstm, bi-lstm   torch.nn.RNN (tanh) / torch.nn.LSTM, num_layers and bidirectional as the paper's
  gru                             the GRU of Cho et al. 2014 written out (papers/translation/twin_torch.py GRU):
                                  torch.nn.GRU applies the reset gate after the product with W_hn, this cell before it

The mapping of our state dict onto this module's is papers/interop.ts (lmPortable); `pfs export <paper> --torch`
writes it and scripts/torch_twin.py loads it here with load_state_dict(strict=True).
Debian's python3-torch (1.13).
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'translation'))
from twin_torch import GRU  # noqa: E402

CELLS = {'rnn': 'rnn', 'gru': 'gru', 'lstm': 'lstm', 'deep-lstm': 'lstm', 'bi-lstm': 'lstm'}


class CharLM(nn.Module):
    def __init__(self, name, vocab, hidden, layers, bidirectional):
        super().__init__()
        self.vocab = vocab
        cell = CELLS[name]
        if cell == 'gru':
            if bidirectional:
                raise ValueError('the written-out GRU runs one direction')
            self.rnn = GRU(vocab, hidden, layers, 0.0)
        else:
            kind = nn.LSTM if cell == 'lstm' else nn.RNN
            self.rnn = kind(vocab, hidden, num_layers=layers, bidirectional=bidirectional)
        self.cell, self.hidden, self.layers = cell, hidden, layers
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), vocab)

    def forward(self, tokens):
        X = F.one_hot(tokens.T.long(), self.vocab).float()  # (T, B, V)
        if self.cell == 'gru':
            out, _ = self.rnn(X, torch.zeros(self.layers, X.shape[1], self.hidden))
        else:
            out, _ = self.rnn(X)  # (T, B, D·H), from zero states
        T, B, DH = out.shape
        return self.head(out.reshape(T * B, DH))
