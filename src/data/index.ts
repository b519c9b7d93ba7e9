/** src/data, the browser-safe part: datasets, the DataLoader, transforms, parsers of the corpora. */
export * from './dataset.js';
export * from './transforms.js';
export * from './fashion-mnist.js';
export * from './text.js';
export * from './airfoil.js';
export * from './zip.js';
