/**
 * The device-type feature set: ONE definition used by training (`iotsec train device-type`), by
 * `iotsec classify` and by identification after ingest. Columns:
 *
 * - IoT Sentinel fingerprint: 23 values × the first 12 distinct packets the device sent (-1 when missing:
 *   a shorter capture, or a device profiled from the database, where `packets_known` is 0);
 * - packet timing: when the device sent its packets 2…12, in seconds after its first (boot, DHCP and ARP
 *   timers of its firmware; -1 when missing, as above);
 * - flow statistics from the device's point of view (counts, sizes, peers, protocol shares);
 * - port sets: services it contacts and services it answers (named common ports + hashed buckets);
 * - DNS domain tokens (registered domains, hashed), TLS SNI domains;
 * - signal presence per kind, and hashed type-level tokens of DHCP fingerprint and vendor class, mDNS
 *   service types, SSDP server, HTTP user agent, JA3, host-name words and the OUI vendor.
 *
 * Nothing that names one unit is a feature: no MAC, IP, client id, USN or location, and names built from
 * the device's MAC or IP, reverse lookups and .local names are dropped (./tokens.ts).
 */
import type { FeatureSet, FeatureSpec } from '../ml/features/feature-set.js';
import { featureSetSignature } from '../ml/features/feature-set.js';
import type { DeviceProfile, SignalKind } from './profile.js';
import { FINGERPRINT_PACKETS, SENTINEL_FEATURES } from './sentinel.js';
import { bucketOf, dnsToken, registeredDomain, wordTokens } from './tokens.js';

const CONTACT_PORTS = [53, 67, 80, 123, 443, 1883, 1900, 5353, 5683, 8080, 8443, 8883, 3478, 5222] as const;
const OPEN_PORTS = [23, 80, 443, 554, 1900, 5000, 8080, 8081, 9999, 49152, 49153, 49154] as const;
const PRESENCE_KINDS: readonly SignalKind[] = [
  'dhcp_fingerprint',
  'dhcp_vendor',
  'dhcp_hostname',
  'dhcp_client_id',
  'mdns_service',
  'mdns_instance',
  'mdns_hostname',
  'ssdp_server',
  'ssdp_usn',
  'http_user_agent',
  'tls_ja3',
  'tls_sni',
  'dns_query',
  'mqtt_client_id',
  'open_port',
];

/** Hashed token families: kind(s) → buckets and how a value becomes tokens. */
interface Family {
  name: string;
  buckets: number;
  tokens(p: DeviceProfile): string[];
}

const values = (p: DeviceProfile, kind: SignalKind): string[] => [...(p.signals.get(kind)?.keys() ?? [])];
const words = (p: DeviceProfile, ...kinds: SignalKind[]): string[] =>
  kinds.flatMap((k) => values(p, k).flatMap((v) => wordTokens(v, p.mac, p.ip)));

export const FAMILIES: readonly Family[] = [
  {
    name: 'dns_domain',
    buckets: 96,
    tokens: (p) => values(p, 'dns_query').flatMap((n) => dnsToken(n, p.mac, p.ip) ?? []),
  },
  {
    name: 'sni_domain',
    buckets: 24,
    tokens: (p) => values(p, 'tls_sni').flatMap((n) => registeredDomain(n) ?? []),
  },
  { name: 'dhcp_fp', buckets: 24, tokens: (p) => values(p, 'dhcp_fingerprint') },
  { name: 'dhcp_vendor', buckets: 16, tokens: (p) => words(p, 'dhcp_vendor') },
  { name: 'mdns_service', buckets: 24, tokens: (p) => values(p, 'mdns_service').map((s) => s.toLowerCase()) },
  { name: 'ssdp_server', buckets: 16, tokens: (p) => words(p, 'ssdp_server') },
  { name: 'user_agent', buckets: 24, tokens: (p) => words(p, 'http_user_agent') },
  { name: 'ja3', buckets: 16, tokens: (p) => values(p, 'tls_ja3') },
  {
    name: 'host_word',
    buckets: 24,
    tokens: (p) => words(p, 'dhcp_hostname', 'mdns_hostname', 'mdns_instance'),
  },
  { name: 'oui', buckets: 24, tokens: (p) => (p.ouiVendor ? [p.ouiVendor.toLowerCase()] : []) },
  {
    name: 'dport',
    buckets: 24,
    tokens: (p) => [
      ...new Set(
        p.flows
          .filter((f) => f.outbound && f.servicePort !== null)
          .map((f) => `${f.proto}/${f.servicePort as number}`),
      ),
    ],
  },
  {
    name: 'open_port',
    buckets: 16,
    tokens: (p) => values(p, 'open_port'),
  },
];

const pad2 = (i: number) => String(i).padStart(2, '0');

function specs(): FeatureSpec[] {
  const out: FeatureSpec[] = [];
  for (let i = 0; i < FINGERPRINT_PACKETS; i++)
    for (const f of SENTINEL_FEATURES)
      out.push({ name: `pkt${pad2(i)}_${f}`, min: -1, description: `IoT Sentinel ${f} of packet ${i + 1}` });
  for (let i = 1; i < FINGERPRINT_PACKETS; i++)
    out.push({
      name: `pkt_t${pad2(i)}`,
      min: -1,
      description: `seconds from the device's first packet to its packet ${i + 1} (-1 when unknown)`,
    });
  const add = (name: string, description: string, min = 0, max?: number) =>
    out.push(max === undefined ? { name, min, description } : { name, min, max, description });
  add('packets_known', 'the profile has packet-level data (a capture, not the database)', 0, 1);
  add('fingerprint_len', 'distinct packets in the fingerprint', 0, FINGERPRINT_PACKETS);
  add('log_packets', 'log1p of packets the device sent (0 when unknown)');
  add('log_flows_out', 'log1p of flows the device originated');
  add('log_flows_in', 'log1p of flows the device answered');
  add('log_udp_flows_in', 'log1p of UDP flows other hosts sent to the device');
  add('log_bytes_in_flows', 'log1p of mean bytes the device received in flows others started');
  add('frac_tcp_out', 'share of originated flows over TCP', 0, 1);
  add('frac_udp_out', 'share of originated flows over UDP', 0, 1);
  add('frac_established_out', 'share of originated TCP flows that completed the handshake', 0, 1);
  add('log_bytes_sent_per_flow', 'log1p of mean bytes sent per originated flow');
  add('log_bytes_recv_per_flow', 'log1p of mean bytes received per originated flow');
  add('log_pkts_per_flow', 'log1p of mean packets per originated flow');
  add('log_remote_peers', 'log1p of distinct internet peers');
  add('log_local_peers', 'log1p of distinct local peers');
  add('log_service_ports', 'log1p of distinct service ports contacted');
  add('log_open_ports', 'log1p of distinct TCP ports the device answered');
  add('log_dns_names', 'log1p of distinct type-level DNS domains queried');
  for (const port of CONTACT_PORTS) add(`contacts_port_${port}`, `originated a flow to port ${port}`, 0, 1);
  for (const port of OPEN_PORTS) add(`answers_port_${port}`, `answered on port ${port}`, 0, 1);
  for (const k of PRESENCE_KINDS) add(`has_${k}`, `log1p of distinct ${k} values`);
  for (const fam of FAMILIES)
    for (let b = 0; b < fam.buckets; b++)
      add(`${fam.name}_h${pad2(b)}`, `${fam.name} tokens hashed to bucket ${b}`, 0, 1);
  return out;
}

const FEATURES = specs();
const INDEX = new Map(FEATURES.map((f, i) => [f.name, i]));

function extract(p: DeviceProfile): Float64Array {
  const row = new Float64Array(FEATURES.length);
  let c = 0;
  const nS = SENTINEL_FEATURES.length;
  for (let i = 0; i < FINGERPRINT_PACKETS; i++) {
    const v = p.packetsKnown ? p.packets[i] : undefined;
    for (let j = 0; j < nS; j++) row[c++] = v ? (v[j] ?? -1) : -1;
  }
  for (let i = 0; i < FINGERPRINT_PACKETS - 1; i++) {
    const t = p.packetsKnown ? p.packetOffsets[i] : undefined;
    row[c++] = t === undefined ? -1 : t;
  }
  const set = (name: string, v: number) => {
    const i = INDEX.get(name);
    if (i !== undefined) row[i] = v;
  };
  const out = p.flows.filter((f) => f.outbound);
  const inb = p.flows.filter((f) => !f.outbound);
  const outTcp = out.filter((f) => f.proto === 6);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  set('packets_known', p.packetsKnown ? 1 : 0);
  set('fingerprint_len', p.packetsKnown ? p.packets.length : 0);
  set('log_packets', p.packetsKnown ? Math.log1p(p.packetCount) : 0);
  set('log_flows_out', Math.log1p(out.length));
  set('log_flows_in', Math.log1p(inb.length));
  set('log_udp_flows_in', Math.log1p(inb.filter((f) => f.proto === 17).length));
  set('log_bytes_in_flows', inb.length ? Math.log1p(sum(inb.map((f) => f.bytesReceived)) / inb.length) : 0);
  set('frac_tcp_out', out.length ? outTcp.length / out.length : 0);
  set('frac_udp_out', out.length ? out.filter((f) => f.proto === 17).length / out.length : 0);
  set('frac_established_out', outTcp.length ? outTcp.filter((f) => f.established).length / outTcp.length : 0);
  set('log_bytes_sent_per_flow', out.length ? Math.log1p(sum(out.map((f) => f.bytesSent)) / out.length) : 0);
  set(
    'log_bytes_recv_per_flow',
    out.length ? Math.log1p(sum(out.map((f) => f.bytesReceived)) / out.length) : 0,
  );
  set(
    'log_pkts_per_flow',
    out.length ? Math.log1p(sum(out.map((f) => f.packetsSent + f.packetsReceived)) / out.length) : 0,
  );
  set('log_remote_peers', Math.log1p(new Set(p.flows.filter((f) => !f.peerLocal).map((f) => f.peerIp)).size));
  set('log_local_peers', Math.log1p(new Set(p.flows.filter((f) => f.peerLocal).map((f) => f.peerIp)).size));
  const ports = new Set(out.filter((f) => f.servicePort !== null).map((f) => f.servicePort as number));
  set('log_service_ports', Math.log1p(ports.size));
  const open = new Set(
    inb.filter((f) => f.established && f.servicePort !== null).map((f) => f.servicePort as number),
  );
  for (const v of p.signals.get('open_port')?.keys() ?? []) open.add(Number.parseInt(v, 10));
  set('log_open_ports', Math.log1p(open.size));
  const dnsTokens = new Set(FAMILIES[0]?.tokens(p) ?? []);
  set('log_dns_names', Math.log1p(dnsTokens.size));
  for (const port of CONTACT_PORTS) set(`contacts_port_${port}`, ports.has(port) ? 1 : 0);
  for (const port of OPEN_PORTS) set(`answers_port_${port}`, open.has(port) ? 1 : 0);
  for (const k of PRESENCE_KINDS) set(`has_${k}`, Math.log1p(p.signals.get(k)?.size ?? 0));
  for (const fam of FAMILIES) {
    for (const t of fam.tokens(p)) set(`${fam.name}_h${pad2(bucketOf(t, fam.buckets))}`, 1);
  }
  return row;
}

export const DEVICE_TYPE_FEATURES: FeatureSet<DeviceProfile> = {
  name: 'device-type',
  version: 2,
  features: FEATURES,
  extract,
};

export const DEVICE_TYPE_SIGNATURE = featureSetSignature(DEVICE_TYPE_FEATURES);

/** The profile's tokens that set a hashed feature column (for explanations): column name → tokens. */
export function tokensOfColumns(p: DeviceProfile): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const fam of FAMILIES) {
    for (const t of fam.tokens(p)) {
      const col = `${fam.name}_h${pad2(bucketOf(t, fam.buckets))}`;
      const list = out.get(col) ?? [];
      if (!list.includes(t)) list.push(t);
      out.set(col, list);
    }
  }
  return out;
}

/** The same profile as the database would see it: no packet-level data. */
export function withoutPackets(p: DeviceProfile): DeviceProfile {
  return { ...p, packetsKnown: false, packets: [], packetOffsets: [], packetCount: 0 };
}
