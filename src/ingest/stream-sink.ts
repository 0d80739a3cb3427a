import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import type { SourceItem } from '../sources/types.js';
import { AnalysisQueue, analyseAfterCommit, identifyAfterCommit } from './after-commit.js';
import { IngestWriter, type WriteResult } from './writer.js';
import { trafficTicker } from './traffic-tick.js';

/**
 * The database side of a live source (NetFlow collector, live capture, demo network): items are buffered
 * and written in one transaction with the source's stats, then what follows a commit (identification,
 * detection) runs. A flush starts every `flushMs`, as soon as `batchItems` are waiting, or (with
 * `idleFlushMs`) when nothing new arrived for that long (the end of a burst); flushes run one at a time, and
 * the next starts as soon as one ends if a batch is waiting already, so under load batches grow with the
 * backlog and their fixed costs amortise. When the database is down the buffer is kept and the write retried with
 * backoff; past `maxBuffered` items the oldest are dropped and counted, so memory stays bounded whatever
 * happens.
 */
export interface StreamSinkOptions {
  sourceId: string;
  /** Flush what waits this often (an item waits at most this long when nothing else starts a flush). Default 1000 ms. */
  flushMs?: number;
  /** A flush starts as soon as this many items wait. Default 20 000. */
  batchItems?: number;
  /** Flush when no item arrived for this long (end of a burst). Default: off. */
  idleFlushMs?: number;
  maxBuffered?: number;
  log?: Logger;
  /**
   * Extra stats saved with every flush (the source's own counters). A numeric `dropped` among them (items
   * the source itself had to drop) is added to the sink's own drops in the saved `dropped`.
   */
  stats?: () => Record<string, unknown>;
  /** Called after each committed flush with what was written. */
  onFlushed?: (r: { flows: number; observations: number; newDevices: number }) => void;
}

/** Items handed over still encoded: `n` of them, which `decode` gives (pushDeferred). */
interface Deferred {
  n: number;
  decode: () => SourceItem[];
}

export class StreamSink {
  /**
   * Waiting items, in arrival order, as the arrays they were pushed in (dropping from the front is O(1)), or
   * as deferred batches, decoded when they are taken.
   */
  private chunks: (SourceItem[] | Deferred)[] = [];
  /** Items in `chunks`. */
  private count = 0;
  /** When the newest waiting item arrived. */
  private lastAt = 0;
  /** The next periodic flush (every flushMs, as long as something waits). */
  private nextPeriodic: number;
  private flushing: Promise<void> | null = null;
  /** Analyses of committed batches (their runs never reject). */
  private readonly analyses = new AnalysisQueue();
  private readonly timer: NodeJS.Timeout;
  private readonly writer: IngestWriter;
  private readonly flushMs: number;
  /** The timer's period. */
  private readonly tickMs: number;
  private readonly batchItems: number;
  private readonly maxBuffered: number;
  private failures = 0;
  /** Batches committed. */
  private batches = 0;
  private retryAt = 0;
  dropped = 0;
  written = { flows: 0, observations: 0, newDevices: 0 };
  private closed = false;

  constructor(
    private readonly services: Services,
    private readonly opts: StreamSinkOptions,
  ) {
    this.writer = new IngestWriter(services.store);
    this.flushMs = opts.flushMs ?? 1000;
    this.batchItems = opts.batchItems ?? 20_000;
    this.maxBuffered = opts.maxBuffered ?? 200_000;
    this.nextPeriodic = Date.now() + this.flushMs;
    const tick = Math.max(10, Math.min(this.flushMs, (opts.idleFlushMs ?? Infinity) / 2));
    this.tickMs = tick;
    this.timer = setInterval(() => this.onTick(), tick);
    this.timer.unref();
  }

  /** Items waiting to be written (not counting a flush under way). */
  get buffered(): number {
    return this.count;
  }

  push(items: readonly SourceItem[]): void {
    if (items.length > 0) this.enqueue(items.slice(), items.length);
  }

  /**
   * Items that arrive still encoded, `n` of them, which `decode` gives in order (a NetFlow batch from the
   * receiving thread): decoded only when written, so the flows waiting for a flush stay one buffer per batch
   * instead of an object per flow, which the garbage collector would copy at every young-generation
   * collection meanwhile (the collector's main thread spent more time there than on any one task).
   */
  pushDeferred(n: number, decode: () => SourceItem[]): void {
    if (n > 0) this.enqueue({ n, decode }, n);
  }

  /** Queues a chunk of `n` items: the oldest go past maxBuffered, a flush starts at batchItems. */
  private enqueue(chunk: SourceItem[] | Deferred, n: number): void {
    if (this.closed) return;
    this.lastAt = Date.now();
    this.chunks.push(chunk);
    this.count += n;
    if (this.count > this.maxBuffered) this.dropOldest(this.count - this.maxBuffered);
    if (this.count >= this.batchItems) void this.flush();
  }

  private dropOldest(n: number): void {
    this.dropped += n;
    this.count -= n;
    let skip = 0;
    while (n > 0) {
      const c = this.chunks[skip] as SourceItem[] | Deferred;
      const size = Array.isArray(c) ? c.length : c.n;
      if (size <= n) {
        n -= size;
        skip++;
      } else {
        const items = this.decoded(c);
        if (items === null) {
          // Not decodable: the rest of it is lost as well.
          this.dropped += size - n;
          this.count -= size - n;
          skip++;
        } else this.chunks[skip] = items.slice(n);
        n = 0;
      }
    }
    if (skip > 0) this.chunks.splice(0, skip);
  }

  private onTick(): void {
    const now = Date.now();
    // The tick nearest the due time is the periodic one. Timers run on the event loop's cached clock, which
    // may lag the wall clock read when the sink was made: a tick due exactly on time could read a
    // millisecond early, and the flush then waited a whole period more (a test saw 2.1 s for a 1 s period).
    const periodic = now >= this.nextPeriodic - this.tickMs / 2;
    if (periodic) this.nextPeriodic = now + this.flushMs;
    if (this.count === 0 || this.flushing) return;
    const idle = this.opts.idleFlushMs;
    if (periodic || this.count >= this.batchItems || (idle !== undefined && now - this.lastAt >= idle))
      void this.flush();
  }

  /**
   * A chunk's items; null for a deferred batch that fails to decode (it cannot, unless its bytes were
   * damaged, e.g. in the NetFlow spool file), which is logged: the caller counts its items as dropped.
   */
  private decoded(c: SourceItem[] | Deferred): SourceItem[] | null {
    if (Array.isArray(c)) return c;
    try {
      return c.decode();
    } catch (err) {
      this.opts.log?.error(
        { err, items: c.n },
        'a batch handed over could not be decoded; its items are dropped',
      );
      return null;
    }
  }

  /** Takes every waiting item, in order. */
  private take(): SourceItem[] {
    const chunks = this.chunks.map((c) => {
      const items = this.decoded(c);
      if (items === null) this.dropped += (c as Deferred).n;
      return items ?? [];
    });
    this.chunks = [];
    this.count = 0;
    if (chunks.length === 1) return chunks[0] as SourceItem[];
    let total = 0;
    for (const c of chunks) total += c.length;
    const items = new Array<SourceItem>(total);
    let k = 0;
    for (const c of chunks) for (let i = 0; i < c.length; i++) items[k++] = c[i] as SourceItem;
    return items;
  }

  /** Puts items back in front of the waiting ones (a failed write). */
  private putBack(items: SourceItem[]): void {
    this.chunks.unshift(items);
    this.count += items.length;
    if (this.count > this.maxBuffered) this.dropOldest(this.count - this.maxBuffered);
  }

  /** Writes what is buffered, then what follows the commit; concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.count === 0 || Date.now() < this.retryAt) return Promise.resolve();
    const items = this.take();
    this.flushing = (async () => {
      try {
        const committed = await this.write(items);
        if (committed) {
          // Identification updates device rows, as the writer does: it runs before the next write.
          await this.identify(items, committed);
          // At most one analysis beside a write: the previous batch's is done before this flush ends.
          await this.analyses.done();
          // The analysis (detectors, destination profiles) runs while the database works on the next batch,
          // on its core, this thread on the other. With a backlog the next write starts at once, and the
          // analysis waits until that write has sent its rows (AnalysisQueue); without one it starts now.
          this.analyses.defer(() => this.analyse(items));
          if (!this.backlog()) this.analyses.start();
        }
      } finally {
        this.flushing = null;
      }
      // A backlog built up meanwhile: write it now rather than at the next tick.
      if (this.backlog()) void this.flush();
    })();
    return this.flushing;
  }

  /** Enough waits for the next flush to start as soon as this one ends. */
  private backlog(): boolean {
    return this.count >= this.batchItems || (this.closed && this.count > 0);
  }

  /** Writes one batch; null when it failed (then it waits again in front of the buffer). */
  private async write(items: SourceItem[]): Promise<WriteResult | null> {
    let flows = 0;
    for (let i = 0; i < items.length; i++) if ((items[i] as SourceItem).kind === 'flow') flows++;
    let committed: WriteResult | null = null;
    const t0 = performance.now();
    try {
      const extra = this.opts.stats?.() ?? {};
      const sourceDropped = typeof extra.dropped === 'number' ? extra.dropped : 0;
      // The previous batch's analysis, if it waits, starts once this batch's rows are with the database.
      committed = await this.analyses.beside((hooks) =>
        this.writer.write(
          items,
          {
            sourceId: this.opts.sourceId,
            checkpoint: { at: new Date().toISOString() },
            stats: {
              ...extra,
              flows_written: this.written.flows + flows,
              dropped: this.dropped + sourceDropped,
              sink_dropped: this.dropped,
            },
            status: 'running',
            lastError: null,
          },
          hooks,
        ),
      );
      this.opts.log?.debug(
        { items: items.length, write_ms: Math.round(performance.now() - t0), waiting: this.count },
        'batch written',
      );
      this.failures = 0;
      this.batches++;
      this.written.flows += committed.flows;
      this.written.observations += committed.observations;
    } catch (err) {
      // Keep the items (in front of newer ones) and back off: 1 s, 2 s, 4 s … up to 30 s.
      this.putBack(items);
      this.failures++;
      this.retryAt = Date.now() + Math.min(30_000, 1000 * 2 ** (this.failures - 1));
      this.opts.log?.warn({ err, failures: this.failures, buffered: this.count }, 'flush failed; will retry');
    }
    return committed;
  }

  /** Identification of a committed batch (never written twice: a failure is logged). */
  private async identify(items: SourceItem[], committed: WriteResult): Promise<void> {
    const t0 = performance.now();
    try {
      const fresh = await identifyAfterCommit(this.services, items, committed, this.opts);
      this.written.newDevices += fresh.length;
      this.opts.onFlushed?.({
        flows: committed.flows,
        observations: committed.observations,
        newDevices: fresh.length,
      });
    } catch (err) {
      this.opts.log?.error({ err }, 'after a committed batch: identification failed');
    }
    this.opts.log?.debug(
      { items: items.length, identify_ms: Math.round(performance.now() - t0), waiting: this.count },
      'batch identified',
    );
  }

  /** Detection and destination profiles of a committed batch; never rejects. */
  private async analyse(items: SourceItem[]): Promise<void> {
    const t0 = performance.now();
    try {
      await analyseAfterCommit(this.services, items, { sourceId: this.opts.sourceId, log: this.opts.log });
    } catch (err) {
      this.opts.log?.error({ err }, 'after a committed batch: detection failed');
    }
    this.opts.log?.debug(
      { items: items.length, analyse_ms: Math.round(performance.now() - t0), waiting: this.count },
      'batch analysed',
    );
  }

  /**
   * Final flush (retrying for up to `timeoutMs`), then stop. The source's final counters are saved even
   * when nothing was left to write.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const end = Date.now() + timeoutMs;
    await this.flushing;
    await this.analyses.settled();
    const before = this.batches;
    while ((this.count > 0 || this.flushing) && Date.now() < end) {
      this.retryAt = 0;
      await this.flush();
      if (this.count > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.batches === before && this.count === 0) await this.write([]);
    await this.analyses.settled();
    await trafficTicker(this.services.bus).flush();
  }

  /** Resolves once every committed batch has been analysed (tests, shutdown). */
  async settled(): Promise<void> {
    await this.flushing;
    await this.analyses.settled();
  }
}
