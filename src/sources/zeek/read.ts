/**
 * Zeek log source: conn.log → flows; dns.log, dhcp.log, ssl.log, http.log, mqtt_connect.log → device
 * observations. Reads Zeek's TSV format (header directives #separator, #set_separator, #empty_field,
 * #unset_field, #path, #fields, #types, #open/#close; several header blocks may follow each other) and JSON
 * lines (ts as epoch seconds or ISO 8601; flattened "id.orig_h" keys or a nested "id" object), line by line.
 *
 * Formats met in the wild that are handled:
 * - IoT-23 labelled logs: the last columns `tunnel_parents label detailed-label` are separated by runs of
 *   spaces instead of the separator, both in #fields/#types and in every row; CRLF line endings.
 * - `zeek-cut -m` output (a first line of field names, no directives) and plain `zeek-cut` output (pass the
 *   column names in `fields`); the log kind then comes from `path` or the file name.
 *
 * Bad input never throws: a malformed line is skipped and counted (kind + line number + byte offset).
 */
import path from 'node:path';
import { appProtoByPort } from '../../flows/app-proto.js';
import type { Observation, ObservationKind } from '../../flows/observations.js';
import { CONN_STATES, type ConnState } from '../../flows/types.js';
import { TcpFlag } from '../../wire/packet/types.js';
import type { IngestFlow, SourceItem } from '../types.js';
import type { LogInput, LogReadOptions, LogReader, LogReadState } from './lines.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  LineKindError,
  logReader,
  newLogReadState,
  recordLineError,
  splitLines,
} from './lines.js';
import type { ParsedIp } from './values.js';
import {
  anyTimeToMicros,
  capStr,
  communityIdOf,
  epochTextToMicros,
  normalizeMac,
  parseIp,
  protoNumber,
  secondsToMicros,
  toCount,
  toPort,
} from './values.js';

/** Zeek logs turned into items; rows of other logs are counted in state.skipped. */
export type ZeekLogKind = 'conn' | 'dns' | 'dhcp' | 'ssl' | 'http' | 'mqtt_connect';

export interface ZeekReadOptions extends LogReadOptions {
  /** Log kind when the input does not say (#path / _path); default: guessed from the file name. */
  path?: string;
  /** Column names for header-less TSV (plain `zeek-cut` output). */
  fields?: string[];
}

/** The async generator of items, with its progress (stats, checkpoint offset, line errors). */
export type ZeekLogReader = LogReader;

/** Reads a Zeek log (path or stream). Iterate it; read `reader.state` for stats and the checkpoint offset. */
export function readZeekLog(input: LogInput, opts: ZeekReadOptions = {}): ZeekLogReader {
  return logReader(run, input, opts);
}

async function* run(
  input: LogInput,
  opts: ZeekReadOptions,
  state: LogReadState,
): AsyncGenerator<SourceItem, void, undefined> {
  const src = opts.source ?? (typeof input === 'string' ? input : 'stream');
  const parser = new ZeekParser(opts, typeof input === 'string' ? input : (opts.source ?? null));
  const startOffset = opts.startOffset ?? 0;
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (typeof input === 'string' && startOffset > 0) {
    // Resuming: learn the first header block from the top of the file.
    const scratch = newLogReadState();
    for await (const line of splitLines(input, scratch.stats, { maxLineBytes })) {
      if (line.start >= startOffset || !line.text.startsWith('#')) break;
      parser.header(line.text);
    }
  }
  const fail = (lineNo: number, offset: number, kind: string, message: string): void =>
    recordLineError(
      state,
      { line: lineNo, offset, kind, message: `${src}:${lineNo} (byte ${offset}): ${message}` },
      opts.onError,
    );
  const lines = splitLines(input, state.stats, {
    startOffset,
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
    try {
      const r = parser.line(line.text);
      if (r !== null) {
        state.stats.records++;
        if (r === 'skip') state.skipped++;
        else items = r;
      }
    } catch (e) {
      const kind = e instanceof LineKindError ? e.kind : 'malformed';
      fail(line.lineNo, line.start, kind, e instanceof Error ? e.message : String(e));
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

// ---------------------------------------------------------------------------------------------------------
// Rows: one accessor over TSV columns and JSON objects.
// ---------------------------------------------------------------------------------------------------------

/** A field value: undefined when absent, null when unset, else text (TSV) or the JSON value. */
type Raw = string | number | boolean | unknown[] | Record<string, unknown> | null | undefined;

interface Row {
  raw(name: string): Raw;
  has(name: string): boolean;
}

const ESC_RUN = /(?:\\x[0-9a-fA-F]{2})+/g;

/** Zeek escapes the separator and non-printable bytes as \xHH; runs are decoded as UTF-8. */
function unescapeZeek(s: string): string {
  if (!s.includes('\\x')) return s;
  return s.replace(ESC_RUN, (run) => Buffer.from(run.replace(/\\x/g, ''), 'hex').toString('utf8'));
}

class TsvRow implements Row {
  constructor(
    private readonly p: ZeekParser,
    private readonly cols: string[],
  ) {}
  has(name: string): boolean {
    return this.p.index.has(name);
  }
  raw(name: string): Raw {
    const i = this.p.index.get(name);
    if (i === undefined) return undefined;
    const v = this.cols[i];
    if (v === undefined || v === this.p.unset) return null;
    if (v === this.p.empty) return '';
    return unescapeZeek(v);
  }
}

class JsonRow implements Row {
  constructor(private readonly o: Record<string, unknown>) {}
  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }
  raw(name: string): Raw {
    if (Object.hasOwn(this.o, name)) return this.o[name] as Raw;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const parent = this.o[name.slice(0, dot)];
      if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) {
        const rest = name.slice(dot + 1);
        const p = parent as Record<string, unknown>;
        if (Object.hasOwn(p, rest)) return p[rest] as Raw;
      }
    }
    return undefined;
  }
}

function str(row: Row, name: string, max?: number): string | null {
  const v = row.raw(name);
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return capStr(v, max);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return capStr(v.map(String).join(','), max);
  return null;
}

function list(row: Row, name: string, setSep: string): string[] {
  const v = row.raw(name);
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.slice(0, 64).map((x) => capStr(String(x)));
  if (typeof v === 'string') return v.split(setSep, 64).map((x) => capStr(x));
  return [String(v)];
}

function count(row: Row, name: string): number | null {
  const v = row.raw(name);
  if (v === undefined || v === null || v === '') return null;
  const n = toCount(v);
  if (n === null) throw new LineKindError('malformed', `${name}: not a count (${capStr(String(v), 40)})`);
  return n;
}

function port(row: Row, name: string): number | null {
  const v = row.raw(name);
  if (v === undefined || v === null) return null;
  const n = toPort(v);
  if (n === null) throw new LineKindError('malformed', `${name}: not a port (${capStr(String(v), 40)})`);
  return n;
}

function time(row: Row, name: string): number | null {
  const v = row.raw(name);
  if (v === undefined || v === null || v === '') return null;
  const t = anyTimeToMicros(v);
  if (t === null) throw new LineKindError('malformed', `${name}: not a time (${capStr(String(v), 40)})`);
  return t;
}

function interval(row: Row, name: string): number | null {
  const v = row.raw(name);
  if (v === undefined || v === null || v === '') return null;
  const t = typeof v === 'number' ? secondsToMicros(v) : typeof v === 'string' ? epochTextToMicros(v) : null;
  if (t === null) throw new LineKindError('malformed', `${name}: not an interval (${capStr(String(v), 40)})`);
  return t;
}

function addr(row: Row, name: string, required: boolean): ParsedIp | null {
  const v = row.raw(name);
  if (v === undefined || v === null || v === '') {
    if (required) throw new LineKindError('malformed', `${name}: missing address`);
    return null;
  }
  const ip = typeof v === 'string' ? parseIp(v) : null;
  if (ip === null) throw new LineKindError('malformed', `${name}: not an address (${capStr(String(v), 64)})`);
  return ip;
}

function mac(row: Row, name: string): string | null {
  const v = str(row, name, 64);
  return v ? normalizeMac(v) : null;
}

// ---------------------------------------------------------------------------------------------------------
// The parser: header state + per-line conversion.
// ---------------------------------------------------------------------------------------------------------

const KNOWN: readonly ZeekLogKind[] = ['conn', 'dns', 'dhcp', 'ssl', 'http', 'mqtt_connect'];

/** Guesses the log kind from a file name ("conn.log.labeled", "manager.dhcp.log", "ssl-all.log" …). */
export function zeekKindFromName(file: string): ZeekLogKind | null {
  const base = path.basename(file).toLowerCase();
  if (base.includes('mqtt_connect')) return 'mqtt_connect';
  const tokens = base.split(/[.\-_]/);
  for (const k of KNOWN) if (tokens.includes(k)) return k;
  return null;
}

function asKind(p: string | null | undefined): ZeekLogKind | null {
  return p && (KNOWN as readonly string[]).includes(p) ? (p as ZeekLogKind) : null;
}

/** Guesses the kind of a JSON record from its keys (logs written without _path). */
function kindFromKeys(o: Record<string, unknown>): ZeekLogKind | null {
  const has = (k: string): boolean => Object.hasOwn(o, k);
  if (has('conn_state') || has('orig_ip_bytes') || has('history')) return 'conn';
  if (has('qtype_name') || has('rcode_name') || (has('query') && has('trans_id'))) return 'dns';
  if (has('msg_types') || (has('mac') && has('assigned_addr'))) return 'dhcp';
  if (has('server_name') && (has('cipher') || has('version') || has('established'))) return 'ssl';
  if (has('user_agent') || (has('method') && has('uri'))) return 'http';
  if (has('client_id') && has('connect_status')) return 'mqtt_connect';
  return null;
}

const FIELD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const COMMUNITY_ID_RE = /^1:[A-Za-z0-9+/]{27}=$/;
const KNOWN_CONN_STATES = new Set<string>(CONN_STATES);

class ZeekParser {
  sep = '\t';
  setSep = ',';
  empty = '(empty)';
  unset = '-';
  logPath: string | null = null;
  fields: string[] | null = null;
  /** Per separator-delimited column, how many fields it holds (>1: space-separated group, IoT-23). */
  layout: number[] | null = null;
  index = new Map<string, number>();
  private readonly fallbackKind: ZeekLogKind | null;
  private readonly seed: number;

  constructor(
    private readonly opts: ZeekReadOptions,
    fileName: string | null,
  ) {
    this.fallbackKind = asKind(opts.path) ?? (fileName ? zeekKindFromName(fileName) : null);
    this.seed = opts.communityIdSeed ?? 0;
    if (opts.fields) this.setFields(opts.fields.map((f) => [f]));
  }

  private setFields(cols: string[][]): void {
    this.fields = cols.flat().slice(0, 1024);
    this.layout = cols.map((c) => c.length);
    this.index = new Map(this.fields.map((f, i) => [f, i]));
  }

  /** A '#' line: a directive (or a comment such as btest's "### …", ignored). */
  header(text: string): void {
    if (text.startsWith('#separator')) {
      const v = text.slice('#separator'.length).trim();
      const sep = v.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      if (sep.length >= 1 && sep.length <= 8) this.sep = sep;
      return;
    }
    const parts = text.split(this.sep);
    const directive = parts[0] ?? '';
    const value = parts[1];
    switch (directive) {
      case '#set_separator':
        if (value) this.setSep = value;
        break;
      case '#empty_field':
        if (value !== undefined) this.empty = value;
        break;
      case '#unset_field':
        if (value !== undefined) this.unset = value;
        break;
      case '#path':
        this.logPath = value ?? null;
        break;
      case '#fields':
        this.setFields(parts.slice(1).map((c) => c.trim().split(/\s+/)));
        break;
      default:
        break; // #types, #open, #close, comments
    }
  }

  private get kind(): ZeekLogKind | null {
    return asKind(this.logPath) ?? this.fallbackKind;
  }

  /** Items of one line; null for header/blank lines; 'skip' for a valid record of another log. */
  line(text: string): SourceItem[] | 'skip' | null {
    if (text.length === 0 || /^\s*$/.test(text)) return null;
    if (text.startsWith('#')) {
      this.header(text);
      return null;
    }
    if (text.trimStart().startsWith('{')) {
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        throw new LineKindError('malformed', 'invalid JSON');
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o))
        throw new LineKindError('malformed', 'not a JSON object');
      const obj = o as Record<string, unknown>;
      const p = obj._path;
      const kind =
        typeof p === 'string'
          ? asKind(p)
          : (asKind(this.opts.path) ?? this.fallbackKind ?? kindFromKeys(obj));
      if (kind === null) return 'skip';
      return this.convert(kind, new JsonRow(obj));
    }
    const cols = text.split(this.sep);
    if (this.fields === null) {
      if (
        cols.length > 1 &&
        cols.every((c) => FIELD_NAME_RE.test(c)) &&
        cols.some((c) => c === 'ts' || c === 'uid')
      ) {
        this.setFields(cols.map((c) => [c])); // zeek-cut -m header line
        return null;
      }
      throw new LineKindError('no_header', 'data line before any #fields header');
    }
    const kind = this.kind;
    if (kind === null) return 'skip';
    return this.convert(kind, new TsvRow(this, this.split(cols)));
  }

  /** Maps separator-delimited columns onto fields, undoing IoT-23's space-separated trailing columns. */
  private split(cols: string[]): string[] {
    const fields = this.fields ?? [];
    const layout = this.layout ?? [];
    if (cols.length === fields.length) return cols;
    if (cols.length === layout.length) {
      const out: string[] = [];
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i] ?? '';
        const n = layout[i] ?? 1;
        if (n === 1) out.push(c);
        else out.push(...splitSpaces(c, n));
      }
      if (out.length === fields.length) return out;
    }
    if (cols.length < fields.length) {
      // Header with real separators but rows with space runs before the last columns.
      const last = cols[cols.length - 1] ?? '';
      const need = fields.length - cols.length + 1;
      const tail = splitSpaces(last, need);
      if (tail.length === need) return [...cols.slice(0, -1), ...tail];
    }
    throw new LineKindError('field_count', `${cols.length} columns, expected ${fields.length}`);
  }

  private convert(kind: ZeekLogKind, row: Row): SourceItem[] {
    switch (kind) {
      case 'conn':
        return [{ kind: 'flow', flow: this.conn(row) }];
      case 'dns':
        return dnsItems(row);
      case 'dhcp':
        return dhcpItems(row);
      case 'ssl':
        return simpleObs(row, [
          ['server_name', 'tls_sni'],
          ['ja3', 'tls_ja3'],
          ['ja4', 'tls_ja4'],
        ]);
      case 'http':
        return simpleObs(row, [['user_agent', 'http_user_agent']]);
      case 'mqtt_connect':
        return simpleObs(row, [['client_id', 'mqtt_client_id']]);
    }
  }

  private conn(row: Row): IngestFlow {
    const ts = time(row, 'ts');
    if (ts === null) throw new LineKindError('malformed', 'ts: missing');
    const o = addr(row, 'id.orig_h', true);
    const r = addr(row, 'id.resp_h', true);
    if (!o || !r) throw new LineKindError('malformed', 'missing address');
    if (o.bytes.length !== r.bytes.length) throw new LineKindError('malformed', 'mixed IPv4/IPv6 endpoints');
    const v6 = o.bytes.length === 16;
    const ipProto = count(row, 'ip_proto');
    const protoName = str(row, 'proto', 32);
    let proto = ipProto !== null && ipProto <= 255 ? ipProto : protoName ? protoNumber(protoName, v6) : null;
    if (proto === 1 && v6) proto = 58;
    proto ??= 0;
    // Unknown protocol (e.g. zeek-cut dropped the proto column): keep whatever ports the log has.
    const hasPorts =
      proto === 0 || proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58;
    const op = hasPorts ? port(row, 'id.orig_p') : null;
    const rp = hasPorts ? port(row, 'id.resp_p') : null;
    const dur = interval(row, 'duration') ?? 0;
    const origBytes = count(row, 'orig_bytes');
    const respBytes = count(row, 'resp_bytes');
    const history = str(row, 'history', 256) ?? '';
    const flags = proto === 6 ? historyFlags(history) : { out: 0, in: 0 };
    const cs = str(row, 'conn_state', 16);
    const connState: ConnState = cs !== null && KNOWN_CONN_STATES.has(cs) ? (cs as ConnState) : 'OTH';
    const cid = str(row, 'community_id', 64);
    const service = list(row, 'service', this.setSep)[0] ?? null;
    const label = str(row, 'label', 64);
    const detailed = str(row, 'detailed-label', 128);
    const vlan = count(row, 'vlan');
    return {
      tsStart: ts,
      tsEnd: ts + dur,
      srcIp: o.text,
      dstIp: r.text,
      srcPort: op,
      dstPort: rp,
      proto,
      appProto: service ? serviceToAppProto(service) : appProtoByPort(proto, rp ?? -1, op ?? -1),
      bytesOut: count(row, 'orig_ip_bytes') ?? origBytes ?? 0,
      bytesIn: count(row, 'resp_ip_bytes') ?? respBytes ?? 0,
      packetsOut: count(row, 'orig_pkts') ?? 0,
      packetsIn: count(row, 'resp_pkts') ?? 0,
      payloadBytesOut: origBytes ?? 0,
      payloadBytesIn: respBytes ?? 0,
      tcpFlagsOut: flags.out,
      tcpFlagsIn: flags.in,
      connState,
      communityId:
        cid !== null && COMMUNITY_ID_RE.test(cid) ? cid : communityIdOf(o, r, proto, op, rp, this.seed),
      srcMac: mac(row, 'orig_l2_addr'),
      dstMac: mac(row, 'resp_l2_addr'),
      vlan: vlan !== null && vlan <= 4095 ? vlan : null,
      sni: null,
      httpHost: null,
      dnsNames: [],
      closeReason: closeReasonOf(proto, connState),
      uid: str(row, 'uid', 64),
      label: label === null || label === '' ? null : detailed ? `${label} ${detailed}` : label,
    };
  }
}

/** Splits on runs of spaces into exactly n parts (extra text stays in the last part). */
function splitSpaces(s: string, n: number): string[] {
  const out: string[] = [];
  let rest = s.trim();
  while (out.length < n - 1) {
    const m = / +/.exec(rest);
    if (!m) break;
    out.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  out.push(rest);
  return out;
}

/** Zeek service names → our appProto vocabulary ("ssl" → "tls"; first of a set such as "ssl,http"). */
function serviceToAppProto(service: string): string {
  const s = service.toLowerCase().slice(0, 32);
  return s === 'ssl' ? 'tls' : s;
}

function closeReasonOf(proto: number, cs: ConnState): IngestFlow['closeReason'] {
  if (proto !== 6) return 'idle';
  if (cs === 'SF') return 'fin';
  if (cs === 'REJ' || cs.startsWith('RST')) return 'rst';
  return 'idle';
}

/**
 * TCP flags approximated from Zeek's history (upper case: originator, lower case: responder):
 * S → SYN, H → SYN|ACK, F → FIN, R → RST, A → ACK, D → PSH (payload seen).
 */
export function historyFlags(history: string): { out: number; in: number } {
  let out = 0;
  let inn = 0;
  for (const ch of history) {
    let f = 0;
    switch (ch.toLowerCase()) {
      case 's':
        f = TcpFlag.SYN;
        break;
      case 'h':
        f = TcpFlag.SYN | TcpFlag.ACK;
        break;
      case 'f':
        f = TcpFlag.FIN;
        break;
      case 'r':
        f = TcpFlag.RST;
        break;
      case 'a':
        f = TcpFlag.ACK;
        break;
      case 'd':
        f = TcpFlag.PSH;
        break;
      default:
        break;
    }
    if (ch >= 'A' && ch <= 'Z') out |= f;
    else inn |= f;
  }
  return { out, in: inn };
}

function obs(
  kind: ObservationKind,
  value: string | null,
  mac: string | null,
  ip: string | null,
  ts: number,
): SourceItem[] {
  if (value === null || value === '') return [];
  const observation: Observation = { kind, mac, ip, value, tsMicros: ts };
  return [{ kind: 'observation', observation }];
}

function requiredTs(row: Row): number {
  const ts = time(row, 'ts');
  if (ts === null) throw new LineKindError('malformed', 'ts: missing');
  return ts;
}

/** ssl/http/mqtt: values of the originator (the client). */
function simpleObs(row: Row, map: [string, ObservationKind][]): SourceItem[] {
  const ts = requiredTs(row);
  const ip = addr(row, 'id.orig_h', false)?.text ?? null;
  const m = mac(row, 'orig_l2_addr');
  const out: SourceItem[] = [];
  for (const [field, kind] of map) out.push(...obs(kind, str(row, field), m, ip, ts));
  return out;
}

function dnsItems(row: Row): SourceItem[] {
  const ts = requiredTs(row);
  const ip = addr(row, 'id.orig_h', false)?.text ?? null;
  const query = str(row, 'query', 255);
  const mdns = port(row, 'id.resp_p') === 5353 || port(row, 'id.orig_p') === 5353;
  if (!mdns) return obs('dns_query', query, mac(row, 'orig_l2_addr'), ip, ts);
  // mDNS: an authoritative answer names a host of the sender; questions describe nothing.
  const answered = str(row, 'AA') === 'T' || str(row, 'AA') === 'true';
  if (answered && str(row, 'answers')) return obs('mdns_hostname', query, null, ip, ts);
  return [];
}

function dhcpItems(row: Row): SourceItem[] {
  const ts = requiredTs(row);
  const m = mac(row, 'mac');
  const ip = addr(row, 'client_addr', false)?.text ?? addr(row, 'assigned_addr', false)?.text ?? null;
  return [
    ...obs('dhcp_hostname', str(row, 'host_name', 255) ?? str(row, 'client_fqdn', 255), m, ip, ts),
    ...obs('dhcp_vendor', str(row, 'client_software', 255), m, ip, ts),
    ...obs('dhcp_requested_ip', addr(row, 'requested_addr', false)?.text ?? null, m, ip, ts),
  ];
}
