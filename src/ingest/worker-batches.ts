import { moduleWorker } from '../threads/module-worker.js';
import type { FileBatch, FileDecodeOptions } from './file-batches.js';
import { IngestInputError } from './input-error.js';

/** What the decode worker posts. */
export type WorkerMessage =
  | ({ type: 'batch' } & FileBatch)
  | { type: 'end' }
  | { type: 'error'; name: string; message: string; stack: string | null; offset: number };

/**
 * The capture batches of a file, decoded in a worker thread (decode-worker.ts) while this thread writes the
 * previous ones to the database and runs what follows each commit: on a machine with two cores the packet
 * decoding no longer waits for the database work, nor the database work for the decoding. The batches are
 * exactly those of fileBatches() in this thread (same decoder, same order), so checkpoints and resume are
 * unchanged. The worker stays at most two batches ahead (bounded memory); stopping early (break/return)
 * terminates it.
 */
export async function* workerBatches(o: FileDecodeOptions): AsyncGenerator<FileBatch> {
  const worker = spawnDecodeWorker(o);
  const queue: WorkerMessage[] = [];
  let failure: Error | null = null;
  let exited = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m);
    notify();
  });
  worker.on('error', (e) => {
    failure = e;
    notify();
  });
  worker.on('exit', () => {
    exited = true;
    notify();
  });
  try {
    for (;;) {
      const m = queue.shift();
      if (!m) {
        if (failure) throw failure;
        if (exited) throw new Error(`${o.name}: the decode worker stopped before the end of the file`);
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      if (m.type === 'end') return;
      if (m.type === 'error') throw rebuild(o.name, m);
      worker.postMessage('more');
      yield { batch: m.batch, bytesRead: m.bytesRead };
    }
  } finally {
    await worker.terminate();
  }
}

function rebuild(file: string, m: Extract<WorkerMessage, { type: 'error' }>): Error {
  const e = m.name === 'IngestInputError' ? new IngestInputError(file, '', m.offset) : new Error();
  e.message = m.message;
  if (m.stack) e.stack = m.stack;
  return e;
}

/**
 * The decode worker's heap: its state is bounded whatever the capture (a flow table of at most 100 000 live
 * flows, one batch being built), so a fixed cap keeps its memory bounded without ever being reached.
 */
const DECODE_HEAP = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 };

function spawnDecodeWorker(o: FileDecodeOptions) {
  return moduleWorker(new URL('./decode-worker.js', import.meta.url), {
    workerData: o,
    resourceLimits: DECODE_HEAP,
  });
}
