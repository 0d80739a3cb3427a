/**
 * Device observations for identification, extracted from single packets: DHCP fingerprint/vendor/hostname/
 * client id/requested IP, mDNS service types/instances/host names, SSDP server/USN/location, HTTP
 * User-Agent, TLS JA3/JA4/SNI, DNS query names, MQTT client id. Each is tagged with the *sending* device's
 * MAC and IP. Pure; decode failures are swallowed (DecodeError only) and counted by the caller if needed.
 */
import { ipv4ToString, ipv6ToString, macToString } from '../wire/dns/addr.js';
import { decodeDhcp } from '../wire/dhcp/decode.js';
import { decodeDns } from '../wire/dns/decode.js';
import { DecodeError } from '../wire/errors.js';
import { decodeHttp, looksLikeHttpRequest } from '../wire/http/decode.js';
import { decodeMqttConnect, looksLikeMqttConnect } from '../wire/mqtt/decode.js';
import type { PacketInfo } from '../wire/packet/types.js';
import { decodeSsdp } from '../wire/ssdp/decode.js';
import { decodeTlsClientHello, ja3, ja4, looksLikeTlsHandshake } from '../wire/tls/decode.js';

export type ObservationKind =
  | 'dhcp_fingerprint'
  | 'dhcp_vendor'
  | 'dhcp_hostname'
  | 'dhcp_client_id'
  | 'dhcp_requested_ip'
  | 'mdns_service'
  | 'mdns_instance'
  | 'mdns_hostname'
  | 'ssdp_server'
  | 'ssdp_usn'
  | 'ssdp_location'
  | 'http_user_agent'
  | 'tls_ja3'
  | 'tls_ja4'
  | 'tls_sni'
  | 'dns_query'
  | 'mqtt_client_id';

export interface Observation {
  kind: ObservationKind;
  /** Sender MAC ("aa:bb:cc:dd:ee:ff"); for DHCP client messages the chaddr. Null without layer 2. */
  mac: string | null;
  /** Sender IP, or null when unknown (DHCP from 0.0.0.0). */
  ip: string | null;
  value: string;
  tsMicros: number;
}

const NONE: readonly Observation[] = Object.freeze([]);
/** Per-packet caps (attacker-controlled counts). */
const MAX_PER_PACKET = 32;

function srcIpText(info: PacketInfo, frame: Uint8Array): string | null {
  if (info.ipVersion === 4) return ipv4ToString(info.srcIp4 >>> 0);
  if (info.ipVersion === 6 && info.srcIp6Offset >= 0) return ipv6ToString(frame, info.srcIp6Offset);
  return null;
}

/** Is this a DNS-SD service type name such as "_ipp._tcp.local"? */
function isServiceType(name: string): boolean {
  return /^_[^.]+\._(tcp|udp)\.[^]*$/i.test(name);
}

/**
 * Observations carried by one packet (empty, frozen array when none). `frame` defaults to info.data.
 */
export function extractObservations(info: PacketInfo, frame: Uint8Array = info.data): readonly Observation[] {
  if (info.payloadLength <= 0 || info.payloadOffset < 0) return NONE;
  const off = info.payloadOffset;
  const len = Math.min(info.payloadLength, frame.length - off);
  if (len <= 0) return NONE;
  const out: Observation[] = [];
  const mac = info.hasL2 ? macToString(info.srcMac) : null;
  const ts = info.tsMicros;
  let ipText: string | null | undefined;
  const ip = (): string | null => (ipText === undefined ? (ipText = srcIpText(info, frame)) : ipText);
  const push = (kind: ObservationKind, value: string | null, m = mac, a: string | null = ip()): void => {
    if (value === null || value === '' || out.length >= MAX_PER_PACKET) return;
    out.push({ kind, mac: m, ip: a, value, tsMicros: ts });
  };
  try {
    if (info.ipProto === 17) {
      const sp = info.srcPort;
      const dp = info.dstPort;
      if ((dp === 67 || dp === 68) && (sp === 67 || sp === 68)) {
        const m = decodeDhcp(frame, off, len);
        if (m.op !== 1) return out; // server replies describe the client, not the sender
        const cmac = m.htype === 1 && m.hlen === 6 ? m.chaddr : mac;
        const cip = m.ciaddr !== '0.0.0.0' ? m.ciaddr : ip() === '0.0.0.0' ? null : ip();
        push('dhcp_fingerprint', m.fingerprint, cmac, cip);
        push('dhcp_vendor', m.vendorClass, cmac, cip);
        push('dhcp_hostname', m.hostname ?? m.fqdn?.name ?? null, cmac, cip);
        if (m.clientId) push('dhcp_client_id', `${m.clientId.type}:${m.clientId.value}`, cmac, cip);
        push('dhcp_requested_ip', m.requestedIp, cmac, cip);
      } else if (sp === 5353 || dp === 5353) {
        const m = decodeDns(frame, off, len, { mdns: true });
        if (!m.isResponse) return out;
        for (const r of m.records) {
          if (r.section !== 'answer') continue;
          if (r.data.kind === 'name' && r.type === 12) {
            if (r.name.endsWith('.arpa')) push('mdns_hostname', r.data.name);
            else if (r.name === '_services._dns-sd._udp.local') push('mdns_service', r.data.name);
            else {
              if (isServiceType(r.name)) push('mdns_service', r.name);
              push('mdns_instance', r.data.name);
            }
          } else if (r.data.kind === 'srv') push('mdns_hostname', r.data.target);
          else if (r.data.kind === 'a' || r.data.kind === 'aaaa') push('mdns_hostname', r.name);
        }
      } else if (dp === 53) {
        const m = decodeDns(frame, off, len);
        if (!m.isResponse) for (const q of m.questions) push('dns_query', q.name);
      } else if (sp === 1900 || dp === 1900) {
        const m = decodeSsdp(frame, off, len);
        if (m.kind === 'notify' || m.kind === 'response') {
          push('ssdp_server', m.server);
          push('ssdp_usn', m.usn);
          push('ssdp_location', m.location);
        } else if (m.kind === 'msearch') push('http_user_agent', m.userAgent);
      }
    } else if (info.ipProto === 6) {
      if (looksLikeTlsHandshake(frame, off, len) && frame[off + 5] === 1) {
        const h = decodeTlsClientHello(frame, off, len);
        push('tls_sni', h.sni);
        push('tls_ja3', ja3(h).hash);
        push('tls_ja4', ja4(h).fingerprint);
      } else if (looksLikeHttpRequest(frame, off, len)) {
        const m = decodeHttp(frame, off, len);
        if (m.kind === 'request') push('http_user_agent', m.userAgent);
      } else if (looksLikeMqttConnect(frame, off, len)) {
        push('mqtt_client_id', decodeMqttConnect(frame, off, len).clientId);
      } else if (info.dstPort === 53 && len > 2) {
        const m = decodeDns(frame, off, len, { tcp: true });
        if (!m.isResponse) for (const q of m.questions) push('dns_query', q.name);
      }
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  return out.length ? out : NONE;
}
