import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { loadConfig } from '../config.js';
import { moduleWorker } from '../threads/module-worker.js';
import { EXIT } from './errors.js';

/** What the isolated command's thread needs from this one (./isolated-main.ts). */
export interface IsolatedData {
  argv: string[];
  /** Whether stdout/stderr here are terminals (in the worker they are pipes to this thread). */
  stdoutTty: boolean;
  stderrTty: boolean;
  columns: number | undefined;
}

/**
 * Runs a command (`iotsec ingest …`) in a worker thread whose heap is capped at INGEST_HEAP_MB, so its
 * memory stays bounded however large the input: V8 otherwise lets a busy heap grow well past what it keeps
 * alive before collecting. The command sees terminals where this thread has them (progress bar), its output
 * is passed through in order, and its exit code is returned. Running out of the cap is reported with the
 * variable to raise.
 */
export async function runIsolated(argv: string[]): Promise<number> {
  const config = loadConfig();
  const data: IsolatedData = {
    argv,
    stdoutTty: Boolean(process.stdout.isTTY),
    stderrTty: Boolean(process.stderr.isTTY),
    columns: process.stderr.columns,
  };
  const worker = moduleWorker(new URL('./isolated-main.js', import.meta.url), {
    workerData: data,
    // Young generation 32 MB: with 16, a batch's flows and observations outlived several scavenges each
    // (copied every time); ingest into PostgreSQL took 4 % longer (measured on the bench capture).
    resourceLimits: { maxOldGenerationSizeMb: config.ingestHeapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  const drained = Promise.all([pass(worker.stdout, process.stdout), pass(worker.stderr, process.stderr)]);
  let failure: Error | null = null;
  worker.on('error', (e) => (failure = e));
  const [code] = (await once(worker, 'exit')) as [number];
  await drained;
  if (failure !== null) {
    const e: Error & { code?: string } = failure;
    process.stderr.write(
      e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `iotsec ${argv[0] ?? ''}: out of memory within INGEST_HEAP_MB=${config.ingestHeapMb}; raise it and run ` +
            'the same command again (an interrupted ingest resumes where it stopped)\n'
        : `iotsec ${argv[0] ?? ''}: ${e.stack ?? e.message}\n`,
    );
    return EXIT.runtime;
  }
  return code;
}

async function pass(from: Readable, to: NodeJS.WriteStream): Promise<void> {
  for await (const chunk of from) if (!to.write(chunk as Buffer)) await once(to, 'drain');
}
