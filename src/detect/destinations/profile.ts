/**
 * Learned destination profiles, the pure part (in the spirit of MUD, RFC 8520): what a flow tells about
 * where a device goes, how profile entries are written and matched, and what a violation looks like.
 *
 * A profile holds three kinds of entries:
 * - `domain`: a DNS name the device queried, or the TLS SNI / HTTP Host of a connection it opened; users may
 *   add `*.example.com` (the zone and every name under it). A registered domain with at least
 *   ZONE_MIN_NAMES different names in the profile counts as a whole (CDNs hand out many host names:
 *   rr3---sn-….googlevideo.com);
 * - `endpoint`: an internet peer the device connected to, `ip:port/proto` (`[v6]:port/proto`; `ip/proto`
 *   for protocols without ports); users may leave parts out or write `*`: `203.0.113.5`, `*:8883/tcp`.
 *   A service (port and protocol) on which a device reaches GENERALISE_HOSTS different peers is learned as
 *   `*:port/proto`: the device uses that service wherever it points (a CDN, a peer-to-peer mesh, a
 *   general-purpose client), so its next peer there is no news, and the profile stops growing by one row
 *   per peer (a router's NetFlow export of such a client would otherwise write a row per flow);
 * - `protocol`: an application protocol the device spoke (dns, tls, http, mqtt, ntp …).
 *
 * Only flows the device opened count (what MUD calls from-device policy); inbound connections are the
 * business of the scan, KEV-exposure and new-service detectors. A connection that carries a name (SNI,
 * Host) is judged by the name, so a cloud service moving between addresses does not alert; one without a
 * name is judged by its endpoint. Multicast, broadcast and LAN peers only teach protocols.
 */
import { isLocalIp, isPublicIp, isSpecialIp } from '../../devices/ip.js';
import { isMulticastMac } from '../../devices/mac.js';
import { registeredDomain } from '../../devices/tokens.js';
import type { IngestFlow } from '../../sources/types.js';
import { ip6ToString, parseIp, parseIp4 } from '../../wire/addr.js';

export type DestinationKind = 'domain' | 'endpoint' | 'protocol';
/** Names under one registered domain from which the whole registered domain is allowed. */
export const ZONE_MIN_NAMES = 3;
export const MAX_VALUE_LENGTH = 255;
/** Different peers on one service (port/proto) from which a profile learns the service for any peer. */
export const GENERALISE_HOSTS = 32;

/** Ports on which a new internet peer is ordinary (web, DNS, NTP, MQTT, push, STUN, mail); others: medium. */
export const USUAL_PORTS: ReadonlySet<number> = new Set([
  53, 80, 123, 443, 853, 1883, 8883, 5222, 5223, 3478, 5349, 8080, 8443, 993, 465, 587,
]);

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
const PORTLESS = new Set([1, 58]);

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? String(proto);
}

const PROTO_NUMBERS = new Map(Object.entries(PROTO_NAMES).map(([k, v]) => [v, Number(k)]));

function protoOf(name: string): number | null {
  const n = PROTO_NUMBERS.get(name);
  if (n !== undefined) return n;
  return /^\d{1,3}$/.test(name) && Number(name) <= 255 ? Number(name) : null;
}

/** A DNS name as profiles store it (lower case, no trailing dot), or null when it is not one worth keeping. */
export function normaliseDomain(name: string): string | null {
  let n = name.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n.length === 0 || n.length > 253) return null;
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(n)) return null;
  // Link-local names and reverse lookups say nothing about where the device goes.
  if (n.endsWith('.local') || n === 'local' || n.endsWith('.arpa')) return null;
  return n;
}

function hostText(ip: string): string | null {
  if (parseIp4(ip) !== null) return ip; // the common case: no trimming, no IPv6 parse
  const p = parseIp(ip);
  if (!p) return null;
  return p.version === 4 ? ip.trim() : `[${ip6ToString(p.bytes)}]`;
}

/** The learned endpoint value of a peer: `ip:port/proto`, `[v6]:port/proto`, or `ip/proto` without ports. */
export function endpointValue(ip: string, port: number | null, proto: number): string | null {
  const host = hostText(ip);
  if (!host) return null;
  return port === null || PORTLESS.has(proto)
    ? `${host}/${protoName(proto)}`
    : `${host}:${port}/${protoName(proto)}`;
}

export function normaliseProtocol(p: string): string | null {
  const n = p.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9_.-]{0,31}$/.test(n) ? n : null;
}

/** A user's endpoint pattern: host (or any), port (or any), protocol (or any). */
export interface EndpointPattern {
  host: string | null;
  port: number | null;
  proto: number | null;
}

/** Parses `ip`, `ip:port`, `ip:port/proto`, `ip/proto`, `[v6]:port/proto`, with `*` for any host or port. */
export function parseEndpoint(value: string): EndpointPattern | null {
  let s = value.trim().toLowerCase();
  let proto: number | null = null;
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (p !== '*') {
      proto = protoOf(p);
      if (proto === null) return null;
    }
    s = s.slice(0, slash);
  }
  let hostPart: string;
  let portPart: string | null = null;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    hostPart = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else if (s.split(':').length === 2) {
    [hostPart, portPart] = s.split(':') as [string, string];
  } else hostPart = s; // IPv4, bare IPv6 (no port) or *
  let host: string | null = null;
  if (hostPart !== '*') {
    const p = parseIp(hostPart);
    if (!p) return null;
    host = p.version === 4 ? hostPart : `[${ip6ToString(p.bytes)}]`;
  }
  let port: number | null = null;
  if (portPart !== null && portPart !== '*') {
    if (!/^\d{1,5}$/.test(portPart) || Number(portPart) > 65535) return null;
    port = Number(portPart);
  }
  return { host, port, proto };
}

export function formatEndpoint(p: EndpointPattern): string {
  const host = p.host ?? '*';
  const port = p.port === null ? '' : `:${p.port}`;
  const proto = p.proto === null ? '' : `/${protoName(p.proto)}`;
  return p.port === null && p.proto === null && p.host !== null ? host : `${host}${port}${proto}`;
}

/** The stored form of a user's entry, or an error message. */
export function normaliseEntry(
  kind: DestinationKind,
  value: string,
): { ok: true; value: string } | { ok: false; error: string } {
  const v = value.trim();
  if (v.length === 0 || v.length > MAX_VALUE_LENGTH)
    return { ok: false, error: `value must be 1 to ${MAX_VALUE_LENGTH} characters` };
  if (kind === 'domain') {
    const wild = v.startsWith('*.');
    const d = normaliseDomain(wild ? v.slice(2) : v);
    return d ? { ok: true, value: wild ? `*.${d}` : d } : { ok: false, error: `not a DNS name: ${v}` };
  }
  if (kind === 'protocol') {
    const p = normaliseProtocol(v);
    return p ? { ok: true, value: p } : { ok: false, error: `not a protocol name: ${v}` };
  }
  const e = parseEndpoint(v);
  if (!e) return { ok: false, error: `not an endpoint (ip[:port][/proto], * for any): ${v}` };
  if (e.host === null && e.port === null && e.proto === null)
    return { ok: false, error: 'an endpoint entry must name a host, a port or a protocol' };
  return { ok: true, value: formatEndpoint(e) };
}

/** What one flow the device opened says about where it goes. */
export interface FlowDestinations {
  /** The device end of the flow (its MAC when seen, and IP). */
  device: { mac: string | null; ip: string };
  /** DNS query names (DNS flows), SNI and HTTP Host (connections), normalised. */
  queried: readonly string[];
  /** Names the connection itself carries (SNI, Host). */
  named: readonly string[];
  /** Internet peer endpoint value, when the peer is on the internet. */
  endpoint: string | null;
  /** The endpoint names host, port and protocol (or host and a portless protocol): an exact entry. */
  endpointExact: boolean;
  /** serviceKey of an exact endpoint with a port, else -1. */
  service: number;
  peerIp: string;
  peerPort: number | null;
  proto: number;
  protocol: string | null;
  external: boolean;
}

/**
 * The device that opened a flow, as the ingest writer keys devices: a local originator, or the originator of
 * a flow between two non-local addresses (a capture taken on a public network).
 */
function originator(f: IngestFlow): { mac: string | null; ip: string } | null {
  if (isSpecialIp(f.srcIp)) return null;
  if (!isLocalIp(f.srcIp) && isLocalIp(f.dstIp) && !isSpecialIp(f.dstIp)) return null;
  const mac = f.srcMac && f.srcMac !== '00:00:00:00:00:00' && !isMulticastMac(f.srcMac) ? f.srcMac : null;
  return { mac, ip: f.srcIp };
}

const NAME_PROTOCOLS = new Set(['mdns', 'llmnr', 'nbns', 'netbios-ns', 'ssdp']);
const NONE: readonly string[] = Object.freeze([]);

/** The destinations of a flow opened by a local device; null when no device opened it. */
export function destinationsOf(f: IngestFlow): FlowDestinations | null {
  const src = originator(f);
  if (!src) return null;
  const external = isPublicIp(f.dstIp);
  const protocol = f.appProto ? normaliseProtocol(f.appProto) : null;
  const lookups =
    !(protocol !== null && NAME_PROTOCOLS.has(protocol)) && f.dstPort !== 5353 && f.dstPort !== 5355;
  // Most flows carry no name (every NetFlow record): no arrays then.
  let queried: readonly string[] = NONE;
  if (lookups && f.dnsNames.length > 0) {
    const q: string[] = [];
    for (const n of f.dnsNames) {
      const d = normaliseDomain(n);
      if (d && !q.includes(d)) q.push(d);
    }
    queried = q;
  }
  let named: readonly string[] = NONE;
  if (f.sni || f.httpHost) {
    const nm: string[] = [];
    for (const n of [f.sni, f.httpHost]) {
      if (!n) continue;
      // A Host header may carry a port, or be an address literal (not a name).
      const host = n.replace(/:\d+$/, '');
      if (parseIp(host.replace(/^\[|\]$/g, ''))) continue;
      const d = normaliseDomain(host);
      if (d && !nm.includes(d)) nm.push(d);
    }
    named = nm;
  }
  const peerPort = PORTLESS.has(f.proto) ? null : f.dstPort;
  return {
    device: src,
    queried,
    named,
    endpoint: external ? endpointValue(f.dstIp, f.dstPort, f.proto) : null,
    endpointExact: peerPort !== null || PORTLESS.has(f.proto),
    service: external && peerPort !== null ? serviceKey(peerPort, f.proto) : -1,
    peerIp: f.dstIp,
    peerPort,
    proto: f.proto,
    protocol,
    external,
  };
}

/** A service (port and protocol) as one number, for matching without strings. */
export const serviceKey = (port: number, proto: number): number => port * 256 + proto;

/**
 * The service of an exact endpoint value (`host:port/proto`, `[v6]:port/proto`), or -1 for a portless one
 * (`host/proto`; in `[v6]/proto` the last colon lies inside the brackets) or one that does not parse.
 */
export function serviceOf(endpoint: string): number {
  const colon = endpoint.lastIndexOf(':');
  const slash = endpoint.lastIndexOf('/');
  if (colon <= endpoint.lastIndexOf(']') || slash < colon) return -1;
  const port = Number(endpoint.slice(colon + 1, slash));
  const proto = protoOf(endpoint.slice(slash + 1));
  return Number.isInteger(port) && port >= 0 && port <= 65535 && proto !== null
    ? serviceKey(port, proto)
    : -1;
}

/** The entries of one profile, for matching. */
export class ProfileMatcher {
  private readonly domains = new Set<string>();
  private readonly zones: string[] = [];
  private readonly namesPerZone = new Map<string, number>();
  private readonly endpoints = new Set<string>();
  /** `*:port/proto` entries by serviceKey: matched without parsing the endpoint. */
  private readonly services = new Map<number, string>();
  /** Exact endpoints per serviceKey, towards GENERALISE_HOSTS. */
  private readonly hostsPerService = new Map<number, number>();
  private readonly patterns: EndpointPattern[] = [];
  private readonly protocols = new Set<string>();
  size = 0;

  constructor(entries: Iterable<{ kind: DestinationKind; value: string }> = []) {
    for (const e of entries) this.add(e.kind, e.value);
  }

  add(kind: DestinationKind, value: string): void {
    this.size++;
    if (kind === 'domain') {
      if (value.startsWith('*.')) this.zones.push(value.slice(2));
      else if (!this.domains.has(value)) {
        this.domains.add(value);
        const zone = registeredDomain(value);
        if (zone) this.namesPerZone.set(zone, (this.namesPerZone.get(zone) ?? 0) + 1);
      }
    } else if (kind === 'protocol') this.protocols.add(value);
    else {
      const p = parseEndpoint(value);
      if (p && p.host !== null && p.port !== null && p.proto !== null)
        this.addExact(value, serviceKey(p.port, p.proto));
      else if (p && p.host !== null && p.port === null && p.proto !== null && PORTLESS.has(p.proto))
        this.endpoints.add(value);
      else if (p && p.host === null && p.port !== null && p.proto !== null)
        this.services.set(serviceKey(p.port, p.proto), value);
      else if (p) this.patterns.push(p);
    }
  }

  /**
   * Adds what a flow taught (eachEntry), unless known; false when it was known. An exact endpoint (made by
   * endpointValue from a flow, `service` its serviceKey or -1) goes straight into the set: parsing back what
   * was just formatted cost more than the rest of learning. When the endpoint's service reaches
   * GENERALISE_HOSTS peers, its `*:port/proto` entry is learned as well and returned (the caller stores it)
   * instead of true.
   */
  learn(
    kind: DestinationKind,
    value: string,
    exactEndpoint: boolean,
    knownService?: number,
  ): boolean | string {
    const exact = kind === 'endpoint' && exactEndpoint;
    const service = knownService ?? (exact ? serviceOf(value) : -1);
    if (this.entryFor(kind, value, service) !== null) return false;
    if (exact) {
      this.size++;
      this.addExact(value, service);
      if (service >= 0 && (this.hostsPerService.get(service) ?? 0) >= GENERALISE_HOSTS) {
        const entry = `*:${service >> 8}/${protoName(service & 255)}`;
        this.size++;
        this.services.set(service, entry);
        return entry;
      }
    } else this.add(kind, value);
    return true;
  }

  /**
   * The stored entry a value counts towards: the `*:port/proto` entry of its service when there is one
   * (once generalised, a service's traffic counts there, its exact peers included), else the value itself;
   * null when the profile does not allow it. `service`: the endpoint's serviceKey when the caller knows it
   * (-1: none), read from the value when left out. The service comes first: it is a number, while the value
   * is a string made for this flow (hashing it costs more than the rest of the lookup).
   */
  entryFor(kind: DestinationKind, value: string, service?: number): string | null {
    if (kind === 'endpoint') {
      if (this.services.size > 0) {
        const entry = this.services.get(service ?? serviceOf(value));
        if (entry !== undefined) return entry;
      }
      return this.endpoints.has(value) || this.matchesPattern(value) ? value : null;
    }
    return this.has(kind, value) ? value : null;
  }

  has(kind: DestinationKind, value: string): boolean {
    if (kind === 'domain') return this.allowsDomain(value);
    if (kind === 'protocol') return this.protocols.has(value);
    return this.entryFor(kind, value) !== null;
  }

  allowsDomain(name: string): boolean {
    if (this.domains.has(name)) return true;
    for (const z of this.zones) if (name === z || name.endsWith(`.${z}`)) return true;
    const zone = registeredDomain(name);
    return zone !== null && (this.namesPerZone.get(zone) ?? 0) >= ZONE_MIN_NAMES;
  }

  private addExact(value: string, service: number): void {
    this.endpoints.add(value);
    if (service >= 0) this.hostsPerService.set(service, (this.hostsPerService.get(service) ?? 0) + 1);
  }

  private matchesPattern(endpoint: string): boolean {
    if (this.patterns.length === 0) return false;
    const e = parseEndpoint(endpoint);
    if (!e) return false;
    return this.patterns.some(
      (p) =>
        (p.host === null || p.host === e.host) &&
        (p.port === null || p.port === e.port) &&
        (p.proto === null || p.proto === e.proto),
    );
  }
}

/**
 * The entries a flow teaches a profile during learning, one call each (`exact`: an endpoint that names
 * host, port and protocol, `service` its serviceKey or -1; see ProfileMatcher.learn).
 */
export function eachEntry(
  d: FlowDestinations,
  fn: (kind: DestinationKind, value: string, exact: boolean, service: number) => void,
): void {
  // Indexed loops: this runs per flow, and the lists are nearly always empty (an iterator each otherwise).
  const { queried, named } = d;
  for (let i = 0; i < queried.length; i++) fn('domain', queried[i] as string, false, -1);
  for (let i = 0; i < named.length; i++) {
    const n = named[i] as string;
    if (!queried.includes(n)) fn('domain', n, false, -1);
  }
  if (d.endpoint) fn('endpoint', d.endpoint, d.endpointExact, d.service);
  if (d.protocol) fn('protocol', d.protocol, false, -1);
}

export interface Violation {
  kind: DestinationKind;
  value: string;
  /** The alert's peer (dedup key with the device): the name, the peer IP, or `proto:<name>`. */
  peer: string;
  severity: 'low' | 'medium';
}

export function isUnusualPort(port: number | null): boolean {
  return port !== null && !USUAL_PORTS.has(port);
}

/**
 * What an enforcing profile says about a flow: unknown names (queried or carried), then, for a connection
 * to an internet peer that carries no allowed name, an unknown endpoint; and an unknown app protocol.
 * Medium when the peer is on the internet on an unusual port, else low.
 */
export function judge(m: ProfileMatcher, d: FlowDestinations): Violation[] {
  const out: Violation[] = [];
  const medium = d.external && isUnusualPort(d.peerPort);
  const sev = medium ? 'medium' : 'low';
  const { queried, named } = d;
  for (let i = 0; i < queried.length; i++) {
    const n = queried[i] as string;
    if (!m.allowsDomain(n)) out.push({ kind: 'domain', value: n, peer: n, severity: 'low' });
  }
  for (let i = 0; i < named.length; i++) {
    const n = named[i] as string;
    if (!m.allowsDomain(n) && !queried.includes(n))
      out.push({ kind: 'domain', value: n, peer: n, severity: sev });
  }
  if (d.endpoint && d.named.length === 0 && m.entryFor('endpoint', d.endpoint, d.service) === null)
    out.push({ kind: 'endpoint', value: d.endpoint, peer: d.peerIp, severity: sev });
  if (d.protocol && !m.has('protocol', d.protocol))
    out.push({ kind: 'protocol', value: d.protocol, peer: `proto:${d.protocol}`, severity: sev });
  return out;
}
