import { describe, expect, it } from 'vitest';
import { PacketInfo } from '../wire/packet/types.js';
import { extractObservations, type Observation } from './observations.js';
import { HAVE_ZEEK_DATA, MISSING_DATA_MESSAGE, loadTrace } from './test-support/trace.js';

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
