/**
 * Bidirectional flow table fed with decoded packets (PacketInfo). Pure: no I/O, no clock (time comes from
 * packet timestamps, so pcap ingest is deterministic), no logging. Finished flows are handed to `onFlow`.
 *
 * Key: endpoint addresses as 32-bit words, ports and protocol in an open-addressing index (FlowIndex): no
 * allocation per packet for either address family. Consecutive packets mostly belong to the same flow (a
 * transfer is a run of segments), so the flow of the previous packet is tried before the index.
 * Originator: the sender of the first packet, except a first SYN-ACK (the sender is the responder) and,
 * for mid-stream TCP and for UDP, a first packet *from* a likely server port to a port that is not (Zeek's
 * heuristic; never towards a broadcast/multicast address).
 * Expiry: per-protocol idle timeouts, an optional active timeout, FIN from both sides or RST (after a short
 * close delay that absorbs trailing ACKs), and an LRU cap on live flows.
 * App layer: the first payload packets of each direction give protocol hints (DNS names, SNI, HTTP Host);
 * an HTTP response carrying a device description (XML: UPnP, HNAP) is reassembled, bounded, and reported
 * to the `observations` sink.
 */
import { DecodeError } from '../wire/errors.js';
import { ipv4Text, ipv6ToString, macOrNull } from '../wire/addr.js';
import { decodeDhcp } from '../wire/dhcp/decode.js';
import { dechunk, HttpResponseHead, scanHttpResponseHead } from '../wire/http/body.js';
import { decodeHttp, httpStartLineOk } from '../wire/http/decode.js';
import { decodeMqttConnect } from '../wire/mqtt/decode.js';
import { ntpDecodes } from '../wire/ntp/decode.js';
import { decodeSsdp } from '../wire/ssdp/decode.js';
import { decodeTlsClientHello, tlsFirstHandshakeType, tlsHandshakeBytesNeeded } from '../wire/tls/decode.js';
import { decodeDeviceDescription, looksLikeXmlDocument } from '../wire/upnp/decode.js';
import type { DnsAnswerSummary } from '../wire/dns/decode.js';
import type { PacketInfo } from '../wire/packet/types.js';
import { TcpFlag } from '../wire/packet/types.js';
import { appProtoByPort, appProtoByTcpPayload, isLikelyServerPort } from './app-proto.js';
import { communityId, communityIdV4, icmpPortEquivalents } from './community-id.js';
import { compareIp6, FlowIndex, Key6, KT_IPV6, sameWords, word32 } from './flow-index.js';
import { FlowRecordObject, NO_NAMES } from './flow-record.js';
import { emitDeviceDescription, type ObservationSink } from './observations.js';
import { decodeDnsMode, DNS_MDNS, DNS_PLAIN, type PayloadCache } from './payload-cache.js';
import type { CloseReason, ConnState, FlowRecord } from './types.js';

export interface FlowTableOptions {
  /** Called for every finished flow. */
  onFlow: (record: FlowRecord) => void;
  /** Idle timeouts (µs). Defaults are Zeek's: TCP 5 min, UDP 1 min, ICMP and others 1 min. */
  tcpIdleMicros?: number;
  udpIdleMicros?: number;
  otherIdleMicros?: number;
  /** Export long flows every this many µs (closeReason 'active'), then keep counting afresh; 0 disables. Default 30 min. */
  activeTimeoutMicros?: number;
  /** After FIN from both sides or a RST, keep the flow this long to absorb trailing packets. Default 5 s (Zeek's tcp_close_delay). */
  closeDelayMicros?: number;
  /** Live flow cap; the least recently active flow is evicted (closeReason 'evicted'). Default 100 000. */
  maxFlows?: number;
  /** DNS names kept per flow. Default 16. */
  maxDnsNames?: number;
  /** Payload-carrying packets per direction inspected for protocol hints. Default 4. */
  inspectPackets?: number;
  /** Community ID seed. Default 0. */
  communityIdSeed?: number;
  /**
   * Shares payload decodes with extractObservations for the same packet (the owner clears it before each
   * packet). Without it every payload is decoded here on its own.
   */
  payloadCache?: PayloadCache;
  /**
   * Receives the observations the table makes across packets: device descriptions (UPnP, HNAP) in HTTP
   * response bodies, tagged with the device that served them. Without it bodies are not reassembled.
   */
  observations?: ObservationSink;
}

export interface FlowTableStats {
  packets: number;
  /** Packets without IP or without usable ports (non-first fragments), not attributed to a flow. */
  ignored: number;
  flowsCreated: number;
  flowsExported: number;
  evicted: number;
  /** Payloads that failed to decode (counted, never thrown). */
  decodeErrors: number;
  /** Device-description bodies not reassembled because BODY_BUDGET bytes were already buffered. */
  bodiesSkipped: number;
}

/** What went wrong in a table, as a source's error counts (kinds with none left out). */
export function tableErrorCounts(s: FlowTableStats): Record<string, number> {
  const out: Record<string, number> = {};
  if (s.evicted > 0) out.flow_evicted = s.evicted;
  if (s.decodeErrors > 0) out.payload_decode = s.decodeErrors;
  if (s.bodiesSkipped > 0) out.http_body_skipped = s.bodiesSkipped;
  return out;
}

// TCP endpoint states (Zeek's TCP_ENDPOINT_*).
const INACTIVE = 0;
const SYN_SENT = 1;
const SYN_ACK_SENT = 2;
const PARTIAL = 3;
const ESTABLISHED = 4;
const CLOSED = 5;
const RESET = 6;

// LRU list ids (a flow is in exactly one).
const L_TCP = 0;
const L_UDP = 1;
const L_OTHER = 2;
const L_CLOSING = 3;

const TLS_REASSEMBLY_CAP = 16 * 1024;
/** Most bytes of one response body reassembled for a device description. */
export const BODY_CAP = 16 * 1024;
/** Most bytes buffered for bodies across all flows (a flood of XML responses cannot grow memory). */
export const BODY_BUDGET = 2 * 1024 * 1024;

/** An HTTP response body being reassembled (device descriptions only). */
class Body {
  constructor(
    /** Direction of the response (true: sent by the originator). */
    readonly fromOrig: boolean,
    /** Content-Length capped at BODY_CAP, -1 when unknown (chunked, or until the connection closes). */
    readonly need: number,
    readonly chunked: boolean,
    /** Content-Type said nothing of XML: decided on the first body bytes. */
    public undecided: boolean,
    public buf: Uint8Array,
    /** Next expected TCP sequence number. */
    public nextSeq: number,
  ) {}
  len = 0;
}

/**
 * One live flow. Addresses and ports are not stored twice: the originator's and responder's come from the
 * key (endpoint A or B, by origIsA) through the getters below. Flows are the bulk of what the garbage
 * collector copies, so fewer fields make ingest faster.
 */
class Flow {
  // Key (see FlowIndex): endpoint A and B address words (words 1-3 of IPv6 ones in k6), ports
  // (A << 16 | B; ICMP type/code equivalents, or the protocol number for protocols without ports),
  // protocol class.
  ka = 0;
  kb = 0;
  kp = 0;
  kt = 0;
  k6: Key6 | null = null;
  /** The originator is endpoint A of the key. */
  origIsA = true;
  // Endpoints (originator / responder).
  proto = 0;
  /** MAC text (null without one): kept as text, a 48-bit number would be a boxed double in every flow. */
  origMac: string | null = null;
  respMac: string | null = null;
  vlan = -1;
  // Counters.
  tsStart = 0;
  tsLast = 0;
  pktsO = 0;
  pktsR = 0;
  bytesO = 0;
  bytesR = 0;
  payO = 0;
  payR = 0;
  flagsO = 0;
  flagsR = 0;
  /** True after an active-timeout export, until the next packet. */
  fresh = false;
  // TCP.
  stateO = INACTIVE;
  stateR = INACTIVE;
  rstFromSynSentO = false;
  seqInitO = false;
  seqInitR = false;
  /** Initial sequence numbers as int32 (see tcp()). */
  seqBaseO = 0;
  seqBaseR = 0;
  seqMaxO = 0;
  seqMaxR = 0;
  /** Sequence-space payload already reported by an active-timeout export. */
  payBaseO = 0;
  payBaseR = 0;
  pendingClose: CloseReason | null = null;
  // App layer.
  appProto: string | null = null;
  appFromPayload = false;
  inspectO = 0;
  inspectR = 0;
  sni: string | null = null;
  httpHost: string | null = null;
  dnsNames: string[] | null = null;
  tlsBuf: Uint8Array | null = null;
  tlsBufLen = 0;
  body: Body | null = null;
  // Intrusive lists.
  list = L_OTHER;
  prev: Flow | null = null;
  next: Flow | null = null;
  sPrev: Flow | null = null;
  sNext: Flow | null = null;

  get ipVersion(): 4 | 6 {
    return this.k6 === null ? 4 : 6;
  }
  get origPort(): number {
    return this.origIsA ? this.kp >>> 16 : this.kp & 0xffff;
  }
  get respPort(): number {
    return this.origIsA ? this.kp & 0xffff : this.kp >>> 16;
  }
  /** IPv4 addresses (unsigned). */
  get origIp4(): number {
    return (this.origIsA ? this.ka : this.kb) >>> 0;
  }
  get respIp4(): number {
    return (this.origIsA ? this.kb : this.ka) >>> 0;
  }
  /** Both endpoints have the same address: directions are told apart by port. */
  get sameAddr(): boolean {
    const w = this.k6;
    return this.ka === this.kb && (w === null || (w.a1 === w.b1 && w.a2 === w.b2 && w.a3 === w.b3));
  }
  /** The 16 bytes of an IPv6 flow's originator (orig) or responder address. */
  ip6Bytes(orig: boolean): Uint8Array {
    const w = this.k6;
    const out = new Uint8Array(16);
    if (w === null) return out;
    const a = orig === this.origIsA;
    putWord(out, 0, a ? this.ka : this.kb);
    putWord(out, 4, a ? w.a1 : w.b1);
    putWord(out, 8, a ? w.a2 : w.b2);
    putWord(out, 12, a ? w.a3 : w.b3);
    return out;
  }
}

function putWord(b: Uint8Array, o: number, w: number): void {
  b[o] = w >>> 24;
  b[o + 1] = (w >>> 16) & 0xff;
  b[o + 2] = (w >>> 8) & 0xff;
  b[o + 3] = w & 0xff;
}

class FlowList {
  head: Flow | null = null;
  tail: Flow | null = null;
  push(f: Flow): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail) this.tail.next = f;
    else this.head = f;
    this.tail = f;
  }
  remove(f: Flow): void {
    if (f.prev) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = f.next = null;
  }
}

class StartList {
  head: Flow | null = null;
  tail: Flow | null = null;
  push(f: Flow): void {
    f.sPrev = this.tail;
    f.sNext = null;
    if (this.tail) this.tail.sNext = f;
    else this.head = f;
    this.tail = f;
  }
  remove(f: Flow): void {
    if (f.sPrev) f.sPrev.sNext = f.sNext;
    else this.head = f.sNext;
    if (f.sNext) f.sNext.sPrev = f.sPrev;
    else this.tail = f.sPrev;
    f.sPrev = f.sNext = null;
  }
}

function protoIndex(proto: number): number {
  switch (proto) {
    case 6:
      return 1;
    case 17:
      return 2;
    case 1:
      return 3;
    case 58:
      return 4;
    case 132:
      return 5;
    default:
      return 6;
  }
}

function isBroadcastOrMulticast4(ip: number): boolean {
  return ip === 0xffffffff || ip >>> 28 === 0xe || (ip & 0xff) === 0xff;
}

export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0,
    ignored: 0,
    flowsCreated: 0,
    flowsExported: 0,
    evicted: 0,
    decodeErrors: 0,
    bodiesSkipped: 0,
  };
  private readonly onFlow: (r: FlowRecord) => void;
  private readonly timeouts: [number, number, number, number];
  private readonly activeTimeout: number;
  private readonly maxFlows: number;
  private readonly maxDnsNames: number;
  private readonly inspectPackets: number;
  private readonly seed: number;
  private readonly cache: PayloadCache | null;
  private readonly observer: ObservationSink | null;
  private readonly head = new HttpResponseHead();
  /** Bytes held by Body buffers. */
  private bodyBytes = 0;
  /** Time of the packet being added. */
  private now = 0;
  private readonly index = new FlowIndex<Flow>();
  /** The flow of the previous packet (null once finished). */
  private last: Flow | null = null;
  private readonly lists = [new FlowList(), new FlowList(), new FlowList(), new FlowList()];
  private readonly byStart = new StartList();
  private live = 0;
  private lastAdvance = -Infinity;

  constructor(opts: FlowTableOptions) {
    this.onFlow = opts.onFlow;
    this.timeouts = [
      opts.tcpIdleMicros ?? 300_000_000,
      opts.udpIdleMicros ?? 60_000_000,
      opts.otherIdleMicros ?? 60_000_000,
      opts.closeDelayMicros ?? 5_000_000,
    ];
    this.activeTimeout = opts.activeTimeoutMicros ?? 1_800_000_000;
    this.maxFlows = Math.max(1, opts.maxFlows ?? 100_000);
    this.maxDnsNames = opts.maxDnsNames ?? 16;
    this.inspectPackets = opts.inspectPackets ?? 4;
    this.seed = opts.communityIdSeed ?? 0;
    this.cache = opts.payloadCache ?? null;
    this.observer = opts.observations ?? null;
  }

  /** Number of live flows. */
  get size(): number {
    return this.live;
  }

  /** Adds one decoded packet. `frame` defaults to info.data (needed for app-layer hints and IPv6 addresses). */
  add(info: PacketInfo, frame: Uint8Array = info.data): void {
    this.stats.packets++;
    const now = info.tsMicros;
    this.now = now;
    if (now - this.lastAdvance >= 1_000_000) this.advance(now);
    if (info.ipVersion !== 4 && info.ipVersion !== 6) {
      this.stats.ignored++;
      return;
    }
    const proto = info.ipProto;
    let sPort: number;
    let dPort: number;
    if (proto === 1 || proto === 58) {
      if (info.icmpType < 0) {
        this.stats.ignored++;
        return;
      }
      const eq = icmpPortEquivalents(info.icmpType, info.icmpCode, proto === 58);
      sPort = (eq >> 8) & 0xff;
      dPort = eq & 0xff;
    } else if (proto === 6 || proto === 17 || proto === 132) {
      if (info.srcPort < 0 || info.dstPort < 0) {
        this.stats.ignored++; // non-first fragment or cut header: no ports to key on
        return;
      }
      sPort = info.srcPort;
      dPort = info.dstPort;
    } else {
      sPort = proto;
      dPort = proto;
    }

    // Normalised key lookup; `srcIsA` says whether the sender is endpoint A (the smaller one).
    let srcIsA: boolean;
    let ka = 0;
    let ka1 = 0;
    let ka2 = 0;
    let ka3 = 0;
    let kb = 0;
    let kb1 = 0;
    let kb2 = 0;
    let kb3 = 0;
    let kt = protoIndex(proto);
    if (info.ipVersion === 4) {
      const s = info.srcIp4 >>> 0;
      const d = info.dstIp4 >>> 0;
      srcIsA = s < d || (s === d && sPort <= dPort);
      ka = (srcIsA ? s : d) | 0;
      kb = (srcIsA ? d : s) | 0;
    } else {
      const so = info.srcIp6Offset;
      const do6 = info.dstIp6Offset;
      const c = compareIp6(frame, so, do6);
      srcIsA = c < 0 || (c === 0 && sPort <= dPort);
      const a = srcIsA ? so : do6;
      const b = srcIsA ? do6 : so;
      ka = word32(frame, a);
      ka1 = word32(frame, a + 4);
      ka2 = word32(frame, a + 8);
      ka3 = word32(frame, a + 12);
      kb = word32(frame, b);
      kb1 = word32(frame, b + 4);
      kb2 = word32(frame, b + 8);
      kb3 = word32(frame, b + 12);
      kt |= KT_IPV6;
    }
    const kp = srcIsA ? (sPort << 16) | dPort : (dPort << 16) | sPort;
    let f: Flow | null = this.last;
    if (
      f === null ||
      f.ka !== ka ||
      f.kb !== kb ||
      f.kp !== kp ||
      f.kt !== kt ||
      !sameWords(f.k6, ka1, ka2, ka3, kb1, kb2, kb3)
    )
      f = this.index.get(ka, ka1, ka2, ka3, kb, kb1, kb2, kb3, kp, kt);

    if (f !== null) {
      const fromOrig = f.sameAddr ? sPort === f.origPort : srcIsA === f.origIsA;
      // Lazily expire a flow whose time is up even if advance() has not run yet.
      if (now - f.tsLast > (this.timeouts[f.list] ?? 0)) {
        this.finish(f, f.pendingClose ?? 'idle');
      } else if (
        proto === 6 &&
        (info.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN &&
        (f.list === L_CLOSING || (fromOrig ? f.stateO : f.stateR) >= CLOSED)
      ) {
        // A new SYN on a finished connection (port reuse): close the old one, start afresh.
        this.finish(f, f.pendingClose ?? 'fin');
      } else {
        this.last = f;
        this.update(f, info, frame, fromOrig);
        return;
      }
    }

    // New flow.
    if (this.live >= this.maxFlows) this.evictOne();
    const nf = new Flow();
    nf.ka = ka;
    nf.kb = kb;
    nf.kp = kp;
    nf.kt = kt;
    if (info.ipVersion === 6) nf.k6 = new Key6(ka1, ka2, ka3, kb1, kb2, kb3);
    nf.proto = proto;
    nf.vlan = info.vlan;
    let flip = false;
    if (proto === 6) {
      const syn = (info.tcpFlags & TcpFlag.SYN) !== 0;
      const ack = (info.tcpFlags & TcpFlag.ACK) !== 0;
      if (syn && ack) flip = true;
      else if (!syn && isLikelyServerPort(6, sPort)) {
        flip = isLikelyServerPort(6, dPort) ? sPort < dPort : true;
      }
    } else if (proto === 17) {
      flip =
        isLikelyServerPort(17, sPort) &&
        !isLikelyServerPort(17, dPort) &&
        !(info.ipVersion === 4
          ? isBroadcastOrMulticast4(info.dstIp4 >>> 0)
          : frame[info.dstIp6Offset] === 0xff);
    }
    nf.origIsA = flip ? !srcIsA : srcIsA;
    this.index.set(nf);
    this.last = nf;
    nf.origMac = macOrNull(flip ? info.dstMac : info.srcMac);
    nf.respMac = macOrNull(flip ? info.srcMac : info.dstMac);
    nf.tsStart = now;
    nf.tsLast = now;
    nf.appProto = proto === 6 || proto === 17 ? appProtoByPort(proto, nf.respPort, nf.origPort) : null;
    nf.list = proto === 6 ? L_TCP : proto === 17 ? L_UDP : L_OTHER;
    this.lists[nf.list]?.push(nf);
    this.byStart.push(nf);
    this.live++;
    this.stats.flowsCreated++;
    this.update(nf, info, frame, !flip);
  }

  /** Expires flows whose idle, close-delay or active timeout has passed at `nowMicros` (packet time). */
  advance(nowMicros: number): void {
    this.lastAdvance = nowMicros;
    for (let l = 0; l < this.lists.length; l++) {
      const list = this.lists[l];
      const t = this.timeouts[l] ?? 0;
      if (!list) continue;
      while (list.head && nowMicros - list.head.tsLast > t) {
        const f = list.head;
        this.finish(f, f.pendingClose ?? 'idle');
      }
    }
    if (this.activeTimeout > 0) {
      while (this.byStart.head && nowMicros - this.byStart.head.tsStart >= this.activeTimeout) {
        const f = this.byStart.head;
        if (!f.fresh) this.emit(f, 'active');
        f.fresh = true;
        f.tsStart = nowMicros;
        this.byStart.remove(f);
        this.byStart.push(f);
      }
    }
  }

  /** Exports every live flow (closeReason 'end', or the pending fin/rst) and empties the table. */
  flushAll(): void {
    for (const list of this.lists) {
      while (list.head) {
        const f = list.head;
        this.finish(f, f.pendingClose ?? 'end');
      }
    }
  }

  private update(f: Flow, info: PacketInfo, frame: Uint8Array, fromOrig: boolean): void {
    const now = info.tsMicros;
    if (f.fresh) {
      f.fresh = false;
      f.tsStart = now;
    }
    if (now > f.tsLast) f.tsLast = now;
    // LRU: move to the tail of its list.
    const list = this.lists[f.list];
    if (list && list.tail !== f) {
      list.remove(f);
      list.push(f);
    }
    const ipLen =
      info.ipLen > 0 ? info.ipLen : Math.max(0, info.wireLen - Math.max(0, info.l3Offset - info.frameStart));
    // Payload on the wire (not only captured): IP length minus all headers up to the payload.
    const wirePayload =
      info.payloadOffset >= 0 && info.ipLen > 0
        ? Math.max(0, info.ipLen - (info.payloadOffset - info.l3Offset))
        : Math.max(0, info.payloadLength);
    const flags = info.tcpFlags;
    if (fromOrig) {
      f.pktsO++;
      f.bytesO += ipLen;
      f.flagsO |= flags;
    } else {
      f.pktsR++;
      f.bytesR += ipLen;
      f.flagsR |= flags;
    }
    if (f.proto === 6) this.tcp(f, info, fromOrig, wirePayload);
    else if (fromOrig) f.payO += wirePayload;
    else f.payR += wirePayload;

    if (info.payloadLength > 0 && info.payloadOffset >= 0) this.inspect(f, info, frame, fromOrig);
  }

  private tcp(f: Flow, info: PacketInfo, fromOrig: boolean, payloadLen: number): void {
    const fl = info.tcpFlags;
    const syn = (fl & TcpFlag.SYN) !== 0;
    const ack = (fl & TcpFlag.ACK) !== 0;
    const fin = (fl & TcpFlag.FIN) !== 0;
    const rst = (fl & TcpFlag.RST) !== 0;
    // Sequence-space payload size per direction (like Zeek's orig_bytes/resp_bytes).
    const seq = info.tcpSeq >>> 0;
    if (fromOrig ? !f.seqInitO : !f.seqInitR) {
      // Kept as int32: `rel` below is taken mod 2^32 either way, and an int32 is a small integer where a
      // uint32 of 2^31 or more would be a boxed double in every flow.
      const base = syn ? (seq + 1) | 0 : seq | 0;
      if (fromOrig) {
        f.seqInitO = true;
        f.seqBaseO = base;
      } else {
        f.seqInitR = true;
        f.seqBaseR = base;
      }
    }
    if (payloadLen > 0 && !rst) {
      const rel = ((syn ? seq + 1 : seq) - (fromOrig ? f.seqBaseO : f.seqBaseR)) >>> 0;
      if (rel < 0x80000000) {
        const end = rel + payloadLen;
        if (fromOrig) f.seqMaxO = Math.max(f.seqMaxO, end);
        else f.seqMaxR = Math.max(f.seqMaxR, end);
      }
    }
    f.payO = f.seqMaxO - f.payBaseO;
    f.payR = f.seqMaxR - f.payBaseR;

    // Endpoint state machine (a simplified Zeek TCP_Endpoint).
    let me = fromOrig ? f.stateO : f.stateR;
    let peer = fromOrig ? f.stateR : f.stateO;
    if (rst) {
      if (fromOrig && me === SYN_SENT && peer === INACTIVE) f.rstFromSynSentO = true;
      me = RESET;
    } else if (syn) {
      if (ack) {
        if (me === INACTIVE || me === SYN_SENT || me === SYN_ACK_SENT) {
          me = fromOrig ? SYN_ACK_SENT : ESTABLISHED;
          if (!fromOrig && peer === SYN_SENT) peer = ESTABLISHED;
        }
      } else if (me === INACTIVE) me = SYN_SENT;
    } else if (fin) {
      if (me !== RESET) me = CLOSED;
    } else if (me === INACTIVE) {
      me = PARTIAL;
    } else if ((me === SYN_SENT || me === SYN_ACK_SENT) && (ack || payloadLen > 0)) {
      if (peer === ESTABLISHED || peer === SYN_ACK_SENT) me = ESTABLISHED;
    }
    if (fromOrig) {
      f.stateO = me;
      f.stateR = peer;
    } else {
      f.stateR = me;
      f.stateO = peer;
    }
    if (f.pendingClose === null) {
      if (rst) f.pendingClose = 'rst';
      else if (f.stateO === CLOSED && f.stateR === CLOSED) f.pendingClose = 'fin';
      if (f.pendingClose !== null) {
        this.lists[f.list]?.remove(f);
        f.list = L_CLOSING;
        this.lists[L_CLOSING]?.push(f);
      }
    }
  }

  private inspect(f: Flow, info: PacketInfo, frame: Uint8Array, fromOrig: boolean): void {
    const off = info.payloadOffset;
    const len = Math.min(info.payloadLength, frame.length - off);
    if (len <= 0) return;
    const isDns = f.appProto === 'dns' || f.appProto === 'mdns';
    const budgetLeft = fromOrig ? f.inspectO < this.inspectPackets : f.inspectR < this.inspectPackets;
    if (
      !budgetLeft &&
      !(isDns && (f.dnsNames?.length ?? 0) < this.maxDnsNames) &&
      !f.tlsBuf &&
      !(f.body && f.body.fromOrig === fromOrig)
    )
      return;
    if (fromOrig) f.inspectO++;
    else f.inspectR++;
    try {
      const ok =
        f.proto === 6
          ? this.inspectTcp(f, frame, off, len, fromOrig, info.tcpSeq | 0)
          : f.proto === 17
            ? this.inspectUdp(f, frame, off, len)
            : true;
      if (!ok) this.stats.decodeErrors++;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.decodeErrors++;
    }
  }

  /**
   * False (or a DecodeError) when the payload failed to decode. `seq` is the sequence number as an int32
   * (its uses are modulo 2^32): a uint32 of 2^31 or more passed to a call that is not inlined is boxed, one
   * heap number per inspected segment.
   */
  private inspectTcp(
    f: Flow,
    b: Uint8Array,
    off: number,
    len: number,
    fromOrig: boolean,
    seq: number,
  ): boolean {
    if (f.body && f.body.fromOrig === fromOrig) {
      this.bodySegment(f, f.body, b, off, len, seq);
      return true;
    }
    if (f.tlsBuf && fromOrig) {
      // Continue reassembling a ClientHello split across segments (bounded).
      const need = Math.min(TLS_REASSEMBLY_CAP, tlsHandshakeBytesNeeded(f.tlsBuf, 0, f.tlsBufLen));
      const take = Math.min(len, need - f.tlsBufLen, f.tlsBuf.length - f.tlsBufLen);
      if (take > 0) f.tlsBuf.set(b.subarray(off, off + take), f.tlsBufLen);
      f.tlsBufLen += Math.max(0, take);
      return this.tryClientHello(f, f.tlsBuf, 0, f.tlsBufLen, true);
    }
    if (!f.appFromPayload) {
      const guess = appProtoByTcpPayload(b, off, len, fromOrig);
      if (guess) {
        f.appProto = guess;
        f.appFromPayload = true;
      }
    }
    if (f.appProto === 'http' && b[off] === 0x48 && this.observer)
      this.responseHead(f, b, off, len, fromOrig, seq);
    if (!fromOrig) return true;
    if (f.appProto === 'tls' && f.sni === null && b[off] === 0x16) {
      return this.tryClientHello(f, b, off, len, false);
    } else if (f.appProto === 'http' && f.httpHost === null) {
      // Most segments of an HTTP flow are not a message head: skip those without decoding.
      if (!httpStartLineOk(b, off, len)) return false;
      const m = this.cache ? this.cache.http(b, off, len) : decodeHttp(b, off, len);
      if (m.kind === 'request') f.httpHost = m.host;
    } else if (f.appProto === 'mqtt' && f.appFromPayload) {
      decodeMqttConnect(b, off, len); // validates the guess; client ids go to observations
    }
    return true;
  }

  /** False (or a DecodeError) when the bytes cannot be a ClientHello. */
  private tryClientHello(f: Flow, b: Uint8Array, off: number, len: number, buffered: boolean): boolean {
    const type = tlsFirstHandshakeType(b, off, len);
    if (type >= 0 && type !== 1) {
      // Another handshake message (e.g. ClientKeyExchange after a ClientHello without SNI): the decode
      // would fail as malformed.
      f.tlsBuf = null;
      return false;
    }
    try {
      const hello =
        this.cache && !buffered ? this.cache.tlsClientHello(b, off, len) : decodeTlsClientHello(b, off, len);
      f.sni = hello.sni;
      f.tlsBuf = null;
      return true;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const need = tlsHandshakeBytesNeeded(b, off, len);
      if (
        e.kind === 'truncated' &&
        need > len &&
        need <= TLS_REASSEMBLY_CAP &&
        (buffered ? len < need : true)
      ) {
        if (!buffered) {
          f.tlsBuf = new Uint8Array(need);
          f.tlsBuf.set(b.subarray(off, off + len));
          f.tlsBufLen = len;
        }
        return true;
      }
      f.tlsBuf = null;
      throw e;
    }
  }

  /**
   * An HTTP response head (either direction, so a mid-stream capture with swapped roles works too): a 2xx
   * response whose Content-Type names XML, or whose body starts like an XML document, has its body read
   * for a device description; any other body is never buffered.
   */
  private responseHead(
    f: Flow,
    b: Uint8Array,
    off: number,
    len: number,
    fromOrig: boolean,
    seq: number,
  ): void {
    const h = this.head;
    if (!scanHttpResponseHead(b, off, len, h)) return;
    if (h.status < 200 || h.status > 299 || h.encoded || h.contentLength === 0) return;
    const bodyOff = off + h.headLength;
    const bodyLen = len - h.headLength;
    let undecided = false;
    if (!h.xml) {
      if (bodyLen <= 0) undecided = true;
      else if (!looksLikeXmlDocument(b, bodyOff, bodyLen)) return;
    }
    if (!h.chunked && h.contentLength > 0 && bodyLen >= h.contentLength) {
      // The whole body is in this segment: no copy.
      this.description(f, fromOrig, b, bodyOff, h.contentLength, this.now);
      return;
    }
    const need = h.chunked ? -1 : h.contentLength > 0 ? Math.min(h.contentLength, BODY_CAP) : -1;
    const cap = need > 0 ? need : BODY_CAP;
    if (this.bodyBytes + cap > BODY_BUDGET) {
      this.stats.bodiesSkipped++;
      return;
    }
    this.bodyBytes += cap;
    const body = new Body(
      fromOrig,
      need,
      h.chunked,
      undecided,
      new Uint8Array(cap),
      (seq + h.headLength) >>> 0,
    );
    f.body = body;
    if (bodyLen > 0) this.bodySegment(f, body, b, bodyOff, bodyLen, body.nextSeq);
  }

  /** The next segment of a body: in-order bytes are appended; a gap ends the body with what it has. */
  private bodySegment(f: Flow, s: Body, b: Uint8Array, off: number, len: number, seq: number): void {
    let o = off;
    let n = len;
    const d = (seq - s.nextSeq) | 0;
    if (d > 0) {
      this.endBody(f, this.now); // bytes are missing
      return;
    }
    if (d < 0) {
      // Retransmitted or overlapping: keep only what is new.
      if (-d >= n) return;
      o -= d;
      n += d;
    }
    if (s.undecided) {
      if (!looksLikeXmlDocument(b, o, n)) {
        this.dropBody(f);
        return;
      }
      s.undecided = false;
    }
    const take = Math.min(n, s.buf.length - s.len);
    s.buf.set(b.subarray(o, o + take), s.len);
    s.len += take;
    s.nextSeq = (s.nextSeq + n) >>> 0;
    const full = s.len >= s.buf.length;
    if (full || (s.need > 0 && s.len >= s.need) || (s.chunked && dechunk(s.buf, 0, s.len, BODY_CAP).done))
      this.endBody(f, this.now);
  }

  /** Parses what a pending body holds and reports it (end of body, a gap, or the end of the flow). */
  private endBody(f: Flow, ts: number): void {
    const s = f.body;
    if (!s) return;
    this.dropBody(f);
    if (s.undecided || s.len === 0) return;
    if (s.chunked) {
      const body = dechunk(s.buf, 0, s.len, BODY_CAP).body;
      this.description(f, s.fromOrig, body, 0, body.length, ts);
    } else this.description(f, s.fromOrig, s.buf, 0, s.len, ts);
  }

  private dropBody(f: Flow): void {
    if (!f.body) return;
    this.bodyBytes -= f.body.buf.length;
    f.body = null;
  }

  /** Decodes a body as a device description and reports it for the side that sent it. */
  private description(f: Flow, fromOrig: boolean, b: Uint8Array, off: number, len: number, ts: number): void {
    const sink = this.observer;
    if (!sink) return;
    let d;
    try {
      d = decodeDeviceDescription(b, off, len);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.decodeErrors++;
      return;
    }
    if (!d) return;
    const mac = fromOrig ? f.origMac : f.respMac;
    let ip: string;
    if (f.ipVersion === 4) ip = ipv4Text(fromOrig ? f.origIp4 : f.respIp4);
    else ip = ipv6ToString(f.ip6Bytes(fromOrig), 0);
    emitDeviceDescription(sink, d, mac, ip, ts);
  }

  private inspectUdp(f: Flow, b: Uint8Array, off: number, len: number): boolean {
    const app = f.appProto;
    const cache = this.cache;
    if (app === 'dns' || app === 'mdns') {
      const mode = app === 'mdns' ? DNS_MDNS : DNS_PLAIN;
      const m = cache ? cache.dns(b, off, len, mode) : decodeDnsMode(b, off, len, mode);
      f.appFromPayload = true;
      const names = (f.dnsNames ??= []);
      const max = this.maxDnsNames;
      const qs = m.questions;
      for (let i = 0; i < qs.length; i++) addName(names, max, qs[i] as string);
      if (qs.length === 0) {
        const rs = m.answers;
        for (let i = 0; i < rs.length; i++) addName(names, max, (rs[i] as DnsAnswerSummary).name);
      }
    } else if (app === 'dhcp') {
      if (cache) cache.dhcp(b, off, len);
      else decodeDhcp(b, off, len);
      f.appFromPayload = true;
    } else if (app === 'ssdp') {
      if (cache) cache.ssdp(b, off, len);
      else decodeSsdp(b, off, len);
      f.appFromPayload = true;
    } else if (app === 'ntp') {
      if (!ntpDecodes(b, off, len)) return false;
      f.appFromPayload = true;
    }
    return true;
  }

  private evictOne(): void {
    let oldest: Flow | null = null;
    for (const l of this.lists) if (l.head && (!oldest || l.head.tsLast < oldest.tsLast)) oldest = l.head;
    if (!oldest) return;
    this.stats.evicted++;
    this.finish(oldest, oldest.pendingClose ?? 'evicted');
  }

  /** Removes the flow from every structure and exports it (unless empty after an active export). */
  private finish(f: Flow, reason: CloseReason): void {
    if (f.body) this.endBody(f, f.tsLast);
    this.lists[f.list]?.remove(f);
    this.byStart.remove(f);
    this.index.delete(f);
    if (this.last === f) this.last = null;
    this.live--;
    if (!f.fresh) this.emit(f, reason);
  }

  private emit(f: Flow, reason: CloseReason): void {
    const v4 = f.ipVersion === 4;
    const srcBytes = v4 ? null : f.ip6Bytes(true);
    const dstBytes = v4 ? null : f.ip6Bytes(false);
    const hasPorts = f.proto === 6 || f.proto === 17 || f.proto === 132 || f.proto === 1 || f.proto === 58;
    // Filled field by field in FlowRecord order: see FlowRecordObject for why not a literal.
    const rec = new FlowRecordObject();
    rec.tsStart = f.tsStart;
    rec.tsEnd = f.tsLast;
    rec.srcIp = srcBytes ? ipv6ToString(srcBytes, 0) : ipv4Text(f.origIp4);
    rec.dstIp = dstBytes ? ipv6ToString(dstBytes, 0) : ipv4Text(f.respIp4);
    rec.srcPort = hasPorts ? f.origPort : null;
    rec.dstPort = hasPorts ? f.respPort : null;
    rec.proto = f.proto;
    rec.appProto = f.appProto;
    rec.bytesOut = f.bytesO;
    rec.bytesIn = f.bytesR;
    rec.packetsOut = f.pktsO;
    rec.packetsIn = f.pktsR;
    rec.payloadBytesOut = f.payO;
    rec.payloadBytesIn = f.payR;
    rec.tcpFlagsOut = f.flagsO;
    rec.tcpFlagsIn = f.flagsR;
    rec.connState = connState(f);
    rec.communityId = communityIdFor(f, srcBytes, dstBytes, this.seed);
    rec.srcMac = f.origMac;
    rec.dstMac = f.respMac;
    rec.vlan = f.vlan >= 0 ? f.vlan : null;
    rec.sni = f.sni;
    rec.httpHost = f.httpHost;
    // A finished flow hands its list over; an active-timeout export copies it (the flow goes on).
    rec.dnsNames = f.dnsNames ? (reason === 'active' ? [...f.dnsNames] : f.dnsNames) : NO_NAMES;
    rec.closeReason = reason;
    this.stats.flowsExported++;
    this.onFlow(rec);
    // Counters restart after an active-timeout export.
    f.pktsO = f.pktsR = f.bytesO = f.bytesR = 0;
    f.flagsO = f.flagsR = 0;
    f.payO = f.payR = 0;
    f.payBaseO = f.seqMaxO;
    f.payBaseR = f.seqMaxR;
  }
}

function addName(names: string[], max: number, n: string): void {
  if (n && names.length < max && !names.includes(n)) names.push(n);
}

/** IPv6 flows pass their addresses; IPv4 flows (null) are hashed from the numbers without allocating. */
function communityIdFor(f: Flow, src: Uint8Array | null, dst: Uint8Array | null, seed: number): string {
  if (f.proto === 1 || f.proto === 58) {
    // Flow ports already hold the ICMP port equivalents; pass type/code so the mapping is idempotent.
    const oneWay = (icmpPortEquivalents(f.origPort, f.respPort, f.proto === 58) & 0x10000) !== 0;
    if (!src || !dst)
      return communityIdV4(f.origIp4, f.respIp4, f.proto, f.origPort, oneWay ? f.respPort : 0, seed);
    return communityId({
      srcIp: src,
      dstIp: dst,
      proto: f.proto,
      srcPort: f.origPort,
      dstPort: oneWay ? f.respPort : 0,
      seed,
    });
  }
  const ports = f.proto === 6 || f.proto === 17 || f.proto === 132;
  if (!src || !dst)
    return communityIdV4(
      f.origIp4,
      f.respIp4,
      f.proto,
      ports ? f.origPort : undefined,
      ports ? f.respPort : undefined,
      seed,
    );
  return communityId({
    srcIp: src,
    dstIp: dst,
    proto: f.proto,
    srcPort: ports ? f.origPort : undefined,
    dstPort: ports ? f.respPort : undefined,
    seed,
  });
}

/** Zeek's conn_state (base/protocols/conn/main.zeek), from the endpoint states. */
function connState(f: Flow): ConnState {
  if (f.proto === 17) {
    if (f.pktsO > 0) return f.pktsR > 0 ? 'SF' : 'S0';
    return f.pktsR > 0 ? 'SHR' : 'OTH';
  }
  if (f.proto !== 6) return 'OTH';
  const os = f.stateO;
  const rs = f.stateR;
  const oInactive = os === INACTIVE || os === PARTIAL;
  const rInactive = rs === INACTIVE || rs === PARTIAL;
  if (rs === RESET) {
    if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && f.payO === 0 && f.payR === 0))
      return 'REJ';
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === RESET) {
    if (rInactive) return f.rstFromSynSentO ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === CLOSED && os === CLOSED) return 'SF';
  if (os === CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === SYN_SENT && rs === INACTIVE) return 'S0';
  if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
  return 'OTH';
}
