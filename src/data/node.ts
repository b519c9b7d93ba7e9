/** src/data, the Node-only part: where data files live, downloads, and the readers that open files. */
export * from './datadir.js';
export * from './load.js';
