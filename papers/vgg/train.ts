/**
 * VGG-11 (channels ÷ 4) on Fashion-MNIST: the presets; the training itself is papers/vision/train.ts.
 *   d2l: the book's setup (224×224, lr 0.05, batch 128, 10 epochs).
 *   cpu: 32×32 inputs (the smallest VGG takes) and 13 epochs (both cores); same layers, the first dense layer reads
 *        the 1×1 map left at that size (128 → 4096).
 *   (papers/vision/README.md says how the cpu presets were sized.)
 */
import { visionPaper } from '../vision/train.js';
import { vgg11Small } from './model.js';

export const vggPaper = visionPaper({ name: 'vgg', title: 'VGG-11 with channels ÷ 4', build: vgg11Small, d2lSize: 224 }, {
  cites: 'Simonyan & Zisserman 2014',
  status: 'cpu preset (13 epochs) run: test acc 0.881 (target 0.88 met, 24.0 min with 2 threads); d2l preset not run; see papers/vgg/README.md',
  presets: {
    d2l: {
      description: "d2l's setup: 224×224 inputs, SGD lr 0.05, batch 128, 10 epochs, Xavier init",
      config: { size: 224, lr: 0.05, lr_schedule: 'constant', batch_size: 128, epochs: 10, train_limit: 0, test_limit: 0 },
      target: { metric: 'test_acc', direction: 'max', value: 0.916, source: 'd2l printed test acc 0.916' },
    },
    cpu: {
      description: '32×32 inputs (the smallest VGG takes), SGD lr 0.05, batch 128, 13 epochs',
      config: { size: 32, lr: 0.05, lr_schedule: 'constant', batch_size: 128, epochs: 13, train_limit: 0, test_limit: 0 },
      target: { metric: 'test_acc', direction: 'max', value: 0.88, source: "0.88: this project's bar for a 30-minute run on 2 CPU cores (d2l §8.2 printed test acc 0.916 at 224×224, 10 epochs)" },
    },
  },
});
