import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import type { SourceItem } from '../sources/types.js';
import { afterCommit } from './after-commit.js';
import { IngestWriter, type WriteResult } from './writer.js';

/**
 * The database side of a live source (NetFlow collector, live capture, demo network): items are buffered
 * and written every `flushMs` (or sooner when `batchItems` are waiting) in one transaction with the source's
 * stats. When the database is down the buffer is kept and the write retried with backoff; past `maxBuffered`
 * items the oldest are dropped and counted, so memory stays bounded whatever happens.
 */
export interface StreamSinkOptions {
  sourceId: string;
  flushMs?: number;
  batchItems?: number;
  maxBuffered?: number;
  log?: Logger;
  /** Extra stats saved with every flush (the source's own counters). */
  stats?: () => Record<string, unknown>;
  /** Called after each committed flush with what was written. */
  onFlushed?: (r: { flows: number; observations: number; newDevices: number }) => void;
}

export class StreamSink {
  private buffer: SourceItem[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly writer: IngestWriter;
  private failures = 0;
  private retryAt = 0;
  dropped = 0;
  written = { flows: 0, observations: 0, newDevices: 0 };
  private closed = false;

  constructor(
    private readonly services: Services,
    private readonly opts: StreamSinkOptions,
  ) {
    this.writer = new IngestWriter(services.store);
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  push(items: readonly SourceItem[]): void {
    if (this.closed) return;
    for (const it of items) this.buffer.push(it);
    const max = this.opts.maxBuffered ?? 200_000;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= (this.opts.batchItems ?? 20_000)) void this.flush();
  }

  /** Writes what is buffered; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0 || Date.now() < this.retryAt) return Promise.resolve();
    const items = this.buffer;
    this.buffer = [];
    this.flushing = (async () => {
      try {
        let committed: WriteResult | null = null;
        try {
          committed = await this.writer.write(items, {
            sourceId: this.opts.sourceId,
            checkpoint: { at: new Date().toISOString() },
            stats: {
              ...(this.opts.stats?.() ?? {}),
              flows_written: this.written.flows + items.filter((i) => i.kind === 'flow').length,
              dropped: this.dropped,
            },
            status: 'running',
            lastError: null,
          });
          this.failures = 0;
          this.written.flows += committed.flows;
          this.written.observations += committed.observations;
        } catch (err) {
          // Keep the items (in front of newer ones) and back off: 1 s, 2 s, 4 s … up to 30 s.
          this.buffer = items.concat(this.buffer);
          this.failures++;
          this.retryAt = Date.now() + Math.min(30_000, 1000 * 2 ** (this.failures - 1));
          this.opts.log?.warn(
            { err, failures: this.failures, buffered: this.buffer.length },
            'flush failed; will retry',
          );
        }
        // Outside the retry above: the batch is committed, so a failure here is logged, never written twice.
        if (committed) {
          try {
            const fresh = await afterCommit(this.services, items, committed, {
              sourceId: this.opts.sourceId,
              log: this.opts.log,
            });
            this.written.newDevices += fresh.length;
            this.opts.onFlushed?.({
              flows: committed.flows,
              observations: committed.observations,
              newDevices: fresh.length,
            });
          } catch (err) {
            this.opts.log?.error({ err }, 'after a committed batch: identification or detection failed');
          }
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Final flush (retrying for up to `timeoutMs`), then stop. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const end = Date.now() + timeoutMs;
    while ((this.buffer.length > 0 || this.flushing) && Date.now() < end) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
  }
}
