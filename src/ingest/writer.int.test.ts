import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceItem } from '../sources/types.js';
import { mergeDevices } from '../store/device-merge.js';
import { queryRows, type Store } from '../store/db.js';
import { dropSchema, storeEngines } from '../test-support/services.js';
import { ingestFlow } from '../test-support/flows.js';
import { IngestWriter } from './writer.js';

/**
 * The writer leaves a device row alone when a batch would move its last_seen by less than 30 s (rewriting
 * every device of a busy network for every batch was the largest cost of sustained ingest), but never lets
 * that hide a real change: a later time, an earlier first sighting, a new address, or a device merged away.
 */

const T0 = Date.parse('2026-11-20T10:00:00Z') * 1000;
const S = 1_000_000;

function flow(mac: string, ip: string, tsUs: number): SourceItem {
  return {
    kind: 'flow',
    flow: ingestFlow({
      tsStart: tsUs,
      tsEnd: tsUs,
      srcIp: ip,
      dstIp: '93.184.216.34',
      bytesOut: 100,
      bytesIn: 200,
      packetsOut: 2,
      packetsIn: 2,
      payloadBytesOut: 0,
      payloadBytesIn: 0,
      tcpFlagsOut: 0x12,
      tcpFlagsIn: 0x12,
      communityId: `1:test${tsUs}`,
      srcMac: mac,
      dstMac: '00:11:22:33:44:55',
    }),
  };
}

describe.each(await storeEngines())('ingest writer device rows ($name)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  const device = async (mac: string) => {
    const [d] = await queryRows<{
      id: number;
      first_seen: Date | string;
      last_seen: Date | string;
      ip: string;
    }>(
      store.db,
      sql`SELECT id::int8 AS id, first_seen, last_seen, host(primary_ip) AS ip FROM devices WHERE mac = ${mac}`,
    );
    return d && { ...d, first_seen: new Date(d.first_seen), last_seen: new Date(d.last_seen) };
  };

  it('skips rewrites within 30 s, writes later times, earlier sightings and new addresses', async () => {
    const w = new IngestWriter(store);
    const mac = '00:1b:63:aa:00:01';
    await w.write([flow(mac, '10.0.0.5', T0)]);
    await w.write([flow(mac, '10.0.0.5', T0 + 10 * S)]);
    expect((await device(mac))?.last_seen.getTime()).toBe(T0 / 1000); // within the slack: not rewritten
    await w.write([flow(mac, '10.0.0.5', T0 + 45 * S)]);
    expect((await device(mac))?.last_seen.getTime()).toBe(T0 / 1000 + 45_000);
    await w.write([flow(mac, '10.0.0.5', T0 - 3600 * S)]); // an older capture: first_seen moves back
    expect((await device(mac))?.first_seen.getTime()).toBe(T0 / 1000 - 3_600_000);
    await w.write([flow(mac, '10.0.0.9', T0 + 50 * S)]); // a new address is always written
    expect((await device(mac))?.ip).toBe('10.0.0.9');
    const addrs = await queryRows<{ ip: string }>(
      store.db,
      sql`SELECT host(ip) AS ip FROM device_addresses WHERE device_id = ${(await device(mac))?.id} ORDER BY ip`,
    );
    expect(addrs.map((a) => a.ip)).toEqual(['10.0.0.5', '10.0.0.9']);
  });

  it('notices a device merged into another since it was written', async () => {
    const w = new IngestWriter(store);
    const a = '00:1b:63:aa:00:02';
    await w.write([flow(a, '10.0.0.6', T0)]);
    const before = await device(a);
    const [other] = await queryRows<{ id: number }>(
      store.db,
      sql`INSERT INTO devices (mac, first_seen, last_seen) VALUES ('00:1b:63:aa:00:03', now(), now())
          RETURNING id::int8 AS id`,
    );
    // Fold the device away (as a merge would) and give its MAC to the surviving row.
    await store.db.transaction(async (tx) => {
      await mergeDevices(tx, Number(before?.id), Number(other?.id));
      await tx.execute(sql`UPDATE devices SET mac = ${a} WHERE id = ${Number(other?.id)}`);
    });
    await w.write([flow(a, '10.0.0.6', T0 + 5 * S)]);
    const flows = await queryRows<{ device_id: number }>(
      store.db,
      sql`SELECT DISTINCT device_id::int8 AS device_id FROM network_traffic WHERE src_mac = ${a}`,
    );
    expect(flows.map((f) => Number(f.device_id))).toEqual([Number(other?.id)]);
  });
});
