/**
 * The receiving thread of ThreadedNetflowCollector (threaded.ts): owns the UDP socket and a NetflowCollector
 * (templates, decoding, conversion to flows with their Community ID), and hands the flows to the main thread
 * in columnar batches (flow-batch.ts). It does nothing else, so the socket is drained while the main thread
 * writes a batch or runs detection.
 *
 * Flow control: at most `maxInFlight` batches are posted and not yet acknowledged; the others wait here in
 * compact form, up to `maxQueuedRecords` records. Past that, sealed batches wait in a spool file (spool.ts,
 * up to `maxSpoolBytes`) when `spoolFile` is set, and are handed over in order after those in memory;
 * without one, or with the spool full, newly received flows are dropped and counted (`queueDropped`). Memory
 * stays bounded when the main thread (or the database) falls behind for long.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { FlowBatchEncoder, type FlowBatch } from './flow-batch.js';
import { NetflowCollector, type NetflowCollectorOptions, type NetflowCollectorStats } from './collector.js';
import { BatchSpool } from './spool.js';
import { udpSocketDrops } from './udp-drops.js';

/** The NetflowCollector options that can cross a thread boundary (no callbacks). */
export type ReceiverCollectorOptions = Omit<NetflowCollectorOptions, 'onItems' | 'log' | 'now'>;

export interface ReceiverOptions {
  collector: ReceiverCollectorOptions;
  /** Flows per batch. */
  batchRecords: number;
  /** A partial batch is sent after this long. */
  maxBatchDelayMs: number;
  /** Batches posted and not yet acknowledged. */
  maxInFlight: number;
  /** Flows waiting in this thread (sealed batches and the one being filled) before new ones are dropped. */
  maxQueuedRecords: number;
  /** Stats are posted at most this often (and with the last batch). */
  statsIntervalMs: number;
  /** Where batches beyond maxQueuedRecords wait (null: they are dropped). */
  spoolFile: string | null;
  /** Bytes the spool file may hold. */
  maxSpoolBytes: number;
}

export interface ReceiverStats extends NetflowCollectorStats {
  /** Flows dropped because the queue to the main thread was full. */
  queueDropped: number;
  /** Flows waiting in the receiving thread now (in memory and spooled). */
  queued: number;
  /** Of those, flows waiting in the spool file. */
  spooled: number;
  /** Bytes the spool may hold (null: no spool, flows beyond the memory queue are dropped). */
  spoolLimitBytes: number | null;
  /** Datagrams the kernel dropped on a full receive buffer (/proc/net/udp; null when unknown). */
  socketDrops: number | null;
}

export type ToMain =
  | { type: 'listening'; address: { address: string; family: string; port: number } }
  | { type: 'start-failed'; message: string; code: string | null }
  | { type: 'batch'; batch: FlowBatch }
  | { type: 'stats'; stats: ReceiverStats }
  | { type: 'warn'; obj: object; msg: string }
  | { type: 'stopped'; stats: ReceiverStats };

export type ToWorker = { type: 'ack' } | { type: 'stop'; drainTimeoutMs: number };

const QUIET_MS = 50;
/** Spooling starts are warned about at most this often. */
const SPOOL_WARN_MS = 60_000;
const DRAIN_SOCKET_MS = 1000;

export function runReceiver(port: MessagePort, o: ReceiverOptions): void {
  const post = (m: ToMain, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  const encoder = new FlowBatchEncoder();
  const outbox: FlowBatch[] = [];
  let outboxRecords = 0;
  let inFlight = 0;
  let queueDropped = 0;
  let socketDrops: number | null = null;
  let stopping = false;
  let lastStatsAt = 0;
  const spool = o.spoolFile === null ? null : new BatchSpool(o.spoolFile, o.maxSpoolBytes);
  let spoolWarnedAt = -Infinity;

  const collector = new NetflowCollector({
    ...o.collector,
    onItems: (items) => {
      // With a spool, the memory bound is kept when batches are sealed (the one being filled is at most
      // batchRecords plus a datagram's flows).
      if (!spool && outboxRecords + encoder.size + items.length > o.maxQueuedRecords) {
        queueDropped += items.length;
        return;
      }
      for (const it of items) if (it.kind === 'flow') encoder.add(it.flow);
      if (encoder.size >= o.batchRecords) seal();
    },
    log: { warn: (obj, msg) => post({ type: 'warn', obj, msg }) },
  });

  const stats = (): ReceiverStats => ({
    ...collector.stats(),
    queueDropped,
    queued: outboxRecords + encoder.size + (spool?.records ?? 0),
    spooled: spool?.records ?? 0,
    spoolLimitBytes: spool ? o.maxSpoolBytes : null,
    socketDrops,
  });

  function seal(): void {
    const b = encoder.take();
    if (!b) return;
    // Once batches are spooled, later ones follow them there: they are handed over in arrival order.
    if (spool && (!spool.empty || outboxRecords + b.n > o.maxQueuedRecords)) {
      if (spool.empty && Date.now() - spoolWarnedAt >= SPOOL_WARN_MS) {
        spoolWarnedAt = Date.now();
        post({
          type: 'warn',
          obj: { file: spool.file, queued: outboxRecords },
          msg: 'netflow queue full while the database falls behind: spooling to disk',
        });
      }
      if (!spoolPush(spool, b)) queueDropped += b.n;
    } else {
      outbox.push(b);
      outboxRecords += b.n;
    }
    pump();
  }

  /** The next batch to hand over: those in memory first (older than any spooled one), then the spool's. */
  function next(): FlowBatch | null {
    const b = outbox.shift();
    if (b) {
      outboxRecords -= b.n;
      return b;
    }
    if (!spool) return null;
    try {
      return spool.shift();
    } catch (e) {
      spoolFailed(spool, e);
      return null;
    }
  }

  function spoolPush(sp: BatchSpool, b: FlowBatch): boolean {
    try {
      return sp.push(b);
    } catch (e) {
      spoolFailed(sp, e);
      return false;
    }
  }

  /** A spool file that cannot be written or read (disk full, removed): what it held is dropped and counted. */
  function spoolFailed(sp: BatchSpool, e: unknown): void {
    queueDropped += sp.records;
    post({
      type: 'warn',
      obj: { err: String(e), file: sp.file },
      msg: 'netflow spool failed; its flows dropped',
    });
    try {
      sp.close();
    } catch {
      // Already gone.
    }
  }

  const waiting = (): boolean => outbox.length > 0 || (spool !== null && !spool.empty);

  function pump(): void {
    while (inFlight < o.maxInFlight && waiting()) {
      const b = next() as FlowBatch;
      inFlight++;
      post({ type: 'batch', batch: b }, [b.buffer]);
    }
    const now = Date.now();
    if (now - lastStatsAt >= o.statsIntervalMs) sendStats(now);
  }

  function sendStats(now: number): void {
    lastStatsAt = now;
    post({ type: 'stats', stats: stats() });
  }

  const tick = setInterval(() => {
    seal();
    const now = Date.now();
    if (now - lastStatsAt >= o.statsIntervalMs) sendStats(now);
  }, o.maxBatchDelayMs);
  let bound: { address: string; port: number } | null = null;
  const dropsTimer = setInterval(() => {
    if (bound) socketDrops = udpSocketDrops(bound.port, bound.address) ?? socketDrops;
  }, 1000);

  let drained: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'ack') {
      inFlight--;
      pump();
      if (drained && inFlight === 0 && !waiting()) drained();
    } else if (m.type === 'stop' && !stopping) {
      stopping = true;
      void stop(m.drainTimeoutMs);
    }
  });

  async function stop(drainTimeoutMs: number): Promise<void> {
    clearInterval(tick);
    // Read what already waits in the socket's receive buffer (closing would discard it): until no datagram
    // came for QUIET_MS since the stop request, at most DRAIN_SOCKET_MS.
    const asked = Date.now();
    const until = asked + DRAIN_SOCKET_MS;
    while (Date.now() < until && Date.now() - Math.max(asked, collector.lastDatagramMs) < QUIET_MS)
      await new Promise((r) => setTimeout(r, QUIET_MS / 2));
    // The kernel's count goes with the socket: read it last while the socket is open.
    clearInterval(dropsTimer);
    if (bound) socketDrops = udpSocketDrops(bound.port, bound.address) ?? socketDrops;
    await collector.stop();
    seal();
    if (inFlight > 0 || waiting()) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, drainTimeoutMs).unref();
      });
    }
    // Whatever could not be handed over in time is lost: counted.
    for (const b of outbox.splice(0)) queueDropped += b.n;
    outboxRecords = 0;
    if (spool) {
      queueDropped += spool.records;
      spool.close();
    }
    // The main thread ends this thread once it has this message (closing the port here could let the
    // thread's exit overtake the message).
    post({ type: 'stopped', stats: stats() });
  }

  collector.start().then(
    (addr) => {
      bound = addr;
      socketDrops = udpSocketDrops(addr.port, addr.address);
      post({ type: 'listening', address: { address: addr.address, family: addr.family, port: addr.port } });
      sendStats(Date.now());
    },
    (e: unknown) => {
      clearInterval(tick);
      clearInterval(dropsTimer);
      const err = e as NodeJS.ErrnoException;
      post({ type: 'start-failed', message: err.message ?? String(e), code: err.code ?? null });
    },
  );
}

const data = workerData as { netflowReceiver?: ReceiverOptions } | null;
if (parentPort && data?.netflowReceiver) runReceiver(parentPort, data.netflowReceiver);
