import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestFlow } from '../sources/types.js';
import { ingestFlow } from '../test-support/flows.js';
import { dropSchema, storeEngines } from '../test-support/services.js';
import { queryRows, type Store } from './db.js';
import { PartitionManager } from './partitions.js';
import { ip6ToString, ipv4ToString } from '../wire/addr.js';
import { copyFlows, flowsAsCopyBinary, listFlows } from './traffic.js';

const engines = await storeEngines();
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000; // µs

function flow(i: number, over: Partial<IngestFlow> = {}): IngestFlow {
  return ingestFlow({
    tsStart: T0 + i * 1_000_001 + 7,
    tsEnd: T0 + i * 1_000_001 + 123_456,
    srcIp: '10.0.0.2',
    dstIp: '93.184.216.34',
    srcPort: 40000 + i,
    bytesOut: 1000 + i,
    bytesIn: 5_000_000_000 + i,
    packetsIn: 12,
    payloadBytesOut: 0,
    payloadBytesIn: 0,
    communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    srcMac: '02:00:00:00:00:01',
    dstMac: null,
    sni: 'example.com',
    ...over,
  });
}

describe.each(engines)('copyFlows on $name', (engine) => {
  let store: Store;

  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    await new PartitionManager(store.db).ensureFor([T0 / 1000, T0 / 1000 + 86_400_000]);
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  it('stores every column exactly: µs times, NULLs, escapes, cuts, IPv6', async () => {
    const odd = 'tab\there\nnew\\line\rcr\u0000nul ünï';
    const flows = [
      flow(0),
      flow(1, {
        srcIp: '2001:db8::1',
        dstIp: 'fe80::1',
        srcPort: null,
        dstPort: null,
        proto: 58,
        appProto: null,
        connState: 'OTH',
        communityId: '1:abc',
        srcMac: null,
        vlan: 12,
        sni: odd,
        httpHost: 'h'.repeat(300),
        dnsNames: ['a.example', 'b.example'],
        uid: 'CHhAvVGS1DHFjwGM9',
        label: `Malicious\t${odd}`,
      }),
    ];
    const ok = await store.db.transaction((tx) =>
      copyFlows(tx, store.engine, flows, [null, 7], [3, null], null),
    );
    expect(ok).toBe(true);
    const rows = await listFlows(
      store.db,
      { from: new Date(T0 / 1000 - 1000), to: new Date(T0 / 1000 + 86_400_000) },
      10,
    );
    const [b, a] = rows; // newest first
    expect(a).toMatchObject({
      ts_start: '2024-05-01T12:00:00.000007Z',
      ts_end: '2024-05-01T12:00:00.123456Z',
      device_id: null,
      peer_device_id: 3,
      src_ip: '10.0.0.2',
      src_port: 40000,
      dst_ip: '93.184.216.34',
      dst_port: 443,
      proto: 6,
      app_proto: 'tls',
      bytes_out: 1000,
      bytes_in: 5_000_000_000,
      packets_out: 10,
      packets_in: 12,
      tcp_flags_out: 0x1b,
      conn_state: 'SF',
      community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      src_mac: '02:00:00:00:00:01',
      dst_mac: null,
      vlan: null,
      sni: 'example.com',
      http_host: null,
      dns_query: null,
      uid: null,
      label: null,
    });
    expect(b).toMatchObject({
      ts_start: '2024-05-01T12:00:01.000008Z',
      device_id: 7,
      peer_device_id: null,
      src_ip: '2001:db8::1',
      dst_ip: 'fe80::1',
      src_port: null,
      proto: 58,
      app_proto: null,
      vlan: 12,
      sni: 'tab\there\nnew\\line\rcrnul ünï', // NUL dropped: PostgreSQL text cannot hold it
      http_host: 'h'.repeat(255),
      dns_query: 'a.example',
      uid: 'CHhAvVGS1DHFjwGM9',
      label: 'Malicious\ttab\there\nnew\\line\rcrnul ünï',
    });
  });

  it('binary COPY stores exactly what COPY text stores (random flows: any text, IPv6, nulls, big numbers)', async () => {
    const text = fc.option(fc.string({ unit: 'binary', maxLength: 300 }), { nil: null });
    const ip = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }).map(ipv4ToString),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ip6ToString(b)),
      fc.integer({ min: 0, max: 0xffffffff }).map((v) => `::ffff:${ipv4ToString(v)}`),
    );
    const arb = fc.record({
      start: fc.integer({ min: 0, max: 86_399_000_000 }),
      duration: fc.integer({ min: 0, max: 600_000_000 }),
      srcIp: ip,
      dstIp: ip,
      srcPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
      proto: fc.integer({ min: 0, max: 255 }),
      appProto: text,
      bytesOut: fc.maxSafeNat(),
      packetsIn: fc.integer({ min: 0, max: 2 ** 40 }),
      tcpFlagsOut: fc.integer({ min: 0, max: 255 }),
      connState: fc.constantFrom('SF', 'S0', 'REJ', 'OTH'),
      communityId: fc.string({ unit: 'binary', maxLength: 40 }),
      srcMac: text,
      vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: null }),
      sni: text,
      httpHost: text,
      dnsNames: fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { maxLength: 2 }),
      uid: text,
      label: text,
      device: fc.option(fc.maxSafeNat(), { nil: null }),
    });
    const samples = fc.sample(arb, { numRuns: 200, seed: 20261125 });
    const flows = samples.map(({ start, duration, device: _d, ...f }) =>
      flow(0, {
        ...f,
        connState: f.connState as IngestFlow['connState'],
        tsStart: T0 + start,
        tsEnd: T0 + start + duration,
      }),
    );
    const devices = samples.map((x) => x.device);
    const peers = [...devices].reverse();
    const [binary, text_] = ['0b1e2c3d-0000-4000-8000-000000000001', '0b1e2c3d-0000-4000-8000-000000000002'];
    expect(flowsAsCopyBinary(flows, devices, peers, binary)).not.toBeNull(); // the binary path is the one taken
    await store.db.transaction(async (tx) => {
      expect(await copyFlows(tx, store.engine, flows, devices, peers, binary)).toBe(true);
      expect(await copyFlows(tx, store.engine, flows, devices, peers, text_, 'text')).toBe(true);
    });
    const rowsOf = (source: string) =>
      queryRows<Record<string, unknown>>(
        store.db,
        sql`SELECT ts_start::text, ts_end::text, device_id::text, peer_device_id::text, community_id,
              src_ip::text, src_port, dst_ip::text, dst_port, proto, app_proto, bytes_out::text,
              bytes_in::text, packets_out::text, packets_in::text, tcp_flags_out, tcp_flags_in, conn_state,
              src_mac, dst_mac, vlan, sni, http_host, dns_query, uid, label
            FROM network_traffic WHERE source_id = ${source}::uuid ORDER BY id`,
      );
    const [a, b] = [await rowsOf(binary), await rowsOf(text_)];
    expect(a.length).toBe(flows.length);
    expect(a).toEqual(b);
  });

  it('sends a batch the binary encoder refuses as text, for the server to read as before', async () => {
    const odd = [flow(8, { srcIp: '10.0.0.9/32', uid: 'CFallback1' }), flow(9, { uid: 'CFallback1' })];
    expect(flowsAsCopyBinary(odd, [null, null], [null, null], null)).toBeNull();
    expect(
      await store.db.transaction((tx) => copyFlows(tx, store.engine, odd, [null, null], [null, null], null)),
    ).toBe(true);
    const rows = await queryRows<{ ip: string }>(
      store.db,
      sql`SELECT host(src_ip) AS ip FROM network_traffic WHERE uid = 'CFallback1' ORDER BY id`,
    );
    expect(rows.map((r) => r.ip)).toEqual(['10.0.0.9', '10.0.0.2']);
  });

  it('says no, writing nothing, for a time COPY text cannot carry', async () => {
    const before = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM network_traffic`,
    );
    const ok = await store.db.transaction((tx) =>
      copyFlows(tx, store.engine, [flow(5), flow(6, { tsEnd: 1e20 })], [null, null], [null, null], null),
    );
    expect(ok).toBe(false);
    const after = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM network_traffic`,
    );
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('a failing COPY fails the transaction and leaves the connection usable', async () => {
    const bad = flow(7, { srcIp: 'not-an-ip' });
    await expect(
      store.db.transaction((tx) => copyFlows(tx, store.engine, [bad], [null], [null], null)),
    ).rejects.toThrow();
    const rows = await queryRows<{ n: number }>(store.db, sql`SELECT 1::int AS n`);
    expect(rows[0]?.n).toBe(1);
  });

  it("finds a device's flows, as the device or as the peer, through indexes (no partition scanned whole)", async () => {
    const plan = await store.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      return queryRows<{ 'QUERY PLAN': string }>(
        tx,
        sql`EXPLAIN SELECT id FROM network_traffic WHERE device_id = 7 OR peer_device_id = 7
            ORDER BY ts_start DESC LIMIT 2000`,
      );
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/network_traffic_p\d+_peer_device_id_ts_start_idx/);
    expect(text).not.toMatch(/Seq Scan/);
  });
});
