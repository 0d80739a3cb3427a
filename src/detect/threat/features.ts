/**
 * The flow threat feature set, shared by training (`iotsec train threat`) and inference (`iotsec detect
 * --model`): per-flow shape (duration, bytes/packets/payload each way, ratios), service-class buckets of
 * the ports, protocol, Zeek conn_state one-hot, TCP flag bits per direction, app protocol bucket, address
 * scope, and a per-source 60 s context computed in one pure pass over the flows in start-time order
 * (distinct destinations and ports the source contacted, its flows and unanswered flows, flows to the same
 * destination from anyone, flows of the same source→destination pair). Only the past is used, so live and
 * offline extraction agree; ties in start time keep input order, so the result is deterministic.
 */
import { CONN_STATES } from '../../flows/types.js';
import { featureSetSignature, type FeatureSet, type FeatureSpec } from '../../ml/features/feature-set.js';
import type { Matrix } from '../../ml/matrix.js';
import type { FlowRecord } from '../../flows/types.js';

export const CONTEXT_WINDOW_US = 60_000_000;

/** Per-flow context from the flows before it (same source / same destination within 60 s). */
export interface FlowContext {
  srcDistinctDst: number;
  srcDistinctDport: number;
  srcFlows: number;
  srcUnanswered: number;
  dstFlows: number;
  pairFlows: number;
}

export interface ThreatFeatureInput {
  flow: FlowRecord;
  ctx: FlowContext;
}

const FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'] as const;
const APP_PROTOS = [
  'dns',
  'mdns',
  'dhcp',
  'ssdp',
  'http',
  'tls',
  'mqtt',
  'ntp',
  'ssh',
  'telnet',
  'ftp',
] as const;

/** Service classes of a port (destination port buckets). */
const PORT_CLASSES: readonly { name: string; test: (p: number) => boolean }[] = [
  { name: 'telnet', test: (p) => p === 23 || p === 2323 },
  { name: 'ssh', test: (p) => p === 22 },
  { name: 'ftp', test: (p) => p === 20 || p === 21 },
  { name: 'http', test: (p) => p === 80 || p === 8080 || p === 8000 || p === 8081 || p === 8008 },
  { name: 'https', test: (p) => p === 443 || p === 8443 },
  { name: 'dns', test: (p) => p === 53 || p === 5353 || p === 5355 },
  { name: 'ntp', test: (p) => p === 123 },
  { name: 'dhcp', test: (p) => p === 67 || p === 68 },
  { name: 'mqtt', test: (p) => p === 1883 || p === 8883 },
  { name: 'upnp', test: (p) => p === 1900 },
  { name: 'vnc_rdp', test: (p) => (p >= 5900 && p <= 5910) || p === 3389 },
  { name: 'smb_rpc', test: (p) => p === 135 || p === 139 || p === 445 },
  { name: 'mail', test: (p) => p === 25 || p === 110 || p === 143 || p === 587 || p === 993 },
  { name: 'other_wellknown', test: (p) => p < 1024 },
  { name: 'registered', test: (p) => p >= 1024 && p < 49152 },
  { name: 'ephemeral', test: (p) => p >= 49152 },
];

function portClass(p: number | null): number {
  if (p === null) return -1;
  return PORT_CLASSES.findIndex((c) => c.test(p));
}

function isPrivate(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.|169\.254\.|f[cd]|fe80:|::1$)/i.test(ip);
}

function isGroup(ip: string): boolean {
  return /^(22[4-9]|23\d)\./.test(ip) || ip === '255.255.255.255' || /\.255$/.test(ip) || /^ff/i.test(ip);
}

const specs: FeatureSpec[] = [];
const add = (name: string, description: string, min?: number, max?: number) =>
  specs.push({
    name,
    description,
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
  });
add('log_duration_s', 'log1p(duration in seconds)', 0);
for (const d of ['out', 'in'] as const) {
  add(`log_bytes_${d}`, `log1p(IP bytes ${d})`, 0);
  add(`log_packets_${d}`, `log1p(packets ${d})`, 0);
  add(`log_payload_${d}`, `log1p(payload bytes ${d})`, 0);
  add(`mean_packet_${d}`, `IP bytes per packet ${d}`, 0);
}
add('bytes_out_ratio', 'bytes out / (out + in)', 0, 1);
add('packets_out_ratio', 'packets out / (out + in)', 0, 1);
add('answered', '1 when the responder sent anything', 0, 1);
add('log_rate_pps', 'log1p(packets per second)', 0);
for (const p of ['tcp', 'udp', 'icmp', 'other']) add(`proto_${p}`, `IP protocol is ${p}`, 0, 1);
for (const c of PORT_CLASSES) add(`dport_${c.name}`, `destination port in the ${c.name} class`, 0, 1);
add('sport_wellknown', 'source port < 1024', 0, 1);
add('sport_ephemeral', 'source port >= 32768', 0, 1);
for (const s of CONN_STATES) add(`state_${s}`, `conn_state ${s}`, 0, 1);
for (const d of ['out', 'in'] as const)
  for (const f of FLAGS) add(`flag_${d}_${f}`, `TCP ${f.toUpperCase()} seen ${d}`, 0, 1);
for (const a of APP_PROTOS) add(`app_${a}`, `application protocol ${a}`, 0, 1);
add('app_other', 'another recognised application protocol', 0, 1);
add('app_none', 'no application protocol recognised', 0, 1);
add('src_private', 'source address is private/link-local', 0, 1);
add('dst_private', 'destination address is private/link-local', 0, 1);
add('dst_group', 'destination is multicast or broadcast', 0, 1);
add('has_name', 'the flow carries a DNS name, SNI or HTTP host', 0, 1);
add('max_dns_label_len', 'longest DNS label queried (0 when none)', 0);
add('ctx_src_distinct_dst', 'log1p(distinct destinations of the source in the last 60 s)', 0);
add('ctx_src_distinct_dport', 'log1p(distinct destination ports of the source in the last 60 s)', 0);
add('ctx_src_flows', 'log1p(flows of the source in the last 60 s)', 0);
add('ctx_src_unanswered_ratio', 'share of the source flows in the last 60 s without any reply', 0, 1);
add('ctx_dst_flows', 'log1p(flows to the same destination in the last 60 s)', 0);
add('ctx_pair_flows', 'log1p(flows of the same source→destination in the last 60 s)', 0);

const INDEX = new Map(specs.map((s, i) => [s.name, i]));
function idx(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`no feature ${name}`);
  return i;
}
const I_CTX = idx('ctx_src_distinct_dst');

function extract({ flow: f, ctx }: ThreatFeatureInput): Float64Array {
  const row = new Float64Array(specs.length);
  let k = 0;
  const dur = Math.max(0, (f.tsEnd - f.tsStart) / 1e6);
  row[k++] = Math.log1p(dur);
  for (const [b, p, pl] of [
    [f.bytesOut, f.packetsOut, f.payloadBytesOut],
    [f.bytesIn, f.packetsIn, f.payloadBytesIn],
  ] as const) {
    row[k++] = Math.log1p(b);
    row[k++] = Math.log1p(p);
    row[k++] = Math.log1p(pl);
    row[k++] = p > 0 ? b / p : 0;
  }
  row[k++] = f.bytesOut + f.bytesIn > 0 ? f.bytesOut / (f.bytesOut + f.bytesIn) : 0;
  row[k++] = f.packetsOut + f.packetsIn > 0 ? f.packetsOut / (f.packetsOut + f.packetsIn) : 0;
  row[k++] = f.packetsIn > 0 || f.bytesIn > 0 ? 1 : 0;
  row[k++] = Math.log1p((f.packetsOut + f.packetsIn) / Math.max(dur, 0.001));
  const proto = f.proto === 6 ? 0 : f.proto === 17 ? 1 : f.proto === 1 || f.proto === 58 ? 2 : 3;
  row[k + proto] = 1;
  k += 4;
  const pc = portClass(f.dstPort);
  if (pc >= 0 && f.proto !== 1 && f.proto !== 58) row[k + pc] = 1;
  k += PORT_CLASSES.length;
  const sp = f.proto === 1 || f.proto === 58 ? null : f.srcPort;
  row[k++] = sp !== null && sp < 1024 ? 1 : 0;
  row[k++] = sp !== null && sp >= 32768 ? 1 : 0;
  const cs = CONN_STATES.indexOf(f.connState);
  if (cs >= 0) row[k + cs] = 1;
  k += CONN_STATES.length;
  for (const flags of [f.tcpFlagsOut, f.tcpFlagsIn]) {
    // TcpFlag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20.
    for (let b = 0; b < FLAGS.length; b++) row[k++] = flags & (1 << b) ? 1 : 0;
  }
  const ap = f.appProto === null ? -2 : (APP_PROTOS as readonly string[]).indexOf(f.appProto);
  if (ap >= 0) row[k + ap] = 1;
  k += APP_PROTOS.length;
  row[k++] = ap === -1 ? 1 : 0;
  row[k++] = ap === -2 ? 1 : 0;
  row[k++] = isPrivate(f.srcIp) ? 1 : 0;
  row[k++] = isPrivate(f.dstIp) ? 1 : 0;
  row[k++] = isGroup(f.dstIp) ? 1 : 0;
  row[k++] = f.dnsNames.length > 0 || f.sni || f.httpHost ? 1 : 0;
  let longest = 0;
  for (const n of f.dnsNames) for (const l of n.split('.')) longest = Math.max(longest, l.length);
  row[k++] = longest;
  if (k !== I_CTX) throw new Error(`threat features: column ${k} != ${I_CTX}`);
  row[k++] = Math.log1p(ctx.srcDistinctDst);
  row[k++] = Math.log1p(ctx.srcDistinctDport);
  row[k++] = Math.log1p(ctx.srcFlows);
  row[k++] = ctx.srcFlows > 0 ? ctx.srcUnanswered / ctx.srcFlows : 0;
  row[k++] = Math.log1p(ctx.dstFlows);
  row[k++] = Math.log1p(ctx.pairFlows);
  return row;
}

export const THREAT_FEATURES: FeatureSet<ThreatFeatureInput> = {
  name: 'flow-threat',
  version: 1,
  features: specs,
  extract,
};

export const THREAT_SIGNATURE = featureSetSignature(THREAT_FEATURES);

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v <= 0) m.delete(k);
  else m.set(k, v);
}

/**
 * The 60 s context of every flow (same order as `flows`), from the flows that started in the 60 s before
 * it, itself included. Pure: sorts indices by start time (stable) and slides one window per source and
 * per destination.
 */
export function flowContexts(flows: readonly FlowRecord[]): FlowContext[] {
  const order = flows.map((_, i) => i);
  order.sort((a, b) => (flows[a] as FlowRecord).tsStart - (flows[b] as FlowRecord).tsStart || a - b);
  interface SrcWin {
    q: number[];
    head: number;
    dsts: Map<string, number>;
    dports: Map<string, number>;
    unanswered: number;
  }
  const bySrc = new Map<string, SrcWin>();
  const byDst = new Map<string, { q: number[]; head: number }>();
  const out: FlowContext[] = new Array<FlowContext>(flows.length);
  const unanswered = (f: FlowRecord) => f.packetsIn === 0 && f.bytesIn === 0;
  for (const i of order) {
    const f = flows[i] as FlowRecord;
    const since = f.tsStart - CONTEXT_WINDOW_US;
    let s = bySrc.get(f.srcIp);
    if (!s) {
      s = { q: [], head: 0, dsts: new Map(), dports: new Map(), unanswered: 0 };
      bySrc.set(f.srcIp, s);
    }
    while (s.head < s.q.length && (flows[s.q[s.head] as number] as FlowRecord).tsStart < since) {
      const o = flows[s.q[s.head++] as number] as FlowRecord;
      bump(s.dsts, o.dstIp, -1);
      bump(s.dports, `${o.proto}/${o.dstPort ?? '-'}`, -1);
      if (unanswered(o)) s.unanswered--;
    }
    if (s.head > 4096 && s.head * 2 > s.q.length) {
      s.q = s.q.slice(s.head);
      s.head = 0;
    }
    s.q.push(i);
    bump(s.dsts, f.dstIp, 1);
    bump(s.dports, `${f.proto}/${f.dstPort ?? '-'}`, 1);
    if (unanswered(f)) s.unanswered++;
    let d = byDst.get(f.dstIp);
    if (!d) {
      d = { q: [], head: 0 };
      byDst.set(f.dstIp, d);
    }
    while (d.head < d.q.length && (flows[d.q[d.head] as number] as FlowRecord).tsStart < since) d.head++;
    if (d.head > 4096 && d.head * 2 > d.q.length) {
      d.q = d.q.slice(d.head);
      d.head = 0;
    }
    d.q.push(i);
    out[i] = {
      srcDistinctDst: s.dsts.size,
      srcDistinctDport: s.dports.size,
      srcFlows: s.q.length - s.head,
      srcUnanswered: s.unanswered,
      dstFlows: d.q.length - d.head,
      pairFlows: s.dsts.get(f.dstIp) ?? 0,
    };
  }
  return out;
}

/** The feature matrix of a capture's flows (rows in the order of `flows`). */
export function threatMatrix(flows: readonly FlowRecord[]): Matrix {
  const ctx = flowContexts(flows);
  const nCols = specs.length;
  const data = new Float64Array(flows.length * nCols);
  flows.forEach((flow, r) => data.set(extract({ flow, ctx: ctx[r] as FlowContext }), r * nCols));
  return { data, nRows: flows.length, nCols };
}
