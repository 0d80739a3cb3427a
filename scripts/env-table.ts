// Prints the README configuration table from src/config.ts (npm run docs:env), so the two never drift.
import { ENV_SPEC } from '../src/config.js';

const rows = Object.entries(ENV_SPEC).map(([name, spec]) => {
  const def = spec.default === undefined || spec.default === '' ? '(unset)' : `\`${spec.default}\``;
  return `| \`${name}\` | ${def} | ${spec.doc.replaceAll('|', '\\|')} |`;
});
process.stdout.write(['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n') + '\n');
