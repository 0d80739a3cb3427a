/**
 * Suricata EVE JSON source (one JSON object per line): `flow` → flows, `alert` → external alerts, `dns`
 * (queries), `tls` (SNI, JA3, JA4), `http` (User-Agent), `dhcp` (client host name, requested IP, vendor class)
 * → device observations. Other event types (stats, anomaly, fileinfo, netflow …) are counted as skipped.
 *
 * Schema notes (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html):
 * - `timestamp` is ISO 8601 with a "+0000" offset; flow.start/flow.end likewise.
 * - flow.bytes_toserver/toclient count whole packets as Suricata saw them (including the link-layer header),
 *   not IP bytes like Zeek's orig_ip_bytes: kept as they are. EVE has no payload byte counts (left 0).
 * - DNS: v1/v2 records carry `rrname` with `type: "query"`; v3 (Suricata 8) `queries: [{rrname}]` with
 *   `type: "request"`.
 * - dhcp.params is a lossy list of names (Suricata logs only 8 known options), so no DHCP fingerprint is
 *   derived from it; client_id is logged without its type byte, so it is not used either.
 *
 * Bad lines never throw: they are skipped and counted with their line number and byte offset.
 */
import { appProtoByPort } from '../../flows/app-proto.js';
import type { Observation, ObservationKind } from '../../flows/observations.js';
import type { CloseReason, ConnState } from '../../flows/types.js';
import { TcpFlag } from '../../wire/packet/types.js';
import type { ExternalAlert, IngestFlow, SourceItem } from '../types.js';
import type { LogInput, LogReadOptions, LogReader, LogReadState } from '../zeek/lines.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  LineKindError,
  logReader,
  recordLineError,
  splitLines,
} from '../zeek/lines.js';
import type { ParsedIp } from '../zeek/values.js';
import {
  capStr,
  communityIdOf,
  isoToMicros,
  normalizeMac,
  parseIp,
  protoNumber,
  toCount,
  toPort,
} from '../zeek/values.js';

export type EveReadOptions = LogReadOptions;

export type EveReader = LogReader;

/** Reads Suricata EVE JSON lines (path or stream). Iterate it; `reader.state` has stats and the checkpoint. */
export function readSuricataEve(input: LogInput, opts: EveReadOptions = {}): EveReader {
  return logReader(run, input, opts);
}

async function* run(
  input: LogInput,
  opts: EveReadOptions,
  state: LogReadState,
): AsyncGenerator<SourceItem, void, undefined> {
  const src = opts.source ?? (typeof input === 'string' ? input : 'stream');
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const seed = opts.communityIdSeed ?? 0;
  const fail = (lineNo: number, offset: number, kind: string, message: string): void =>
    recordLineError(
      state,
      { line: lineNo, offset, kind, message: `${src}:${lineNo} (byte ${offset}): ${message}` },
      opts.onError,
    );
  const lines = splitLines(input, state.stats, {
    startOffset: opts.startOffset ?? 0,
    maxLineBytes,
    onTooLong: (lineNo, start, end) => {
      state.lines++;
      fail(lineNo, start, 'line_too_long', `line longer than ${maxLineBytes} bytes skipped`);
      state.offset = end;
    },
  });
  for await (const line of lines) {
    state.lines++;
    let items: SourceItem[] = [];
    if (line.text.trim() !== '') {
      try {
        const r = eveEventToItems(line.text, seed);
        state.stats.records++;
        if (r === 'skip') state.skipped++;
        else items = r;
      } catch (e) {
        fail(
          line.lineNo,
          line.start,
          e instanceof LineKindError ? e.kind : 'malformed',
          e instanceof Error ? e.message : String(e),
        );
      }
    }
    if (items.length === 0) {
      state.offset = line.end;
      continue;
    }
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (!it) continue;
      if (it.kind === 'flow') state.stats.flows++;
      if (i === items.length - 1) state.offset = line.end;
      yield it;
    }
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function obj(o: Obj, k: string): Obj | null {
  const v = o[k];
  return isObj(v) ? v : null;
}

function text(o: Obj | null, k: string, max?: number): string | null {
  const v = o?.[k];
  return typeof v === 'string' && v !== '' ? capStr(v, max) : null;
}

function num(o: Obj | null, k: string): number | null {
  return toCount(o?.[k]);
}

function ipOf(o: Obj, k: string, required: boolean): ParsedIp | null {
  const v = o[k];
  const ip = typeof v === 'string' ? parseIp(v) : null;
  if (ip === null && required) throw new LineKindError('malformed', `${k}: missing or invalid address`);
  return ip;
}

function timeOf(o: Obj | null, k: string): number | null {
  const v = o?.[k];
  return typeof v === 'string' ? isoToMicros(v) : null;
}

/** Ether addresses: `ether.src_mac` (packet events) or the first of `ether.src_macs` (flow events, 7.0+). */
function macOf(o: Obj, which: 'src' | 'dest'): string | null {
  const e = obj(o, 'ether');
  if (!e) return null;
  const one = e[`${which}_mac`];
  if (typeof one === 'string') return normalizeMac(one);
  const many = e[`${which}_macs`];
  if (Array.isArray(many) && typeof many[0] === 'string') return normalizeMac(many[0]);
  return null;
}

interface Tuple {
  src: ParsedIp;
  dst: ParsedIp;
  proto: number;
  sport: number | null;
  dport: number | null;
}

function tupleOf(e: Obj): Tuple {
  const src = ipOf(e, 'src_ip', true);
  const dst = ipOf(e, 'dest_ip', true);
  if (!src || !dst) throw new LineKindError('malformed', 'missing address');
  const v6 = src.bytes.length === 16;
  const p = e.proto;
  const proto = typeof p === 'string' ? protoNumber(p, v6) : typeof p === 'number' ? toCount(p) : null;
  if (proto === null || proto > 255) throw new LineKindError('malformed', 'proto: missing or invalid');
  let sport: number | null = null;
  let dport: number | null = null;
  if (proto === 1 || proto === 58) {
    sport = toPort(e.icmp_type);
    dport = toPort(e.icmp_code);
  } else if (proto === 6 || proto === 17 || proto === 132) {
    sport = toPort(e.src_port);
    dport = toPort(e.dest_port);
  }
  return { src, dst, proto, sport, dport };
}

function communityOf(e: Obj, t: Tuple, seed: number): string {
  const c = e.community_id;
  if (typeof c === 'string' && /^1:[A-Za-z0-9+/]{27}=$/.test(c)) return c;
  return communityIdOf(t.src, t.dst, t.proto, t.sport, t.dport, seed);
}

/** Converts one EVE line into items ('skip' for event types we do not use). Throws LineKindError. */
export function eveEventToItems(line: string, seed = 0): SourceItem[] | 'skip' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new LineKindError('malformed', 'invalid JSON');
  }
  if (!isObj(parsed)) throw new LineKindError('malformed', 'not a JSON object');
  const e = parsed;
  const type = e.event_type;
  if (typeof type !== 'string') throw new LineKindError('malformed', 'event_type: missing');
  switch (type) {
    case 'flow':
      return [{ kind: 'flow', flow: flowOf(e, seed) }];
    case 'alert':
      return [{ kind: 'alert', alert: alertOf(e, seed) }];
    case 'dns':
      return dnsOf(e);
    case 'tls':
      return observe(e, [
        ['tls_sni', text(obj(e, 'tls'), 'sni', 255)],
        ['tls_ja3', text(obj(obj(e, 'tls') ?? {}, 'ja3'), 'hash', 64)],
        ['tls_ja4', ja4Of(obj(e, 'tls'))],
      ]);
    case 'http':
      return observe(e, [['http_user_agent', text(obj(e, 'http'), 'http_user_agent')]]);
    case 'dhcp':
      return dhcpOf(e);
    default:
      return 'skip';
  }
}

function ja4Of(tls: Obj | null): string | null {
  if (!tls) return null;
  const v = tls.ja4;
  if (typeof v === 'string') return capStr(v, 64);
  return isObj(v) ? text(v, 'hash', 64) : null;
}

function eventTime(e: Obj): number {
  const ts = timeOf(e, 'timestamp');
  if (ts === null) throw new LineKindError('malformed', 'timestamp: missing or invalid');
  return ts;
}

/** Client-side observations of the event's source (for tls/http the client is src_ip). */
function observe(e: Obj, values: [ObservationKind, string | null][]): SourceItem[] {
  const ts = eventTime(e);
  const ip = ipOf(e, 'src_ip', false)?.text ?? null;
  const mac = macOf(e, 'src');
  const out: SourceItem[] = [];
  for (const [kind, value] of values) {
    if (value === null) continue;
    const observation: Observation = { kind, mac, ip, value, tsMicros: ts };
    out.push({ kind: 'observation', observation });
  }
  return out;
}

function dnsOf(e: Obj): SourceItem[] {
  const dns = obj(e, 'dns');
  if (!dns) return [];
  const t = dns.type;
  if (t !== 'query' && t !== 'request') return []; // answers describe the server side
  if (toPort(e.dest_port) === 5353) return [];
  const names: [ObservationKind, string | null][] = [];
  const rr = text(dns, 'rrname', 255);
  if (rr) names.push(['dns_query', rr]);
  const qs = dns.queries;
  if (Array.isArray(qs)) {
    for (const q of qs.slice(0, 16)) if (isObj(q)) names.push(['dns_query', text(q, 'rrname', 255)]);
  }
  return observe(e, names);
}

function dhcpOf(e: Obj): SourceItem[] {
  const d = obj(e, 'dhcp');
  if (!d || d.type !== 'request') return []; // replies describe the client, not the sender
  const ts = eventTime(e);
  const mac = typeof d.client_mac === 'string' ? normalizeMac(d.client_mac) : null;
  const cip = typeof d.client_ip === 'string' ? parseIp(d.client_ip) : null;
  const ip = cip && cip.text !== '0.0.0.0' ? cip.text : null;
  const req = typeof d.requested_ip === 'string' ? parseIp(d.requested_ip) : null;
  const vals: [ObservationKind, string | null][] = [
    ['dhcp_hostname', text(d, 'hostname', 255)],
    ['dhcp_vendor', text(d, 'vendor_class_identifier', 255)],
    ['dhcp_requested_ip', req && req.text !== '0.0.0.0' ? req.text : null],
  ];
  const out: SourceItem[] = [];
  for (const [kind, value] of vals) {
    if (value === null) continue;
    out.push({ kind: 'observation', observation: { kind, mac, ip, value, tsMicros: ts } });
  }
  return out;
}

function hexFlags(v: unknown): number {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{1,2}$/.test(v)) return 0;
  return parseInt(v, 16);
}

/** Zeek-like conn_state approximated from what EVE gives (per-direction TCP flags and packet counts). */
function connStateOf(proto: number, out: number, inn: number, pktsOut: number, pktsIn: number): ConnState {
  if (proto !== 6) {
    if (pktsOut > 0) return pktsIn > 0 ? 'SF' : 'S0';
    return pktsIn > 0 ? 'SHR' : 'OTH';
  }
  const synOut = (out & TcpFlag.SYN) !== 0;
  if (inn & TcpFlag.RST) return synOut && (inn & TcpFlag.SYN) === 0 ? 'REJ' : 'RSTR';
  if (out & TcpFlag.RST) return 'RSTO';
  if (out & TcpFlag.FIN && inn & TcpFlag.FIN) return 'SF';
  if (synOut && pktsIn === 0) return 'S0';
  if (synOut && inn & TcpFlag.SYN) return out & TcpFlag.FIN ? 'S2' : inn & TcpFlag.FIN ? 'S3' : 'S1';
  return 'OTH';
}

function closeReasonOf(flow: Obj | null, proto: number, cs: ConnState): CloseReason {
  if (proto === 6 && cs === 'SF') return 'fin';
  if (proto === 6 && (cs === 'REJ' || cs.startsWith('RST'))) return 'rst';
  const reason = text(flow, 'reason', 32);
  if (reason === 'timeout') return 'idle';
  return 'end';
}

function flowOf(e: Obj, seed: number): IngestFlow {
  const t = tupleOf(e);
  const f = obj(e, 'flow');
  if (!f) throw new LineKindError('malformed', 'flow: missing');
  const start = timeOf(f, 'start') ?? eventTime(e);
  const end = timeOf(f, 'end') ?? start;
  const tcp = obj(e, 'tcp');
  const out = t.proto === 6 ? hexFlags(tcp?.tcp_flags_ts) : 0;
  const inn = t.proto === 6 ? hexFlags(tcp?.tcp_flags_tc) : 0;
  const pktsOut = num(f, 'pkts_toserver') ?? 0;
  const pktsIn = num(f, 'pkts_toclient') ?? 0;
  const cs = connStateOf(t.proto, out, inn, pktsOut, pktsIn);
  const app = text(e, 'app_proto', 32) ?? text(f, 'app_proto', 32);
  const vlanArr = e.vlan;
  const vlan = Array.isArray(vlanArr) ? toCount(vlanArr[0]) : null;
  return {
    tsStart: start,
    tsEnd: Math.max(start, end),
    srcIp: t.src.text,
    dstIp: t.dst.text,
    srcPort: t.sport,
    dstPort: t.dport,
    proto: t.proto,
    appProto:
      app && app !== 'failed' && app !== 'unknown'
        ? app.toLowerCase()
        : appProtoByPort(t.proto, t.dport ?? -1, t.sport ?? -1),
    bytesOut: num(f, 'bytes_toserver') ?? 0,
    bytesIn: num(f, 'bytes_toclient') ?? 0,
    packetsOut: pktsOut,
    packetsIn: pktsIn,
    payloadBytesOut: 0,
    payloadBytesIn: 0,
    tcpFlagsOut: out,
    tcpFlagsIn: inn,
    connState: cs,
    communityId: communityOf(e, t, seed),
    srcMac: macOf(e, 'src'),
    dstMac: macOf(e, 'dest'),
    vlan: vlan !== null && vlan <= 4095 ? vlan : null,
    sni: null,
    httpHost: null,
    dnsNames: [],
    closeReason: closeReasonOf(f, t.proto, cs),
    uid: null,
    label: null,
  };
}

function alertOf(e: Obj, seed: number): ExternalAlert {
  const a = obj(e, 'alert');
  if (!a) throw new LineKindError('malformed', 'alert: missing');
  const t = tupleOf(e);
  const sid = num(a, 'signature_id');
  if (sid === null) throw new LineKindError('malformed', 'alert.signature_id: missing');
  const sev = num(a, 'severity');
  return {
    tsMicros: eventTime(e),
    engine: 'suricata',
    signatureId: sid,
    signature: text(a, 'signature', 512) ?? '',
    category: text(a, 'category', 256),
    severity: sev !== null && sev >= 1 && sev <= 255 ? sev : 3,
    srcIp: t.src.text,
    srcPort: t.sport,
    dstIp: t.dst.text,
    dstPort: t.dport,
    proto: t.proto,
    communityId: communityOf(e, t, seed),
  };
}
