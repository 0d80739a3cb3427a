export * from './types.js';
export * from './fs.js';
export * from './compare.js';
