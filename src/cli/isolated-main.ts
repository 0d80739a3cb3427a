/** Entry of the worker thread of an isolated command (see ./isolated.ts). */
import { workerData } from 'node:worker_threads';
import { exitOnUnhandledRejection } from './errors.js';
import type { IsolatedData } from './isolated.js';
import { main } from './program.js';

const data = workerData as IsolatedData;
// Terminal-ness as the parent thread sees it: the progress bar and prompts depend on it.
if (data.stdoutTty) Object.defineProperty(process.stdout, 'isTTY', { value: true });
if (data.stderrTty) {
  Object.defineProperty(process.stderr, 'isTTY', { value: true });
  Object.defineProperty(process.stderr, 'columns', { value: data.columns });
}

exitOnUnhandledRejection();

process.exit(await main(data.argv));
