/**
 * The NetFlow v5/v9/IPFIX collector with its socket in a worker thread (worker.ts): the worker receives and
 * decodes datagrams (templates per exporter and domain, pending sets, counters: all of NetflowCollector) and
 * converts the records to flows; this thread only turns the batches it receives back into source items for
 * `onItems`. The socket is thus drained while this thread writes a batch to the database or runs detection,
 * instead of overflowing.
 *
 * Back-pressure: a batch is acknowledged once handed to `onItems`, unless `backlog()` (what the consumer has
 * buffered, e.g. StreamSink.buffered) is at `maxBacklog` or more: then the acknowledgement waits until it is
 * not, and the worker keeps what it receives in compact form meanwhile, up to `maxQueuedRecords` flows in
 * memory, beyond which it spools sealed batches to `spoolFile` (up to `maxSpoolBytes`) or, without one or
 * past it, drops (counted in `queueDropped`). stop() closes the socket and hands over everything
 * already received (within `drainTimeoutMs`) before it resolves.
 *
 * A worker that dies (it should not: decoding never throws) is restarted after a second, counters kept;
 * templates are learnt again from the exporters' next refresh.
 */
import type { AddressInfo } from 'node:net';
import { moduleWorker } from '../../threads/module-worker.js';
import type { Worker } from 'node:worker_threads';
import type { SourceItem } from '../types.js';
import { DEFAULT_RECV_BUFFER, emptyCollectorStats, type NetflowCollectorOptions } from './collector.js';
import { decodeFlowItems } from './flow-batch.js';
import type { ReceiverOptions, ReceiverStats, ToMain, ToWorker } from './worker.js';

export type { ReceiverStats } from './worker.js';

/**
 * Where the flows go, one of two: `onItems` takes each batch decoded; `onDeferred` takes it still encoded,
 * its flow count and a function that decodes it into the items onItems would get. A consumer that keeps
 * batches waiting (StreamSink.pushDeferred) then holds one buffer per batch until it writes them, not an
 * object per flow for the garbage collector to copy.
 */
export type FlowConsumer =
  | { onItems: NetflowCollectorOptions['onItems']; onDeferred?: undefined }
  | { onDeferred: (flows: number, decode: () => SourceItem[]) => void; onItems?: undefined };

export type ThreadedNetflowCollectorOptions = Omit<NetflowCollectorOptions, 'now' | 'onItems'> &
  FlowConsumer &
  ThreadedOptions;

interface ThreadedOptions {
  /** Flows per batch handed over. Default 4096. */
  batchRecords?: number;
  /** A partial batch is handed over after this long. Default 20 ms. */
  maxBatchDelayMs?: number;
  /** Batches handed over and not yet acknowledged. Default 4. */
  maxInFlight?: number;
  /** Flows waiting in the receiving thread's memory before they are spooled or dropped (~220 B each). Default 400 000. */
  maxQueuedRecords?: number;
  /** A file where batches beyond maxQueuedRecords wait (spool.ts) instead of being dropped. Default: none. */
  spoolFile?: string | null;
  /** Bytes the spool file may hold; beyond, flows are dropped. Default 1 GiB. */
  maxSpoolBytes?: number;
  /** What the consumer holds and has not stored yet (flows or items). Default: nothing. */
  backlog?: () => number;
  /** Hand-over pauses while backlog() is at least this. Default 100 000. */
  maxBacklog?: number;
  /** stop() waits this long for everything received to be handed over. Default 20 s. */
  drainTimeoutMs?: number;
  /** How often the worker reports its counters. Default 250 ms. */
  statsIntervalMs?: number;
}

export interface ThreadedCollectorStats extends ReceiverStats {
  /** Times the receiving thread died and was restarted. */
  workerRestarts: number;
}

const SUMMED = [
  'records',
  'bytes',
  'flows',
  'datagrams',
  'pendingRecovered',
  'pendingDropped',
  'sequenceGaps',
  'missing',
  'queueDropped',
] as const;

export class ThreadedNetflowCollector {
  private readonly opts: ThreadedNetflowCollectorOptions;
  private worker: Worker | null = null;
  private bound: AddressInfo | null = null;
  private last: ReceiverStats;
  /** Counters of workers that died (added to the live worker's). */
  private base: ReceiverStats;
  private restarts = 0;
  private consumerErrors = 0;
  private held = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private stopped: (() => void) | null = null;

  constructor(opts: ThreadedNetflowCollectorOptions) {
    this.opts = opts;
    this.last = emptyReceiverStats();
    this.base = emptyReceiverStats();
  }

  /** Starts the worker and binds its socket. Resolves with the bound address (useful with port 0). */
  async start(): Promise<AddressInfo> {
    if (this.worker) throw new Error('ThreadedNetflowCollector already started');
    this.stopping = false;
    try {
      this.bound = await this.spawn(this.opts.port);
    } catch (e) {
      const w = this.worker as Worker | null; // set by spawn()
      this.worker = null;
      await w?.terminate();
      throw e;
    }
    return this.bound;
  }

  address(): AddressInfo | null {
    return this.bound;
  }

  /** The latest counters (the worker reports them every statsIntervalMs, and when it stops). */
  stats(): ThreadedCollectorStats {
    const s = this.last;
    const b = this.base;
    const errors: Record<string, number> = { ...b.errors };
    for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
    if (this.consumerErrors > 0) errors.consumer = (errors.consumer ?? 0) + this.consumerErrors;
    const out: ThreadedCollectorStats = {
      ...s,
      errors,
      exporters: s.exporters.map((e) => ({ ...e, errors: { ...e.errors } })),
      workerRestarts: this.restarts,
    };
    for (const k of SUMMED) out[k] = s[k] + b[k];
    return out;
  }

  /** Closes the socket, hands over what was received (within drainTimeoutMs), then ends the worker. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const w = this.worker;
    if (!w) return;
    const drainTimeoutMs = this.opts.drainTimeoutMs ?? 20_000;
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    w.postMessage({ type: 'stop', drainTimeoutMs } satisfies ToWorker);
    const timeout = new Promise<void>((r) => setTimeout(r, drainTimeoutMs + 5000).unref());
    await Promise.race([done, timeout]);
    this.stopped = null;
    this.worker = null;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    await w.terminate();
  }

  private spawn(port: number): Promise<AddressInfo> {
    const o = this.opts;
    const data: ReceiverOptions = {
      collector: {
        port,
        host: o.host ?? '0.0.0.0',
        recvBufferSize: o.recvBufferSize ?? DEFAULT_RECV_BUFFER,
        ...pick(o, [
          'pendingTimeoutMs',
          'maxPendingPerExporter',
          'maxExporters',
          'warnIntervalMs',
          'communityIdSeed',
          'limits',
          'templateCache',
          'timeWindow',
        ]),
      },
      batchRecords: o.batchRecords ?? 4096,
      maxBatchDelayMs: o.maxBatchDelayMs ?? 20,
      maxInFlight: o.maxInFlight ?? 4,
      maxQueuedRecords: o.maxQueuedRecords ?? 400_000,
      statsIntervalMs: o.statsIntervalMs ?? 250,
      spoolFile: o.spoolFile ?? null,
      maxSpoolBytes: o.maxSpoolBytes ?? 1024 ** 3,
    };
    const w = spawnReceiver(data);
    this.worker = w;
    return new Promise<AddressInfo>((resolve, reject) => {
      let listening = false;
      w.on('message', (m: ToMain) => {
        switch (m.type) {
          case 'listening':
            listening = true;
            resolve(m.address);
            break;
          case 'start-failed': {
            const e: NodeJS.ErrnoException = new Error(m.message);
            if (m.code) e.code = m.code;
            reject(e);
            break;
          }
          case 'batch':
            this.onBatch(w, m);
            break;
          case 'stats':
            this.last = m.stats;
            break;
          case 'warn':
            this.opts.log?.warn(m.obj, m.msg);
            break;
          case 'stopped':
            this.last = m.stats;
            this.stopped?.();
            break;
        }
      });
      w.on('error', (e) => {
        if (!listening) reject(e);
        else this.opts.log?.warn({ err: e.message }, 'netflow receiving thread failed');
      });
      w.on('exit', (code) => {
        if (!listening) {
          reject(new Error(`netflow receiving thread exited (${code}) before listening`));
          return;
        }
        if (this.worker !== w) return;
        this.worker = null;
        this.stopped?.(); // it was stopping anyway
        if (this.stopping) return;
        // Unexpected: keep its counters, start another on the same port.
        this.base = addStats(this.base, this.last);
        this.last = emptyReceiverStats();
        this.restarts++;
        this.held = 0;
        this.opts.log?.warn({ code }, 'netflow receiving thread stopped; restarting it');
        this.restart(this.bound?.port ?? port, 1000);
      });
    });
  }

  /** Starts a new worker after `delayMs`; on failure tries again, waiting twice as long (up to 30 s). */
  private restart(port: number, delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.spawn(port).catch((e: unknown) => {
        void this.worker?.terminate();
        this.worker = null;
        this.opts.log?.warn(
          { err: e instanceof Error ? e.message : String(e), retry_ms: Math.min(30_000, delayMs * 2) },
          'netflow receiving thread could not restart',
        );
        if (!this.stopping) this.restart(port, Math.min(30_000, delayMs * 2));
      });
    }, delayMs);
  }

  private onBatch(w: Worker, m: Extract<ToMain, { type: 'batch' }>): void {
    const { batch } = m;
    try {
      const o = this.opts;
      if (o.onDeferred) o.onDeferred(batch.n, () => decodeFlowItems(batch));
      else o.onItems(decodeFlowItems(batch));
    } catch (e) {
      this.consumerErrors++;
      this.opts.log?.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'netflow onItems callback threw',
      );
    }
    if (w !== this.worker) return;
    this.held++;
    this.releaseHeld();
  }

  /** Acknowledges held batches when the consumer's backlog allows. */
  private releaseHeld(): void {
    const w = this.worker;
    if (!w || this.held === 0) return;
    const max = this.opts.maxBacklog ?? 100_000;
    if (!this.opts.backlog || this.opts.backlog() < max) {
      for (; this.held > 0; this.held--) w.postMessage({ type: 'ack' } satisfies ToWorker);
      return;
    }
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = null;
      this.releaseHeld();
    }, 10);
  }
}

export function emptyReceiverStats(): ReceiverStats {
  return {
    ...emptyCollectorStats(),
    queueDropped: 0,
    queued: 0,
    spooled: 0,
    spoolLimitBytes: null,
    socketDrops: null,
  };
}

function addStats(a: ReceiverStats, b: ReceiverStats): ReceiverStats {
  const errors: Record<string, number> = { ...a.errors };
  for (const [k, v] of Object.entries(b.errors)) errors[k] = (errors[k] ?? 0) + v;
  const out: ReceiverStats = { ...a, errors };
  for (const k of SUMMED) out[k] = a[k] + b[k];
  return out;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The receiving thread (./worker.ts; from the sources under tsx, see moduleWorker). */
function spawnReceiver(data: ReceiverOptions): Worker {
  // A backstop: the queue is bounded far below this, but should the thread ever exceed it, only the thread
  // dies (and is restarted), not the process.
  return moduleWorker(new URL('./worker.js', import.meta.url), {
    workerData: { netflowReceiver: data },
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
}
