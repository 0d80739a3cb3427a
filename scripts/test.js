#!/usr/bin/env node
// Runs the whole Vitest suite (unit and integration projects) and ends with one plain summary line,
// "tests: N passed, N failed, N skipped", which CI reads. Exits non-zero when any test fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';

mkdirSync('coverage', { recursive: true });
const out = 'coverage/test-results.json';
const r = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let summary = 'tests: results missing';
if (existsSync(out)) {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const failed = j.numFailedTests;
  summary = `tests: ${j.numPassedTests} passed, ${failed} failed, ${j.numPendingTests + (j.numTodoTests ?? 0)} skipped`;
}
process.stdout.write(`\n${summary}\n`);
process.exit(r.status ?? 1);
