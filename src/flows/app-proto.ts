/** Application protocol guessing: by well-known port, and by the first bytes of a payload. */
import { looksLikeHttpRequest, looksLikeHttpResponse } from '../wire/http/decode.js';
import { looksLikeMqttConnect } from '../wire/mqtt/decode.js';
import { looksLikeTlsHandshake } from '../wire/tls/decode.js';

const TCP_PORTS: ReadonlyMap<number, string> = new Map([
  [20, 'ftp-data'],
  [21, 'ftp'],
  [22, 'ssh'],
  [23, 'telnet'],
  [25, 'smtp'],
  [53, 'dns'],
  [80, 'http'],
  [102, 's7comm'],
  [443, 'tls'],
  [445, 'smb'],
  [502, 'modbus'],
  [554, 'rtsp'],
  [1883, 'mqtt'],
  [2323, 'telnet'],
  [3389, 'rdp'],
  [5900, 'vnc'],
  [7547, 'cwmp'],
  [8000, 'http'],
  [8080, 'http'],
  [8443, 'tls'],
  [8883, 'mqtt-tls'],
  [20000, 'dnp3'],
]);

const UDP_PORTS: ReadonlyMap<number, string> = new Map([
  [53, 'dns'],
  [67, 'dhcp'],
  [68, 'dhcp'],
  [69, 'tftp'],
  [123, 'ntp'],
  [137, 'netbios-ns'],
  [161, 'snmp'],
  [162, 'snmp'],
  [514, 'syslog'],
  [1900, 'ssdp'],
  [3478, 'stun'],
  [5353, 'mdns'],
  [5683, 'coap'],
  [47808, 'bacnet'],
]);

/** Guess by the responder port first, then the originator port. */
export function appProtoByPort(proto: number, respPort: number, origPort: number): string | null {
  const m = proto === 6 ? TCP_PORTS : proto === 17 ? UDP_PORTS : null;
  if (!m) return null;
  return m.get(respPort) ?? m.get(origPort) ?? null;
}

/**
 * Ports Zeek-like role guessing treats as servers: a flow whose first packet comes *from* one of these (to a
 * port that is not) is flipped so the server is the responder.
 */
const LIKELY_TCP = new Set([
  21, 22, 23, 25, 53, 80, 102, 110, 143, 443, 445, 502, 554, 993, 995, 1883, 3389, 5900, 8080, 8443, 8883,
]);
const LIKELY_UDP = new Set([53, 67, 69, 123, 137, 161, 162, 514, 1900, 3478, 5353, 5683, 47808]);

export function isLikelyServerPort(proto: number, port: number): boolean {
  return proto === 6 ? LIKELY_TCP.has(port) : proto === 17 ? LIKELY_UDP.has(port) : false;
}

/** Cheap TCP payload sniffing (no decode). Returns null when nothing matches. */
export function appProtoByTcpPayload(
  b: Uint8Array,
  off: number,
  len: number,
  fromOrig: boolean,
): string | null {
  if (len <= 0) return null;
  if (looksLikeTlsHandshake(b, off, len)) return 'tls';
  if (fromOrig && looksLikeHttpRequest(b, off, len)) return 'http';
  if (!fromOrig && looksLikeHttpResponse(b, off, len)) return 'http';
  if (len >= 4 && b[off] === 0x53 && b[off + 1] === 0x53 && b[off + 2] === 0x48 && b[off + 3] === 0x2d)
    return 'ssh';
  if (fromOrig && looksLikeMqttConnect(b, off, len)) return 'mqtt';
  const b1 = b[off + 1] ?? 0;
  if (len >= 3 && b[off] === 0xff && b1 >= 0xfb && b1 <= 0xfe) return 'telnet';
  return null;
}
