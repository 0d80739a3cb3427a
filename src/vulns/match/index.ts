export * from './alias.js';
export * from './evaluate.js';
export * from './cve-index.js';
