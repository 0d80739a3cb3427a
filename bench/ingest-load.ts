import { openStore } from '../src/store/db.js';
import { IngestWriter } from '../src/ingest/writer.js';
import type { SourceItem } from '../src/sources/types.js';
import { ingestFlow } from '../src/test-support/flows.js';
import { PG_URL } from './seed-scale.js';

/**
 * Sustained flow ingest into PostgreSQL, run as its own process beside `iotsec serve` by the api bench:
 * batches of generated flows go through the production IngestWriter (flows, device upserts, per-minute
 * rollups, in one transaction per batch) for a fixed time, and the process prints one JSON line with the
 * flows stored per second. Flows are for the seeded schema's devices (MACs 02:00:00:00:00:01…), stamped
 * with the current time, so they land in today's partition as live traffic would.
 *
 *   node bin/run-ts.js bench/ingest-load.ts SCHEMA SECONDS [BATCH] [DEVICES]
 */

const [schema = 'bench', secondsArg = '20', batchArg = '5000', devicesArg = '2000'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const batch = Number(batchArg);
const devices = Number(devicesArg);

const mac = (g: number) => {
  const h = g.toString(16).padStart(10, '0');
  return `02:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}:${h.slice(8, 10)}`;
};
const ipOf = (g: number) => `10.${(g >> 16) & 255}.${(g >> 8) & 255}.${g & 255}`;

function makeBatch(seq: number, nowUs: number): SourceItem[] {
  const items: SourceItem[] = [];
  for (let i = 0; i < batch; i++) {
    const n = seq * batch + i;
    const d = 1 + (n % devices);
    const port = 1024 + (n % 50_000);
    const tsEnd = nowUs - (i % 1000) * 1000;
    items.push({
      kind: 'flow',
      flow: ingestFlow({
        tsStart: tsEnd - 2_000_000,
        tsEnd,
        srcIp: ipOf(d),
        dstIp: `93.184.${(n >> 8) & 255}.${n & 255}`,
        srcPort: port,
        dstPort: n % 3 === 0 ? 443 : n % 3 === 1 ? 53 : 8883,
        proto: n % 3 === 1 ? 17 : 6,
        appProto: n % 3 === 0 ? 'tls' : n % 3 === 1 ? 'dns' : 'mqtt',
        bytesOut: 200 + (n % 5000),
        bytesIn: 400 + (n % 20_000),
        packetsOut: 3 + (n % 20),
        packetsIn: 3 + (n % 30),
        payloadBytesOut: 100 + (n % 4000),
        payloadBytesIn: 300 + (n % 18_000),
        communityId: `1:bench${n.toString(36).padStart(22, '0')}=`,
        srcMac: mac(d),
        dstMac: '00:11:22:33:44:55',
      }),
    });
  }
  return items;
}

const store = await openStore({ databaseUrl: PG_URL, schema, poolMax: 2 });
const writer = new IngestWriter(store);
const t0 = performance.now();
let flows = 0;
let seq = 0;
while (performance.now() - t0 < seconds * 1000) {
  await writer.write(makeBatch(seq++, Date.now() * 1000));
  flows += batch;
}
const elapsed = (performance.now() - t0) / 1000;
await store.close();
process.stdout.write(
  `${JSON.stringify({ flows, seconds: Math.round(elapsed * 10) / 10, flows_per_s: Math.round(flows / elapsed), batch })}\n`,
);
