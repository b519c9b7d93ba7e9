/**
 * ResNet-18 on Fashion-MNIST: the presets; the training itself is papers/vision/train.ts.
 *   d2l: the book's setup (96×96, lr 0.05, batch 256, 10 epochs).
 *   cpu: 28×28 inputs (Fashion-MNIST's own size, no resize) and the book's 10 epochs; same layers and parameters;
 *        the lr annealed from 0.05 to 0 (cosine, per step) instead of the book's constant 0.05.
 *   (papers/vision/README.md says how the cpu presets were sized.)
 */
import { visionPaper } from '../vision/train.js';
import { resnet18 } from './model.js';

export const resnetPaper = visionPaper({ name: 'resnet', title: 'ResNet-18', build: resnet18, d2lSize: 96 }, {
  cites: 'He, Zhang, Ren & Sun 2016',
  status: "cpu preset run (10 epochs, lr annealed): test acc 0.910 (target 0.88 met) in 24.6 min with 2 threads; the book's constant lr gave 0.845; d2l preset not run; see papers/resnet/README.md",
  presets: {
    d2l: {
      description: "d2l's setup: 96×96 inputs, SGD lr 0.05, batch 256, 10 epochs, Xavier init",
      config: { size: 96, lr: 0.05, lr_schedule: 'constant', batch_size: 256, epochs: 10, train_limit: 0, test_limit: 0 },
      target: { metric: 'test_acc', direction: 'max', value: 0.919, source: 'd2l printed test acc 0.919' },
    },
    cpu: {
      description: '28×28 inputs (no resize), SGD lr 0.05 annealed to 0 (cosine), batch 256, 10 epochs',
      config: { size: 28, lr: 0.05, lr_schedule: 'cosine', batch_size: 256, epochs: 10, train_limit: 0, test_limit: 0 },
      target: { metric: 'test_acc', direction: 'max', value: 0.88, source: "0.88: this project's bar for a 30-minute run on 2 CPU cores (d2l §8.6 printed test acc 0.919 at 96×96, 10 epochs)" },
    },
  },
});
