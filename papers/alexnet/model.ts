/**
 * AlexNet (Krizhevsky, Sutskever & Hinton 2012) as d2l writes it for Fashion-MNIST: one input
 * channel, ten classes, otherwise the paper's layers (without the two-GPU split and local response
 * normalisation). Shapes for the d2l input of 224×224 (N the batch):
 *
 *   x (N, 1, 224, 224)
 *   conv 11×11/4, pad 1, 96  → (N, 96, 54, 54), ReLU, max-pool 3×3/2 → (N, 96, 26, 26)
 *   conv 5×5, pad 2, 256     → (N, 256, 26, 26), ReLU, max-pool 3×3/2 → (N, 256, 12, 12)
 *   conv 3×3, pad 1, 384     → (N, 384, 12, 12), ReLU
 *   conv 3×3, pad 1, 384     → (N, 384, 12, 12), ReLU
 *   conv 3×3, pad 1, 256     → (N, 256, 12, 12), ReLU, max-pool 3×3/2 → (N, 256, 5, 5)
 *   flatten                  → (N, 6400)
 *   dense 4096, ReLU, dropout 0.5 → (N, 4096); dense 4096, ReLU, dropout 0.5 → (N, 4096)
 *   dense 10                 → logits (N, 10)
 *
 * The first dense layer takes the last feature map flattened, 256·s·s values: s = 5 at 224×224 (as in
 * the book), and smaller for smaller inputs (as the book's LazyLinear does); every other layer is the
 * same at any input size. The smallest input is 65×65 (s = 1).
 */
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/index.js';
import { checkInputSize, convOut, NetOptions } from '../vision/common.js';

/** Width s of AlexNet's last feature map for an input of n×n. */
export function alexnetFeatureSize(n: number): number {
  let s = convOut(n, 11, 4, 1); // conv1
  s = convOut(s, 3, 2); //         pool1 (conv2 keeps the size)
  s = convOut(s, 3, 2); //         pool2 (conv3–conv5 keep it)
  return convOut(s, 3, 2); //      pool3
}

export function alexnet(opts: NetOptions = {}): Sequential {
  const size = opts.size ?? 224;
  const s = checkInputSize('AlexNet', size, alexnetFeatureSize);
  const g = opts.generator;
  return new Sequential(
    new Conv2d(1, 96, 11, { stride: 4, padding: 1, generator: g }), new ReLU(), //   (N, 96, 54, 54)
    new MaxPool2d(3, 2), //                                                           (N, 96, 26, 26)
    new Conv2d(96, 256, 5, { padding: 2, generator: g }), new ReLU(), //              (N, 256, 26, 26)
    new MaxPool2d(3, 2), //                                                           (N, 256, 12, 12)
    new Conv2d(256, 384, 3, { padding: 1, generator: g }), new ReLU(), //             (N, 384, 12, 12)
    new Conv2d(384, 384, 3, { padding: 1, generator: g }), new ReLU(), //             (N, 384, 12, 12)
    new Conv2d(384, 256, 3, { padding: 1, generator: g }), new ReLU(), //             (N, 256, 12, 12)
    new MaxPool2d(3, 2), //                                                           (N, 256, 5, 5)
    new Flatten(), //                                                                 (N, 6400)
    new Linear(256 * s * s, 4096, { generator: g }), new ReLU(), new Dropout(0.5, opts.dropout),
    new Linear(4096, 4096, { generator: g }), new ReLU(), new Dropout(0.5, opts.dropout),
    new Linear(4096, 10, { generator: g }), //                                        (N, 10)
  );
}
