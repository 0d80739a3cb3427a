import { and, eq, inArray, sql } from 'drizzle-orm';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import { StreamSink } from '../ingest/stream-sink.js';
import { LiveCapture } from '../sources/live/capture.js';
import { DEFAULT_RECV_BUFFER } from '../sources/netflow/collector.js';
import { ThreadedNetflowCollector } from '../sources/netflow/threaded.js';
import { sources } from '../store/schema.js';
import { startDemoSource } from './demo-source.js';
import { WatchFolder } from './watch-folder.js';

/**
 * The collector role: NetFlow/IPFIX listeners, live captures and watched folders. Sources come from the
 * command line (`iotsec collect --netflow 2055 --live eth0 --watch DIR`) and from the `sources` table (created
 * through the API); the table is re-read every `pollMs`, so a source added in the dashboard starts without a
 * restart and a deleted one stops. Each running source writes through its own StreamSink and reports its
 * status and counters in its row.
 */

export type LiveKind = 'netflow' | 'live' | 'watch' | 'demo';
export const LIVE_KINDS: LiveKind[] = ['netflow', 'live', 'watch', 'demo'];

export interface SourceSpec {
  kind: LiveKind;
  name: string;
  config: Record<string, unknown>;
}

export interface RunningSource {
  id: string;
  spec: SourceSpec;
  stop(): Promise<void>;
}

/** Extra source kinds (live capture, demo network) plug in here, so this module does not grow a switch. */
export type SourceStarter = (
  services: Services,
  id: string,
  spec: SourceSpec,
  log: Logger,
) => Promise<{ stop(): Promise<void> }>;

/** Where NetFlow collectors spool what their memory queue cannot hold (set from the config; null: drop). */
let netflowSpool: { dir: string; maxBytes: number } | null = null;

/** Set once per process from the config (startCollectorRole); maxBytes 0 turns the spool off. */
export function configureNetflowSpool(s: { dir: string; maxBytes: number }): void {
  netflowSpool = s.maxBytes > 0 ? s : null;
}

const starters: Partial<Record<LiveKind, SourceStarter>> = {
  demo: startDemoSource,
  netflow: async (services, id, spec, log) => {
    let collector: ThreadedNetflowCollector | null = null;
    const sink = new StreamSink(services, {
      sourceId: id,
      log,
      // Under load the backlog makes the batches; at the end of a burst, store what is left at once.
      idleFlushMs: 100,
      // Bounded by the hand-over below (maxBacklog); this is a last resort.
      maxBuffered: 200_000,
      stats: () => {
        const st = collector?.stats();
        return st ? { ...st, dropped: st.queueDropped } : {};
      },
    });
    collector = new ThreadedNetflowCollector({
      port: Number(spec.config.port),
      host: typeof spec.config.host === 'string' ? spec.config.host : '0.0.0.0',
      // Batches wait in the sink still encoded, decoded when written.
      onDeferred: (n, decode) => sink.pushDeferred(n, decode),
      backlog: () => sink.buffered,
      maxBacklog: 60_000,
      drainTimeoutMs: 12_000,
      ...(netflowSpool
        ? { spoolFile: join(netflowSpool.dir, `netflow-${id}.spool`), maxSpoolBytes: netflowSpool.maxBytes }
        : {}),
      log,
    });
    const addr = await collector.start();
    log.info({ source: spec.name, port: addr.port }, 'NetFlow/IPFIX collector listening');
    const c = collector;
    // The receive buffer the OS granted (Linux caps it at net.core.rmem_max): known once the worker reports.
    setTimeout(() => {
      const got = c.stats().recvBufferSize;
      if (got !== null && got < DEFAULT_RECV_BUFFER)
        log.warn(
          { granted: got, wanted: DEFAULT_RECV_BUFFER },
          'NetFlow/IPFIX socket receive buffer smaller than asked (raise net.core.rmem_max to absorb bursts)',
        );
    }, 1000).unref();
    return {
      stop: async () => {
        await c.stop();
        await sink.close();
      },
    };
  },
  live: async (services, id, spec, log) => {
    let capture: LiveCapture | null = null;
    const sink = new StreamSink(services, {
      sourceId: id,
      log,
      stats: () => ({ ...(capture?.stats() ?? {}) }),
    });
    capture = new LiveCapture({
      iface: String(spec.config.interface),
      ...(typeof spec.config.filter === 'string' ? { filter: spec.config.filter } : {}),
      onItems: (items) => sink.push(items),
      onError: (e) => {
        log.error({ code: e.code }, e.message);
        void setStatus(services, id, 'error', `${e.code}: ${e.message}`).catch(() => undefined);
      },
    });
    await capture.start();
    log.info({ source: spec.name, interface: spec.config.interface }, 'live capture running');
    const c = capture;
    return {
      stop: async () => {
        await c.stop();
        await sink.close();
      },
    };
  },
  watch: async (services, id, spec, log) => {
    const w = new WatchFolder(services, String(spec.config.directory), log.child({ source: spec.name }));
    w.start();
    const report = setInterval(() => {
      void services.store.db
        .update(sources)
        .set({
          stats: { files_ingested: w.ingested, files_failed: w.failed },
          lastError: w.lastError,
          updatedAt: new Date(),
        })
        .where(eq(sources.id, id))
        .catch(() => undefined);
    }, 10_000);
    report.unref();
    return {
      stop: async () => {
        clearInterval(report);
        await w.stop();
      },
    };
  },
};

export function registerSourceStarter(kind: LiveKind, starter: SourceStarter): void {
  starters[kind] = starter;
}

/** The sources row for a command-line source: found by kind and config, created when missing. */
export async function ensureSource(services: Services, spec: SourceSpec): Promise<string> {
  const [existing] = await services.store.db
    .select({ id: sources.id })
    .from(sources)
    .where(and(eq(sources.kind, spec.kind), sql`${sources.config} = ${JSON.stringify(spec.config)}::jsonb`))
    .limit(1);
  if (existing) return existing.id;
  const [row] = await services.store.db
    .insert(sources)
    .values({ kind: spec.kind, name: spec.name, config: spec.config, status: 'configured' })
    .returning({ id: sources.id });
  if (!row) throw new Error('insert returned nothing');
  return row.id;
}

async function setStatus(services: Services, id: string, status: string, lastError: string | null = null) {
  await services.store.db
    .update(sources)
    .set({ status, lastError, updatedAt: new Date() })
    .where(eq(sources.id, id));
}

export class Collector {
  private readonly running = new Map<string, RunningSource>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly services: Services,
    private readonly log: Logger,
    private readonly pollMs = 15_000,
  ) {}

  /**
   * Starts the command-line sources (recorded in the table) and everything configured in the table. The demo
   * network runs with demo 'on', or with 'auto' when no real source (NetFlow, live, folder) is configured;
   * with 'off' a demo source left from earlier is disabled.
   */
  async start(cliSources: SourceSpec[], demo: 'auto' | 'on' | 'off' = 'off'): Promise<void> {
    for (const spec of cliSources) await ensureSource(this.services, spec);
    const real = await this.services.store.db
      .select({ id: sources.id })
      .from(sources)
      .where(inArray(sources.kind, ['netflow', 'live', 'watch']))
      .limit(1);
    if (demo === 'on' || (demo === 'auto' && real.length === 0)) {
      const demoId = await ensureSource(this.services, {
        kind: 'demo',
        name: 'Demo network (simulated)',
        config: { seed: 1 },
      });
      await setStatus(this.services, demoId, 'configured');
    } else {
      await this.services.store.db
        .update(sources)
        .set({ status: 'disabled', updatedAt: new Date() })
        .where(eq(sources.kind, 'demo'));
    }
    await this.sync();
    this.timer = setInterval(() => {
      this.syncing ??= this.sync().finally(() => (this.syncing = null));
    }, this.pollMs);
    this.timer.unref();
  }

  get sources(): RunningSource[] {
    return [...this.running.values()];
  }

  /** Starts configured sources that are not running, stops running ones whose row is gone. */
  async sync(): Promise<void> {
    const rows = await this.services.store.db.select().from(sources).where(inArray(sources.kind, LIVE_KINDS));
    const wanted = new Map(rows.filter((r) => r.status !== 'disabled').map((r) => [r.id, r]));
    for (const [id, r] of this.running) {
      if (!wanted.has(id)) {
        await r.stop().catch((err: unknown) => this.log.warn({ err }, 'stopping source failed'));
        this.running.delete(id);
      }
    }
    for (const [id, row] of wanted) {
      if (this.running.has(id)) continue;
      const spec: SourceSpec = { kind: row.kind as LiveKind, name: row.name, config: row.config };
      const starter = starters[spec.kind];
      if (!starter) {
        await setStatus(this.services, id, 'error', `no ${spec.kind} source support in this process`);
        continue;
      }
      try {
        const h = await starter(this.services, id, spec, this.log.child({ source: row.name }));
        this.running.set(id, { id, spec, stop: h.stop });
        await setStatus(this.services, id, 'running');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.log.error({ err, source: row.name }, 'source failed to start');
        await setStatus(this.services, id, 'error', message);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    for (const [id, r] of this.running) {
      await r.stop().catch((err: unknown) => this.log.warn({ err }, 'stopping source failed'));
      await setStatus(this.services, id, 'stopped').catch(() => undefined);
    }
    this.running.clear();
  }
}
