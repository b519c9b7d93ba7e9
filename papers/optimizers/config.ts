/**
 * Presets of the optimisers paper. Experiments 1 and 2 have no knobs: their settings are d2l's and
 * their targets d2l's printed numbers. Experiment 3's size and learning rates are configurable.
 */
import type { Preset, Schema, Target } from '../paper.js';

export type OptimizersConfig = {
  /** Which experiment to run: '1', '2', '3' or 'all'. */
  experiment: string;
  exp3_epochs: number;
  exp3_batch_size: number;
  /** Train on the first N images only (0: all 60,000). */
  exp3_train_limit: number;
  /** Evaluate on the first N test images only (0: all 10,000). */
  exp3_test_limit: number;
  exp3_lr_momentum: number;
  exp3_momentum: number;
  exp3_lr_adagrad: number;
  exp3_lr_rmsprop: number;
  exp3_lr_adadelta: number;
  exp3_lr_adam: number;
};

export const EXPERIMENTS = ['1', '2', '3', 'all'] as const;

export const schema: Schema<OptimizersConfig> = {
  experiment: { type: 'choice', choices: EXPERIMENTS, help: 'which experiment: 1 (2-D function), 2 (airfoil), 3 (Fashion-MNIST MLP) or all' },
  exp3_epochs: { type: 'int', min: 1, help: 'experiment 3: passes over the training set' },
  exp3_batch_size: { type: 'int', min: 1, help: 'experiment 3: minibatch size' },
  exp3_train_limit: { type: 'int', min: 0, help: 'experiment 3: train on the first N images only (0 = all)' },
  exp3_test_limit: { type: 'int', min: 0, help: 'experiment 3: evaluate on the first N test images only (0 = all)' },
  exp3_lr_momentum: { type: 'float', min: 0, help: 'experiment 3: SGD-with-momentum learning rate' },
  exp3_momentum: { type: 'float', min: 0, max: 1, help: 'experiment 3: momentum β' },
  exp3_lr_adagrad: { type: 'float', min: 0, help: 'experiment 3: AdaGrad learning rate' },
  exp3_lr_rmsprop: { type: 'float', min: 0, help: 'experiment 3: RMSProp learning rate' },
  exp3_lr_adadelta: { type: 'float', min: 0, help: 'experiment 3: Adadelta learning rate (1 = the paper\'s method)' },
  exp3_lr_adam: { type: 'float', min: 0, help: 'experiment 3: Adam learning rate' },
};

/**
 * Rates from the sweep in research/optimizers/tune_exp3.py (PyTorch, 10 epochs on 10,000 training images): per optimiser,
 * the rate of its grid (steps of about 3×) with the lowest final training loss.
 */
const rates = {
  exp3_lr_momentum: 0.1,
  exp3_momentum: 0.9,
  exp3_lr_adagrad: 0.03,
  exp3_lr_rmsprop: 0.003,
  exp3_lr_adadelta: 3.0,
  exp3_lr_adam: 0.01,
};

/**
 * The number of rows of experiments 1 and 2 outside their tolerance (1e−5 of d2l's printed iterate;
 * ±0.01 of d2l's printed loss). `--target targets_missed=0` fails the run when any misses.
 */
export const TARGET: Target = {
  metric: 'targets_missed',
  direction: 'min',
  value: 0,
  source: "0 rows missed: experiment 1 within 1e-5 of d2l's printed iterates (§11.3, 11.6–11.8), experiment 2 within ±0.01 of d2l's printed losses (§11.6–11.10)",
};

export const presets: Record<string, Preset<OptimizersConfig>> = {
  d2l: {
    description: 'all three experiments; experiment 3 at full size (60,000 images, batch 256, 10 epochs, five optimisers)',
    config: { experiment: 'all', exp3_epochs: 10, exp3_batch_size: 256, exp3_train_limit: 0, exp3_test_limit: 0, ...rates },
    target: TARGET,
  },
  cpu: {
    description: 'all three experiments; experiment 3 on the first 10,000 training images, 10 epochs',
    config: { experiment: 'all', exp3_epochs: 10, exp3_batch_size: 256, exp3_train_limit: 10000, exp3_test_limit: 0, ...rates },
    target: TARGET,
  },
};
