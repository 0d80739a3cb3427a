import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory.js';
import { ingestFile } from '../ingest/file-ingest.js';
import { queryRows, type Store } from '../store/db.js';
import { dropSchema, hasSharedData, SHARED_DATA, storeEngines } from '../test-support/services.js';
import { loadProfiles, PROFILE_FLOWS, type DeviceRow } from './db-profile.js';

const engines = await storeEngines();
const LONG = join(
  SHARED_DATA,
  'iot23-dev',
  'CTU-IoT-Malware-Capture-42-1',
  '2019-01-10-14-34-38-192.168.1.197.pcap',
);

describe.skipIf(!hasSharedData).each(engines)('device profiles from stored flows on $name', (engine) => {
  let store: Store;
  const bus = new MemoryBus();

  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    await ingestFile({ store, bus }, LONG);
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
    await bus.close();
  });

  it("holds each device's most recent flows, seen from the device, with numbers as numbers", async () => {
    const rows = await queryRows<DeviceRow & { n: number }>(
      store.db,
      sql`SELECT d.id::int8 AS id, d.mac, host(d.primary_ip) AS primary_ip, d.vendor,
            (SELECT count(*)::int8 FROM network_traffic t WHERE t.device_id = d.id OR t.peer_device_id = d.id) AS n
          FROM devices d ORDER BY n DESC`,
    );
    const devices = rows.map((d) => ({ ...d, id: Number(d.id), n: Number(d.n) })); // int8 as text on pg
    const busiest = devices[0];
    expect(busiest && busiest.n > PROFILE_FLOWS).toBe(true); // the cap is exercised
    const profiles = await loadProfiles(store.db, devices);
    for (const d of devices) {
      const p = profiles.get(Number(d.id));
      expect(p?.flows.length, `device ${d.id}`).toBe(Math.min(Number(d.n), PROFILE_FLOWS));
    }

    // The busiest device's profile against its newest stored flows, read one by one.
    const id = Number(busiest?.id);
    const stored = await queryRows<{ bytes: number; packets: number; peer: string }>(
      store.db,
      sql`SELECT (bytes_out + bytes_in)::int8 AS bytes, (packets_out + packets_in)::int8 AS packets,
            CASE WHEN host(src_ip) = ${busiest?.primary_ip} THEN host(dst_ip) ELSE host(src_ip) END AS peer
          FROM network_traffic WHERE device_id = ${id} OR peer_device_id = ${id}
          ORDER BY ts_start DESC LIMIT ${PROFILE_FLOWS}`,
    );
    const flows = profiles.get(id)?.flows ?? [];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(flows.map((f) => f.bytesSent + f.bytesReceived))).toBe(
      sum(stored.map((r) => Number(r.bytes))),
    );
    expect(sum(flows.map((f) => f.packetsSent + f.packetsReceived))).toBe(
      sum(stored.map((r) => Number(r.packets))),
    );
    expect(new Set(flows.map((f) => f.peerIp))).toEqual(new Set(stored.map((r) => r.peer)));
    for (const f of flows) {
      for (const v of [f.proto, f.bytesSent, f.bytesReceived, f.packetsSent, f.packetsReceived])
        expect(typeof v).toBe('number');
      expect(f.servicePort === null || typeof f.servicePort === 'number').toBe(true);
      expect(typeof f.established).toBe('boolean');
    }
    expect(flows.some((f) => f.outbound) && flows.some((f) => f.established)).toBe(true);
  });
});
