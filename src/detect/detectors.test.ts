import { describe, expect, it } from 'vitest';
import type { IngestFlow } from '../sources/types.js';
import { DetectionEngine } from './engine.js';
import { splitName, isTunnelLike, DNS_DEFAULTS } from './detectors/dns.js';
import { labelFlows } from './offline.js';
import type { Detector, Finding } from './types.js';
import { BoundedMap, coefficientOfVariation, entropy, evictOldest, SEC } from './util.js';

let n = 0;
const T0 = 1_700_000_000 * SEC;
function flow(o: Partial<IngestFlow> = {}): IngestFlow {
  n++;
  return {
    tsStart: T0,
    tsEnd: T0 + 1000,
    srcIp: '192.168.1.10',
    dstIp: '192.168.1.20',
    srcPort: 40000 + (n % 20000),
    dstPort: 80,
    proto: 6,
    appProto: null,
    bytesOut: 60,
    bytesIn: 40,
    packetsOut: 1,
    packetsIn: 1,
    payloadBytesOut: 0,
    payloadBytesIn: 0,
    tcpFlagsOut: 0x02,
    tcpFlagsIn: 0x14,
    connState: 'REJ',
    communityId: `1:c${n}`,
    srcMac: '02:00:00:00:00:0a',
    dstMac: '02:00:00:00:00:14',
    vlan: null,
    sni: null,
    httpHost: null,
    dnsNames: [],
    closeReason: 'rst',
    ...o,
  };
}
const run = (flows: IngestFlow[]): Finding[] => {
  const e = new DetectionEngine();
  return [...e.process(flows), ...e.flush()];
};
const kinds = (fs: Finding[]) => [...new Set(fs.map((f) => f.kind))].sort();

describe('detectors', () => {
  it('horizontal scan at the threshold, not below; vertical scan; one episode, every flow cited', () => {
    const sweep = (hosts: number) =>
      Array.from({ length: hosts }, (_, i) => flow({ dstIp: `192.168.1.${100 + i}`, tsStart: T0 + i * SEC }));
    expect(run(sweep(19))).toEqual([]);
    const fs = run(sweep(40));
    expect(kinds(fs)).toEqual(['port_scan']);
    expect(fs[0]).toMatchObject({
      threat: 'scan',
      device: { ip: '192.168.1.10' },
      evidence: { scan: 'horizontal', threshold: 20 },
    });
    expect(new Set(fs.flatMap((f) => f.flows)).size).toBe(40);
    // Probes more than a minute apart never add up.
    expect(
      run(
        Array.from({ length: 30 }, (_, i) =>
          flow({ dstIp: `192.168.1.${100 + i}`, tsStart: T0 + i * 61 * SEC }),
        ),
      ),
    ).toEqual([]);
    const vert = run(
      Array.from({ length: 20 }, (_, i) => flow({ dstPort: 1000 + i, tsStart: T0 + i * SEC })),
    );
    expect(vert[0]).toMatchObject({
      kind: 'port_scan',
      peer: '192.168.1.20',
      evidence: { scan: 'vertical' },
    });
    // Connections that carried data are not probes.
    expect(run(sweep(40).map((f) => ({ ...f, payloadBytesOut: 100, payloadBytesIn: 500 })))).toEqual([]);
  });

  it('Mirai-style telnet scanning of internet hosts', () => {
    const fs = run(
      Array.from({ length: 12 }, (_, i) =>
        flow({
          dstIp: `198.51.100.${i + 1}`,
          dstPort: i % 2 ? 23 : 2323,
          connState: 'S0',
          packetsIn: 0,
          tcpFlagsIn: 0,
          tsStart: T0 + i * 100_000,
        }),
      ),
    );
    expect(fs[0]).toMatchObject({ kind: 'telnet_scan', threat: 'scan', severity: 'high' });
  });

  it('brute force: many small login sessions from one source, not big ones', () => {
    const sessions = (k: number, bytes: number) =>
      Array.from({ length: k }, (_, i) =>
        flow({
          srcIp: '203.0.113.5',
          dstPort: 22,
          appProto: 'ssh',
          payloadBytesOut: bytes,
          payloadBytesIn: bytes,
          connState: 'SF',
          tsStart: T0 + i * 5 * SEC,
        }),
      );
    expect(run(sessions(9, 500))).toEqual([]);
    expect(run(sessions(15, 50_000))).toEqual([]);
    const fs = run(sessions(15, 500));
    expect(fs[0]).toMatchObject({
      kind: 'bruteforce',
      threat: 'bruteforce',
      peer: '203.0.113.5',
      device: { ip: '192.168.1.20' },
    });
  });

  it('C&C beaconing: periodic to an unnamed peer; jittered or named traffic stays quiet', () => {
    const beacon = (jitter: (i: number) => number, o: Partial<IngestFlow> = {}) =>
      Array.from({ length: 12 }, (_, i) =>
        flow({
          dstIp: '203.0.113.77',
          dstPort: 4444,
          payloadBytesOut: 60,
          payloadBytesIn: 20,
          connState: 'SF',
          tsStart: T0 + i * 60 * SEC + jitter(i),
          ...o,
        }),
      );
    const fs = run(beacon((i) => (i % 3) * 500_000));
    expect(fs[0]).toMatchObject({
      kind: 'c2_beacon',
      threat: 'c2',
      peer: '203.0.113.77',
      evidence: { mode: 'periodic' },
    });
    expect(run(beacon((i) => ((i * 7919) % 50) * SEC))).toEqual([]);
    expect(run(beacon(() => 0, { sni: 'cloud.vendor.example' }))).toEqual([]);
    expect(run(beacon(() => 0, { dstPort: 123, proto: 17 }))).toEqual([]);
    // Zeek records (no payload inspection): periodic TLS is a heartbeat, not judged.
    expect(run(beacon(() => 0, { appProto: 'tls', dstPort: 443, uid: 'Cabc', srcMac: null }))).toEqual([]);
  });

  it('C&C re-dialling: persistent failed connections spread over time', () => {
    const fs = run(
      Array.from({ length: 60 }, (_, i) =>
        flow({
          dstIp: '185.244.25.183',
          dstPort: 4975,
          connState: 'S0',
          packetsIn: 0,
          tsStart: T0 + i * 10 * SEC + ((i * 7919) % 9) * SEC,
        }),
      ),
    );
    expect(fs[0]).toMatchObject({ kind: 'c2_beacon', evidence: { mode: 'persistent' } });
  });

  it('bounded state forgets its oldest keys in bulk and keeps the newest', () => {
    const m = new BoundedMap<number, number>(160);
    for (let i = 0; i < 100_000; i++) m.set(i, i);
    expect(m.size).toBeLessThanOrEqual(160);
    expect(m.has(99_999)).toBe(true);
    expect(m.has(0)).toBe(false);
    m.set(99_999, -1); // an existing key never evicts
    expect(m.get(99_999)).toBe(-1);
    const plain = new Map([...'abcde'].map((k, i) => [k, i]));
    evictOldest(plain, 2);
    expect([...plain.keys()]).toEqual(['c', 'd', 'e']);
    evictOldest(plain, 0); // at least one
    expect([...plain.keys()]).toEqual(['d', 'e']);
  });

  it('flood: a capture replayed with its own timestamps is judged per replay, not piled up', () => {
    // 200 packets/s for 30 s (under the 300/s threshold), replayed three times: flow time runs back 30 s.
    const once = Array.from({ length: 120 }, (_, i) =>
      flow({
        dstIp: '203.0.113.201',
        proto: 17,
        dstPort: 5683,
        packetsOut: 50,
        packetsIn: 0,
        tcpFlagsIn: 0,
        tsStart: T0 + i * 250_000,
        tsEnd: T0 + i * 250_000 + 100_000,
      }),
    );
    // Each replay arrives as its own batch, as `iotsec ingest a.pcap a-again.pcap` commits them.
    const replay = (last: IngestFlow[]) => {
      const e = new DetectionEngine();
      return [...e.process(once), ...e.process(once), ...e.process(last), ...e.flush()];
    };
    expect(replay(once)).toEqual([]);
    // A real flood after the replays is still one.
    expect(kinds(replay(once.map((f) => ({ ...f, packetsOut: 200 }))))).toEqual(['ddos']);
  });

  it('flood: outbound DDoS of many tiny unanswered flows; a busy answered stream is not one', () => {
    const flood = Array.from({ length: 6000 }, (_, i) =>
      flow({
        dstIp: '203.0.113.200',
        proto: 17,
        dstPort: 53,
        packetsIn: 0,
        tcpFlagsIn: 0,
        tsStart: T0 + i * 2000,
        tsEnd: T0 + i * 2000,
      }),
    );
    const fs = run(flood);
    expect(fs[0]).toMatchObject({ kind: 'ddos', threat: 'ddos', peer: '203.0.113.200' });
    expect(fs.flatMap((f) => f.flows).length).toBe(6000);
    const stream = [
      flow({
        dstIp: '198.51.100.9',
        dstPort: 443,
        packetsOut: 30_000,
        packetsIn: 15_000,
        tsStart: T0,
        tsEnd: T0 + 60 * SEC,
        payloadBytesOut: 1,
        payloadBytesIn: 1,
      }),
    ];
    expect(run(stream)).toEqual([]);
    const inbound = Array.from({ length: 4000 }, (_, i) =>
      flow({
        srcIp: '198.51.100.66',
        dstIp: '192.168.1.20',
        dstPort: 80,
        packetsIn: 1,
        tsStart: T0 + i * 2000,
        tsEnd: T0 + i * 2000,
      }),
    );
    expect(run(inbound)[0]).toMatchObject({ kind: 'dos', threat: 'dos', device: { ip: '192.168.1.20' } });
  });

  it('DNS tunnelling and DGA-like names; ordinary names stay quiet', () => {
    const rnd = (len: number, seed: number) => {
      let s = '';
      let x = seed;
      for (let i = 0; i < len; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        s += 'abcdefghijklmnopqrstuvwxyz234567'[(x >>> 16) % 32];
      }
      return s;
    };
    const q = (name: string, i: number) =>
      flow({
        proto: 17,
        dstPort: 53,
        appProto: 'dns',
        dnsNames: [name],
        dstIp: '192.168.1.1',
        tsStart: T0 + i * SEC,
        packetsIn: 1,
      });
    const tunnel = run(
      Array.from({ length: 20 }, (_, i) => q(`${rnd(50, i + 1)}.${rnd(30, i + 99)}.t.exfil.example`, i)),
    );
    expect(tunnel[0]).toMatchObject({ kind: 'dns_tunnel', peer: 'exfil.example', threat: 'c2' });
    const dga = run(Array.from({ length: 20 }, (_, i) => q(`${rnd(16, i + 7)}.com`, i)));
    expect(dga[0]).toMatchObject({ kind: 'dga' });
    const normal = [
      'www.google.com',
      'time.apple.com',
      'a1b2c3d4.cloudfront.net',
      'api.amazonalexa.com',
      'device-metrics-us.amazon.com',
    ];
    expect(run(Array.from({ length: 50 }, (_, i) => q(normal[i % normal.length]!, i)))).toEqual([]);
    expect(splitName('a.b.example.co.uk')).toEqual({ zone: 'example.co.uk', sub: 'a.b', sld: 'example' });
    expect(isTunnelLike('www', DNS_DEFAULTS)).toBe(false);
  });

  it('cleartext telnet login; new listening service after the learning period', () => {
    const tel = run([
      flow({ dstPort: 23, appProto: 'telnet', payloadBytesOut: 30, payloadBytesIn: 80, connState: 'SF' }),
    ]);
    expect(tel[0]).toMatchObject({ kind: 'cleartext_credentials', threat: null, severity: 'medium' });
    const day = 24 * 3600 * SEC;
    const svc = (port: number, t: number) =>
      flow({
        dstPort: port,
        tsStart: t,
        tcpFlagsIn: 0x12,
        connState: 'SF',
        payloadBytesOut: 10,
        payloadBytesIn: 10,
      });
    const fs = run([
      svc(80, T0),
      svc(443, T0 + 3600 * SEC),
      svc(80, T0 + day + SEC),
      svc(8888, T0 + day + 2 * SEC),
    ]);
    expect(fs.map((f) => f.kind)).toEqual(['new_service']);
    expect(fs[0]).toMatchObject({ peer: 'tcp/8888', evidence: { known_ports: [80, 443] } });
  });

  it('KEV exposure: inbound internet connection answered by a device with a KEV CVE', () => {
    const e = new DetectionEngine({
      kev: (ip) => (ip === '192.168.1.20' ? { deviceId: 1, cves: ['CVE-2021-36260'] } : undefined),
    });
    const fs = e.process([
      flow({ srcIp: '198.51.100.3', dstPort: 80, tcpFlagsIn: 0x12, connState: 'SF' }),
      flow({ srcIp: '198.51.100.3', dstIp: '192.168.1.21', dstPort: 80, tcpFlagsIn: 0x12, connState: 'SF' }),
    ]);
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({
      kind: 'kev_exposure',
      severity: 'critical',
      evidence: { cves: ['CVE-2021-36260'] },
    });
  });

  it('a throwing detector is counted and does not stop the others', () => {
    const bad: Detector = {
      name: 'bad',
      observe() {
        throw new Error('boom');
      },
    };
    const errors: string[] = [];
    const good: Detector = {
      name: 'good',
      observe(f, emit) {
        emit({
          detector: 'good',
          kind: 'x',
          threat: 'other',
          severity: 'low',
          confidence: 0.9,
          device: null,
          peer: null,
          title: '',
          description: '',
          firstUs: f.tsStart,
          lastUs: f.tsStart,
          flows: [f.communityId],
          evidence: {},
        });
      },
    };
    const e = new DetectionEngine({ detectors: [bad, good], onError: (d) => errors.push(d) });
    const flows = [flow(), flow()];
    const fs = e.process(flows);
    expect(fs).toHaveLength(2);
    expect(e.errors).toEqual({ bad: 2 });
    expect(errors).toEqual(['bad', 'bad']);
    expect(labelFlows(flows, fs).map((l) => l.label)).toEqual(['other', 'other']);
  });

  it('helpers', () => {
    expect(entropy('aaaa')).toBe(0);
    expect(entropy('abcd')).toBe(2);
    expect(coefficientOfVariation([10, 10, 10])).toBe(0);
  });
});
