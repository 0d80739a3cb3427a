/**
 * ThreadedNetflowCollector over real local UDP: the socket and the decoding in a worker thread, the flows
 * handed back in columnar batches. Same flows as the in-process NetflowCollector; bounded queue with counted
 * drops when the consumer holds back; stop() hands over what was received; a dead worker is restarted.
 */
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { flowExportDatagrams } from '../../../bench/netflow-gen.js';
import type { IngestFlow, SourceItem } from '../types.js';
import { NetflowCollector } from './collector.js';
import {
  ThreadedNetflowCollector,
  type FlowConsumer,
  type ThreadedNetflowCollectorOptions,
} from './threaded.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 15_000, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for the collector');
    await sleep(everyMs);
  }
}

const running: ThreadedNetflowCollector[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
  for (const s of sockets.splice(0)) s.close();
});

type Extra = Partial<Omit<ThreadedNetflowCollectorOptions, 'onItems' | 'onDeferred'>>;

/** A collector on a free port; its flows collected through onItems unless another consumer is given. */
async function start(extra: Extra = {}, consumer?: FlowConsumer) {
  const flows: IngestFlow[] = [];
  const warnings: { obj: object; msg: string }[] = [];
  const c = new ThreadedNetflowCollector({
    port: 0,
    host: '127.0.0.1',
    log: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    ...extra,
    ...(consumer ?? {
      onItems: (items: SourceItem[]) => {
        for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
      },
    }),
  });
  running.push(c);
  const { port } = await c.start();
  return { c, port, flows, warnings };
}

async function sender(): Promise<(b: Uint8Array, port: number) => Promise<void>> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return (b, port) =>
    new Promise<void>((resolve, reject) => s.send(b, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

// Recent, as a live exporter sends them (older flows would be re-dated to their arrival).
const startMs = Date.now() - 120_000;
const exports = (records: number, seed = 1): Buffer[] => [
  ...flowExportDatagrams({ protocol: 'v9', records, startMs, seed, domain: 7 }),
  ...flowExportDatagrams({ protocol: 'ipfix', records, startMs, seed: seed + 1, domain: 8 }),
];

/** The flows the in-process NetflowCollector makes of these datagrams from 127.0.0.1. */
function inProcess(grams: Buffer[]): IngestFlow[] {
  const flows: IngestFlow[] = [];
  const local = new NetflowCollector({
    port: 0,
    onItems: (items) => {
      for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
    },
  });
  for (const g of grams) local.handle(g, '127.0.0.1');
  return flows;
}

describe('ThreadedNetflowCollector', () => {
  it('hands over exactly the flows the in-process collector makes, with its counters', async () => {
    const grams = exports(3000);
    const { c, port, flows } = await start({ batchRecords: 500 });
    const send = await sender();
    for (const g of grams) await send(g, port);
    const expected = inProcess(grams);
    await until(() => flows.length === expected.length);
    expect(flows).toEqual(expected);
    await until(() => c.stats().datagrams === grams.length);
    const st = c.stats();
    expect(st).toMatchObject({
      records: 6000,
      flows: 6000,
      errors: {},
      queueDropped: 0,
      sequenceGaps: 0,
      workerRestarts: 0,
    });
    expect(st.exporters).toEqual([expect.objectContaining({ exporter: '127.0.0.1', records: 6000 })]);
    expect(st.recvBufferSize).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(st.socketDrops).toBe(0);
  });

  it('onDeferred: each batch still encoded, its count and a decode giving what onItems would have', async () => {
    const grams = exports(1000);
    const batches: { n: number; decode: () => SourceItem[] }[] = [];
    const { c, port } = await start(
      { batchRecords: 300 },
      { onDeferred: (n, decode) => batches.push({ n, decode }) },
    );
    const send = await sender();
    for (const g of grams) await send(g, port);
    await until(() => batches.reduce((t, b) => t + b.n, 0) === 2000);
    const local = inProcess(grams);
    const decoded = batches.flatMap((b) => {
      const items = b.decode();
      expect(items.length).toBe(b.n);
      return items.map((i) => (i.kind === 'flow' ? i.flow : null));
    });
    expect(decoded).toEqual(local);
    expect(c.stats().queueDropped).toBe(0);
  });

  /**
   * A collector whose consumer is full (nothing acknowledged past the one batch in flight) while the 2400
   * records of `grams` arrive; release() lets the consumer take everything.
   */
  async function heldBack(grams: Buffer[], extra: Extra = {}) {
    let full = true;
    const started = await start({
      batchRecords: 96,
      maxInFlight: 1,
      maxQueuedRecords: 480,
      backlog: () => (full ? Infinity : 0),
      maxBacklog: 1,
      statsIntervalMs: 20,
      ...extra,
    });
    const send = await sender();
    for (const g of grams) await send(g, started.port);
    await until(() => started.c.stats().datagrams === grams.length);
    await sleep(100);
    return { ...started, held: started.c.stats(), release: () => (full = false) };
  }
  const newSpoolFile = () => join(mkdtempSync(join(tmpdir(), 'iotsec-nf-spool-')), 'netflow.spool');

  it('holds back while the consumer is full; past maxQueuedRecords drops and counts; then delivers the rest', async () => {
    const { c, flows, held, release } = await heldBack(exports(1200)); // 2400 records, 24 per datagram
    expect(flows.length).toBe(96); // the one batch in flight
    expect(held.queueDropped).toBeGreaterThan(0);
    expect(held.queued).toBeLessThanOrEqual(480);
    expect(flows.length + held.queued + held.queueDropped).toBe(2400);
    release();
    await until(() => flows.length === 2400 - held.queueDropped);
    await sleep(100);
    expect(flows.length).toBe(2400 - held.queueDropped);
    expect(c.stats()).toMatchObject({ queued: 0, queueDropped: held.queueDropped, records: 2400 });
  });

  it('with a spool, what the memory queue cannot hold waits on disk and arrives in order: none dropped', async () => {
    const grams = exports(1200); // 2400 records
    const reference = await start();
    const sendRef = await sender();
    for (const g of grams) await sendRef(g, reference.port);
    await until(() => reference.flows.length === 2400);

    const spoolFile = newSpoolFile();
    const { c, flows, warnings, held, release } = await heldBack(grams, { spoolFile });
    expect(held.queueDropped).toBe(0);
    expect(held.spooled).toBeGreaterThan(0);
    expect(flows.length + held.queued).toBe(2400);
    expect(statSync(spoolFile).size).toBeGreaterThan(0);
    expect(warnings.filter((w) => /spooling to disk/.test(w.msg))).toHaveLength(1); // once, not per batch
    release();
    await until(() => flows.length === 2400);
    await sleep(100);
    expect(c.stats()).toMatchObject({ queued: 0, spooled: 0, queueDropped: 0, records: 2400 });
    expect(flows.map((f) => f.communityId)).toEqual(reference.flows.map((f) => f.communityId));
    expect(statSync(spoolFile).size).toBe(0); // drained: emptied
    await c.stop();
    expect(existsSync(spoolFile)).toBe(false);
  });

  it('a full spool drops and counts, and delivers the rest', async () => {
    const { c, flows, held, release } = await heldBack(exports(1200), {
      spoolFile: newSpoolFile(),
      maxSpoolBytes: 40_000, // a couple of 96-flow batches
    });
    expect(held.queueDropped).toBeGreaterThan(0);
    expect(flows.length + held.queued + held.queueDropped).toBe(2400);
    release();
    await until(() => flows.length === 2400 - held.queueDropped);
    await sleep(100);
    expect(c.stats()).toMatchObject({ queued: 0, queueDropped: held.queueDropped, records: 2400 });
  });

  it('stop() reads what waits in the socket and hands everything over before it resolves', async () => {
    const grams = exports(2400);
    const { c, port, flows } = await start();
    const send = await sender();
    for (const g of grams) await send(g, port); // no pause: most still queued in the socket or the worker
    await c.stop();
    running.splice(running.indexOf(c), 1);
    const st = c.stats();
    expect(st.datagrams).toBe(grams.length);
    expect(flows.length).toBe(4800);
    expect(st.queueDropped).toBe(0);
  });

  it('garbage is counted and warned about at a rate limit, and decoding goes on', async () => {
    const { c, port, flows, warnings } = await start();
    const send = await sender();
    for (let i = 0; i < 50; i++) await send(Uint8Array.of(0, 7, 1, 2, 3), port);
    await send(Uint8Array.of(0, 10, 0, 40, 1), port);
    const grams = exports(48);
    for (const g of grams) await send(g, port);
    await until(() => flows.length === 96 && c.stats().datagrams === 51 + grams.length);
    expect(c.stats().errors).toEqual({ unsupported: 50, truncated: 1 });
    expect(warnings.length).toBe(1);
    expect(warnings[0]?.msg).toMatch(/^netflow: /);
  });

  it('a receiving thread that dies is restarted on the same port, counters kept', async () => {
    const { c, port, flows, warnings } = await start({ statsIntervalMs: 20 });
    const send = await sender();
    const first = exports(24, 5);
    for (const g of first) await send(g, port);
    await until(() => flows.length === 48 && c.stats().datagrams === first.length);
    await (c as unknown as { worker: Worker }).worker.terminate();
    await until(() => c.stats().workerRestarts === 1);
    // Restarted after 1 s: probe (a datagram counted as an error, no flow) until the new thread counts one.
    let probes = 0;
    await until(
      () => {
        if (c.stats().datagrams > first.length) return true;
        probes++;
        void send(Uint8Array.of(0, 7), port);
        return false;
      },
      20_000,
      100,
    );
    const seen = c.stats().datagrams;
    const again = exports(24, 9); // templates again first: a fresh thread knows none
    for (const g of again) await send(g, port);
    await until(() => flows.length === 96);
    await until(() => c.stats().datagrams === seen + again.length);
    expect(c.stats().records).toBe(96);
    expect(probes).toBeGreaterThan(0);
    expect(warnings.some((w) => /restarting/.test(w.msg))).toBe(true);
  });

  it('start() fails cleanly when the port is taken, and can be tried again', async () => {
    const taken = dgram.createSocket('udp4');
    sockets.push(taken);
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
    const c = new ThreadedNetflowCollector({
      port: taken.address().port,
      host: '127.0.0.1',
      onItems: () => {},
    });
    await expect(c.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await c.stop(); // nothing to stop
  });
});
