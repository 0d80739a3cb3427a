// Prints the README error table from src/errors.ts (npm run docs:errors).
import { ERROR_CATALOGUE } from '../src/errors.js';

const rows = Object.entries(ERROR_CATALOGUE).map(
  ([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`,
);
process.stdout.write(['| code | HTTP | meaning |', '| --- | --- | --- |', ...rows].join('\n') + '\n');
