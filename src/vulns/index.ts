/** Public API of the vulnerability module: CPE names, versions, NVD/KEV/EPSS import, device matching, risk. */
export * from './cpe/index.js';
export * from './version.js';
export * from './nvd/types.js';
export { NvdRecordError, normaliseCve } from './nvd/normalise.js';
export { NvdImportError, collectNvd, importNvd } from './nvd/import.js';
export type { NvdImportErrorCode, NvdImportItem, NvdImportSummary } from './nvd/import.js';
export * from './kev.js';
export * from './epss.js';
export * from './match/index.js';
export * from './risk.js';
export { readBytes, readLines } from './input.js';
export type { ByteSource } from './input.js';
