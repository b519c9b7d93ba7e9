/**
 * One training step of the character-level language models (d2l's train_epoch_ch8, per batch), and
 * the state a batch starts from; browser-safe (the app trains with it), used by train.ts.
 */
import { crossEntropy } from '../../src/nn/losses.js';
import { clipGradNorm } from '../../src/optim/clip.js';
import type { SGD } from '../../src/optim/sgd.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { State } from './cells.js';
import type { Batch } from './data.js';
import { detachState, type RNNLM } from './model.js';

/**
 * One step of d2l's train_epoch_ch8 on a batch (X, Y), both (B, T): from `state` (a zero state when
 * undefined), forward, the mean cross-entropy over the B·T predicted characters, backward, clip, SGD.
 * Returns the loss (a scalar tensor), the number of predicted tokens, and the state at the batch's end.
 */
export function lmStep(net: RNNLM, optimizer: SGD, [X, Y]: Batch, state: State[] | undefined, clip: number): { loss: Tensor; tokens: number; state: State[] } {
  const r = net.forward(X, state ?? net.beginState(X.shape[0]));
  const y = Y.transpose(0, 1).reshape([-1]); // (T·B), time-major as the logits
  const loss = crossEntropy(r.logits, y);
  optimizer.zeroGrad();
  loss.backward();
  clipGradNorm(net.parameters(), clip);
  optimizer.step();
  return { loss, tokens: y.numel, state: r.state };
}

/**
 * The state a batch starts from: with sequential partitioning (`carry`) the state the previous batch
 * ended with, detached (truncated backpropagation through time); for the epoch's first batch, and always
 * with random partitioning, a zero state (undefined).
 */
export function startState(previous: State[] | undefined, index: number, carry: boolean): State[] | undefined {
  return index > 0 && carry && previous ? detachState(previous) : undefined;
}

