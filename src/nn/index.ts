export { Module } from './module.js';
export * from './layers.js';
export * from './losses.js';
export * as init from './init.js';
