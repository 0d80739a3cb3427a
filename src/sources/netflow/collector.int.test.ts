/**
 * NetflowCollector over real local UDP sockets: (a) replay of the pmacct test-suite exports (compared with
 * pmacct's expected decodes, as src/wire/ipfix does for the decoder), (c) fuzzing with random and mutated
 * datagrams. The softflowd peer test is in softflowd.int.test.ts.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { dataPath, hasData, listFiles, missingMessage, udpPayloads } from '../../wire/test-support/data.js';
import type { IngestFlow, SourceItem } from '../types.js';
import { NetflowCollector, type NetflowCollectorOptions } from './collector.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for the collector');
    await sleep(10);
  }
}

interface Datagram {
  exporter: string;
  port: number;
  payload: Uint8Array;
}

/**
 * Sends datagrams to the collector in order. Each original exporter address gets its own loopback address
 * (127.0.1.N) and each original (exporter, source port) its own socket, so the collector sees distinct
 * exporters and, for pmacct 112, templates and data arriving from different source ports.
 */
async function replay(target: number, grams: Datagram[]): Promise<void> {
  const addr = new Map<string, string>();
  const socks = new Map<string, dgram.Socket>();
  try {
    for (const g of grams) {
      if (!addr.has(g.exporter)) addr.set(g.exporter, `127.0.1.${addr.size + 1}`);
      const local = addr.get(g.exporter) ?? '127.0.0.1';
      const k = `${g.exporter}|${g.port}`;
      let s = socks.get(k);
      if (!s) {
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => sock.bind(0, local, resolve));
        socks.set(k, sock);
        s = sock;
      }
      const sock = s;
      await new Promise<void>((resolve, reject) =>
        sock.send(g.payload, target, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
      await new Promise((r) => setImmediate(r)); // let the collector drain its socket
    }
  } finally {
    for (const s of socks.values()) s.close();
  }
}

const running: NetflowCollector[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});

async function startCollector(
  extra: Partial<NetflowCollectorOptions> = {},
): Promise<{ c: NetflowCollector; port: number; flows: IngestFlow[]; warnings: object[] }> {
  const flows: IngestFlow[] = [];
  const warnings: object[] = [];
  const c = new NetflowCollector({
    port: 0,
    host: '127.0.0.1',
    onItems: (items: SourceItem[]) => {
      for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
    },
    log: { warn: (obj) => warnings.push(obj) },
    // Replays of exports recorded years ago: their own times, not re-dated to their arrival now.
    timeWindow: null,
    ...extra,
  });
  running.push(c);
  const { port } = await c.start();
  return { c, port, flows, warnings };
}

// Same comparison as src/wire/ipfix/decode.test.ts: sums per (src, dst, sport, dport, proto).
const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, vrrp: 112 };
type Sums = Map<string, [number, number]>;
function add(m: Sums, k: string, p: number, b: number): void {
  const v = m.get(k) ?? [0, 0];
  v[0] += p;
  v[1] += b;
  m.set(k, v);
}
function ours(flows: IngestFlow[]): Sums {
  const m: Sums = new Map();
  for (const f of flows)
    add(m, [f.srcIp, f.dstIp, f.srcPort ?? 0, f.dstPort ?? 0, f.proto].join('|'), f.packetsOut, f.bytesOut);
  return m;
}
function expected(dir: string): Sums {
  const m: Sums = new Map();
  for (const line of readFileSync(path.join(dir, 'output-flow-00.json'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as Record<string, string | number>;
    const proto = typeof j.ip_proto === 'string' ? (PROTO[j.ip_proto] ?? j.ip_proto) : j.ip_proto;
    add(m, [j.ip_src, j.ip_dst, j.port_src, j.port_dst, proto].join('|'), Number(j.packets), Number(j.bytes));
  }
  return m;
}

const ROOT = dataPath('pmacct-flow-exports');
describe.skipIf(!hasData('pmacct-flow-exports'))(
  `collector replaying pmacct exports over UDP (${ROOT})`,
  () => {
    const grams = (name: string): Datagram[] =>
      listFiles(path.join(ROOT, name), '.pcap').flatMap((f) => udpPayloads(f));

    for (const name of [
      '100-IPFIXv10-CISCO',
      '101-NFv9-CISCO-cust_primitives',
      '102-NFv9-CISCO-f2rd-pretag-sampling-reload',
      '103-IPFIXv10-CISCO-pretag-JSON_encoding',
      '106-IPFIXv10-HUAWEI-vrf_name',
      '110-IPFIXv10-NFv9-multiple-sources',
      '111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources',
    ]) {
      it(`${name}: per-flow packets/bytes equal pmacct's`, async () => {
        const g = grams(name);
        const { c, port, flows } = await startCollector();
        await replay(port, g);
        await until(() => c.stats().datagrams === g.length);
        const st = c.stats();
        expect(st.errors).toEqual({});
        expect(st.pendingSets).toBe(0);
        expect(ours(flows)).toEqual(expected(path.join(ROOT, name)));
        expect(st.flows).toBe(flows.length);
        expect(flows.every((f) => f.connState === 'OTH' && /^1:/.test(f.communityId))).toBe(true);
        expect(st.exporters.length).toBe(new Set(g.map((x) => x.exporter)).size);
      });
    }

    it('104: IPv6 records, sampled 1:256 (pmacct renormalizes, we report raw counts)', async () => {
      const name = '104-IPFIXv10-IPv6-CISCO-sampling_option';
      const g = grams(name);
      const { c, port, flows } = await startCollector();
      await replay(port, g);
      await until(() => c.stats().datagrams === g.length);
      const scaled: Sums = new Map([...ours(flows)].map(([k, [p, b]]) => [k, [p * 256, b * 256]]));
      expect(scaled).toEqual(expected(path.join(ROOT, name)));
      expect(flows.every((f) => f.srcIp.includes(':'))).toBe(true);
    });

    it('112: templates and data from different source ports; never-sent templates → pending, dropped after the timeout', async () => {
      const name = '112-IPFIXv10-CISCO-options-map-reassignment';
      const g = grams(name);
      expect(new Set(g.map((x) => x.port)).size).toBeGreaterThan(1);
      const { c, port, flows, warnings } = await startCollector({ pendingTimeoutMs: 300 });
      await replay(port, g);
      await until(() => c.stats().datagrams === g.length);
      expect(flows.length).toBeGreaterThan(0);
      const exp = expected(path.join(ROOT, name));
      for (const [k, v] of ours(flows)) expect(exp.get(k)).toEqual(v);
      // Templates 313/341/348 are never in this capture: 4 data sets wait, then are dropped and counted.
      await until(() => c.stats().pendingDropped === 4, 5000);
      const st = c.stats();
      expect(st.pendingSets).toBe(0);
      expect(st.errors).toEqual({ pending_timeout: 4 });
      expect(warnings.length).toBe(1); // rate-limited: one warning per exporter per 10 s
    });
  },
);

describe.skipIf(hasData('pmacct-flow-exports'))('pmacct replay', () => {
  it('skipped', () => console.warn(`skipping: ${missingMessage('pmacct-flow-exports')}`));
});

/** A NetFlow v5 datagram with n records 10.0.0.1:1234 → 10.0.0.2:53/udp (3 packets, 180 bytes each). */
function v5(seq: number, n: number): Uint8Array {
  const b = Buffer.alloc(24 + 48 * n);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(n, 2);
  b.writeUInt32BE(100_000, 4);
  b.writeUInt32BE(1_700_000_000, 8);
  b.writeUInt32BE(seq, 16);
  for (let i = 0; i < n; i++) {
    const o = 24 + 48 * i;
    b.set([10, 0, 0, 1], o);
    b.set([10, 0, 0, 2], o + 4);
    b.writeUInt32BE(3, o + 16); // packets
    b.writeUInt32BE(180, o + 20); // octets
    b.writeUInt32BE(90_000, o + 24);
    b.writeUInt32BE(99_000, o + 28);
    b.writeUInt16BE(1234, o + 32);
    b.writeUInt16BE(53, o + 34);
    b[o + 38] = 17;
  }
  return new Uint8Array(b);
}

describe('collector robustness', () => {
  it('sequence gaps and missing counts per exporter (NetFlow v5)', async () => {
    const { c, port, flows } = await startCollector();
    await replay(port, [
      { exporter: 'r1', port: 1, payload: v5(0, 2) },
      { exporter: 'r1', port: 1, payload: v5(2, 1) },
      { exporter: 'r1', port: 1, payload: v5(10, 1) }, // 7 records lost
    ]);
    await until(() => c.stats().datagrams === 3);
    const st = c.stats();
    expect(st).toMatchObject({ sequenceGaps: 1, missing: 7, flows: 4, errors: {} });
    expect(st.exporters[0]).toMatchObject({
      exporter: '127.0.1.1',
      datagrams: 3,
      records: 4,
      sequenceGaps: 1,
    });
    expect(flows[0]).toMatchObject({
      srcIp: '10.0.0.1',
      dstIp: '10.0.0.2',
      srcPort: 1234,
      dstPort: 53,
      proto: 17,
      appProto: 'dns',
      packetsOut: 3,
      bytesOut: 180,
      tsStart: (1_700_000_000_000 - 10_000) * 1000,
      tsEnd: (1_700_000_000_000 - 1_000) * 1000,
    });
  });

  it('fuzz: random and mutated datagrams over UDP never crash the collector; errors counted, warnings rate-limited', async () => {
    const { c, port, warnings, flows } = await startCollector();
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    const templ = Buffer.from(
      '000a003c65000000000000010000000700020024010000070008000400040001000c000400070002000b00020001000400020004',
      'hex',
    );
    let sent = 0;
    const send = (b: Uint8Array): Promise<void> =>
      new Promise((resolve) => {
        sent++;
        sender.send(b, port, '127.0.0.1', () => resolve());
      });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 300 }),
            fc.tuple(fc.constantFrom(5, 9, 10), fc.uint8Array({ maxLength: 300 })).map(([v, rest]) => {
              const b = new Uint8Array(rest.length + 4);
              b.set(rest, 4);
              b[1] = v;
              b[3] = rest.length + 4;
              return b;
            }),
            fc.tuple(fc.nat(templ.length * 8 - 1)).map(([bit]) => {
              const b = new Uint8Array(templ);
              b[bit >> 3] = (b[bit >> 3] ?? 0) ^ (1 << (bit & 7));
              return b;
            }),
          ),
          async (b) => {
            await send(b);
            if (sent % 20 === 0) await sleep(1);
          },
        ),
        { numRuns: 600 },
      );
      await until(() => c.stats().datagrams === sent);
    } finally {
      sender.close();
    }
    const st = c.stats();
    expect(st.datagrams).toBe(sent);
    expect(Object.values(st.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
    expect(warnings.length).toBe(1);
    // Still alive: a valid datagram is decoded (fuzzed v5 headers may have decoded too).
    const before = flows.length;
    await replay(port, [{ exporter: 'ok', port: 1, payload: v5(0, 1) }]);
    await until(() => flows.length === before + 1);
    expect(flows.at(-1)).toMatchObject({ srcIp: '10.0.0.1', dstPort: 53 });
  });
});
