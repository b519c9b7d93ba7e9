export { Module } from './module.js';
export * from './layers.js';
export * from './losses.js';
export * from './attention.js';
export * as init from './init.js';
export { layerSummary, formatSummary } from './summary.js';
export type { Summary, SummaryRow } from './summary.js';
