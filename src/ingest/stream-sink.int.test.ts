/**
 * StreamSink against a real store (embedded PGlite, and PostgreSQL when reachable): what starts a flush
 * (size, period, end of a burst, a backlog left when a flush ends), dropping the oldest past maxBuffered
 * with counts, the source's own drops in the saved stats, close() storing everything, every committed batch
 * analysed (beside the next write) before settled() resolves.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, type Services } from '../api/context.js';
import { MemoryBus, MemoryKv } from '../bus/memory.js';
import type { SourceItem } from '../sources/types.js';
import { queryRows } from '../store/db.js';
import { sources } from '../store/schema.js';
import { ingestFlow } from '../test-support/flows.js';
import { storeEngines, type Engine } from '../test-support/services.js';
import { destinationStats } from '../detect/destinations/service.js';
import { StreamSink } from './stream-sink.js';
import type { IngestWriter } from './writer.js';

const engines: Engine[] = await storeEngines();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let seq = 0;
/** n flows, each with its own Community ID (the marker the tests look for). */
function flows(n: number, tag: string): SourceItem[] {
  return Array.from({ length: n }, () => ({
    kind: 'flow' as const,
    flow: ingestFlow({ communityId: `1:${tag}-${seq++}`, tsStart: 1_700_000_000_000_000 + seq }),
  }));
}

describe.each(engines)('StreamSink ($name)', (engine) => {
  let services: Services;
  beforeAll(async () => {
    const store = await engine.open();
    await store.migrate();
    services = buildServices(store, new MemoryBus(), new MemoryKv());
  });
  afterAll(async () => services?.close());

  async function source(): Promise<string> {
    const [row] = await services.store.db
      .insert(sources)
      .values({ kind: 'netflow', name: `sink test ${seq++}`, status: 'running' })
      .returning({ id: sources.id });
    return row?.id ?? '';
  }

  async function stored(tag: string): Promise<number> {
    const [r] = await queryRows<{ n: number }>(
      services.store.db,
      sql`SELECT count(*)::int AS n FROM network_traffic WHERE community_id LIKE ${`1:${tag}-%`}`,
    );
    return Number(r?.n ?? 0);
  }

  /** A sink that writes only when closed (no size or period flush), keeping at most maxBuffered items. */
  async function holding(maxBuffered: number): Promise<StreamSink> {
    return new StreamSink(services, {
      sourceId: await source(),
      flushMs: 60_000,
      batchItems: 1_000_000,
      maxBuffered,
    });
  }

  it('past maxBuffered the oldest items are dropped (whole and split chunks) and counted', async () => {
    const sink = await holding(100);
    sink.push(flows(60, 'old'));
    sink.push(flows(30, 'mid'));
    sink.push(flows(40, 'new')); // 130: the 30 oldest go (half of the first chunk)
    expect(sink.buffered).toBe(100);
    expect(sink.dropped).toBe(30);
    sink.push(flows(70, 'last')); // 170: 70 more go (the first chunk's rest, the second, 10 of the third)
    expect(sink.buffered).toBe(100);
    expect(sink.dropped).toBe(100);
    await sink.close();
    expect([await stored('old'), await stored('mid'), await stored('new'), await stored('last')]).toEqual([
      0, 0, 30, 70,
    ]);
  });

  it('deferred batches are decoded only when written, in order with pushed items, and drop like them', async () => {
    const sink = await holding(100);
    const decoded: string[] = [];
    const deferred = (n: number, tag: string) => {
      const items = flows(n, tag);
      sink.pushDeferred(n, () => {
        decoded.push(tag);
        return items;
      });
    };
    deferred(40, 'd1');
    sink.push(flows(20, 'p1'));
    deferred(30, 'd2');
    expect(sink.buffered).toBe(90);
    expect(decoded).toEqual([]); // nothing decoded while waiting
    deferred(30, 'd3'); // 120: the first 20 of d1 go (d1 is decoded to be split)
    expect(sink.dropped).toBe(20);
    expect(decoded).toEqual(['d1']);
    deferred(20, 'd4'); // 120: d1's other 20 go whole
    expect(sink.dropped).toBe(40);
    sink.pushDeferred(0, () => {
      throw new Error('an empty batch is not kept');
    });
    sink.pushDeferred(5, () => {
      throw new Error('damaged'); // not decodable: dropped and counted, the rest is written
    });
    expect(sink.dropped).toBe(45); // 5 of p1 made room for it
    await sink.close();
    expect(sink.dropped).toBe(50);
    expect(decoded).toEqual(['d1', 'd2', 'd3', 'd4']);
    const rows = await queryRows<{ community_id: string }>(
      services.store.db,
      sql`SELECT community_id FROM network_traffic WHERE community_id ~ '^1:(d[1-4]|p1)-' ORDER BY id`,
    );
    const order = rows.map((r) => r.community_id.replace(/^1:(\w+)-.*$/, '$1'));
    expect(order).toEqual([
      ...Array<string>(15).fill('p1'),
      ...Array<string>(30).fill('d2'),
      ...Array<string>(30).fill('d3'),
      ...Array<string>(20).fill('d4'),
    ]);
  });

  it('a deferred batch that cannot be decoded is dropped whole and counted, also when split to make room', async () => {
    const sink = await holding(10);
    sink.pushDeferred(8, () => {
      throw new Error('damaged');
    });
    sink.push(flows(5, 'after')); // 13: 3 must go, from the damaged batch, which then goes whole
    expect(sink.dropped).toBe(8);
    expect(sink.buffered).toBe(5);
    await sink.close();
    expect(sink.dropped).toBe(8);
    expect(await stored('after')).toBe(5);
  });

  it('a backlog left when a flush ends is written at once, not at the next period', async () => {
    const sink = new StreamSink(services, {
      sourceId: await source(),
      flushMs: 60_000,
      batchItems: 100,
    });
    // All at once: the first flush takes 100, the 400 pushed meanwhile follow as soon as it ends.
    for (let i = 0; i < 10; i++) sink.push(flows(50, 'chain'));
    const t0 = Date.now();
    while ((await stored('chain')) < 500 && Date.now() - t0 < 20_000) await sleep(50);
    expect(await stored('chain')).toBe(500);
    expect(sink.written.flows).toBe(500);
    await sink.close();
  });

  it('idleFlushMs: the end of a burst is stored without waiting for the period', async () => {
    const sink = new StreamSink(services, {
      sourceId: await source(),
      flushMs: 60_000,
      idleFlushMs: 50,
    });
    sink.push(flows(10, 'idle'));
    const t0 = Date.now();
    while ((await stored('idle')) < 10 && Date.now() - t0 < 10_000) await sleep(20);
    expect(await stored('idle')).toBe(10);
    expect(Date.now() - t0).toBeLessThan(5000);
    await sink.close();
  });

  it('analyses every committed batch (destination profiles here), and settled() waits for it', async () => {
    const sink = new StreamSink(services, { sourceId: await source(), flushMs: 60_000 });
    const peer = (i: number): SourceItem => ({
      kind: 'flow',
      flow: ingestFlow({
        communityId: `1:analyse-${seq++}`,
        tsStart: 1_700_000_000_000_000 + seq,
        srcMac: '02:00:00:00:aa:01',
        srcIp: '10.9.9.9',
        dstIp: `198.51.100.${i}`,
        dstPort: 443,
      }),
    });
    const batches = destinationStats.batches;
    sink.push([peer(1), peer(2)]);
    await sink.flush();
    sink.push([peer(3)]);
    await sink.flush(); // may resolve while this batch is still being analysed
    await sink.settled();
    expect(destinationStats.batches - batches).toBe(2);
    const rows = await queryRows<{ value: string }>(
      services.store.db,
      sql`SELECT value FROM device_destinations dd JOIN devices d ON d.id = dd.device_id
           WHERE d.mac = '02:00:00:00:aa:01' AND dd.kind = 'endpoint' ORDER BY value`,
    );
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3].map((i) => `198.51.100.${i}:443/tcp`));
    await sink.close();
  });

  it("with a backlog, a batch is analysed once the next write's rows are with the database; else at once", async () => {
    const sink = new StreamSink(services, { sourceId: await source(), flushMs: 60_000, batchItems: 100 });
    // What happens when, by batch (its first flow's tag): a write's rows sent, an analysis started.
    const log: string[] = [];
    const tagOf = (items: SourceItem[]) => {
      const first = items[0];
      return first?.kind === 'flow' ? (first.flow.communityId ?? '').split('-')[0] : '?';
    };
    const internals = sink as unknown as {
      writer: IngestWriter;
      analyse(items: SourceItem[]): Promise<void>;
    };
    const write = internals.writer.write.bind(internals.writer);
    internals.writer.write = (items, checkpoint, hooks) =>
      write(items, checkpoint, {
        onRowsSent: () => {
          log.push(`${tagOf(items)} rows sent`);
          hooks?.onRowsSent?.();
        },
      });
    const analyse = internals.analyse.bind(sink);
    internals.analyse = (items) => {
      log.push(`${tagOf(items)} analysed`);
      return analyse(items);
    };
    // The first push starts a flush; the second waits meanwhile: a backlog when the first one commits.
    sink.push(flows(100, 'b1'));
    sink.push(flows(100, 'b2'));
    const t0 = Date.now();
    while (log.length < 4 && Date.now() - t0 < 20_000) await sleep(20);
    expect(log).toEqual(['1:b1 rows sent', '1:b2 rows sent', '1:b1 analysed', '1:b2 analysed']);
    // Nothing waits after a batch: it is analysed right after its commit, without another write.
    log.length = 0;
    sink.push(flows(100, 'b3'));
    while (log.length < 2 && Date.now() - t0 < 20_000) await sleep(20);
    expect(log).toEqual(['1:b3 rows sent', '1:b3 analysed']);
    await sink.close();
  });

  it('saves the source counters with each batch; their `dropped` adds to its own', async () => {
    const id = await source();
    const sink = new StreamSink(services, {
      sourceId: id,
      flushMs: 60_000,
      maxBuffered: 5,
      stats: () => ({ records: 42, dropped: 7 }),
    });
    sink.push(flows(8, 'stats')); // 3 dropped here
    await sink.flush();
    const [row] = await services.store.db.select().from(sources).where(eq(sources.id, id));
    expect(row?.stats).toMatchObject({ records: 42, dropped: 10, sink_dropped: 3, flows_written: 5 });
    await sink.close();
  });
});
