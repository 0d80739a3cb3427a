/**
 * Device observations for identification, extracted from single packets: DHCP fingerprint/vendor/hostname/
 * client id/requested IP, mDNS service types/instances/host names, SSDP server/USN/location, HTTP
 * User-Agent, TLS JA3/JA4/SNI, DNS query names, MQTT client id. Each is tagged with the *sending* device's
 * MAC and IP. Pure; decode failures are swallowed (DecodeError only) and counted by the caller if needed.
 * Device descriptions (UPnP, HNAP) span several segments: the flow table reassembles them and reports them
 * through emitDeviceDescription.
 */
import { ipv4Text, ipv6ToString, macOrNull } from '../wire/addr.js';
import { decodeDhcp } from '../wire/dhcp/decode.js';
import type { DnsAnswerSummary, DnsSummary } from '../wire/dns/decode.js';
import type { DhcpMessage } from '../wire/dhcp/types.js';
import { DecodeError } from '../wire/errors.js';
import { decodeHttp, looksLikeHttpRequest } from '../wire/http/decode.js';
import { decodeMqttConnect, looksLikeMqttConnect } from '../wire/mqtt/decode.js';
import type { PacketInfo } from '../wire/packet/types.js';
import { decodeSsdp } from '../wire/ssdp/decode.js';
import type { SsdpMessage } from '../wire/ssdp/types.js';
import type { DeviceDescription } from '../wire/upnp/types.js';
import { clientHelloPrints, decodeTlsClientHello, looksLikeTlsHandshake } from '../wire/tls/decode.js';
import { decodeDnsMode, DNS_MDNS, DNS_PLAIN, DNS_TCP, type PayloadCache } from './payload-cache.js';
import { objectArray } from './object-array.js';

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
  | 'mqtt_client_id'
  | 'upnp_model'
  | 'upnp_manufacturer'
  | 'upnp_device_type'
  | 'upnp_firmware'
  | 'upnp_friendly_name';

export interface Observation {
  kind: ObservationKind;
  /** Sender MAC ("aa:bb:cc:dd:ee:ff"); for DHCP client messages the chaddr. Null without layer 2. */
  mac: string | null;
  /** Sender IP, or null when unknown (DHCP from 0.0.0.0). */
  ip: string | null;
  value: string;
  /** Time of the (last) sighting. */
  tsMicros: number;
  /**
   * Identical sightings (same kind, mac, ip, value) aggregated into this one (see ObservationAggregator);
   * absent means 1.
   */
  count?: number;
  /** Time of the first of the aggregated sightings; absent means tsMicros. */
  firstMicros?: number;
}

/** Receives observations one by one, without an object per observation (see emitObservations). */
export interface ObservationSink {
  observe(
    kind: ObservationKind,
    mac: string | null,
    ip: string | null,
    value: string,
    tsMicros: number,
  ): void;
}

const NONE: readonly Observation[] = Object.freeze([]);
/** Per-packet caps (attacker-controlled counts). */
const MAX_PER_PACKET = 32;

function srcIpText(info: PacketInfo, frame: Uint8Array): string | null {
  if (info.ipVersion === 4) return ipv4Text(info.srcIp4 | 0);
  if (info.ipVersion === 6 && info.srcIp6Offset >= 0) return ipv6ToString(frame, info.srcIp6Offset);
  return null;
}

const SERVICE_TYPE = /^_[^.]+\._(tcp|udp)\.[^]*$/i;

/** Is this a DNS-SD service type name such as "_ipp._tcp.local"? */
function isServiceType(name: string): boolean {
  return name.charCodeAt(0) === 0x5f && SERVICE_TYPE.test(name);
}

/** Per-call state of emitObservations: the sink, the packet time and the per-packet count. */
class Emitter {
  sink: ObservationSink | null = null;
  /**
   * The sink when it is an ObservationAggregator (which can replay a packet's observations) and decodes come
   * from a payload cache (without one, no two packets share a decode to replay).
   */
  agg: ObservationAggregator | null = null;
  ts = 0;
  n = 0;
  active = false;

  put(kind: ObservationKind, value: string | null, mac: string | null, ip: string | null): void {
    if (value === null || value === '' || this.n >= MAX_PER_PACKET) return;
    this.n++;
    this.sink?.observe(kind, mac, ip, value, this.ts);
  }

  /**
   * True when the observations of the memoised decode `m` sent by (mac, ip) were replayed: the aggregator
   * saw exactly these since its last take(). Otherwise the caller emits them, between this call and
   * recorded(), and the aggregator records them for the next packet with the same decode. Only for
   * observations that are a function of (m, mac, ip) alone, emitted first for their packet (the
   * per-packet count starts at 0 either way).
   */
  replayed(m: object, mac: string | null, ip: string | null): boolean {
    const agg = this.agg;
    if (agg === null || this.n !== 0) return false;
    const k = agg.replay(m, mac, ip, this.ts);
    if (k >= 0) {
      this.n += k;
      return true;
    }
    agg.startRecording();
    return false;
  }

  /** Ends what replayed() started: keeps the recording of `m`'s observations. */
  recorded(m: object, mac: string | null, ip: string | null): void {
    this.agg?.keepRecording(m, mac, ip);
  }
}

const shared = new Emitter();

/**
 * Observations carried by one packet, handed to `sink` (at most MAX_PER_PACKET). `cache` shares payload
 * decodes with the flow table for the same packet. Returns how many were emitted.
 */
export function emitObservations(
  info: PacketInfo,
  frame: Uint8Array,
  sink: ObservationSink,
  cache: PayloadCache | null = null,
): number {
  if (info.payloadLength <= 0 || info.payloadOffset < 0) return 0;
  const off = info.payloadOffset;
  const len = Math.min(info.payloadLength, frame.length - off);
  if (len <= 0 || !mayCarryObservations(info, frame[off] ?? 0)) return 0;
  const em = shared.active ? new Emitter() : shared;
  em.sink = sink;
  em.agg = cache !== null && sink instanceof ObservationAggregator ? sink : null;
  em.ts = info.tsMicros;
  em.n = 0;
  em.active = true;
  try {
    if (info.ipProto === 17) udp(em, info, frame, off, len, cache);
    else if (info.ipProto === 6) tcp(em, info, frame, off, len, cache);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  } finally {
    em.agg?.stopRecording();
    em.active = false;
    em.sink = null;
    em.agg = null;
  }
  return em.n;
}

/**
 * False when udp() and tcp() below would pass the packet by without decoding anything: by its ports, or for
 * TCP by the first payload byte each of its branches requires (0x16 a TLS handshake, C D G H O P T an HTTP
 * method, 0x10 an MQTT CONNECT) or the DNS port. Most payload packets are neither, and this spares them
 * the emitter's set-up.
 */
export function mayCarryObservations(info: PacketInfo, first: number): boolean {
  const sp = info.srcPort;
  const dp = info.dstPort;
  if (info.ipProto === 17)
    return dp === 67 || dp === 68 || sp === 5353 || dp === 5353 || dp === 53 || sp === 1900 || dp === 1900;
  if (info.ipProto !== 6) return false;
  switch (first) {
    case 0x16: // TLS handshake
    case 0x10: // MQTT CONNECT
    case 0x43: // HTTP methods: C D G H O P T
    case 0x44:
    case 0x47:
    case 0x48:
    case 0x4f:
    case 0x50:
    case 0x54:
      return true;
    default:
      return dp === 53;
  }
}

function udp(
  em: Emitter,
  info: PacketInfo,
  frame: Uint8Array,
  off: number,
  len: number,
  cache: PayloadCache | null,
): void {
  const sp = info.srcPort;
  const dp = info.dstPort;
  if ((dp === 67 || dp === 68) && (sp === 67 || sp === 68)) {
    const m = cache ? cache.dhcp(frame, off, len) : decodeDhcp(frame, off, len);
    if (m.op !== 1) return; // server replies describe the client, not the sender
    const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
    const ip = srcIpText(info, frame);
    if (em.replayed(m, mac, ip)) return;
    dhcp(em, m, mac, ip);
    em.recorded(m, mac, ip);
  } else if (sp === 5353 || dp === 5353) {
    // Only responses carry observations: a query (QR bit clear) is not decoded.
    if (len >= 12 && ((frame[off + 2] ?? 0) & 0x80) === 0) return;
    const m = cache ? cache.dns(frame, off, len, DNS_MDNS) : decodeDnsMode(frame, off, len, DNS_MDNS);
    if (!m.isResponse) return;
    const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
    const ip = srcIpText(info, frame);
    if (em.replayed(m, mac, ip)) return;
    mdns(em, m.answers, mac, ip);
    em.recorded(m, mac, ip);
  } else if (dp === 53) {
    // Only queries carry observations: a response (QR bit set) is not decoded.
    if (len >= 12 && ((frame[off + 2] ?? 0) & 0x80) !== 0) return;
    const m = cache ? cache.dns(frame, off, len, DNS_PLAIN) : decodeDnsMode(frame, off, len, DNS_PLAIN);
    if (!m.isResponse) questions(em, info, frame, m);
  } else if (sp === 1900 || dp === 1900) {
    const m = cache ? cache.ssdp(frame, off, len) : decodeSsdp(frame, off, len);
    const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
    const ip = srcIpText(info, frame);
    if (em.replayed(m, mac, ip)) return;
    ssdp(em, m, mac, ip);
    em.recorded(m, mac, ip);
  }
}

/** A DHCP client message's observations, tagged with its chaddr (`ip`: the sender's address). */
function dhcp(em: Emitter, m: DhcpMessage, mac: string | null, ip: string | null): void {
  const cmac = m.htype === 1 && m.hlen === 6 ? m.chaddr : mac;
  let cip: string | null = m.ciaddr;
  if (cip === '0.0.0.0') {
    cip = ip;
    if (cip === '0.0.0.0') cip = null;
  }
  em.put('dhcp_fingerprint', m.fingerprint, cmac, cip);
  em.put('dhcp_vendor', m.vendorClass, cmac, cip);
  em.put('dhcp_hostname', m.hostname ?? m.fqdn?.name ?? null, cmac, cip);
  if (m.clientId) em.put('dhcp_client_id', `${m.clientId.type}:${m.clientId.value}`, cmac, cip);
  em.put('dhcp_requested_ip', m.requestedIp, cmac, cip);
}

/** The host names, service types and instances an mDNS response announces. */
function mdns(em: Emitter, rs: readonly DnsAnswerSummary[], mac: string | null, ip: string | null): void {
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i] as DnsAnswerSummary;
    const k = r.kind;
    if (k !== 'name' && k !== 'srv' && k !== 'a' && k !== 'aaaa') continue;
    if (k === 'name') {
      if (r.type !== 12) continue;
      if (r.name.endsWith('.arpa')) em.put('mdns_hostname', r.target, mac, ip);
      else if (r.name === '_services._dns-sd._udp.local') em.put('mdns_service', r.target, mac, ip);
      else {
        if (isServiceType(r.name)) em.put('mdns_service', r.name, mac, ip);
        em.put('mdns_instance', r.target, mac, ip);
      }
    } else if (k === 'srv') em.put('mdns_hostname', r.target, mac, ip);
    else em.put('mdns_hostname', r.name, mac, ip);
  }
}

/** What an SSDP announcement (server, USN, location) or search (User-Agent) says of its sender. */
function ssdp(em: Emitter, m: SsdpMessage, mac: string | null, ip: string | null): void {
  if (m.kind === 'notify' || m.kind === 'response') {
    em.put('ssdp_server', m.server, mac, ip);
    em.put('ssdp_usn', m.usn, mac, ip);
    em.put('ssdp_location', m.location, mac, ip);
  } else if (m.kind === 'msearch' && m.userAgent) em.put('http_user_agent', m.userAgent, mac, ip);
}

/** The names a DNS query asks for. */
function questions(em: Emitter, info: PacketInfo, frame: Uint8Array, m: DnsSummary): void {
  const qs = m.questions;
  if (qs.length === 0) return;
  const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
  const ip = srcIpText(info, frame);
  if (em.replayed(m, mac, ip)) return;
  for (let i = 0; i < qs.length; i++) em.put('dns_query', qs[i] as string, mac, ip);
  em.recorded(m, mac, ip);
}

function tcp(
  em: Emitter,
  info: PacketInfo,
  frame: Uint8Array,
  off: number,
  len: number,
  cache: PayloadCache | null,
): void {
  if (looksLikeTlsHandshake(frame, off, len) && frame[off + 5] === 1) {
    const h = cache ? cache.tlsClientHello(frame, off, len) : decodeTlsClientHello(frame, off, len);
    const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
    const ip = srcIpText(info, frame);
    em.put('tls_sni', h.sni, mac, ip);
    const prints = clientHelloPrints(h);
    em.put('tls_ja3', prints.ja3, mac, ip);
    em.put('tls_ja4', prints.ja4, mac, ip);
  } else if (looksLikeHttpRequest(frame, off, len)) {
    const m = cache ? cache.http(frame, off, len) : decodeHttp(frame, off, len);
    if (m.kind === 'request' && m.userAgent)
      em.put(
        'http_user_agent',
        m.userAgent,
        info.hasL2 ? macOrNull(info.srcMac) : null,
        srcIpText(info, frame),
      );
  } else if (looksLikeMqttConnect(frame, off, len)) {
    const id = decodeMqttConnect(frame, off, len).clientId;
    if (id) em.put('mqtt_client_id', id, info.hasL2 ? macOrNull(info.srcMac) : null, srcIpText(info, frame));
  } else if (info.dstPort === 53 && len > 2) {
    const m = cache ? cache.dns(frame, off, len, DNS_TCP) : decodeDnsMode(frame, off, len, DNS_TCP);
    if (!m.isResponse) questions(em, info, frame, m);
  }
}

/**
 * The observations of a device description (an HTTP response body, see FlowTable), tagged with the device
 * that served it. Kinds and values:
 * - upnp_model: modelName, followed by " " + modelNumber when there is one that modelName does not already
 *   contain ("Insight 1.0", "DCH-G020"); modelNumber alone when there is no modelName
 * - upnp_manufacturer: manufacturer (HNAP VendorName), e.g. "Belkin International Inc."
 * - upnp_device_type: deviceType, e.g. "urn:Belkin:device:insight:1" (HNAP Type, e.g. "ConnectedHomeClient")
 * - upnp_firmware: firmwareVersion, else softwareVersion, e.g. "WeMo_WW_2.00.11057.PVT-OWRT-Insight"
 * - upnp_friendly_name: friendlyName (HNAP DeviceName), e.g. "WeMo Insight"
 * Returns how many were emitted.
 */
export function emitDeviceDescription(
  sink: ObservationSink,
  d: DeviceDescription,
  mac: string | null,
  ip: string | null,
  tsMicros: number,
): number {
  let n = 0;
  const put = (kind: ObservationKind, value: string | null) => {
    if (value === null || value === '') return;
    sink.observe(kind, mac, ip, value, tsMicros);
    n++;
  };
  const model = d.modelName;
  const number = d.modelNumber;
  put(
    'upnp_model',
    model && number && !model.toLowerCase().includes(number.toLowerCase())
      ? `${model} ${number}`
      : (model ?? number),
  );
  put('upnp_manufacturer', d.manufacturer);
  put('upnp_device_type', d.deviceType);
  put('upnp_firmware', d.firmwareVersion);
  put('upnp_friendly_name', d.friendlyName);
  return n;
}

class Collector implements ObservationSink {
  readonly out: Observation[] = [];
  observe(
    kind: ObservationKind,
    mac: string | null,
    ip: string | null,
    value: string,
    tsMicros: number,
  ): void {
    this.out.push({ kind, mac, ip, value, tsMicros });
  }
}

/**
 * Observations carried by one packet (empty, frozen array when none). `frame` defaults to info.data.
 */
export function extractObservations(
  info: PacketInfo,
  frame: Uint8Array = info.data,
  cache: PayloadCache | null = null,
): readonly Observation[] {
  if (info.payloadLength <= 0 || info.payloadOffset < 0) return NONE;
  const c = new Collector();
  emitObservations(info, frame, c, cache);
  return c.out.length ? c.out : NONE;
}

/**
 * Aggregates identical observations (same kind, mac, ip and value) into one with a count and the first and
 * last times, so a batch carries one item per distinct observation instead of one per packet. take() returns
 * them in stream order of each one's latest sighting (the last one at its latest time), so a consumer that
 * lets the latest time win, ties going to the later item, decides as it would on the unaggregated stream.
 */
export class ObservationAggregator implements ObservationSink {
  /** value → the entries with that value (few: one per kind, mac and ip that saw it); value strings mostly
   * come from caches, so their hashes are computed once. */
  private byValue = new Map<string, AggEntry[]>();
  private list = objectArray<AggEntry>();
  private seq = 0;
  /** Sightings since the last take(). */
  sightings = 0;
  /**
   * Per memoised decode (a payload cache result, shared by every packet with the same payload): the entries
   * its observations from one sender touched, in order, since the last take(). A packet repeating them is
   * replayed on those entries instead of looking each one up again (IoT devices repeat their mDNS, SSDP and
   * DHCP messages: on the bench capture most sightings are such repeats). Weak: a decode the payload cache
   * dropped goes with its recording.
   */
  private recordings = new WeakMap<object, Recording>();
  /** The entries observe() touched since startRecording(), or null when not recording. */
  private recording: AggEntry[] | null = null;

  constructor() {
    // Set the fields take() replaces a second time: V8 takes a field set only once as constant, and the
    // first take() (mid-way through the first capture) would then discard the optimised packet loop.
    this.clear();
  }

  /** Distinct observations pending. */
  get size(): number {
    return this.list.length;
  }

  observe(
    kind: ObservationKind,
    mac: string | null,
    ip: string | null,
    value: string,
    tsMicros: number,
  ): void {
    let same = this.byValue.get(value);
    if (same === undefined) this.byValue.set(value, (same = []));
    for (let i = 0; i < same.length; i++) {
      const e = same[i] as AggEntry;
      const o = e.o;
      if (o.kind !== kind || o.mac !== mac || o.ip !== ip) continue;
      this.seen(e, tsMicros);
      this.recording?.push(e);
      return;
    }
    this.sightings++;
    const n: AggEntry = {
      o: { kind, mac, ip, value, tsMicros, count: 1, firstMicros: tsMicros },
      seq: this.seq++,
    };
    same.push(n);
    this.list.push(n);
    this.recording?.push(n);
  }

  /** One more sighting of an entry at `tsMicros`. */
  private seen(e: AggEntry, tsMicros: number): void {
    this.sightings++;
    const o = e.o;
    o.count = (o.count ?? 1) + 1;
    if (tsMicros >= o.tsMicros) {
      o.tsMicros = tsMicros;
      e.seq = this.seq++;
    }
    if (tsMicros < (o.firstMicros ?? o.tsMicros)) o.firstMicros = tsMicros;
  }

  /**
   * Observes again, at `tsMicros`, what was recorded for `key` from (mac, ip): exactly what observe() would
   * do for each of them in turn (each is found, being in this batch). Returns how many, or -1 when there is
   * no such recording.
   */
  replay(key: object, mac: string | null, ip: string | null, tsMicros: number): number {
    const r = this.recordings.get(key);
    if (r === undefined || r.mac !== mac || r.ip !== ip) return -1;
    const es = r.entries;
    for (let i = 0; i < es.length; i++) this.seen(es[i] as AggEntry, tsMicros);
    return es.length;
  }

  /** Records the entries the next observe() calls touch (see keepRecording). */
  startRecording(): void {
    this.recording = [];
  }

  /** Keeps what was recorded since startRecording() as the observations of `key` from (mac, ip). */
  keepRecording(key: object, mac: string | null, ip: string | null): void {
    const entries = this.recording;
    if (entries === null) return;
    this.recording = null;
    this.recordings.set(key, { mac, ip, entries });
  }

  /** Drops a recording left unfinished (a decode failed halfway). */
  stopRecording(): void {
    this.recording = null;
  }

  /** The aggregated observations (see the class comment for the order); empties the aggregator. */
  take(): Observation[] {
    const list = this.list;
    this.clear();
    list.sort((a, b) => a.seq - b.seq);
    return list.map((e) => e.o);
  }

  /** Empties the aggregator (seq goes on: it orders entries, not batches). */
  private clear(): void {
    this.list = objectArray();
    this.byValue = new Map();
    this.recordings = new WeakMap();
    this.recording = null;
    this.sightings = 0;
  }
}

interface AggEntry {
  o: Observation;
  seq: number;
}

/** The entries one sender's observations of a memoised decode touched (ObservationAggregator.replay). */
interface Recording {
  mac: string | null;
  ip: string | null;
  entries: AggEntry[];
}
