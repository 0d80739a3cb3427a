import { describe, expect, it } from 'vitest';
import { emptyRecord } from '../../wire/flowexport/fields.js';
import { NetflowCollector } from './collector.js';
import { flowExportToIngest, unstorable } from './convert.js';
import { ingestFlow } from '../../test-support/flows.js';
import type { IngestFlow } from '../types.js';

/** An IPFIX message (domain 1) holding one data set for template 256, which was never sent. */
function orphanDataSet(seq: number): Uint8Array {
  const b = Buffer.alloc(16 + 8);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(1_700_000_000, 4);
  b.writeUInt32BE(seq, 8);
  b.writeUInt32BE(1, 12);
  b.writeUInt16BE(256, 16);
  b.writeUInt16BE(8, 18);
  b.writeUInt32BE(0x0a000001, 20);
  return new Uint8Array(b);
}

describe('NetflowCollector (no socket)', () => {
  it('rate-limited warnings per exporter (fake clock), direct handle()', () => {
    let now = 0;
    const warns: object[] = [];
    const c = new NetflowCollector({
      port: 0,
      onItems: () => {},
      log: { warn: (o) => warns.push(o) },
      now: () => now,
    });
    for (let i = 0; i < 50; i++) c.handle(Uint8Array.of(0, 7, 0, 0), '10.0.0.1');
    c.handle(Uint8Array.of(0), '10.0.0.2');
    expect(warns.length).toBe(2);
    now = 10_001;
    c.handle(Uint8Array.of(0, 7), '10.0.0.1');
    expect(warns.length).toBe(3);
    expect(warns[2]).toMatchObject({ exporter: '10.0.0.1', suppressed: 49 });
    expect(c.stats().errors).toEqual({ unsupported: 51, truncated: 1 });
    c.handle(Uint8Array.of(0, 5), '::ffff:10.0.0.3');
    expect(c.stats().exporters.map((e) => e.exporter)).toContain('10.0.0.3');
  });

  it('pending data sets: capped per exporter, dropped after the timeout and at stop()', async () => {
    let now = 0;
    const c = new NetflowCollector({ port: 0, onItems: () => {}, maxPendingPerExporter: 2, now: () => now });
    for (let i = 0; i < 3; i++) c.handle(orphanDataSet(i), '10.0.0.1');
    expect(c.stats()).toMatchObject({ pendingSets: 2, pendingDropped: 1, errors: { pending_overflow: 1 } });
    now = 5000;
    c.handle(orphanDataSet(3), '10.0.0.2');
    await c.stop();
    expect(c.stats()).toMatchObject({ pendingSets: 0, pendingDropped: 4, errors: { pending_timeout: 3 } });
  });
});

describe('FlowExportRecord → IngestFlow', () => {
  const rec = (over: Partial<ReturnType<typeof emptyRecord>>): ReturnType<typeof emptyRecord> => ({
    ...emptyRecord(10, 'x', 0),
    exportTimeSec: 1_700_000_000,
    srcAddr: '192.168.1.10',
    dstAddr: '192.168.1.1',
    ...over,
  });

  it('TCP with MACs, VLAN, flow end reason and times', () => {
    const f = flowExportToIngest(
      rec({
        protocol: 6,
        srcPort: 40000,
        dstPort: 443,
        tcpFlags: 0x1b,
        octets: 1000,
        packets: 10,
        startMs: 1_699_999_999_000,
        endMs: 1_699_999_999_500,
        extra: new Map([
          [56, 0xaabbcc000001],
          [80, 0xaabbcc000002],
          [58, 20],
          [136, 3],
        ]),
      }),
    );
    expect(f).toMatchObject({
      tsStart: 1_699_999_999_000_000,
      tsEnd: 1_699_999_999_500_000,
      proto: 6,
      appProto: 'tls',
      bytesOut: 1000,
      packetsOut: 10,
      bytesIn: 0,
      tcpFlagsOut: 0x1b,
      connState: 'OTH',
      srcMac: 'aa:bb:cc:00:00:01',
      dstMac: 'aa:bb:cc:00:00:02',
      vlan: 20,
      closeReason: 'fin',
    });
  });

  it('ICMP type/code from the destination port (v5/v9) or icmpTypeCode (IPFIX); no time → export time', () => {
    const v9 = flowExportToIngest(rec({ protocol: 1, srcPort: 0, dstPort: 0x0800 }));
    expect(v9).toMatchObject({
      srcPort: 8,
      dstPort: 0,
      tsStart: 1_700_000_000_000_000,
      tsEnd: 1_700_000_000_000_000,
    });
    const ipfix = flowExportToIngest(
      rec({ protocol: 1, srcPort: null, dstPort: null, extra: new Map([[32, 0x0303]]) }),
    );
    expect(ipfix).toMatchObject({ srcPort: 3, dstPort: 3 });
    // Echo request and reply of one exchange share the Community ID.
    const reply = flowExportToIngest(
      rec({ protocol: 1, srcAddr: '192.168.1.1', dstAddr: '192.168.1.10', srcPort: 0, dstPort: 0 }),
    );
    expect(reply?.communityId).toBe(v9?.communityId);
  });

  it('records without usable addresses are rejected', () => {
    expect(flowExportToIngest(rec({ srcAddr: null }))).toBeNull();
    expect(flowExportToIngest(rec({ dstAddr: '2001:db8::1' }))).toBeNull();
    expect(flowExportToIngest(rec({ protocol: 47, srcPort: 5, dstPort: 6 }))).toMatchObject({
      srcPort: null,
      dstPort: null,
    });
  });
});

/**
 * An IPFIX message (domain 1) with template 300 and one data record: 192.168.1.10 → 8.8.8.8, protocol and
 * flowStartMilliseconds as 8-byte fields (exporters may size any element up to 8 bytes).
 */
function wideFields(protocol: bigint, startMs: bigint, exportSec = 1_700_000_000): Uint8Array {
  const fields: [number, number][] = [
    [8, 4],
    [12, 4],
    [4, 8],
    [152, 8],
  ];
  const tmpl = Buffer.alloc(8 + fields.length * 4);
  tmpl.writeUInt16BE(2, 0);
  tmpl.writeUInt16BE(tmpl.length, 2);
  tmpl.writeUInt16BE(300, 4);
  tmpl.writeUInt16BE(fields.length, 6);
  fields.forEach(([id, len], i) => {
    tmpl.writeUInt16BE(id, 8 + i * 4);
    tmpl.writeUInt16BE(len, 10 + i * 4);
  });
  const data = Buffer.alloc(4 + 24);
  data.writeUInt16BE(300, 0);
  data.writeUInt16BE(data.length, 2);
  data.writeUInt32BE(0xc0a8010a, 4);
  data.writeUInt32BE(0x08080808, 8);
  data.writeBigUInt64BE(protocol, 12);
  data.writeBigUInt64BE(startMs, 20);
  const h = Buffer.alloc(16);
  h.writeUInt16BE(10, 0);
  h.writeUInt16BE(16 + tmpl.length + data.length, 2);
  h.writeUInt32BE(exportSec, 4);
  h.writeUInt32BE(1, 12);
  return new Uint8Array(Buffer.concat([h, tmpl, data]));
}

/** The datagrams of wideFields are exported at 1_700_000_000 s: they arrive then. */
const ARRIVAL_MS = 1_700_000_000_000;

describe('values the database cannot store', () => {
  it('a record whose protocol, port or counters overflow their column is dropped and counted', () => {
    const flows: unknown[] = [];
    const c = new NetflowCollector({
      port: 0,
      onItems: (items) => flows.push(...items),
      now: () => ARRIVAL_MS,
    });
    c.handle(wideFields(6n, 1_699_999_999_000n), '10.0.0.1');
    expect(flows.length).toBe(1);
    c.handle(wideFields(2n ** 40n, 1_699_999_999_000n), '10.0.0.1');
    expect(flows.length).toBe(1);
    expect(c.stats().errors).toEqual({ bad_value: 1 });
    expect(unstorable(ingestFlow({ srcPort: 70_000 }))).toMatch(/port/);
    expect(unstorable(ingestFlow({ bytesOut: 2 ** 64 }))).toMatch(/counters/);
    expect(unstorable(ingestFlow({ proto: 1.5 }))).toMatch(/protocol/);
    expect(unstorable(ingestFlow())).toBeNull();
  });

  it('a time beyond what timestamptz holds counts as absent: the export time', () => {
    const flows: IngestFlow[] = [];
    const c = new NetflowCollector({
      port: 0,
      onItems: (items) => {
        for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
      },
      now: () => ARRIVAL_MS,
    });
    c.handle(wideFields(17n, 2n ** 63n), '10.0.0.1');
    expect(flows[0]).toMatchObject({ tsStart: 1_700_000_000_000_000, tsEnd: 1_700_000_000_000_000 });
    expect(c.stats().errors).toEqual({});
  });
});

describe("the collector's window on flow time", () => {
  const collect = (timeWindow?: null) => {
    const flows: IngestFlow[] = [];
    const warnings: object[] = [];
    const c = new NetflowCollector({
      port: 0,
      onItems: (items) => {
        for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
      },
      log: { warn: (obj) => warnings.push(obj) },
      now: () => ARRIVAL_MS,
      ...(timeWindow === null ? { timeWindow } : {}),
    });
    return { c, flows, warnings };
  };

  it('re-dates flows from a router clock far off (year 2000, a week ahead) to their arrival, counted and warned', () => {
    const { c, flows, warnings } = collect();
    c.handle(wideFields(17n, BigInt(Date.UTC(2000, 0, 1))), '10.0.0.1');
    const weekAhead = ARRIVAL_MS + 7 * 86_400_000; // the header's export time too
    c.handle(wideFields(17n, BigInt(weekAhead), weekAhead / 1000), '10.0.0.1');
    c.handle(wideFields(17n, BigInt(ARRIVAL_MS - 3_600_000)), '10.0.0.1'); // an hour ago: as dated
    expect(flows.map((f) => f.tsStart / 1000)).toEqual([ARRIVAL_MS, ARRIVAL_MS, ARRIVAL_MS - 3_600_000]);
    expect(c.stats().errors).toEqual({ time_out_of_window: 2 });
    expect(warnings).toEqual([expect.objectContaining({ exporter: '10.0.0.1', kind: 'time_out_of_window' })]);
  });

  it("keeps exporters' times when off (a replay of an old export)", () => {
    const { c, flows } = collect(null);
    c.handle(wideFields(17n, BigInt(Date.UTC(2000, 0, 1))), '10.0.0.1');
    expect(flows[0]?.tsStart).toBe(Date.UTC(2000, 0, 1) * 1000);
    expect(c.stats().errors).toEqual({});
  });
});

describe('flowExportToIngest address fast path', () => {
  it('gives the same flow for canonical dotted quads as the general parser; the rest goes through it', async () => {
    const { communityId, ipTextToBytes } = await import('../../flows/community-id.js');
    for (const [src, dst, proto, sp, dp] of [
      ['10.0.0.1', '93.184.216.34', 6, 40000, 443],
      ['192.168.1.200', '255.255.255.255', 17, 68, 67],
      ['10.0.0.1', '10.0.0.1', 1, null, 0x0800],
      ['0.0.0.0', '224.0.0.251', 47, null, null],
    ] as const) {
      const r = emptyRecord(10, 'x', 0);
      r.srcAddr = src;
      r.dstAddr = dst;
      r.protocol = proto;
      r.srcPort = sp;
      r.dstPort = dp;
      const f = flowExportToIngest(r);
      expect(f?.srcIp).toBe(src);
      expect(f?.dstIp).toBe(dst);
      expect(f?.communityId).toBe(
        communityId({
          srcIp: ipTextToBytes(src),
          dstIp: ipTextToBytes(dst),
          proto,
          srcPort: f?.srcPort ?? undefined,
          dstPort: f?.dstPort ?? undefined,
        }),
      );
    }
    const odd = emptyRecord(10, 'x', 0);
    odd.srcAddr = '010.000.000.001';
    odd.dstAddr = '10.0.0.2';
    odd.protocol = 6;
    expect(flowExportToIngest(odd)).toBeNull(); // parseIp refuses leading zeros, as before
    odd.srcAddr = '2001:db8::1';
    expect(flowExportToIngest(odd)).toBeNull(); // mixed families
    odd.srcAddr = '10.0.0.256';
    expect(flowExportToIngest(odd)).toBeNull();
  });
});
