import { DecodeError } from '../errors.js';
import { utf8Text } from '../cursor.js';
import { ip4ToString, ip6ToString } from '../addr.js';
import type { FlowExportRecord, OptionsRecord, Template, TemplateField } from './types.js';

const TWO32 = 0x1_0000_0000;
const NTP_UNIX_OFFSET = 2_208_988_800;

/** Unsigned big-endian integer of 1..8 bytes (exact below 2^53). */
export function readUint(b: Uint8Array, o: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + (b[o + i] ?? 0);
  return v;
}

/** Information elements whose value is text (interface/sampler/VRF/application names). */
const STRING_IES = new Set([82, 83, 84, 94, 96, 236, 317, 345]);

/** What a data record needs from its datagram to normalize times. */
export interface RecordContext {
  version: 9 | 10;
  exporter: string;
  domainId: number;
  templateId: number;
  exportTimeSec: number;
  /** v9 only: header sysUptime in ms. */
  sysUptimeMs: number;
  /** IPFIX only: systemInitTimeMilliseconds known for the source, else null. */
  systemInitMs: number | null;
}

export function emptyRecord(version: 5 | 9 | 10, exporter: string, domainId: number): FlowExportRecord {
  return {
    version,
    exporter,
    domainId,
    templateId: 0,
    exportTimeSec: 0,
    ipVersion: 0,
    srcAddr: null,
    dstAddr: null,
    srcPort: null,
    dstPort: null,
    protocol: null,
    tcpFlags: null,
    tos: null,
    octets: 0,
    packets: 0,
    startMs: null,
    endMs: null,
    inputIf: null,
    outputIf: null,
    srcMask: null,
    dstMask: null,
    nextHop: null,
    srcAs: null,
    dstAs: null,
    extra: new Map(),
  };
}

/** How much later than its datagram's export time a record's flow may start or end (clock steps, rounding). */
export const EXPORT_SKEW_MS = 60_000;

/**
 * A flow is exported after it was seen: a start or end later than the datagram's export time (beyond
 * EXPORT_SKEW_MS) is not a time but an inconsistency, and is dropped (the record then counts as one without
 * that time). softflowd -r, for one, exports a pcap's flows with sysUptime 0 and first/last switched as the
 * packet times less its own start, cut to 32 bits: read as uptimes, they lie weeks ahead of the export.
 * Hostile records with far-future times are refused the same way.
 */
export function dropTimesAfterExport(r: FlowExportRecord, exportTimeSec: number): void {
  const latest = exportTimeSec * 1000 + EXPORT_SKEW_MS;
  if (r.startMs !== null && r.startMs > latest) r.startMs = null;
  if (r.endMs !== null && r.endMs > latest) r.endMs = null;
}

/** v9 sysUptime-relative time (first/last switched) → Unix ms, tolerating uptime wrap. */
export function uptimeToUnixMs(exportTimeSec: number, sysUptimeMs: number, switched: number): number {
  let diff = (sysUptimeMs - switched) >>> 0;
  if (diff >= 0x8000_0000) diff -= TWO32; // switched after sysUptime: clock skew, not a wrap
  return exportTimeSec * 1000 - diff;
}

function ntpToMs(b: Uint8Array, o: number): number {
  const sec = readUint(b, o, 4);
  const frac = readUint(b, o + 4, 4);
  return (sec - NTP_UNIX_OFFSET) * 1000 + Math.floor((frac / TWO32) * 1000);
}

/** Start/end bookkeeping while a record is decoded (resolved after all fields are read). */
interface TimeScratch {
  upStart: number;
  upEnd: number;
  deltaStartUs: number;
  deltaEndUs: number;
}

function applyField(
  r: FlowExportRecord,
  t: TimeScratch,
  f: TemplateField,
  b: Uint8Array,
  o: number,
  len: number,
): void {
  if (f.pen !== 0) return; // enterprise-specific: skipped (length already respected by the caller)
  const id = f.id;
  if ((id === 8 || id === 12 || id === 15) && len === 4) {
    const s = ip4ToString(readUint(b, o, 4));
    if (id === 8) r.srcAddr = s;
    else if (id === 12) r.dstAddr = s;
    else r.nextHop = s;
    if (id !== 15) r.ipVersion = 4;
    return;
  }
  if ((id === 27 || id === 28 || id === 62) && len === 16) {
    const s = ip6ToString(b, o);
    if (id === 27) r.srcAddr = s;
    else if (id === 28) r.dstAddr = s;
    else r.nextHop = s;
    if (id !== 62) r.ipVersion = 6;
    return;
  }
  if (id === 154 || id === 155 || id === 156 || id === 157) {
    if (len === 8) {
      if (id === 154 || id === 156) r.startMs = ntpToMs(b, o);
      else r.endMs = ntpToMs(b, o);
    }
    return;
  }
  if (len > 8 || len === 0 || STRING_IES.has(id)) return;
  const v = readUint(b, o, len);
  switch (id) {
    case 1:
      r.octets = v;
      return;
    case 2:
      r.packets = v;
      return;
    case 4:
      r.protocol = v;
      return;
    case 5:
      r.tos = v;
      return;
    case 6:
      r.tcpFlags = v;
      return;
    case 7:
      r.srcPort = v;
      return;
    case 11:
      r.dstPort = v;
      return;
    case 9:
    case 29:
      r.srcMask = v;
      return;
    case 13:
    case 30:
      r.dstMask = v;
      return;
    case 10:
      r.inputIf = v;
      return;
    case 14:
      r.outputIf = v;
      return;
    case 16:
      r.srcAs = v;
      return;
    case 17:
      r.dstAs = v;
      return;
    case 22:
      t.upStart = v;
      break; // also kept in extra
    case 21:
      t.upEnd = v;
      break;
    case 150:
      r.startMs = v * 1000;
      return;
    case 151:
      r.endMs = v * 1000;
      return;
    case 152:
      r.startMs = v;
      return;
    case 153:
      r.endMs = v;
      return;
    case 158:
      t.deltaStartUs = v;
      return;
    case 159:
      t.deltaEndUs = v;
      return;
    case 60:
      if ((v === 4 || v === 6) && r.ipVersion === 0) r.ipVersion = v;
      break;
  }
  r.extra.set(id, v);
}

function fieldValue(f: TemplateField, b: Uint8Array, o: number, len: number): number | string {
  if (STRING_IES.has(f.id) && f.pen === 0) return utf8Text(b.subarray(o, o + len)).replace(/\0+$/, '');
  if (len <= 8) return readUint(b, o, len);
  let hex = '';
  for (let i = o; i < o + len; i++) hex += (b[i] ?? 0).toString(16).padStart(2, '0');
  return hex;
}

/** Length of the field at `o`; variable-length (65535) fields read their 1- or 3-byte length prefix. */
function fieldLength(f: TemplateField, b: Uint8Array, o: number, end: number, at: number): [number, number] {
  if (f.length !== 65535) return [f.length, 0];
  if (o >= end) throw new DecodeError('truncated', 'ipfix', 'variable-length field prefix', at + o);
  const l1 = b[o] ?? 0;
  if (l1 < 255) return [l1, 1];
  if (o + 3 > end) throw new DecodeError('truncated', 'ipfix', 'variable-length field prefix', at + o);
  return [readUint(b, o + 1, 2), 3];
}

export interface DataSetOutput {
  records: FlowExportRecord[];
  options: OptionsRecord[];
  /** Set by the caller: records decoded so far in the datagram and the cap. */
  count: number;
  maxRecords: number;
  /** IE 160 seen in an options record (IPFIX). */
  systemInitMs: number | null;
}

/**
 * Decode the records of one data set (bytes [start, end) of `b`, after the set header) with template `t`.
 * Trailing bytes shorter than a record are padding. `at` is added to offsets in errors (datagram base).
 * Returns the number of records decoded. Throws DecodeError (truncated field, record cap).
 */
export function decodeDataSet(
  b: Uint8Array,
  start: number,
  end: number,
  t: Template,
  ctx: RecordContext,
  out: DataSetOutput,
  at = 0,
): number {
  let o = start;
  let n = 0;
  const decoder = ctx.version === 9 ? 'netflow9' : 'ipfix';
  while (end - o >= t.minLength) {
    if (t.variable && end - o < 4 && b.subarray(o, end).every((x) => x === 0)) break; // padding
    if (out.count >= out.maxRecords) {
      throw new DecodeError('limit', decoder, `more than ${out.maxRecords} records in a datagram`, at + o);
    }
    const recStart = o;
    if (t.isOptions) {
      const opt: OptionsRecord = {
        version: ctx.version,
        exporter: ctx.exporter,
        domainId: ctx.domainId,
        templateId: t.id,
        scope: {},
        values: {},
      };
      for (let i = 0; i < t.fields.length; i++) {
        const f = t.fields[i];
        if (f === undefined) break;
        const [len, pre] = fieldLength(f, b, o, end, at);
        o += pre;
        if (o + len > end)
          throw new DecodeError('truncated', decoder, `options record field ${f.id}`, at + o);
        const v = fieldValue(f, b, o, len);
        if (i < t.scopeCount) opt.scope[f.id] = v;
        else {
          opt.values[f.id] = v;
          if (f.id === 160 && f.pen === 0 && typeof v === 'number') out.systemInitMs = v;
        }
        o += len;
      }
      out.options.push(opt);
    } else {
      const r = emptyRecord(ctx.version, ctx.exporter, ctx.domainId);
      r.templateId = t.id;
      r.exportTimeSec = ctx.exportTimeSec;
      const ts: TimeScratch = { upStart: -1, upEnd: -1, deltaStartUs: -1, deltaEndUs: -1 };
      for (const f of t.fields) {
        const [len, pre] = fieldLength(f, b, o, end, at);
        o += pre;
        if (o + len > end) throw new DecodeError('truncated', decoder, `data record field ${f.id}`, at + o);
        applyField(r, ts, f, b, o, len);
        o += len;
      }
      resolveTimes(r, ts, ctx);
      out.records.push(r);
    }
    if (o === recStart) break; // cannot happen (minLength > 0), but never loop without progress
    out.count++;
    n++;
  }
  return n;
}

function resolveTimes(r: FlowExportRecord, t: TimeScratch, ctx: RecordContext): void {
  if (ctx.version === 9) {
    if (r.startMs === null && t.upStart >= 0)
      r.startMs = uptimeToUnixMs(ctx.exportTimeSec, ctx.sysUptimeMs, t.upStart);
    if (r.endMs === null && t.upEnd >= 0)
      r.endMs = uptimeToUnixMs(ctx.exportTimeSec, ctx.sysUptimeMs, t.upEnd);
  } else if (ctx.systemInitMs !== null) {
    if (r.startMs === null && t.upStart >= 0) r.startMs = ctx.systemInitMs + t.upStart;
    if (r.endMs === null && t.upEnd >= 0) r.endMs = ctx.systemInitMs + t.upEnd;
  }
  if (r.startMs === null && t.deltaStartUs >= 0) {
    r.startMs = ctx.exportTimeSec * 1000 - Math.floor(t.deltaStartUs / 1000);
  }
  if (r.endMs === null && t.deltaEndUs >= 0)
    r.endMs = ctx.exportTimeSec * 1000 - Math.floor(t.deltaEndUs / 1000);
  dropTimesAfterExport(r, ctx.exportTimeSec);
}

/** Build a Template from its fields, validating that a record has a non-zero minimum length. */
export function makeTemplate(
  id: number,
  fields: TemplateField[],
  isOptions: boolean,
  scopeCount: number,
): Template | null {
  let minLength = 0;
  let variable = false;
  for (const f of fields) {
    if (f.length === 65535) {
      variable = true;
      minLength += 1;
    } else minLength += f.length;
  }
  if (minLength === 0) return null;
  return { id, fields, isOptions, scopeCount, minLength, variable };
}
