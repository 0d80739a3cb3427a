import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory.js';
import type { BusEvent } from '../bus/types.js';
import type { Store } from '../store/db.js';
import { queryRows } from '../store/db.js';
import { dropSchema, hasSharedData, SHARED_DATA, storeEngines } from '../test-support/services.js';
import { captureItems } from './capture-items.js';
import { ingestFile, IngestInputError } from './file-ingest.js';

const engines = await storeEngines();
const HUE = join(SHARED_DATA, 'iot-sentinel-train', 'HueBridge', 'Setup-A-1-STA.pcap');
const HUE_MAC = '00:17:88:24:76:ff';
const LONG = join(
  SHARED_DATA,
  'iot23-dev',
  'CTU-Honeypot-Capture-4-1',
  '2018-09-14-13-40-25-Philips-Hue-Bridge.pcap',
);

async function flowsOf(path: string): Promise<number> {
  let n = 0;
  for await (const b of captureItems(createReadStream(path), { source: path }))
    n += b.items.filter((i) => i.kind === 'flow').length;
  return n;
}

const count = async (store: Store, table: string) =>
  Number(
    (await queryRows<{ n: number }>(store.db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]?.n,
  );

describe.skipIf(!hasSharedData).each(engines)('file ingest on $name', (engine) => {
  let store: Store;
  const bus = new MemoryBus();
  const events: BusEvent[] = [];

  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    await bus.subscribe('events', (e) => events.push(e));
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
    await bus.close();
  });

  it('stores every flow of a real capture, with the device keyed by its MAC and its signals', async () => {
    const expected = await flowsOf(HUE);
    const s = await ingestFile({ store, bus }, HUE);
    expect(s.format).toBe('pcap');
    expect(s.flows).toBe(expected);
    expect(s.error).toBeNull();
    expect(await count(store, 'network_traffic')).toBe(expected);
    const [hue] = await queryRows<{
      id: number;
      vendor: string | null;
      hostname: string | null;
      mac_randomized: boolean;
    }>(
      store.db,
      sql`SELECT id::int8 AS id, vendor, hostname, mac_randomized FROM devices WHERE mac = ${HUE_MAC}`,
    );
    expect(hue?.vendor).toMatch(/Philips/i);
    expect(hue?.mac_randomized).toBe(false);
    const kinds = (
      await queryRows<{ kind: string }>(
        store.db,
        sql`SELECT DISTINCT kind FROM device_signals WHERE device_id = ${hue?.id}`,
      )
    ).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['dhcp_fingerprint', 'dns_query']));
    // Flows of the Hue are attributed to it, and its traffic rolls up per minute.
    const own = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM network_traffic WHERE device_id = ${hue?.id}`,
    );
    expect(Number(own[0]?.n)).toBeGreaterThan(0);
    const roll = await queryRows<{ flows: number; b: number }>(
      store.db,
      sql`SELECT sum(flows)::int AS flows, sum(bytes_out + bytes_in)::float8 AS b FROM traffic_rollups WHERE device_id = ${hue?.id}`,
    );
    expect(Number(roll[0]?.flows)).toBeGreaterThan(0);
    // Internet peers are not devices; every device has a local address or a MAC.
    const bad = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM devices WHERE mac IS NULL AND NOT (primary_ip << '10.0.0.0/8' OR primary_ip << '172.16.0.0/12' OR primary_ip << '192.168.0.0/16' OR primary_ip << '169.254.0.0/16' OR primary_ip << 'fe80::/10' OR primary_ip << 'fc00::/7')`,
    );
    expect(Number(bad[0]?.n)).toBe(0);
    expect(events.some((e) => e.type === 'new_device' && (e.data as { mac: string }).mac === HUE_MAC)).toBe(
      true,
    );
  });

  it('does not ingest a finished file twice', async () => {
    const before = await count(store, 'network_traffic');
    const again = await ingestFile({ store, bus }, HUE);
    expect(again.skipped).toBe(true);
    expect(await count(store, 'network_traffic')).toBe(before);
  });

  it('resumes an interrupted ingest with no loss and no duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-resume-'));
    const copy = join(dir, 'hue-long.pcap');
    writeFileSync(copy, readFileSync(LONG));
    const before = await count(store, 'network_traffic');
    const expected = await flowsOf(copy);
    // Crash after the first committed batch (tiny batches so there are several).
    await expect(
      ingestFile({ store, bus }, copy, {
        batchItems: 1,
        afterCommit: (committedFlows) => {
          if (committedFlows > 0) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const partial = (await count(store, 'network_traffic')) - before;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(expected);
    // Resumed with the decoding in a worker thread (the default on 4+ cores): its batches must be exactly
    // those of the in-thread decoding that crashed, or the checkpoint would skip or repeat flows.
    const resumed = await ingestFile({ store, bus }, copy, { batchItems: 1, decodeInWorker: true });
    expect(resumed.resumed).toBe(true);
    expect((await count(store, 'network_traffic')) - before).toBe(expected);
    const dupes = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM (SELECT community_id, ts_start FROM network_traffic GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    expect(Number(dupes[0]?.n)).toBe(0);
  });

  it('ingests a truncated capture up to its last good record and names the byte offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-trunc-'));
    const whole = readFileSync(join(SHARED_DATA, 'iot-sentinel-train', 'Aria', 'Setup-A-1-STA.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const s = await ingestFile({ store, bus }, cut);
    expect(s.error?.message).toMatch(/cut\.pcap.*ends inside a record/);
    expect(s.error?.offset).toBeGreaterThan(24);
    expect(s.flows).toBeGreaterThan(0);
  });

  it('reads gzipped captures and refuses what is not a capture, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-gz-'));
    const gz = join(dir, 'aria.pcap.gz');
    writeFileSync(
      gz,
      gzipSync(readFileSync(join(SHARED_DATA, 'iot-sentinel-train', 'Aria', 'Setup-A-2-STA.pcap'))),
    );
    const s = await ingestFile({ store, bus }, gz);
    expect(s.format).toBe('pcap');
    expect(s.flows).toBeGreaterThan(0);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from('this is not a capture at all\n'));
    await expect(ingestFile({ store, bus }, junk)).rejects.toBeInstanceOf(IngestInputError);
    await expect(ingestFile({ store, bus }, join(dir, 'missing.pcap'))).rejects.toThrow(/no such file/);
    const bomb = join(dir, 'bomb.pcap.gz');
    const pcapHeader = readFileSync(
      join(SHARED_DATA, 'iot-sentinel-train', 'Aria', 'Setup-A-2-STA.pcap'),
    ).subarray(0, 24);
    writeFileSync(bomb, gzipSync(Buffer.concat([pcapHeader, Buffer.alloc(8 * 1024 * 1024)])));
    await expect(ingestFile({ store, bus }, bomb, { maxInflatedBytes: 1024 * 1024 })).rejects.toThrow(
      /gzip bomb|inflates/,
    );
  });
});
