/**
 * NetFlow v5 / v9 / IPFIX UDP collector (node:dgram). Datagrams are decoded with decodeFlowExport against one
 * TemplateCache keyed by the exporter's *address* (not address:port: routers send templates and data from
 * different source ports, e.g. pmacct's test 112). Data sets whose template is unknown wait in a bounded
 * per-exporter pending list, are retried after every datagram of that exporter, and are dropped (counted)
 * after `pendingTimeoutMs`. Garbage never throws: every problem is counted by kind, and logged at most once
 * per `warnIntervalMs` (10 s) per exporter. Records whose values no column can hold are dropped and counted
 * (`bad_value`) rather than failing a whole batch's transaction.
 *
 * The collector role runs it in a worker thread (threaded.ts), so the socket is drained while the main
 * thread writes and runs detection; used directly it shares the caller's thread (tests, tools).
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { DecodeError } from '../../wire/errors.js';
import {
  decodeFlowExport,
  decodePendingSet,
  TemplateCache,
  type ExportProtocol,
  type FlowExportLimits,
  type FlowExportRecord,
  type PendingSet,
  type SourceState,
  type TemplateCacheOptions,
} from '../../wire/flowexport/decode.js';
import type { SourceItem, SourceStats } from '../types.js';
import { countError, emptyStats } from '../types.js';
import { flowExportToIngest, unstorable } from './convert.js';
import { DEFAULT_TIME_WINDOW, redateOutsideWindow, type TimeWindow } from './time-window.js';
import { microsToIsoMs } from '../../store/timestamps.js';

export interface CollectorLogger {
  warn(obj: object, msg: string): void;
}

export interface NetflowCollectorOptions {
  /** UDP port (0: any free port, see start()'s result). */
  port: number;
  /** Bind address. Default "0.0.0.0" (use "::" for IPv6 / dual stack). */
  host?: string;
  /** Receives the items of each datagram (never called with an empty array). */
  onItems: (items: SourceItem[]) => void;
  log?: CollectorLogger;
  /** Data sets waiting for their template are dropped after this long. Default 2000 ms. */
  pendingTimeoutMs?: number;
  /** Pending data sets kept per exporter; the oldest is dropped beyond. Default 256. */
  maxPendingPerExporter?: number;
  /** Exporters tracked with their own counters (more are still decoded, counted in the totals). Default 4096. */
  maxExporters?: number;
  /** At most one warning per exporter per this interval. Default 10 000 ms. */
  warnIntervalMs?: number;
  communityIdSeed?: number;
  limits?: FlowExportLimits;
  templateCache?: TemplateCacheOptions;
  /**
   * Receive buffer asked for (bytes). Default 32 MiB; Linux caps it at net.core.rmem_max (and reports twice
   * the value it grants, its bookkeeping included): see stats().recvBufferSize for what was granted.
   */
  recvBufferSize?: number;
  /**
   * Flows dated outside this window around their arrival are re-dated to it and counted
   * (`time_out_of_window`; see time-window.ts). Default: a day before, 10 minutes after. null: off (a
   * replay of an old export through a tool).
   */
  timeWindow?: TimeWindow | null;
  /** Clock (ms), for tests. Default Date.now. */
  now?: () => number;
}

/** A collector's counters before its first datagram. */
export function emptyCollectorStats(): NetflowCollectorStats {
  return {
    ...emptyStats(),
    datagrams: 0,
    pendingSets: 0,
    pendingRecovered: 0,
    pendingDropped: 0,
    sequenceGaps: 0,
    missing: 0,
    recvBufferSize: null,
    exporters: [],
  };
}

export interface ExporterStats {
  exporter: string;
  datagrams: number;
  records: number;
  errors: Record<string, number>;
  /** Datagrams whose sequence number was not the expected one, and the estimated missing units. */
  sequenceGaps: number;
  missing: number;
  pending: number;
  lastSeenMs: number;
}

export interface NetflowCollectorStats extends SourceStats {
  datagrams: number;
  /** Data sets waiting for a template now; recovered later; dropped (timeout, overflow or stop). */
  pendingSets: number;
  pendingRecovered: number;
  pendingDropped: number;
  /** Sums over every exporter source (protocol, exporter, domain) of the TemplateCache. */
  sequenceGaps: number;
  missing: number;
  /** The socket's receive buffer as granted by the OS (bytes), null before start(). */
  recvBufferSize: number | null;
  exporters: ExporterStats[];
}

/** Default receive buffer asked for: about 2 s of 150 000 records/s in 1.4 KB datagrams. */
export const DEFAULT_RECV_BUFFER = 32 * 1024 * 1024;

interface Pending {
  set: PendingSet;
  atMs: number;
}

interface Exporter {
  stats: ExporterStats;
  pending: Pending[];
  /** TemplateCache states of this exporter, by "proto|domain". */
  sources: Map<string, SourceState>;
  lastWarnMs: number;
  suppressed: number;
}

/** "::ffff:10.0.0.1" (dual-stack socket) → "10.0.0.1". */
function exporterKey(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** The protocol and domain (v9 source id, IPFIX observation domain, v5 engine) of a datagram header. */
function headerSource(d: Uint8Array): [ExportProtocol, number] | null {
  const v = u16(d, 0);
  if (v === 5 && d.length >= 24) return ['v5', u16(d, 20)];
  if (v === 9 && d.length >= 20) return ['v9', u32(d, 16)];
  if (v === 10 && d.length >= 16) return ['ipfix', u32(d, 12)];
  return null;
}

export class NetflowCollector {
  private readonly opts: NetflowCollectorOptions;
  private readonly cache: TemplateCache;
  private readonly exporters = new Map<string, Exporter>();
  private readonly totals: NetflowCollectorStats;
  private readonly now: () => number;
  private readonly pendingTimeoutMs: number;
  private readonly maxPending: number;
  private readonly maxExporters: number;
  private readonly warnIntervalMs: number;
  private socket: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Counters of exporters beyond maxExporters share this entry. */
  private readonly overflow: Exporter;
  /** When the last datagram arrived (ms, `now` clock), 0 before the first. */
  lastDatagramMs = 0;

  constructor(opts: NetflowCollectorOptions) {
    this.opts = opts;
    this.cache = new TemplateCache(opts.templateCache);
    this.now = opts.now ?? Date.now;
    this.pendingTimeoutMs = opts.pendingTimeoutMs ?? 2000;
    this.maxPending = Math.max(0, opts.maxPendingPerExporter ?? 256);
    this.maxExporters = Math.max(1, opts.maxExporters ?? 4096);
    this.warnIntervalMs = opts.warnIntervalMs ?? 10_000;
    this.totals = emptyCollectorStats();
    this.overflow = this.newExporter('(other)');
  }

  /** Binds the socket. Resolves with the bound address (useful with port 0). */
  async start(): Promise<AddressInfo> {
    if (this.socket) throw new Error('NetflowCollector already started');
    const host = this.opts.host ?? '0.0.0.0';
    const sock = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.socket = sock;
    sock.on('message', (msg, rinfo) => this.handle(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        this.socket = null;
        reject(e);
      };
      sock.once('error', onError);
      sock.bind(this.opts.port, host, () => {
        sock.off('error', onError);
        resolve();
      });
    });
    sock.on('error', (e) => {
      countError(this.totals, 'socket');
      this.opts.log?.warn({ err: e.message }, 'netflow collector socket error');
    });
    try {
      sock.setRecvBufferSize(this.opts.recvBufferSize ?? DEFAULT_RECV_BUFFER);
    } catch {
      // refused: the default buffer still works
    }
    try {
      this.totals.recvBufferSize = sock.getRecvBufferSize();
    } catch {
      this.totals.recvBufferSize = null;
    }
    const every = Math.max(50, Math.min(1000, Math.floor(this.pendingTimeoutMs / 2)));
    this.timer = setInterval(() => this.expirePending(), every);
    this.timer.unref();
    return sock.address();
  }

  /** Closes the socket; pending data sets still waiting for a template are dropped (counted). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sock = this.socket;
    this.socket = null;
    if (sock) await new Promise<void>((resolve) => sock.close(() => resolve()));
    this.expirePending(Infinity);
  }

  /** Bound address, or null before start(). */
  address(): AddressInfo | null {
    return this.socket ? this.socket.address() : null;
  }

  stats(): NetflowCollectorStats {
    let gaps = 0;
    let missing = 0;
    const exporters: ExporterStats[] = [];
    for (const ex of [...this.exporters.values(), this.overflow]) {
      let g = 0;
      let m = 0;
      for (const s of ex.sources.values()) {
        g += s.sequenceGaps;
        m += s.missing;
      }
      ex.stats.sequenceGaps = g;
      ex.stats.missing = m;
      ex.stats.pending = ex.pending.length;
      gaps += g;
      missing += m;
      if (ex !== this.overflow || ex.stats.datagrams > 0)
        exporters.push({ ...ex.stats, errors: { ...ex.stats.errors } });
    }
    return {
      ...this.totals,
      errors: { ...this.totals.errors },
      pendingSets: exporters.reduce((n, e) => n + e.pending, 0),
      sequenceGaps: gaps,
      missing,
      exporters,
    };
  }

  /**
   * Processes one datagram from `address` (what the socket handler calls; public so that tests and other
   * transports can feed datagrams directly). Never throws.
   */
  handle(datagram: Uint8Array, address: string): void {
    const key = exporterKey(address);
    const ex = this.exporter(key);
    const nowMs = this.now();
    this.lastDatagramMs = nowMs;
    this.totals.datagrams++;
    this.totals.bytes += datagram.length;
    ex.stats.datagrams++;
    ex.stats.lastSeenMs = nowMs;
    const records: FlowExportRecord[] = [];
    try {
      const res = decodeFlowExport(datagram, key, this.cache, this.opts.limits);
      records.push(...res.records);
      for (const e of res.errors) this.error(ex, e.kind, e.message);
      const src = headerSource(datagram);
      if (src) {
        const st = this.cache.peek(src[0], key, src[1]);
        if (st) ex.sources.set(`${src[0]}|${src[1]}`, st);
      }
      for (const p of res.pendingSets) {
        ex.pending.push({ set: p, atMs: nowMs });
        if (ex.pending.length > this.maxPending) {
          ex.pending.shift();
          this.totals.pendingDropped++;
          this.error(ex, 'pending_overflow', `more than ${this.maxPending} data sets waiting for templates`);
        }
      }
      if (ex.pending.length > 0) this.retryPending(ex, records);
    } catch (e) {
      if (e instanceof DecodeError) this.error(ex, e.kind, e.message);
      else this.error(ex, 'internal', e instanceof Error ? e.message : String(e));
    }
    this.emit(ex, records, nowMs);
  }

  private emit(ex: Exporter, records: FlowExportRecord[], nowMs: number): void {
    if (records.length === 0) return;
    const items: SourceItem[] = [];
    const seed = this.opts.communityIdSeed ?? 0;
    const window = this.opts.timeWindow === undefined ? DEFAULT_TIME_WINDOW : this.opts.timeWindow;
    for (const r of records) {
      this.totals.records++;
      ex.stats.records++;
      const flow = flowExportToIngest(r, seed);
      if (flow === null) {
        this.error(ex, 'no_address', 'flow record without usable addresses');
        continue;
      }
      const bad = unstorable(flow);
      if (bad !== null) {
        this.error(ex, 'bad_value', `flow record with a value out of range: ${bad}`);
        continue;
      }
      if (window) {
        const dated = flow.tsStart;
        if (redateOutsideWindow(flow, nowMs, window))
          this.error(
            ex,
            'time_out_of_window',
            `flow dated ${microsToIsoMs(dated)}, far from its arrival: stored at its arrival`,
          );
      }
      items.push({ kind: 'flow', flow });
    }
    if (items.length === 0) return;
    this.totals.flows += items.length;
    try {
      this.opts.onItems(items);
    } catch (e) {
      countError(this.totals, 'consumer');
      this.opts.log?.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'netflow onItems callback threw',
      );
    }
  }

  private retryPending(ex: Exporter, out: FlowExportRecord[]): void {
    ex.pending = ex.pending.filter((p) => {
      try {
        const again = decodePendingSet(p.set, this.cache, this.opts.limits);
        if (again === null) return true;
        out.push(...again.records);
        this.totals.pendingRecovered++;
      } catch (e) {
        this.error(
          ex,
          e instanceof DecodeError ? e.kind : 'internal',
          e instanceof Error ? e.message : String(e),
        );
      }
      return false;
    });
  }

  /** Drops pending data sets older than the timeout (all of them with Infinity). */
  private expirePending(ageMs = this.pendingTimeoutMs): void {
    const nowMs = this.now();
    for (const ex of [...this.exporters.values(), this.overflow]) {
      if (ex.pending.length === 0) continue;
      const keep = ageMs === Infinity ? [] : ex.pending.filter((p) => nowMs - p.atMs < ageMs);
      const dropped = ex.pending.length - keep.length;
      ex.pending = keep;
      for (let i = 0; i < dropped; i++) {
        this.totals.pendingDropped++;
        this.error(ex, 'pending_timeout', 'data set dropped: its template never arrived');
      }
    }
  }

  private newExporter(name: string): Exporter {
    return {
      stats: {
        exporter: name,
        datagrams: 0,
        records: 0,
        errors: {},
        sequenceGaps: 0,
        missing: 0,
        pending: 0,
        lastSeenMs: 0,
      },
      pending: [],
      sources: new Map(),
      lastWarnMs: -Infinity,
      suppressed: 0,
    };
  }

  private exporter(key: string): Exporter {
    let ex = this.exporters.get(key);
    if (ex) return ex;
    if (this.exporters.size >= this.maxExporters) return this.overflow;
    ex = this.newExporter(key);
    this.exporters.set(key, ex);
    return ex;
  }

  /** Counts an error and warns at most once per interval per exporter (with the count suppressed since). */
  private error(ex: Exporter, kind: string, message: string): void {
    countError(this.totals, kind);
    ex.stats.errors[kind] = (ex.stats.errors[kind] ?? 0) + 1;
    const log = this.opts.log;
    if (!log) return;
    const nowMs = this.now();
    if (nowMs - ex.lastWarnMs < this.warnIntervalMs) {
      ex.suppressed++;
      return;
    }
    log.warn(
      { exporter: ex.stats.exporter, kind, suppressed: ex.suppressed, errors: { ...ex.stats.errors } },
      `netflow: ${message.slice(0, 200)}`,
    );
    ex.lastWarnMs = nowMs;
    ex.suppressed = 0;
  }
}
