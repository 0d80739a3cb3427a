/**
 * The demo network: ~25 simulated IoT devices behind a home/small-office router, generating real Ethernet
 * frames (DHCP, ARP, mDNS, SSDP, DNS, NTP, TLS, HTTP, MQTT, Modbus …) with a diurnal rhythm, plus incidents
 * (new device, LAN port scan, telnet brute force, Mirai-style telnet scanning, C&C beaconing, DDoS burst,
 * DNS tunnelling) recorded as ground truth.
 *
 * Pure generation: no I/O, no clock, no Math.random; the same seed and start time give the same bytes.
 * Work is incremental: every device activity is a task in a priority queue keyed by its next run time;
 * a task emits the frames of one short exchange (or one second of a flood) into a second priority queue
 * of frames, which `nextBatch(untilMs)` drains in time order. Memory stays bounded however long it runs.
 *
 * Addressing: LAN 10.42.0.0/24, gateway 10.42.0.1 (DHCP server, DNS resolver, NTP); every "internet"
 * host is in a documentation range (192.0.2.0/24, 198.51.100.0/24 for benign services; 203.0.113.0/24 for
 * attack infrastructure and flood targets). Local time for the diurnal profiles is UTC + utcOffsetMinutes.
 */
import { macToString } from '../wire/addr.js';
import type { DeviceProfile, DeviceType } from './devices.js';
import { DEVICE_CATALOGUE, NEW_DEVICE_POOL, fillTemplate, ouiValue } from './devices.js';
import type { FrameSink, TcpEndpoint, TlsStack } from './packets.js';
import {
  BROADCAST_MAC,
  ByteWriter,
  DhcpType,
  MDNS_GROUP,
  RR,
  SSDP_GROUP,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  TELNET_CLIENT_HELLO,
  TELNET_SERVER_HELLO,
  TLS_STACKS,
  TcpConversation,
  arpFrame,
  dhcpClientPayload,
  dhcpServerPayload,
  dnsPayload,
  dnsQuery,
  dnsResponse,
  httpDate,
  httpRequest,
  httpResponse,
  icmpFrame,
  ip4,
  ip4ToString,
  kasaMessage,
  lifxPacket,
  mdnsAnnouncement,
  mdnsQuery,
  modbusReadHoldingRequest,
  modbusReadHoldingResponse,
  mqttConnack,
  mqttConnect,
  mqttPingReq,
  mqttPingResp,
  mqttPublish,
  mqttSuback,
  mqttSubscribe,
  multicastMac,
  noise,
  ntpPayload,
  reverseName,
  s7CotpConnectRequest,
  sshBanner,
  ssdpMSearch,
  ssdpNotify,
  ssdpResponse,
  tcpFrame,
  text,
  tlsClientFinish,
  tlsClientHello,
  tlsServerFlight,
  udpFrame,
  upnpDescriptionXml,
} from './packets.js';
import { Rng, hash32 } from './rng.js';

/** One generated frame: capture time (µs since the Unix epoch) and the Ethernet frame bytes. */
export interface SimFrame {
  tsMicros: number;
  frame: Uint8Array;
}

export type IncidentKind =
  'new_device' | 'port_scan' | 'telnet_bruteforce' | 'mirai_scan' | 'c2_beacon' | 'ddos' | 'dns_tunnel';

export const INCIDENT_KINDS: readonly IncidentKind[] = [
  'new_device',
  'port_scan',
  'telnet_bruteforce',
  'mirai_scan',
  'c2_beacon',
  'ddos',
  'dns_tunnel',
];

/** Ground truth for one incident. */
export interface GroundTruth {
  kind: IncidentKind;
  /** The LAN device involved: the actor (scan, beacon, flood, tunnel), the victim (inbound brute force) or the newcomer. */
  deviceId: string;
  mac: string;
  ip: string;
  startMs: number;
  endMs: number;
  /** The remote side: C&C server, flood target, brute-force source, tunnel domain; null for a LAN-wide scan or a new device. */
  peer: string | null;
  /** Human-readable description (ports, rate, protocol). */
  detail: string;
}

/** A device of the demo network with its current addresses: labels for identification tests. */
export interface SimDevice {
  id: string;
  vendor: string;
  deviceType: DeviceType;
  model: string;
  firmware: string;
  cpe23: string | null;
  hostname: string;
  /** Current MAC. */
  mac: string;
  /** Every MAC used so far (more than one for a rotating randomized MAC). */
  macs: string[];
  ip: string | null;
  randomizedMac: boolean;
  dhcpFingerprint: string | null;
  /** When the device first joined (ms), null when it has not joined yet. */
  joinedMs: number | null;
  /** True for devices added by a new_device incident. */
  joinedByIncident: boolean;
  profile: DeviceProfile;
}

export interface DemoNetworkOptions {
  seed: number;
  /** Simulation start, ms since the Unix epoch. */
  startMs: number;
  /** Schedule incidents from the seed (default false; `inject` works either way). */
  incidents?: boolean;
  /** Mean gap between scheduled incidents (default 40 minutes); the first comes 8–15 minutes after start. */
  incidentGapMs?: number;
  /** Local time = UTC + this, for the diurnal profiles (default 0). */
  utcOffsetMinutes?: number;
  /** Mean time between randomized-MAC rotations of the phone (default 35 minutes, ± 30 %). */
  phoneMacRotationMs?: number;
}

export interface InjectOptions {
  /** The device to use (default: chosen from the seed among suitable devices). */
  deviceId?: string;
  /** Override the incident's duration. */
  durationMs?: number;
}

export interface DemoNetwork {
  readonly gateway: { mac: string; ip: string };
  /** Time up to which frames have been returned, ms. */
  readonly nowMs: number;
  /** Every frame with a timestamp ≤ untilMs not returned before, in non-decreasing time order. */
  nextBatch(untilMs: number): SimFrame[];
  /** The same as repeated nextBatch calls in steps of `stepMs` (default 1 s), one frame at a time. */
  frames(untilMs: number, stepMs?: number): Generator<SimFrame>;
  /** Schedules an incident at `atMs` (not before nowMs) and returns its ground truth. */
  inject(kind: IncidentKind, atMs: number, opts?: InjectOptions): GroundTruth;
  /** Incidents injected or scheduled so far (scheduled ones appear once they start; the last 10 000 are kept). */
  groundTruth(): GroundTruth[];
  /**
   * Devices on the network (those that have joined or are due to join). Incident-added devices beyond the
   * eight most recent have left and are no longer listed.
   */
  devices(): SimDevice[];
}

// ---------------------------------------------------------------------------------------------------------

const US = 1000;
const SEC = 1_000_000;
const MIN = 60 * SEC;

const GW_IP = ip4('10.42.0.1');
const LAN_MASK = ip4('255.255.255.0');
const LAN_NET = ip4('10.42.0.0');
const BCAST_IP = ip4('255.255.255.255');
const DHCP_POOL_START = 100;
const LEASE_SECONDS = 3600;
const DOC_BENIGN = [ip4('192.0.2.0'), ip4('198.51.100.0')];
const DOC_ATTACK = ip4('203.0.113.0');
const MAX_NEWCOMERS = 8;
const MAX_GROUND_TRUTH = 10_000;

interface HeapItem {
  at: number;
  seq: number;
}

/** Binary min-heap ordered by (at, seq). */
class MinHeap<T extends HeapItem> {
  private readonly a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  private less(x: T, y: T): boolean {
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pv = a[p] as T;
      if (!this.less(v, pv)) break;
      a[i] = pv;
      i = p;
    }
    a[i] = v;
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(a[r] as T, a[l] as T)) c = r;
      if (!this.less(a[c] as T, last)) break;
      a[i] = a[c] as T;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

interface Task extends HeapItem {
  run: (now: number) => number | null;
}

interface QueuedFrame extends HeapItem {
  frame: Uint8Array;
}

/** Runtime state of one device. */
class Dev {
  mac: number;
  ip = 0;
  readonly macs: number[] = [];
  readonly hostname: string;
  /** Increments when the device leaves (MAC rotation): tasks of an old epoch stop. */
  epoch = 0;
  online = false;
  joinedMicros: number | null = null;
  ipId: number;
  readonly dnsCache = new Map<string, number>();
  /** UPnP descriptions fetched (target id → expiry). */
  readonly fetched = new Map<string, number>();
  stream: TcpConversation | null = null;
  streamUntil = 0;
  watchingUntil = 0;
  /** Option 61: explicit bytes (DUID), undefined for the default 01 + MAC, null when not sent. */
  readonly clientId: Uint8Array | null | undefined;
  constructor(
    readonly p: DeviceProfile,
    readonly rng: Rng,
    mac: number,
    readonly byIncident: boolean,
  ) {
    this.mac = mac;
    this.macs.push(mac);
    this.hostname = fillTemplate(p.hostname, mac);
    this.ipId = rng.int(65536);
    const cid = p.dhcp?.clientId ?? 'none';
    if (cid === 'duid') {
      // RFC 4361: type 255, IAID, DUID-UUID (type 4): stable whatever the MAC.
      const w = new ByteWriter(23).u8(255).u32(1).u16(4);
      for (let i = 0; i < 4; i++) w.u32(rng.u32());
      this.clientId = w.finish();
    } else this.clientId = cid === 'mac' ? undefined : null;
  }
  get stack(): TlsStack {
    return this.p.cloud.find((c) => c.stack !== null)?.stack ?? this.p.stream?.stack ?? 'openssl';
  }
  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
  ephemeralPort(): number {
    const s = this.stack;
    return s === 'apple' || s === 'chromium' || s === 'android'
      ? 49152 + this.rng.int(16384)
      : 32768 + this.rng.int(28232);
  }
}

function localHour(micros: number, offsetMin: number): number {
  const ms = micros / US + offsetMin * 60_000;
  return Math.floor(ms / 3_600_000) % 24;
}

/** A stable documentation-range address for an internet domain. */
export function internetAddress(domain: string, attack = false): number {
  const h = hash32(domain.toLowerCase());
  const host = 2 + (h % 250);
  if (attack) return DOC_ATTACK + host;
  return (DOC_BENIGN[(h >>> 16) & 1] ?? 0) + host;
}

const TELNET_CREDS: readonly (readonly [string, string])[] = [
  ['root', 'xc3511'],
  ['root', 'vizxv'],
  ['admin', 'admin'],
  ['root', '888888'],
  ['root', 'xmhdipc'],
  ['root', 'default'],
  ['root', 'juantech'],
  ['root', '123456'],
  ['root', '54321'],
  ['support', 'support'],
  ['root', 'root'],
  ['admin', 'password'],
  ['root', '12345'],
  ['user', 'user'],
  ['root', 'pass'],
  ['admin', 'admin1234'],
  ['root', '1111'],
  ['admin', 'smcadmin'],
  ['root', '666666'],
  ['root', 'password'],
  ['root', '1234'],
  ['root', 'klv123'],
  ['service', 'service'],
  ['supervisor', 'supervisor'],
  ['guest', 'guest'],
  ['ubnt', 'ubnt'],
  ['root', 'Zte521'],
  ['root', 'hi3518'],
  ['root', 'anko'],
  ['root', 'realtek'],
];

const SCAN_PORTS = [21, 22, 23, 80, 81, 443, 554, 2323, 5000, 7547, 8000, 8080, 8081, 8443, 9000, 37777];
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

class Network implements DemoNetwork {
  readonly gateway: { mac: string; ip: string };
  private readonly gwMac: number;
  private readonly seed: number;
  private readonly offsetMin: number;
  private readonly tasks = new MinHeap<Task>();
  private readonly out = new MinHeap<QueuedFrame>();
  private seq = 0;
  private clock: number;
  private returnedUntil: number;
  private readonly devs: Dev[] = [];
  private readonly byId = new Map<string, Dev>();
  private readonly leases = new Map<string, number>();
  private nextLease = DHCP_POOL_START;
  private readonly truth: GroundTruth[] = [];
  private readonly irng: Rng;
  private newDevices = 0;
  private readonly rotationMs: number;
  private readonly sink: FrameSink;
  private gwIpId = 0;

  constructor(o: DemoNetworkOptions) {
    this.seed = o.seed >>> 0;
    this.offsetMin = o.utcOffsetMinutes ?? 0;
    this.clock = Math.round(o.startMs * US);
    this.returnedUntil = this.clock - 1;
    this.rotationMs = o.phoneMacRotationMs ?? 35 * 60_000;
    const grng = new Rng(this.seed, 'gateway');
    this.gwMac = 0x7483c2 * 0x1000000 + grng.int(0x1000000);
    this.gateway = { mac: macToString(this.gwMac), ip: ip4ToString(GW_IP) };
    this.irng = new Rng(this.seed, 'incidents');
    this.sink = (ts, frame) => this.emit(ts, frame);

    for (const p of DEVICE_CATALOGUE) this.addDevice(p, false);
    // The Raspberry Pi (MQTT broker, Home Assistant) comes up first, then everyone else within a minute.
    for (const d of this.devs) {
      const at = d.p.id === 'computer-rpi' ? this.clock + 500 * US : this.clock + d.rng.range(1, 60) * SEC;
      this.schedule(at, (now) => this.join(d, now));
    }
    if (o.incidents) this.scheduleIncidents(o.incidentGapMs ?? 40 * 60_000);
  }

  // -- plumbing ---------------------------------------------------------------------------------------------

  get nowMs(): number {
    return Math.floor(this.returnedUntil / US);
  }

  private emit(ts: number, frame: Uint8Array): void {
    // A task never emits before its own run time, which is never before anything already returned.
    this.out.push({ at: Math.max(Math.round(ts), this.clock), seq: this.seq++, frame });
  }

  private schedule(at: number, run: (now: number) => number | null): void {
    this.tasks.push({ at: Math.max(Math.round(at), this.clock), seq: this.seq++, run });
  }

  /** Schedules a periodic task bound to the device's current epoch (stops when it leaves). */
  private every(d: Dev, first: number, run: (now: number) => number | null): void {
    const epoch = d.epoch;
    const wrapped = (now: number): number | null => (d.epoch === epoch && d.online ? run(now) : null);
    this.schedule(first, (now) => {
      const next = wrapped(now);
      if (next !== null) this.schedule(next, (n) => this.rerun(n, wrapped));
      return null;
    });
  }

  private rerun(now: number, run: (now: number) => number | null): number | null {
    const next = run(now);
    if (next !== null) this.schedule(Math.max(next, now + 1), (n) => this.rerun(n, run));
    return null;
  }

  nextBatch(untilMs: number): SimFrame[] {
    const until = Math.floor(untilMs * US);
    for (;;) {
      const t = this.tasks.peek();
      if (!t || t.at > until) break;
      this.tasks.pop();
      this.clock = t.at;
      const next = t.run(t.at);
      if (next !== null) this.schedule(Math.max(next, t.at + 1), t.run);
    }
    if (until > this.clock) this.clock = until;
    const res: SimFrame[] = [];
    for (;;) {
      const f = this.out.peek();
      if (!f || f.at > until) break;
      this.out.pop();
      res.push({ tsMicros: f.at, frame: f.frame });
    }
    if (until > this.returnedUntil) this.returnedUntil = until;
    return res;
  }

  *frames(untilMs: number, stepMs = 1000): Generator<SimFrame> {
    let t = this.nowMs;
    while (t < untilMs) {
      t = Math.min(untilMs, t + stepMs);
      yield* this.nextBatch(t);
    }
  }

  groundTruth(): GroundTruth[] {
    return this.truth.map((g) => ({ ...g }));
  }

  devices(): SimDevice[] {
    return this.devs.map((d) => ({
      id: d.p.id,
      vendor: d.p.vendor,
      deviceType: d.p.type,
      model: d.p.model,
      firmware: d.p.firmware,
      cpe23: d.p.cpe23,
      hostname: d.hostname,
      mac: macToString(d.mac),
      macs: d.macs.map(macToString),
      ip: d.ip ? ip4ToString(d.ip) : d.p.staticIp && !d.p.dhcp ? d.p.staticIp : null,
      randomizedMac: d.p.randomizedMac === true,
      dhcpFingerprint: d.p.dhcp ? d.p.dhcp.prl.join(',') : null,
      joinedMs: d.joinedMicros === null ? null : Math.floor(d.joinedMicros / US),
      joinedByIncident: d.byIncident,
      profile: d.p,
    }));
  }

  private addDevice(p: DeviceProfile, byIncident: boolean, idSuffix = ''): Dev {
    const id = p.id + idSuffix;
    const rng = new Rng(this.seed, `dev:${id}`);
    const mac = p.randomizedMac ? this.randomMac(rng) : ouiValue(p.oui) * 0x1000000 + rng.int(0x1000000);
    const prof = idSuffix ? { ...p, id } : p;
    const d = new Dev(prof, rng, mac, byIncident);
    this.devs.push(d);
    this.byId.set(id, d);
    return d;
  }

  private randomMac(rng: Rng): number {
    // Locally administered (bit 1 of the first byte), unicast (bit 0 clear).
    const first = (rng.int(64) << 2) | 0x02;
    return first * 0x10000000000 + rng.int(0x100) * 0x100000000 + rng.u32();
  }

  private hour(now: number): number {
    return localHour(now, this.offsetMin);
  }

  private activity(d: Dev, now: number): number {
    return d.p.hourly[this.hour(now)] ?? 1;
  }

  // -- low-level senders ------------------------------------------------------------------------------------

  private udpFrom(
    d: Dev,
    ts: number,
    dstMac: number,
    dstIp: number,
    sport: number,
    dport: number,
    payload: Uint8Array,
    ttl = d.p.ttl,
  ): void {
    this.emit(
      ts,
      udpFrame(
        { srcMac: d.mac, dstMac, srcIp: d.ip, dstIp, ttl, id: d.nextIpId(), df: false },
        sport,
        dport,
        payload,
      ),
    );
  }

  /** A datagram from the router: from itself, or forwarded from an internet host (`srcIp`). */
  private udpFromGw(
    ts: number,
    srcIp: number,
    dstMac: number,
    dstIp: number,
    sport: number,
    dport: number,
    payload: Uint8Array,
    ttl = 64,
  ): void {
    this.gwIpId = (this.gwIpId + 1) & 0xffff;
    this.emit(
      ts,
      udpFrame(
        { srcMac: this.gwMac, dstMac, srcIp, dstIp, ttl, id: this.gwIpId, df: false },
        sport,
        dport,
        payload,
      ),
    );
  }

  private endpoint(d: Dev, port: number): TcpEndpoint {
    return { mac: d.mac, ip: d.ip, port, ttl: d.p.ttl };
  }

  private internetEndpoint(ip: number, port: number, rng: Rng): TcpEndpoint {
    return { mac: this.gwMac, ip, port, ttl: 44 + rng.int(14) };
  }

  private conv(
    client: TcpEndpoint,
    server: TcpEndpoint,
    start: number,
    rtt: number,
    rng: Rng,
  ): TcpConversation {
    return new TcpConversation(this.sink, client, server, start, rtt, rng.u32());
  }

  // -- joining, DHCP, ARP -----------------------------------------------------------------------------------

  private leaseFor(d: Dev): number {
    const key = d.clientId && d.clientId.length ? `cid:${Array.from(d.clientId).join(',')}` : `mac:${d.mac}`;
    const have = this.leases.get(key);
    if (have !== undefined) return have;
    let ip: number;
    if (d.p.staticIp) ip = ip4(d.p.staticIp);
    else {
      if (this.nextLease > 250) this.nextLease = DHCP_POOL_START;
      ip = LAN_NET + this.nextLease++;
    }
    this.leases.set(key, ip);
    return ip;
  }

  private dhcpClient(
    d: Dev,
    type: (typeof DhcpType)[keyof typeof DhcpType],
    xid: number,
    extra: { requestedIp?: number; serverId?: number; ciaddr?: number; secs?: number },
  ): Uint8Array {
    const dh = d.p.dhcp;
    if (!dh) throw new Error('no DHCP profile');
    return dhcpClientPayload({
      type,
      xid,
      mac: d.mac,
      prl: dh.prl,
      hostname: d.hostname,
      vendorClass: dh.vendorClass,
      clientId: d.clientId,
      fqdn: dh.fqdn ? d.hostname : null,
      maxMessageSize: dh.maxMessageSize ?? null,
      ...extra,
    });
  }

  private dhcpServer(
    d: Dev,
    type: (typeof DhcpType)[keyof typeof DhcpType],
    xid: number,
    yiaddr: number,
    ciaddr = 0,
  ): Uint8Array {
    return dhcpServerPayload({
      type,
      xid,
      mac: d.mac,
      yiaddr,
      ciaddr,
      serverIp: GW_IP,
      leaseSeconds: LEASE_SECONDS,
      subnetMask: LAN_MASK,
      router: GW_IP,
      dns: [GW_IP],
      domain: 'lan',
      ntp: GW_IP,
    });
  }

  /** DHCP DORA (or static ARP announce), then start every behaviour of the device. */
  private join(d: Dev, now: number): null {
    const r = d.rng;
    let t = now;
    d.online = true;
    if (d.joinedMicros === null) d.joinedMicros = now;
    if (d.p.dhcp) {
      const xid = r.u32();
      const ip = this.leaseFor(d);
      const saved = d.ip;
      d.ip = 0;
      this.udpFrom(d, t, BROADCAST_MAC, BCAST_IP, 68, 67, this.dhcpClient(d, DhcpType.DISCOVER, xid, {}));
      t += r.range(2, 15) * 1000;
      this.udpFromGw(t, GW_IP, d.mac, ip, 67, 68, this.dhcpServer(d, DhcpType.OFFER, xid, ip));
      t += r.range(5, 40) * 1000;
      this.udpFrom(
        d,
        t,
        BROADCAST_MAC,
        BCAST_IP,
        68,
        67,
        this.dhcpClient(d, DhcpType.REQUEST, xid, { requestedIp: ip, serverId: GW_IP, secs: 1 }),
      );
      t += r.range(2, 10) * 1000;
      this.udpFromGw(t, GW_IP, d.mac, ip, 67, 68, this.dhcpServer(d, DhcpType.ACK, xid, ip));
      d.ip = ip || saved;
      t += r.range(20, 200) * 1000;
    } else {
      d.ip = ip4(d.p.staticIp ?? '10.42.0.250');
    }
    // Gratuitous ARP, then resolve the gateway.
    this.emit(t, arpFrame(1, d.mac, d.ip, 0, d.ip));
    t += r.range(5, 50) * 1000;
    this.emit(t, arpFrame(1, d.mac, d.ip, 0, GW_IP));
    t += r.range(0.3, 2) * 1000;
    this.emit(t, arpFrame(2, this.gwMac, GW_IP, d.mac, d.ip));
    this.startBehaviours(d, t + 50 * US);
    return null;
  }

  private startBehaviours(d: Dev, t0: number): void {
    const p = d.p;
    const r = d.rng;
    if (p.dhcp) this.every(d, t0 + (LEASE_SECONDS / 2) * SEC, (now) => this.dhcpRenew(d, now));
    this.every(d, t0 + r.range(5, 20) * MIN, (now) => this.gatewayArp(d, now));
    if (p.mdns) {
      this.every(d, t0 + r.range(0.5, 2) * SEC, (now) => {
        this.mdnsAnnounce(d, now);
        return null;
      });
      this.every(d, t0 + r.range(3, 5) * SEC, (now) => {
        this.mdnsAnnounce(d, now);
        return null;
      });
    }
    if (p.ssdp) this.every(d, t0 + r.range(1, 4) * SEC, (now) => this.ssdpAlive(d, now));
    if (p.ntp) {
      const ntp = p.ntp;
      this.every(d, t0 + r.range(1, 8) * SEC, (now) => this.ntpSync(d, now, ntp.everySec));
    }
    for (const c of p.cloud) {
      const first = t0 + r.range(3, Math.min(90, c.everySec)) * SEC;
      this.every(d, first, (now) => this.cloudSession(d, now, c));
    }
    if (p.stream) {
      const s = p.stream;
      this.every(d, t0 + r.range(10, 30) * SEC, (now) =>
        s.direction === 'up' ? this.uploadTick(d, now, s) : this.watchTick(d, now, s),
      );
    }
    if (p.mqtt) {
      const m = p.mqtt;
      this.every(d, t0 + r.range(4, 10) * SEC, (now) => this.mqttSession(d, now, m));
    }
    if (p.browses) {
      const b = p.browses;
      this.every(d, t0 + r.range(5, 60) * SEC, (now) =>
        this.browse(d, now, b.mdns, b.ssdpUserAgent, b.everySec),
      );
    }
    if (p.id === 'computer-rpi') this.startHomeAssistant(d, t0);
    if (p.randomizedMac)
      this.every(d, t0 + r.jitter(this.rotationMs, 0.3) * US, (now) => this.rotateMac(d, now));
  }

  private dhcpRenew(d: Dev, now: number): number {
    const r = d.rng;
    const xid = r.u32();
    this.udpFrom(
      d,
      now,
      this.gwMac,
      GW_IP,
      68,
      67,
      this.dhcpClient(d, DhcpType.REQUEST, xid, { ciaddr: d.ip }),
    );
    this.udpFromGw(
      now + r.range(1, 8) * 1000,
      GW_IP,
      d.mac,
      d.ip,
      67,
      68,
      this.dhcpServer(d, DhcpType.ACK, xid, d.ip, d.ip),
    );
    return now + (LEASE_SECONDS / 2) * SEC;
  }

  private gatewayArp(d: Dev, now: number): number {
    this.emit(now, arpFrame(1, this.gwMac, GW_IP, 0, d.ip));
    this.emit(now + d.rng.range(0.5, 5) * 1000, arpFrame(2, d.mac, d.ip, this.gwMac, GW_IP));
    return now + d.rng.range(15, 25) * MIN;
  }

  /** The phone leaves and comes back with a new randomized MAC (same host name and DHCP client id). */
  private rotateMac(d: Dev, now: number): null {
    d.epoch++;
    d.online = false;
    d.stream = null;
    d.mac = this.randomMac(d.rng);
    d.macs.push(d.mac);
    d.dnsCache.clear();
    this.schedule(now + d.rng.range(5, 30) * SEC, (n) => this.join(d, n));
    return null;
  }

  // -- DNS, NTP ---------------------------------------------------------------------------------------------

  /** Resolves `name` through the gateway unless cached; returns the address and the time the answer arrived. */
  private resolve(d: Dev, now: number, name: string, attack = false): { ip: number; t: number } {
    const ip = internetAddress(name, attack);
    const exp = d.dnsCache.get(name);
    if (exp !== undefined && exp > now) return { ip, t: now };
    const r = d.rng;
    const sport = d.ephemeralPort();
    const id = r.int(65536);
    let t = now;
    this.udpFrom(d, t, this.gwMac, GW_IP, sport, 53, dnsQuery(id, name, RR.A));
    const s = d.stack;
    const dual = s === 'apple' || s === 'chromium' || s === 'android';
    if (dual)
      this.udpFrom(d, t + 200, this.gwMac, GW_IP, sport + 1, 53, dnsQuery((id + 1) & 0xffff, name, RR.AAAA));
    const hit = exp !== undefined || r.chance(0.5);
    t += (hit ? r.range(0.3, 2) : r.range(8, 40)) * 1000;
    this.udpFromGw(
      t,
      GW_IP,
      d.mac,
      d.ip,
      53,
      sport,
      dnsResponse(id, name, RR.A, [{ name, type: RR.A, ttl: 300, data: { a: ip } }]),
    );
    if (dual)
      this.udpFromGw(
        t + 300,
        GW_IP,
        d.mac,
        d.ip,
        53,
        sport + 1,
        dnsResponse((id + 1) & 0xffff, name, RR.AAAA, []),
      );
    d.dnsCache.set(name, now + 300 * SEC);
    if (d.dnsCache.size > 64) {
      for (const [k, v] of d.dnsCache) if (v <= now) d.dnsCache.delete(k);
    }
    return { ip, t: t + 500 };
  }

  private ntpSync(d: Dev, now: number, everySec: number): number {
    const r = d.rng;
    let t = now;
    let server = GW_IP;
    let mac = this.gwMac;
    const name = d.p.ntp?.server ?? 'gateway';
    if (name !== 'gateway') {
      const res = this.resolve(d, t, name);
      server = res.ip;
      t = res.t;
    }
    const s = d.stack;
    const sport = s === 'apple' || s === 'chromium' || s === 'android' ? d.ephemeralPort() : 123;
    const tx = t;
    this.udpFrom(
      d,
      t,
      mac,
      server,
      sport,
      123,
      ntpPayload({ mode: 3, version: 4, poll: 6, transmitMicros: tx }),
    );
    const rtt = server === GW_IP ? r.range(0.3, 2) * 1000 : r.range(15, 60) * 1000;
    const rx = t + rtt / 2;
    mac = d.mac;
    this.udpFromGw(
      t + rtt,
      server,
      mac,
      d.ip,
      123,
      sport,
      ntpPayload({
        mode: 4,
        stratum: server === GW_IP ? 3 : 2,
        poll: 6,
        precision: -23,
        refId: server === GW_IP ? ip4('198.51.100.123') : ip4('192.0.2.1'),
        refMicros: t - 900 * SEC,
        originMicros: tx,
        receiveMicros: rx,
        transmitMicros: rx + 40,
      }),
    );
    return now + r.jitter(everySec, 0.05) * SEC;
  }

  // -- cloud sessions ---------------------------------------------------------------------------------------

  /** Opaque TLS application data of `len` bytes as records of at most 16 KiB. */
  private tlsData(len: number, salt: number): Uint8Array {
    const total = Math.max(1, Math.round(len));
    const records = Math.ceil(total / 16384);
    const b = new Uint8Array(total + 5 * records);
    let left = total;
    let o = 0;
    for (let i = 0; i < records; i++) {
      const n = Math.min(16384, left);
      b[o] = 23;
      b[o + 1] = 3;
      b[o + 2] = 3;
      b[o + 3] = n >>> 8;
      b[o + 4] = n & 0xff;
      b.set(noise(n, salt + i * 977), o + 5);
      o += 5 + n;
      left -= n;
    }
    return b;
  }

  /** Opens a TLS connection (DNS, handshake, ClientHello, server flight, Finished); returns it open. */
  private tlsOpen(
    d: Dev,
    now: number,
    domain: string,
    port: number,
    stack: TlsStack,
    alpn?: readonly string[],
    attack = false,
  ): TcpConversation {
    const r = d.rng;
    const res = this.resolve(d, now, domain, attack);
    const c = this.conv(
      this.endpoint(d, d.ephemeralPort()),
      this.internetEndpoint(res.ip, port, r),
      res.t,
      r.range(15, 80) * 1000,
      r,
    );
    c.handshake();
    const prof = TLS_STACKS[stack];
    const hello = tlsClientHello(
      alpn ? { stack, sni: domain, salt: r.u32(), alpn } : { stack, sni: domain, salt: r.u32() },
    );
    c.send(true, hello);
    const tls13 = prof.versions.length > 0;
    const cipher = tls13 ? 0x1301 : 0xc02f;
    const alp = (alpn ?? prof.alpn)[0] ?? null;
    c.wait(r.range(2, 20) * 1000);
    c.send(false, tlsServerFlight(cipher, tls13, tls13 ? null : alp, r.u32(), 2500 + r.int(2000)));
    c.send(true, tlsClientFinish(r.u32()));
    return c;
  }

  private cloudSession(d: Dev, now: number, c: DeviceProfile['cloud'][number]): number {
    const r = d.rng;
    const act = c.diurnal === false ? 1 : Math.max(0.04, this.activity(d, now));
    const scale = c.diurnal === false ? 1 : 0.5 + act;
    if (c.stack === null) {
      const res = this.resolve(d, now, c.domain);
      const conv = this.conv(
        this.endpoint(d, d.ephemeralPort()),
        this.internetEndpoint(res.ip, c.port ?? 80, r),
        res.t,
        r.range(15, 80) * 1000,
        r,
      );
      conv.handshake();
      const body =
        c.downBytes > 0
          ? '<?xml version="1.0"?>\n<update>' + 'x'.repeat(Math.max(0, c.downBytes - 40)) + '</update>\n'
          : '';
      conv.exchange(
        httpRequest(c.domain, c.path ?? '/', d.p.httpUserAgent ?? null),
        c.downBytes > 0
          ? httpResponse(
              200,
              'OK',
              [
                ['Content-Type', 'application/xml'],
                ['Date', httpDate(now / US)],
              ],
              body,
            )
          : httpResponse(204, 'No Content', [['Date', httpDate(now / US)]], ''),
        r.range(5, 40) * 1000,
      );
      conv.close(true);
    } else {
      const conv = this.tlsOpen(d, now, c.domain, c.port ?? 443, c.stack, c.alpn);
      const rounds = 1 + (c.upBytes + c.downBytes > 20000 ? 2 : 0);
      for (let i = 0; i < rounds; i++) {
        conv.exchange(
          this.tlsData(r.jitter(c.upBytes * scale, 0.3) / rounds, r.u32()),
          this.tlsData(r.jitter(c.downBytes * scale, 0.3) / rounds, r.u32()),
          r.range(10, 80) * 1000,
        );
      }
      conv.close(r.chance(0.7));
    }
    const interval = c.diurnal === false ? r.jitter(c.everySec, 0.1) : r.jitter(c.everySec, 0.4) / act;
    return now + Math.min(interval, 4 * 3600) * SEC;
  }

  /** Camera upload: a long-lived TLS connection carrying a steady stream, reconnected every 30 minutes. */
  private uploadTick(d: Dev, now: number, s: NonNullable<DeviceProfile['stream']>): number {
    const r = d.rng;
    if (!d.stream || d.stream.closed || now >= d.streamUntil) {
      d.stream?.at(now).close(true);
      d.stream = this.tlsOpen(d, now, s.domain, 443, s.stack);
      d.streamUntil = now + r.range(25, 35) * MIN;
    }
    const bytes = r.jitter(s.peakBytesPerSec * 4 * this.activity(d, now), 0.2);
    d.stream.at(now).sendAcked(true, this.tlsData(bytes, r.u32()));
    return now + 4 * SEC;
  }

  /** TV/streamer/speaker: viewing sessions whose probability follows the hourly profile; 10-second media segments. */
  private watchTick(d: Dev, now: number, s: NonNullable<DeviceProfile['stream']>): number {
    const r = d.rng;
    if (now >= d.watchingUntil) {
      if (d.stream && !d.stream.closed) d.stream.at(now).close(true);
      d.stream = null;
      if (!r.chance(this.activity(d, now))) return now + r.range(4, 6) * MIN;
      d.watchingUntil = now + r.range(20, 60) * MIN;
    }
    if (!d.stream || d.stream.closed || now >= d.streamUntil) {
      d.stream?.at(now).close(true);
      d.stream = this.tlsOpen(d, now, s.domain, 443, s.stack);
      d.streamUntil = now + r.range(8, 12) * MIN;
    }
    const chunk = r.jitter(s.peakBytesPerSec * 10, 0.25);
    d.stream
      .at(now)
      .exchange(
        this.tlsData(r.range(300, 600), r.u32()),
        this.tlsData(chunk, r.u32()),
        r.range(5, 30) * 1000,
      );
    return now + 10 * SEC;
  }

  // -- MQTT (LAN broker on the Raspberry Pi) ----------------------------------------------------------------

  private mqttSession(d: Dev, now: number, m: NonNullable<DeviceProfile['mqtt']>): number | null {
    const broker = this.byId.get('computer-rpi');
    if (!broker || !broker.online) return now + 30 * SEC;
    const r = d.rng;
    const c = this.conv(
      this.endpoint(d, d.ephemeralPort()),
      this.endpoint(broker, 1883),
      now,
      r.range(1, 4) * 1000,
      r,
    );
    c.handshake();
    const clientId = fillTemplate(m.clientId, d.mac);
    c.exchange(
      mqttConnect({
        clientId,
        keepAlive: m.keepAlive,
        username: m.username ?? null,
        password: m.username ? 'x' : null,
        will: { topic: `shellies/${clientId}/online`, message: 'false' },
      }),
      mqttConnack(),
    );
    c.exchange(mqttSubscribe(1, `shellies/${clientId}/relay/0/command`), mqttSuback(1));
    const topic = fillTemplate(m.topic, d.mac);
    let n = 0;
    const epoch = d.epoch;
    const tick = (t: number): number | null => {
      if (d.epoch !== epoch || !d.online) return null;
      c.at(t);
      if (++n % 2 === 0) c.exchange(mqttPingReq(), mqttPingResp());
      else c.sendAcked(true, mqttPublish(topic, (r.range(0, 1500) * this.activity(d, t)).toFixed(2)));
      return t + m.publishEverySec * SEC;
    };
    this.schedule(c.t + m.publishEverySec * SEC, (t) => this.rerun(t, tick));
    return null;
  }

  // -- discovery: mDNS, SSDP, UPnP --------------------------------------------------------------------------

  private mdnsAnnounce(d: Dev, now: number): void {
    const m = d.p.mdns;
    if (!m) return;
    const payload = mdnsAnnouncement({
      hostname: d.hostname,
      ip: d.ip,
      instance: fillTemplate(m.instance, d.mac),
      services: m.services.map((s) => ({ ...s, txt: (s.txt ?? []).map((x) => fillTemplate(x, d.mac)) })),
    });
    this.udpFrom(d, now, multicastMac(MDNS_GROUP), MDNS_GROUP, 5353, 5353, payload, 255);
  }

  private ssdpLocation(d: Dev): string {
    const s = d.p.ssdp;
    return s ? `http://${ip4ToString(d.ip)}:${s.port}${s.path}` : '';
  }

  private ssdpUuid(d: Dev): string {
    const h = d.mac.toString(16).padStart(12, '0');
    return `uuid:${hash32(d.p.id, this.seed).toString(16).padStart(8, '0')}-1dd2-11b2-8000-${h}`;
  }

  private ssdpNts(d: Dev): string[] {
    const s = d.p.ssdp;
    if (!s) return [];
    return ['upnp:rootdevice', this.ssdpUuid(d), s.deviceType, ...(s.extraNt ?? [])];
  }

  private ssdpAlive(d: Dev, now: number): number {
    const s = d.p.ssdp;
    if (!s) return now + 15 * MIN;
    const uuid = this.ssdpUuid(d);
    let t = now;
    for (const nt of this.ssdpNts(d)) {
      const usn = nt === uuid ? uuid : `${uuid}::${nt}`;
      this.udpFrom(
        d,
        t,
        multicastMac(SSDP_GROUP),
        SSDP_GROUP,
        1900,
        1900,
        ssdpNotify({ location: this.ssdpLocation(d), nt, usn, server: s.server }),
        4,
      );
      t += d.rng.range(1, 5) * 1000;
    }
    return now + d.rng.range(12, 15) * MIN;
  }

  private browse(
    d: Dev,
    now: number,
    services: readonly string[],
    ssdpUa: string | null,
    everySec: number,
  ): number {
    const r = d.rng;
    let t = now;
    if (services.length) {
      this.udpFrom(d, t, multicastMac(MDNS_GROUP), MDNS_GROUP, 5353, 5353, mdnsQuery(services), 255);
      for (const o of this.devs) {
        if (o === d || !o.online || !o.p.mdns) continue;
        if (!o.p.mdns.services.some((s) => services.includes(s.type))) continue;
        this.mdnsAnnounce(o, t + r.range(20, 120) * 1000);
      }
      t += 150 * 1000;
    }
    if (ssdpUa !== null) {
      const sport = d.ephemeralPort();
      this.udpFrom(
        d,
        t,
        multicastMac(SSDP_GROUP),
        SSDP_GROUP,
        sport,
        1900,
        ssdpMSearch('ssdp:all', 2, ssdpUa),
        4,
      );
      const responders: Dev[] = [];
      for (const o of this.devs) {
        const s = o.p.ssdp;
        if (o === d || !o.online || !s) continue;
        responders.push(o);
        const uuid = this.ssdpUuid(o);
        let rt = t + r.range(10, 1900) * 1000;
        for (const st of ['upnp:rootdevice', s.deviceType]) {
          const usn = `${uuid}::${st}`;
          this.udpFrom(
            o,
            rt,
            d.mac,
            d.ip,
            1900,
            sport,
            ssdpResponse({
              st,
              usn,
              location: this.ssdpLocation(o),
              server: s.server,
              date: httpDate(rt / US),
            }),
          );
          rt += r.range(1, 10) * 1000;
        }
      }
      // Fetch descriptions not fetched in the last hour.
      let ft = t + 2.1 * SEC;
      for (const o of responders) {
        const exp = d.fetched.get(o.p.id);
        if (exp !== undefined && exp > now) continue;
        d.fetched.set(o.p.id, now + 3600 * SEC);
        ft = this.fetchDescription(d, o, ft) + r.range(5, 50) * 1000;
      }
    }
    const act = Math.max(0.1, this.activity(d, now));
    return now + (r.jitter(everySec, 0.3) / act) * SEC;
  }

  private fetchDescription(d: Dev, o: Dev, at: number): number {
    const s = o.p.ssdp;
    if (!s) return at;
    const r = d.rng;
    const c = this.conv(
      this.endpoint(d, d.ephemeralPort()),
      this.endpoint(o, s.port),
      at,
      r.range(1, 5) * 1000,
      r,
    );
    c.handshake();
    const xml = upnpDescriptionXml({
      deviceType: s.deviceType,
      friendlyName: fillTemplate(s.friendlyName, o.mac).replace('10.42.0.x', ip4ToString(o.ip)),
      manufacturer: o.p.vendor,
      manufacturerUrl: s.manufacturerUrl,
      modelName: o.p.model,
      modelNumber: s.modelNumber,
      serialNumber: o.mac.toString(16).padStart(12, '0').toUpperCase(),
      udn: this.ssdpUuid(o),
      firmware: o.p.firmware,
    });
    c.exchange(
      httpRequest(`${ip4ToString(o.ip)}:${s.port}`, s.path, d.p.httpUserAgent ?? null),
      httpResponse(
        200,
        'OK',
        [
          ['CONTENT-TYPE', 'text/xml; charset="utf-8"'],
          ['SERVER', s.server],
        ],
        xml,
      ),
      r.range(2, 20) * 1000,
    );
    c.close(true);
    return c.t;
  }

  // -- Home Assistant on the Raspberry Pi: polls the PLC, plugs, bulbs, the Hue bridge --------------------

  private startHomeAssistant(pi: Dev, t0: number): void {
    const r = pi.rng;
    // Modbus/TCP polling of the PLC on a persistent connection, reconnected every 30 minutes.
    let modbus: TcpConversation | null = null;
    let modbusUntil = 0;
    let txId = 0;
    this.every(pi, t0 + 20 * SEC, (now) => {
      const plc = this.byId.get('plc-siemens');
      if (!plc || !plc.online) return now + 30 * SEC;
      if (!modbus || now >= modbusUntil) {
        modbus?.at(now).close(true);
        modbus = this.conv(
          this.endpoint(pi, pi.ephemeralPort()),
          this.endpoint(plc, 502),
          now,
          r.range(0.5, 2) * 1000,
          r,
        );
        modbus.handshake();
        modbusUntil = now + 30 * MIN;
      }
      txId = (txId + 1) & 0xffff;
      const values = [215 + r.int(10), 1013 + r.int(5), 1, 0, r.int(3000), 42];
      modbus
        .at(now)
        .exchange(
          modbusReadHoldingRequest(txId, 1, 0, values.length),
          modbusReadHoldingResponse(txId, 1, values),
          r.range(2, 8) * 1000,
        );
      return now + 5 * SEC;
    });
    // S7comm: an engineering check every 15 minutes (COTP connect, then close).
    this.every(pi, t0 + 90 * SEC, (now) => {
      const plc = this.byId.get('plc-siemens');
      if (!plc || !plc.online) return now + 15 * MIN;
      const c = this.conv(
        this.endpoint(pi, pi.ephemeralPort()),
        this.endpoint(plc, 102),
        now,
        r.range(0.5, 2) * 1000,
        r,
      );
      c.handshake();
      const cr = s7CotpConnectRequest(r.int(65536));
      const cc = cr.slice();
      cc[5] = 0xd0;
      c.exchange(cr, cc, 2000);
      c.close(true);
      return now + 15 * MIN;
    });
    // Kasa local protocol (TCP 9999) every 30 s for each TP-Link plug/bulb.
    for (const id of ['plug-kasa', 'bulb-kasa']) {
      this.every(pi, t0 + r.range(10, 40) * SEC, (now) => {
        const k = this.byId.get(id);
        if (!k || !k.online) return now + 30 * SEC;
        const c = this.conv(
          this.endpoint(pi, pi.ephemeralPort()),
          this.endpoint(k, 9999),
          now,
          r.range(1, 6) * 1000,
          r,
        );
        c.handshake();
        const info = `{"system":{"get_sysinfo":{"sw_ver":"${k.p.firmware} Build 200804 Rel.095135","hw_ver":"2.0","model":"${k.p.model}(US)","alias":"${k.p.model}","mac":"${macToString(k.mac).toUpperCase()}","relay_state":1,"rssi":-${40 + r.int(30)},"err_code":0}}}`;
        c.exchange(kasaMessage('{"system":{"get_sysinfo":{}}}'), kasaMessage(info), r.range(5, 30) * 1000);
        c.close(false);
        return now + 30 * SEC;
      });
    }
    // LIFX LAN protocol (UDP 56700) every 30 s.
    let lifxSeq = 0;
    this.every(pi, t0 + r.range(10, 40) * SEC, (now) => {
      const b = this.byId.get('bulb-lifx');
      if (!b || !b.online) return now + 30 * SEC;
      const src = 0x48410000 + (hash32('ha', this.seed) & 0xffff);
      lifxSeq = (lifxSeq + 1) & 0xff;
      this.udpFrom(pi, now, b.mac, b.ip, 56700, 56700, lifxPacket(101, src, b.mac, lifxSeq));
      const state = new Uint8Array(52);
      state.set(text('Living room lamp'), 12);
      this.udpFrom(
        b,
        now + r.range(2, 15) * 1000,
        pi.mac,
        pi.ip,
        56700,
        56700,
        lifxPacket(107, src, b.mac, lifxSeq, state),
      );
      return now + 30 * SEC;
    });
    // Hue bridge REST API (HTTP 80, keep-alive) every 30 s.
    let hue: TcpConversation | null = null;
    let hueUntil = 0;
    this.every(pi, t0 + r.range(10, 40) * SEC, (now) => {
      const h = this.byId.get('hub-hue');
      if (!h || !h.online) return now + 30 * SEC;
      if (!hue || now >= hueUntil) {
        hue?.at(now).close(true);
        hue = this.conv(
          this.endpoint(pi, pi.ephemeralPort()),
          this.endpoint(h, 80),
          now,
          r.range(1, 4) * 1000,
          r,
        );
        hue.handshake();
        hueUntil = now + 5 * MIN;
      }
      const body = `{"1":{"state":{"on":${r.chance(this.activity(h, now)) ? 'true' : 'false'},"bri":${r.int(254)},"reachable":true},"type":"Extended color light","name":"Hue color lamp 1","modelid":"LCA001","manufacturername":"Signify Netherlands B.V.","swversion":"1.104.2"}}`;
      hue
        .at(now)
        .exchange(
          httpRequest(ip4ToString(h.ip), '/api/3kVhQw9xY2aZ/lights', pi.p.httpUserAgent ?? null),
          httpResponse(200, 'OK', [['Content-Type', 'application/json']], body),
          r.range(5, 25) * 1000,
        );
      return now + 30 * SEC;
    });
    // Presence detection: ICMP echo to the phone every minute (Home Assistant's ping tracker).
    let icmpSeq = 0;
    const icmpId = r.int(65536);
    this.every(pi, t0 + 45 * SEC, (now) => {
      const ph = this.byId.get('phone-iphone');
      if (!ph || !ph.online || !ph.ip) return now + 60 * SEC;
      icmpSeq = (icmpSeq + 1) & 0xffff;
      const body = noise(56, icmpSeq);
      const rest = ((icmpId << 16) | icmpSeq) >>> 0;
      this.emit(
        now,
        icmpFrame(
          { srcMac: pi.mac, dstMac: ph.mac, srcIp: pi.ip, dstIp: ph.ip, ttl: 64, id: pi.nextIpId() },
          8,
          0,
          rest,
          body,
        ),
      );
      this.emit(
        now + r.range(3, 90) * 1000,
        icmpFrame(
          { srcMac: ph.mac, dstMac: pi.mac, srcIp: ph.ip, dstIp: pi.ip, ttl: 64, id: ph.nextIpId() },
          0,
          0,
          rest,
          body,
        ),
      );
      return now + 60 * SEC;
    });
    // Configuration backup: git over SSH to github.com every hour.
    this.every(pi, t0 + 5 * MIN, (now) => {
      const res = this.resolve(pi, now, 'github.com');
      const c = this.conv(
        this.endpoint(pi, pi.ephemeralPort()),
        this.internetEndpoint(res.ip, 22, r),
        res.t,
        r.range(20, 60) * 1000,
        r,
      );
      c.handshake();
      c.sendAcked(false, sshBanner('babeld-8f8f2a1e'));
      c.sendAcked(true, sshBanner('OpenSSH_9.2p1 Debian-2+deb12u2'));
      c.exchange(noise(1500, r.u32()), noise(1100, r.u32()), r.range(10, 40) * 1000);
      c.exchange(noise(64, r.u32()), noise(600, r.u32()), r.range(10, 40) * 1000);
      c.exchange(noise(700, r.u32()), noise(r.range(2000, 20000), r.u32()), r.range(50, 300) * 1000);
      c.close(true);
      return now + r.jitter(3600, 0.05) * SEC;
    });
    // Reverse lookups of LAN devices (PTR) every 10 minutes.
    this.every(pi, t0 + 60 * SEC, (now) => {
      const o = this.devs[r.int(this.devs.length)];
      if (!o || !o.online || !o.ip) return now + 10 * MIN;
      const name = reverseName(o.ip);
      const id = r.int(65536);
      const sport = pi.ephemeralPort();
      this.udpFrom(pi, now, this.gwMac, GW_IP, sport, 53, dnsQuery(id, name, RR.PTR));
      this.udpFromGw(
        now + 800,
        GW_IP,
        pi.mac,
        pi.ip,
        53,
        sport,
        dnsResponse(id, name, RR.PTR, [
          { name, type: RR.PTR, ttl: 60, data: { name: `${o.hostname.toLowerCase()}.lan` } },
        ]),
      );
      return now + 10 * MIN;
    });
  }

  // -- incidents --------------------------------------------------------------------------------------------

  private scheduleIncidents(gapMs: number): void {
    const r = this.irng;
    const order = [...INCIDENT_KINDS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      const a = order[i] as IncidentKind;
      order[i] = order[j] as IncidentKind;
      order[j] = a;
    }
    let k = 0;
    this.schedule(this.clock + r.range(8, 15) * MIN, (now) => {
      const kind = order[k++ % order.length] as IncidentKind;
      this.inject(kind, now / US);
      return now + r.range(0.5, 1.5) * gapMs * US;
    });
  }

  private suitable(kind: IncidentKind): Dev[] {
    const ok = (d: Dev): boolean => !d.p.randomizedMac && d.p.type !== 'plc' && d.p.type !== 'computer';
    const types: readonly DeviceType[] =
      kind === 'port_scan' || kind === 'mirai_scan'
        ? ['camera']
        : kind === 'telnet_bruteforce'
          ? []
          : ['camera', 'smart_plug', 'smart_bulb', 'tv', 'streaming', 'speaker', 'hub'];
    if (kind === 'telnet_bruteforce') return this.devs.filter((d) => ok(d) && d.p.listen.tcp.includes(23));
    return this.devs.filter((d) => ok(d) && types.includes(d.p.type));
  }

  inject(kind: IncidentKind, atMs: number, opts: InjectOptions = {}): GroundTruth {
    const at = Math.max(Math.round(atMs * US), this.clock, this.returnedUntil + 1);
    const r = this.irng;
    if (kind === 'new_device') {
      const n = this.newDevices++;
      const p = NEW_DEVICE_POOL[n % NEW_DEVICE_POOL.length];
      if (!p) throw new Error('empty new-device pool');
      this.retireOldNewcomers(at);
      const d = this.addDevice(p, true, n < NEW_DEVICE_POOL.length ? '' : `-${n}`);
      d.ip = this.leaseFor(d);
      this.schedule(at, (now) => this.join(d, now));
      return this.record({
        kind,
        deviceId: d.p.id,
        mac: macToString(d.mac),
        ip: ip4ToString(d.ip),
        startMs: at / US,
        endMs: at / US + 1000,
        peer: null,
        detail: `${d.p.vendor} ${d.p.model} joins (DHCP from an unseen MAC)`,
      });
    }
    let d: Dev | undefined;
    if (opts.deviceId) {
      d = this.byId.get(opts.deviceId);
      if (!d) throw new Error(`unknown device ${opts.deviceId}`);
    } else {
      const c = this.suitable(kind);
      const online = c.filter((x) => x.online);
      d = (online.length ? online : c)[r.int((online.length ? online : c).length)];
      if (!d) throw new Error(`no device suitable for ${kind}`);
    }
    if (!d.ip) d.ip = this.leaseFor(d);
    const dev = d;
    const dur = opts.durationMs !== undefined ? opts.durationMs * US : undefined;
    switch (kind) {
      case 'port_scan':
        return this.portScan(dev, at, dur);
      case 'telnet_bruteforce':
        return this.telnetBruteforce(dev, at, dur ?? r.range(4, 7) * MIN);
      case 'mirai_scan':
        return this.miraiScan(dev, at, dur ?? r.range(4, 8) * MIN);
      case 'c2_beacon':
        return this.c2Beacon(dev, at, dur ?? r.range(30, 50) * MIN);
      case 'ddos':
        return this.ddos(dev, at, dur ?? r.range(45, 90) * SEC);
      case 'dns_tunnel':
        return this.dnsTunnel(dev, at, dur ?? r.range(4, 8) * MIN);
    }
  }

  /** Keeps memory bounded when running for weeks: the oldest incident-added devices leave the network. */
  private retireOldNewcomers(at: number): void {
    const added = this.devs.filter((d) => d.byIncident);
    for (const old of added.slice(0, Math.max(0, added.length - (MAX_NEWCOMERS - 1)))) {
      this.schedule(at - 1, () => {
        old.epoch++;
        old.online = false;
        return null;
      });
      this.devs.splice(this.devs.indexOf(old), 1);
      this.byId.delete(old.p.id);
    }
  }

  private record(g: GroundTruth): GroundTruth {
    if (this.truth.length >= MAX_GROUND_TRUTH) this.truth.shift();
    g.startMs = Math.floor(g.startMs);
    g.endMs = Math.ceil(g.endMs);
    this.truth.push(g);
    return { ...g };
  }

  private truthFor(
    kind: IncidentKind,
    d: Dev,
    start: number,
    end: number,
    peer: string | null,
    detail: string,
  ): GroundTruth {
    return this.record({
      kind,
      deviceId: d.p.id,
      mac: macToString(d.mac),
      ip: ip4ToString(d.ip),
      startMs: start / US,
      endMs: end / US,
      peer,
      detail,
    });
  }

  /**
   * A horizontal TCP SYN scan of the LAN from `d`: an ARP sweep of the /24, then SYNs to every host that
   * answered × SCAN_PORTS in random order; open ports answer SYN-ACK (the scanner resets), closed ports RST,
   * Apple devices drop silently. Hosts are taken when the scan starts; it lasts `dur` (default 30 s).
   */
  private portScan(d: Dev, at: number, dur = 30 * SEC): GroundTruth {
    const r = new Rng(this.seed, `scan:${at}`);
    const arpSecs = 3;
    const end = at + Math.max(dur, (arpSecs + 1) * SEC);
    const live = new Map<number, Dev | null>();
    const probes: [number, number][] = [];
    let hi = 1;
    this.schedule(at, (now) => {
      if (hi === 1) {
        live.set(GW_IP, null);
        for (const o of this.devs) if (o !== d && o.online && o.ip) live.set(o.ip, o);
        for (const ip of live.keys()) for (const port of SCAN_PORTS) probes.push([ip, port]);
        for (let i = probes.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          const a = probes[i] as [number, number];
          probes[i] = probes[j] as [number, number];
          probes[j] = a;
        }
      }
      for (let k = 0; k < 100 && hi < 255; k++, hi++) {
        const ip = LAN_NET + hi;
        const t = now + k * 10 * 1000;
        this.emit(t, arpFrame(1, d.mac, d.ip, 0, ip));
        if (live.has(ip)) {
          const o = live.get(ip);
          this.emit(t + r.range(0.3, 3) * 1000, arpFrame(2, o ? o.mac : this.gwMac, ip, d.mac, d.ip));
        }
      }
      return hi < 255 ? now + SEC : null;
    });
    let pi = 0;
    const sport = 40000 + r.int(20000);
    const scanStart = at + arpSecs * SEC;
    this.schedule(scanStart, (now) => {
      const secsLeft = Math.max(1, Math.round((end - now) / SEC));
      const n = Math.max(1, Math.ceil((probes.length - pi) / secsLeft));
      for (let k = 0; k < n && pi < probes.length; k++, pi++) {
        const [ip, port] = probes[pi] as [number, number];
        const o = live.get(ip) ?? null;
        const t = now + Math.floor((k * SEC) / n);
        const seq = r.u32();
        const peerMac = o ? o.mac : this.gwMac;
        const out = { srcMac: d.mac, dstMac: peerMac, srcIp: d.ip, dstIp: ip, ttl: d.p.ttl };
        this.emit(
          t,
          tcpFrame(
            { ...out, id: d.nextIpId() },
            { srcPort: sport, dstPort: port, seq, ack: 0, flags: TCP_SYN, window: 1024 },
          ),
        );
        if (o !== null && o.p.vendor === 'Apple') continue; // stealth: no answer
        const open = o ? o.p.listen.tcp.includes(port) : port === 80 || port === 443;
        const rt = t + r.range(0.3, 3) * 1000;
        const hdr = {
          srcMac: peerMac,
          dstMac: d.mac,
          srcIp: ip,
          dstIp: d.ip,
          ttl: o ? o.p.ttl : 64,
          id: r.int(65536),
        };
        if (open) {
          this.emit(
            rt,
            tcpFrame(hdr, {
              srcPort: port,
              dstPort: sport,
              seq: r.u32(),
              ack: (seq + 1) >>> 0,
              flags: TCP_SYN | TCP_ACK,
            }),
          );
          this.emit(
            rt + 50,
            tcpFrame(
              { ...out, id: d.nextIpId() },
              { srcPort: sport, dstPort: port, seq: (seq + 1) >>> 0, ack: 0, flags: TCP_RST, window: 0 },
            ),
          );
        } else {
          this.emit(
            rt,
            tcpFrame(hdr, {
              srcPort: port,
              dstPort: sport,
              seq: 0,
              ack: (seq + 1) >>> 0,
              flags: TCP_RST | TCP_ACK,
              window: 0,
            }),
          );
        }
      }
      return pi < probes.length ? now + SEC : null;
    });
    return this.truthFor(
      'port_scan',
      d,
      at,
      end,
      null,
      `TCP SYN scan of the LAN hosts × ${SCAN_PORTS.length} ports (${SCAN_PORTS.join(',')})`,
    );
  }

  private telnetBruteforce(victim: Dev, at: number, dur: number): GroundTruth {
    const r = new Rng(this.seed, `brute:${at}`);
    const attacker = DOC_ATTACK + 100 + r.int(100);
    const end = at + dur;
    let ci = r.int(TELNET_CREDS.length);
    this.schedule(at, (now) => {
      if (now >= end) return null;
      const c = this.conv(
        this.internetEndpoint(attacker, 32768 + r.int(28000), r),
        this.endpoint(victim, 23),
        now,
        r.range(30, 120) * 1000,
        r,
      );
      c.handshake();
      c.sendAcked(false, TELNET_SERVER_HELLO);
      c.sendAcked(true, TELNET_CLIENT_HELLO);
      c.sendAcked(false, text(`\r\n${victim.hostname} login: `));
      const attempts = 1 + r.int(3);
      for (let i = 0; i < attempts; i++) {
        const [u, p] = TELNET_CREDS[ci++ % TELNET_CREDS.length] ?? ['root', 'root'];
        c.sendAcked(true, text(`${u}\r\n`));
        c.sendAcked(false, text('Password: '));
        c.sendAcked(true, text(`${p}\r\n`));
        c.wait(r.range(0.8, 2) * SEC);
        c.sendAcked(
          false,
          text(i + 1 < attempts ? '\r\nLogin incorrect\r\n\r\nlogin: ' : '\r\nLogin incorrect\r\n'),
        );
      }
      if (r.chance(0.5)) c.close(false);
      else c.reset(true);
      return now + r.range(2, 6) * SEC;
    });
    return this.truthFor(
      'telnet_bruteforce',
      victim,
      at,
      end,
      ip4ToString(attacker),
      'inbound telnet (TCP 23) login brute force with Mirai default credentials',
    );
  }

  private miraiScan(d: Dev, at: number, dur: number): GroundTruth {
    const r = new Rng(this.seed, `mirai:${at}`);
    const end = at + dur;
    const rate = 25 + r.int(15);
    const ranges = [...DOC_BENIGN, DOC_ATTACK];
    this.schedule(at, (now) => {
      if (now >= end) return null;
      for (let k = 0; k < rate; k++) {
        const t = now + (k * SEC) / rate;
        const dst = (ranges[r.int(ranges.length)] ?? DOC_ATTACK) + 1 + r.int(254);
        const port = r.chance(0.9) ? 23 : 2323;
        const sport = 1024 + r.int(64000);
        // Mirai's signature: the TCP sequence number equals the destination address.
        this.emit(
          t,
          tcpFrame(
            {
              srcMac: d.mac,
              dstMac: this.gwMac,
              srcIp: d.ip,
              dstIp: dst,
              ttl: 64,
              id: r.int(65536),
              df: false,
            },
            { srcPort: sport, dstPort: port, seq: dst, ack: 0, flags: TCP_SYN, window: r.int(65536) },
          ),
        );
        if (r.chance(0.03)) {
          this.emit(
            t + r.range(20, 150) * 1000,
            tcpFrame(
              { srcMac: this.gwMac, dstMac: d.mac, srcIp: dst, dstIp: d.ip, ttl: 50, id: r.int(65536) },
              {
                srcPort: port,
                dstPort: sport,
                seq: 0,
                ack: (dst + 1) >>> 0,
                flags: TCP_RST | TCP_ACK,
                window: 0,
              },
            ),
          );
        }
      }
      return now + SEC;
    });
    return this.truthFor(
      'mirai_scan',
      d,
      at,
      end,
      null,
      `Mirai-style telnet scanning of random internet hosts on 23/2323 at ~${rate} SYN/s`,
    );
  }

  private c2Beacon(d: Dev, at: number, dur: number): GroundTruth {
    const r = new Rng(this.seed, `c2:${at}`);
    const interval = (30 + r.int(4) * 30) * SEC;
    const port = r.pick([443, 8080, 6667, 4444]);
    const end = at + dur;
    let label = '';
    for (let i = 0; i < 12; i++) label += BASE32[r.int(26)];
    const domain = `${label}.c2-relay.example`;
    const c2 = internetAddress(domain, true);
    let first = true;
    this.schedule(at, (now) => {
      if (now >= end) return null;
      let t = now;
      if (first) {
        // A couple of failed DGA lookups, then the live one.
        for (let i = 0; i < 2; i++) {
          let bad = '';
          for (let j = 0; j < 14; j++) bad += BASE32[r.int(26)];
          const name = `${bad}.example`;
          const id = r.int(65536);
          const sp = 32768 + r.int(28000);
          this.udpFrom(d, t, this.gwMac, GW_IP, sp, 53, dnsQuery(id, name, RR.A));
          this.udpFromGw(t + 20 * 1000, GW_IP, d.mac, d.ip, 53, sp, dnsResponse(id, name, RR.A, null));
          t += 100 * 1000;
        }
        first = false;
      }
      const res = this.resolveAttack(d, t, domain, c2);
      const c = this.conv(
        { mac: d.mac, ip: d.ip, port: 32768 + r.int(28000), ttl: d.p.ttl },
        this.internetEndpoint(c2, port, r),
        res,
        r.range(60, 150) * 1000,
        r,
      );
      c.handshake();
      c.exchange(noise(48 + r.int(32), r.u32()), noise(16 + r.int(24), r.u32()), r.range(5, 40) * 1000);
      c.close(true);
      return now + interval + r.range(-1.5, 1.5) * SEC;
    });
    return this.truthFor(
      'c2_beacon',
      d,
      at,
      end,
      ip4ToString(c2),
      `TCP ${port} beacon every ${interval / SEC} s ± 1.5 s to ${domain}`,
    );
  }

  private resolveAttack(d: Dev, now: number, name: string, ip: number): number {
    const exp = d.dnsCache.get(name);
    if (exp !== undefined && exp > now) return now;
    const id = d.rng.int(65536);
    const sp = 32768 + d.rng.int(28000);
    this.udpFrom(d, now, this.gwMac, GW_IP, sp, 53, dnsQuery(id, name, RR.A));
    this.udpFromGw(
      now + 25 * 1000,
      GW_IP,
      d.mac,
      d.ip,
      53,
      sp,
      dnsResponse(id, name, RR.A, [{ name, type: RR.A, ttl: 300, data: { a: ip } }]),
    );
    d.dnsCache.set(name, now + 300 * SEC);
    return now + 26 * 1000;
  }

  private ddos(d: Dev, at: number, dur: number): GroundTruth {
    const r = new Rng(this.seed, `ddos:${at}`);
    const target = DOC_ATTACK + 200 + r.int(50);
    const syn = r.chance(0.5);
    const dport = syn ? 80 : r.pick([53, 80, 123, 443]);
    const pps = 400 + r.int(200);
    const end = at + dur;
    const payload = noise(512, r.u32());
    this.schedule(at, (now) => {
      if (now >= end) return null;
      for (let k = 0; k < pps; k++) {
        const t = now + Math.floor((k * SEC) / pps);
        const hdr = {
          srcMac: d.mac,
          dstMac: this.gwMac,
          srcIp: d.ip,
          dstIp: target,
          ttl: 64,
          id: r.int(65536),
          df: false,
        };
        const sport = 1024 + r.int(64000);
        this.emit(
          t,
          syn
            ? tcpFrame(hdr, {
                srcPort: sport,
                dstPort: dport,
                seq: r.u32(),
                ack: 0,
                flags: TCP_SYN,
                window: r.int(65536),
              })
            : udpFrame(hdr, sport, dport, payload),
        );
      }
      return now + SEC;
    });
    return this.truthFor(
      'ddos',
      d,
      at,
      end,
      ip4ToString(target),
      `${syn ? 'TCP SYN' : 'UDP'} flood to port ${dport} at ~${pps} packets/s`,
    );
  }

  private dnsTunnel(d: Dev, at: number, dur: number): GroundTruth {
    const r = new Rng(this.seed, `tunnel:${at}`);
    const zone = 't.exfil-cdn.example';
    const end = at + dur;
    let n = 0;
    const rand = (len: number): string => {
      let s = '';
      for (let i = 0; i < len; i++) s += BASE32[r.int(32)];
      return s;
    };
    this.schedule(at, (now) => {
      if (now >= end) return null;
      const name = `${rand(50 + r.int(13))}.${rand(30 + r.int(20))}.${(n++).toString(16)}.${zone}`;
      const id = r.int(65536);
      const sp = 32768 + r.int(28000);
      this.udpFrom(d, now, this.gwMac, GW_IP, sp, 53, dnsQuery(id, name, RR.TXT));
      this.udpFromGw(
        now + r.range(30, 90) * 1000,
        GW_IP,
        d.mac,
        d.ip,
        53,
        sp,
        dnsPayload({
          id,
          flags: 0x8180,
          questions: [{ name, type: RR.TXT }],
          answers: [{ name, type: RR.TXT, ttl: 0, data: { txt: [rand(120 + r.int(100))] } }],
        }),
      );
      return now + r.range(0.3, 0.7) * SEC;
    });
    return this.truthFor(
      'dns_tunnel',
      d,
      at,
      end,
      zone,
      'DNS tunnelling: long random TXT queries under one zone, ~2/s',
    );
  }
}

/** Builds the demo network. Nothing is generated until nextBatch/frames is called. */
export function createDemoNetwork(opts: DemoNetworkOptions): DemoNetwork {
  return new Network(opts);
}
