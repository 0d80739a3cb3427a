#!/usr/bin/env node
// The `iotsec` command. Runs the compiled CLI from dist/ when it exists (production images build it),
// otherwise the TypeScript sources through tsx, so `npm install && npm start` needs no build step.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
if (process.env.IOTSEC_USE_DIST === '1' && existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
