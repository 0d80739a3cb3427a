/**
 * Live capture: spawns `tcpdump -i IFACE -U --immediate-mode -w - [-- BPF filter]` (no shell) and parses its
 * stdout as a streaming pcap (CaptureReader) → decodePacket → FlowTable + emitObservations → batches of
 * SourceItems (flows, then observations aggregated per batch: one item per distinct sighting with a count), delivered to a callback or pulled through an async iterator (which pauses tcpdump's stdout
 * when the consumer falls behind: back-pressure, no unbounded queue).
 *
 * The flow table advances with packet time and, when no packets arrive, with a wall-clock tick (time of the
 * last packet + wall time elapsed since), so idle flows are exported even on a quiet link. stop() ends
 * tcpdump, decodes what is left, flushes every live flow and ends the iterator.
 *
 * Failures to start are LiveCaptureError with a code parsed from tcpdump's stderr.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { FlowTable, type FlowTableOptions } from '../../flows/flow-table.js';
import { emitObservations, ObservationAggregator } from '../../flows/observations.js';
import { PayloadCache } from '../../flows/payload-cache.js';
import type { FlowRecord } from '../../flows/types.js';
import { CaptureReader } from '../../wire/capture/decode.js';
import { DecodeError } from '../../wire/errors.js';
import { decodePacket, PacketInfo } from '../../wire/packet/decode.js';
import type { SourceItem, SourceStats } from '../types.js';
import { countError, emptyStats } from '../types.js';

export type LiveErrorCode =
  | 'LIVE_IFACE_NOT_FOUND'
  | 'LIVE_PERMISSION_DENIED'
  | 'LIVE_TCPDUMP_MISSING'
  | 'LIVE_BAD_FILTER'
  | 'LIVE_BAD_OPTIONS'
  | 'LIVE_TCPDUMP_FAILED'
  | 'LIVE_STREAM_CORRUPT'
  | 'LIVE_CONSUMER_ERROR';

export class LiveCaptureError extends Error {
  override readonly name = 'LiveCaptureError';
  constructor(
    readonly code: LiveErrorCode,
    message: string,
    /** tcpdump's stderr (last 4 KiB), when relevant. */
    readonly stderr = '',
  ) {
    super(message);
  }
}

/** Classifies tcpdump's stderr after a failed start; null when nothing recognisable is in it. */
export function parseTcpdumpError(stderr: string, iface: string): LiveCaptureError | null {
  const s = stderr.toLowerCase();
  const tail = stderr.slice(-4096);
  if (
    s.includes('no such device') ||
    s.includes("doesn't exist") ||
    s.includes('no such interface') ||
    s.includes('not found (no interfaces found') ||
    s.includes('is not up')
  ) {
    return new LiveCaptureError('LIVE_IFACE_NOT_FOUND', `capture interface "${iface}" not found`, tail);
  }
  if (s.includes('permission') || s.includes('operation not permitted') || s.includes('not permitted')) {
    return new LiveCaptureError(
      'LIVE_PERMISSION_DENIED',
      `no permission to capture on "${iface}" (run as root or give tcpdump CAP_NET_RAW/CAP_NET_ADMIN)`,
      tail,
    );
  }
  if (
    /syntax error|parse error|can't parse filter|illegal|unknown (host|port|protocol|network)|expression rejects/.test(
      s,
    )
  ) {
    return new LiveCaptureError(
      'LIVE_BAD_FILTER',
      `tcpdump rejected the capture filter: ${firstLine(stderr)}`,
      tail,
    );
  }
  return null;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '' && !l.startsWith('tcpdump: listening')) ?? '').slice(
    0,
    300,
  );
}

export interface LiveCaptureOptions {
  /** Interface name, e.g. "eth0" or "lo". */
  iface: string;
  /** BPF filter expression, passed to tcpdump as one argument after "--". */
  filter?: string;
  /** tcpdump binary. Default "tcpdump" (looked up on PATH). */
  tcpdumpPath?: string;
  /** Snapshot length. Default 262144 (tcpdump's). */
  snaplen?: number;
  /** Callback mode: receives every batch. Without it, iterate the capture (for await … of capture). */
  onItems?: (items: SourceItem[]) => void;
  /** Called once when the capture fails after start (tcpdump died, corrupt stream). */
  onError?: (e: LiveCaptureError) => void;
  /** Pending items are delivered at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** … and as soon as this many are pending. Default 1000. */
  maxBatch?: number;
  /** Wall-clock tick advancing the flow table when packets do not. Default 1000 ms. */
  tickMs?: number;
  /** Batches queued for a slow iterator consumer before tcpdump's output is paused. Default 16. */
  maxQueuedBatches?: number;
  /** Flow table settings (timeouts, caps). */
  flowTable?: Omit<FlowTableOptions, 'onFlow'>;
  /** Extract device observations from packets. Default true. */
  observations?: boolean;
  /** Run tcpdump as this user/group (drop privileges; also used by tests). */
  uid?: number;
  gid?: number;
  /** How long start() waits for tcpdump to report it is listening. Default 10 000 ms. */
  startTimeoutMs?: number;
}

export interface LiveCaptureStats extends SourceStats {
  /** Observation sightings (before aggregation: a batch carries one item per distinct sighting). */
  observations: number;
  /** From tcpdump's exit summary, when it printed one. */
  kernelDropped: number | null;
  received: number | null;
}

const IFACE_RE = /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,63}$/;

type Child = ChildProcessByStdio<null, Readable, Readable>;

export class LiveCapture implements AsyncIterable<SourceItem[]> {
  private readonly opts: LiveCaptureOptions;
  private readonly table: FlowTable;
  private readonly reader: CaptureReader;
  private readonly info = new PacketInfo();
  /** Payload decodes shared by the flow table and the observation extractor for the same packet. */
  private readonly cache = new PayloadCache();
  /** Identical sightings between two flushes become one observation with a count. */
  private readonly obs = new ObservationAggregator();
  private readonly st: LiveCaptureStats = {
    ...emptyStats(),
    observations: 0,
    kernelDropped: null,
    received: null,
  };
  private child: Child | null = null;
  private stderr = '';
  private pending: SourceItem[] = [];
  private queue: SourceItem[][] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  private failure: LiveCaptureError | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private lastPacketTs = 0;
  private lastPacketWall = 0;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(opts: LiveCaptureOptions) {
    this.opts = opts;
    this.table = new FlowTable({
      ...opts.flowTable,
      payloadCache: this.cache,
      observations: this.obs,
      onFlow: (r) => this.onFlow(r),
    });
    this.reader = new CaptureReader({ source: `tcpdump -i ${opts.iface}` });
  }

  /** Spawns tcpdump; resolves once it is listening, rejects with LiveCaptureError otherwise. */
  async start(): Promise<void> {
    if (this.child) throw new LiveCaptureError('LIVE_BAD_OPTIONS', 'live capture already started');
    const o = this.opts;
    if (!IFACE_RE.test(o.iface)) {
      throw new LiveCaptureError('LIVE_BAD_OPTIONS', `invalid interface name "${o.iface.slice(0, 80)}"`);
    }
    const snaplen = Math.max(64, Math.min(262_144, Math.floor(o.snaplen ?? 262_144)));
    const args = ['-i', o.iface, '-U', '--immediate-mode', '-s', String(snaplen), '-w', '-'];
    if (o.filter !== undefined && o.filter.trim() !== '') args.push('--', o.filter);
    const child = spawn(o.tcpdumpPath ?? 'tcpdump', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: o.uid,
      gid: o.gid,
    });
    this.child = child;
    child.stderr.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (e: LiveCaptureError | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        settle(
          new LiveCaptureError('LIVE_TCPDUMP_FAILED', 'tcpdump did not start listening in time', this.stderr),
        );
      }, o.startTimeoutMs ?? 10_000);
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          settle(
            new LiveCaptureError(
              'LIVE_TCPDUMP_MISSING',
              `tcpdump not found (${o.tcpdumpPath ?? 'tcpdump'}): install it (apt-get install tcpdump)`,
            ),
          );
        } else if (e.code === 'EACCES' || e.code === 'EPERM') {
          settle(new LiveCaptureError('LIVE_PERMISSION_DENIED', `cannot run tcpdump: ${e.message}`));
        } else settle(new LiveCaptureError('LIVE_TCPDUMP_FAILED', `cannot run tcpdump: ${e.message}`));
      });
      child.stderr.on('data', (d: string) => {
        this.stderr = (this.stderr + d).slice(-8192);
        if (!settled && /listening on /.test(this.stderr)) settle(null);
      });
      this.exited = new Promise<void>((done) => {
        child.on('close', (code, signal) => {
          this.parseSummary();
          if (!settled) {
            settle(
              parseTcpdumpError(this.stderr, o.iface) ??
                new LiveCaptureError(
                  'LIVE_TCPDUMP_FAILED',
                  `tcpdump exited (${signal ?? code}) before listening: ${firstLine(this.stderr)}`,
                  this.stderr,
                ),
            );
          } else if (!this.stopping) {
            this.fail(
              new LiveCaptureError(
                'LIVE_TCPDUMP_FAILED',
                `tcpdump exited unexpectedly (${signal ?? code}): ${firstLine(this.stderr)}`,
                this.stderr,
              ),
            );
          }
          done();
        });
      });
      child.stdout.on('data', (chunk: Buffer) => this.onChunk(chunk));
    }).catch((e: unknown) => {
      this.child = null;
      throw e;
    });
    const flushMs = Math.max(10, o.flushIntervalMs ?? 1000);
    this.flushTimer = setInterval(() => this.flush(), flushMs);
    this.tickTimer = setInterval(() => this.tick(), Math.max(10, o.tickMs ?? 1000));
  }

  /** Stops tcpdump, decodes the rest of its output, exports every live flow and ends the iteration. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdout.resume();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(killer);
    }
    this.finish();
  }

  stats(): LiveCaptureStats {
    return { ...this.st, errors: { ...this.st.errors } };
  }

  [Symbol.asyncIterator](): AsyncIterator<SourceItem[]> {
    return {
      next: async (): Promise<IteratorResult<SourceItem[]>> => {
        for (;;) {
          const b = this.queue.shift();
          if (b) {
            if (this.queue.length < (this.opts.maxQueuedBatches ?? 16) && !this.stopping)
              this.child?.stdout.resume();
            return { value: b, done: false };
          }
          if (this.ended) {
            if (this.failure) {
              const f = this.failure;
              this.failure = null;
              throw f;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (this.waiter = r));
        }
      },
      return: async (): Promise<IteratorResult<SourceItem[]>> => {
        await this.stop();
        return { value: undefined, done: true };
      },
    };
  }

  private onChunk(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.drain();
    } catch (e) {
      this.corrupt(e);
    }
  }

  private drain(): void {
    const info = this.info;
    const withObs = this.opts.observations ?? true;
    for (let r = this.reader.next(); r !== null; r = this.reader.next()) {
      this.st.records++;
      this.st.bytes += r.wireLen;
      info.tsMicros = r.tsMicros;
      info.capLen = r.capLen;
      info.wireLen = r.wireLen;
      info.iface = r.iface;
      decodePacket(r.linkType, r.data, info);
      if (info.decodeError !== null)
        countError(this.st, `${info.decodeErrorLayer ?? 'packet'}_${info.decodeError}`);
      this.lastPacketTs = Math.max(this.lastPacketTs, r.tsMicros);
      this.lastPacketWall = Date.now();
      this.cache.clear();
      this.table.add(info, r.data);
      if (withObs && info.payloadLength > 0) {
        this.st.observations += emitObservations(info, r.data, this.obs, this.cache);
      }
      if (this.pending.length + this.obs.size >= (this.opts.maxBatch ?? 1000)) this.flush();
    }
  }

  private corrupt(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    countError(this.st, e instanceof DecodeError ? e.kind : 'malformed');
    this.fail(new LiveCaptureError('LIVE_STREAM_CORRUPT', `tcpdump output could not be decoded: ${msg}`));
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  private onFlow(r: FlowRecord): void {
    this.st.flows++;
    this.push({ kind: 'flow', flow: r });
  }

  private push(item: SourceItem): void {
    this.pending.push(item);
    if (this.pending.length >= (this.opts.maxBatch ?? 1000)) this.flush();
  }

  /** Advances the flow table by wall-clock time elapsed since the last packet (idle flows expire). */
  private tick(): void {
    if (this.lastPacketWall === 0 || this.ended) return;
    const now = this.lastPacketTs + (Date.now() - this.lastPacketWall) * 1000;
    this.table.advance(now);
  }

  private flush(): void {
    for (const observation of this.obs.take()) this.pending.push({ kind: 'observation', observation });
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    if (this.opts.onItems) {
      try {
        this.opts.onItems(batch);
      } catch (e) {
        // The consumer's bug must not stop the capture: counted and reported, the batch is lost.
        countError(this.st, 'consumer');
        this.opts.onError?.(
          new LiveCaptureError(
            'LIVE_CONSUMER_ERROR',
            `onItems threw: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
      }
      return;
    }
    this.queue.push(batch);
    if (this.queue.length >= (this.opts.maxQueuedBatches ?? 16)) this.child?.stdout.pause();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private fail(e: LiveCaptureError): void {
    if (this.failure === null) this.failure = e;
    this.opts.onError?.(e);
    if (
      this.stopping ||
      this.child === null ||
      this.child.exitCode !== null ||
      this.child.signalCode !== null
    )
      this.finish();
  }

  /** Final drain and flush; ends the iteration (once). */
  private finish(): void {
    if (this.ended) return;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.flushTimer = this.tickTimer = null;
    try {
      this.reader.end();
      this.drain();
    } catch (e) {
      // tcpdump killed mid-record: the cut record is dropped and counted.
      countError(this.st, e instanceof DecodeError ? e.kind : 'malformed');
    }
    this.table.flushAll();
    this.flush();
    this.ended = true;
    this.wake();
  }

  /** "N packets received by filter", "M packets dropped by kernel" from tcpdump's exit summary. */
  private parseSummary(): void {
    const rx = /(\d+) packets? received by filter/.exec(this.stderr);
    const dr = /(\d+) packets? dropped by kernel/.exec(this.stderr);
    if (rx) this.st.received = Number(rx[1]);
    if (dr) this.st.kernelDropped = Number(dr[1]);
  }
}
