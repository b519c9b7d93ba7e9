// Time 8 training steps of a translation paper's full preset (random batch, the full vocabularies) in a built checkout:
// PFS_THREADS=1 node research/translation/fullstep.mjs /path/to/checkout seq2seq
const [root, name] = [process.argv[2], process.argv[3]];
const { Tensor, tuneMalloc } = await import(`${root}/dist/src/node.js`);
tuneMalloc?.();
const { Generator } = await import(`${root}/dist/src/tensor/rng.js`);
const { Adam } = await import(`${root}/dist/src/optim/index.js`);
const { findPaper } = await import(`${root}/dist/papers/index.js`);
const T = await import(`${root}/dist/papers/translation/train.js`);
const paper = findPaper(name);
const c = paper.presets.full.config;
const [S, V] = [9794, 17386];
const g = new Generator(7);
const model = paper.build(c, S, V, g);
model.train();
const opt = new Adam(model.parameters(), { lr: c.lr });
const B = c.batch_size, N = c.num_steps;
const batch = [Tensor.randint(0, S, [B, N], { generator: g }), Tensor.randint(2, N + 1, [B], { generator: g }), Tensor.randint(0, V, [B, N], { generator: g }), Tensor.randint(2, N + 1, [B], { generator: g })];
const times = [];
for (let i = 0; i < 8; i++) { const s = performance.now(); T.translationStep(model, opt, batch, 2, c.clip); times.push(performance.now() - s); }
times.sort((a, b) => a - b);
console.log(root, name, 'full step: min', times[0].toFixed(0), 'median', times[4].toFixed(0), 'ms');
