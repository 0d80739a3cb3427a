/** Vulnerability services on the database: import, matching (cached index), API queries, worker jobs. */
export * from './rows.js';
export * from './repository.js';
export * from './importer.js';
export * from './matching.js';
export * from './queries.js';
export * from './jobs.js';
