import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../wire/capture/decode.js';
import { looksLikeHttpRequest } from '../wire/http/decode.js';
import { looksLikeMqttConnect } from '../wire/mqtt/decode.js';
import { decodePacket } from '../wire/packet/decode.js';
import { PacketInfo } from '../wire/packet/types.js';
import { looksLikeTlsHandshake } from '../wire/tls/decode.js';
import {
  emitObservations,
  extractObservations,
  mayCarryObservations,
  ObservationAggregator,
  type Observation,
  type ObservationSink,
} from './observations.js';
import { PayloadCache } from './payload-cache.js';
import { HAVE_ZEEK_DATA, MISSING_DATA_MESSAGE, SHARED_DATA_DIR, loadTrace } from './test-support/trace.js';

function all(trace: string): Observation[] {
  return loadTrace(trace).flatMap((p) => [...extractObservations(p)]);
}
const values = (obs: Observation[], kind: Observation['kind']): string[] => [
  ...new Set(obs.filter((o) => o.kind === kind).map((o) => o.value)),
];

describe('extractObservations', () => {
  it('returns nothing for packets without payload and never throws on garbage', () => {
    const p = new PacketInfo();
    expect(extractObservations(p)).toHaveLength(0);
    p.ipVersion = 4;
    p.ipProto = 17;
    p.srcPort = 5353;
    p.dstPort = 5353;
    p.data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    p.payloadOffset = 0;
    p.payloadLength = 9;
    expect(extractObservations(p)).toHaveLength(0);
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `extractObservations on real traces ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('DHCP: fingerprint, host name, client id, requested IP tagged with chaddr', () => {
      const obs = all('dhcp/dhcp_discover_param_req_and_client_id.pcap');
      expect(obs.map((o) => [o.kind, o.value])).toEqual([
        ['dhcp_fingerprint', '1,3,6,42'],
        ['dhcp_hostname', 'test0000'],
        ['dhcp_client_id', '1:00:0b:82:01:fc:42'],
        ['dhcp_requested_ip', '208.67.222.222'],
      ]);
      expect(new Set(obs.map((o) => o.mac))).toEqual(new Set(['00:0b:82:01:fc:42']));
      expect(obs[0]?.ip).toBeNull(); // sent from 0.0.0.0
    });

    it('mDNS host names, MQTT client ids, HTTP User-Agent, TLS SNI/JA3/JA4', () => {
      expect(values(all('dns/mdns.pcap'), 'mdns_hostname')).toContain('johanna-qemu-virtual-machine.local');
      const mqtt = all('mqtt.pcap');
      expect(values(mqtt, 'mqtt_client_id')).toEqual(['paho/34AAE54A75D839566E', 'paho/DDE4DDAF4108D3E363']);
      expect(mqtt[0]).toMatchObject({ ip: '10.0.1.4', mac: '28:cf:e9:21:14:8f' });
      expect(values(all('http/get.pcap'), 'http_user_agent')).toEqual(['Wget/1.14 (darwin12.2.0)']);
      const tls = all('tls/tls13draft23-chrome67.0.3368.0-canary.pcap');
      expect(values(tls, 'tls_sni')).toEqual(['tls13.crypto.mozilla.org']);
      expect(values(tls, 'tls_ja3')[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(values(tls, 'tls_ja4')[0]).toMatch(/^t\d\dd\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
      expect(tls.every((o) => o.ip === '192.168.86.23')).toBe(true);
    });
  },
);

/** Packets of small IoT captures rich in mDNS, SSDP, DHCP and DNS (the shared data), decoded. */
function iotPackets(): PacketInfo[] {
  const out: PacketInfo[] = [];
  for (const dev of ['D-LinkDayCam', 'EdimaxCam1', 'Aria']) {
    const path = `${SHARED_DATA_DIR}iot-sentinel-train/${dev}/Setup-A-1-STA.pcap`;
    for (const r of readCapture(new Uint8Array(readFileSync(path)))) {
      const p = new PacketInfo();
      decodePacket(r.linkType, r.data, p);
      p.tsMicros = r.tsMicros;
      out.push(p);
    }
  }
  return out;
}

const HAVE_IOT_DATA = existsSync(`${SHARED_DATA_DIR}iot-sentinel-train/D-LinkDayCam/Setup-A-1-STA.pcap`);

describe.skipIf(!HAVE_IOT_DATA)('ObservationAggregator replay', () => {
  it('aggregates exactly as observing every sighting one by one does (fuzz)', () => {
    const packets = iotPackets();
    /** A sink that is not an aggregator: emitObservations cannot replay into it. */
    const plain = (agg: ObservationAggregator): ObservationSink => ({
      observe: (kind, mac, ip, value, ts) => agg.observe(kind, mac, ip, value, ts),
    });
    const step = fc.record({ i: fc.nat({ max: packets.length - 1 }), take: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const run = (replaying: boolean) => {
          const agg = new ObservationAggregator();
          const sink = replaying ? agg : plain(agg);
          const cache = new PayloadCache();
          const out: unknown[] = [];
          for (const { i, take } of steps) {
            const p = packets[i] as PacketInfo;
            cache.clear();
            out.push(emitObservations(p, p.data, sink, cache), agg.sightings, agg.size);
            if (take) out.push(agg.take());
          }
          out.push(agg.take());
          return out;
        };
        expect(run(true)).toEqual(run(false));
      }),
      { numRuns: 100 },
    );
  });
});

describe('mayCarryObservations', () => {
  it('passes every packet a branch of emitObservations would look at (fuzz)', () => {
    const port = fc.constantFrom(53, 67, 68, 80, 443, 1883, 1900, 5353, 8080, 40000);
    const start = fc.constantFrom(
      [0x16, 0x03, 0x01, 0, 5, 1],
      [...Buffer.from('GET / HTTP/1.1\r\n')],
      [...Buffer.from('POST /x HTTP/1.1\r\n')],
      [...Buffer.from('OPTIONS * HTTP/1.1\r\n')],
      [0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60],
      [],
    );
    fc.assert(
      fc.property(
        fc.constantFrom(6, 17, 1),
        port,
        port,
        start,
        fc.uint8Array({ maxLength: 40 }),
        (proto, sp, dp, head, rest) => {
          const b = Uint8Array.from([...head, ...rest]);
          const p = new PacketInfo();
          p.ipProto = proto;
          p.srcPort = sp;
          p.dstPort = dp;
          const looked =
            proto === 17
              ? ((dp === 67 || dp === 68) && (sp === 67 || sp === 68)) ||
                sp === 5353 ||
                dp === 5353 ||
                dp === 53 ||
                sp === 1900 ||
                dp === 1900
              : proto === 6 &&
                (looksLikeTlsHandshake(b, 0, b.length) ||
                  looksLikeHttpRequest(b, 0, b.length) ||
                  looksLikeMqttConnect(b, 0, b.length) ||
                  dp === 53);
          if (looked) expect(mayCarryObservations(p, b[0] ?? 0)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
