/**
 * The decode worker's entry (see worker-batches.ts): decodes one capture file with fileBatches and posts
 * each batch to the parent, at most LOOKAHEAD batches ahead of what the parent has taken.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fileBatches, type FileDecodeOptions } from './file-batches.js';
import type { WorkerMessage } from './worker-batches.js';

const LOOKAHEAD = 2;

const port = parentPort;
if (!port) throw new Error('decode-worker.ts runs as a worker thread');
let credit = LOOKAHEAD;
let wake: (() => void) | null = null;
port.on('message', (m: unknown) => {
  if (m === 'more') {
    credit++;
    wake?.();
    wake = null;
  }
});

const send = (m: WorkerMessage) => port.postMessage(m);

try {
  for await (const b of fileBatches(workerData as FileDecodeOptions)) {
    while (credit <= 0) await new Promise<void>((r) => (wake = r));
    credit--;
    send({ type: 'batch', ...b });
  }
  send({ type: 'end' });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  const offset = (err as { offset?: unknown }).offset;
  send({
    type: 'error',
    name: err.name,
    message: err.message,
    stack: err.stack ?? null,
    offset: typeof offset === 'number' ? offset : 0,
  });
} finally {
  port.close();
}
