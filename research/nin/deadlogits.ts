/**
 * Which of NiN's 10 logits are 0 for every image, at init as `pfs train nin` builds the net (d2l's
 * Xavier init, seeded as the trainer seeds it): `node dist/research/nin/deadlogits.js [SIZE=67]
 * [SEEDS=0,1,2,3,4,5] [IMAGES=2000]`. The logits are ReLU outputs (the last NiN block ends in a ReLU,
 * then global average pooling); one that is 0 for all images gets no gradient, so its class cannot be
 * predicted until the layers below it change. Prints, per seed, those classes over the first IMAGES
 * test images (PFS_DATA_DIR or the default data directory).
 */
import '../../src/backend/auto.js';
import { noGrad } from '../../src/autograd/mode.js';
import { findVisionNet } from '../../papers/vision/nets.js';
import { fashionMnistLoader, seededNet } from '../../papers/vision/train.js';

/** The classes whose logit is 0 for each of the first `images` test images, for the net of `seed`. */
export function deadLogits(size: number, seed: number, images: number, dataDir?: string): number[] {
  const net = seededNet(findVisionNet('nin'), size, seed).model; // the net `pfs train nin --seed` starts from
  net.eval();
  const alive = new Array<boolean>(10).fill(false);
  noGrad(() => {
    for (const [x] of fashionMnistLoader('test', size, { batchSize: 250, limit: images, dataDir })) {
      const z = net.forward(x).toTypedArray();
      for (let i = 0; i < z.length; i++) if (z[i] !== 0) alive[i % 10] = true;
    }
  });
  return alive.flatMap((a, k) => (a ? [] : [k]));
}

if (process.argv[1]?.endsWith('deadlogits.js')) {
  const size = Number(process.argv[2] ?? 67);
  const seeds = (process.argv[3] ?? '0,1,2,3,4,5').split(',').map(Number);
  const images = Number(process.argv[4] ?? 2000);
  for (const seed of seeds) {
    const dead = deadLogits(size, seed, images);
    console.log(`NiN ${size}×${size}, seed ${seed}: ${dead.length} of 10 logits are 0 for all ${images} images (classes ${dead.join(', ') || 'none'})`);
  }
}
