import { DecodeError } from '../errors.js';
import { rd16, rd32 } from '../capture/chunks.js';
import type { TemplateCache } from '../flowexport/cache.js';
import { decodeDataSet, makeTemplate, type DataSetOutput, type RecordContext } from '../flowexport/fields.js';
import type { FlowExportLimits, PendingSet, TemplateField } from '../flowexport/types.js';
import type { IpfixHeader, IpfixResult } from './types.js';

export type * from './types.js';

const HEADER = 16;
const DEFAULT_MAX_RECORDS = 8192;

/**
 * Decode one IPFIX message (RFC 7011). Template sets (2) and options template sets (3) update `cache`
 * (scoped by exporterKey and observation domain), including withdrawals (field count 0; template id 2/3
 * withdraws all). Enterprise fields (bit 15, 4-byte PEN) are skipped but their length respected;
 * variable-length fields use the 1- or 3-byte length prefix. Data sets with an unknown template come back in
 * pendingSets. Sequence numbers are checked per (exporter, domain) against the data records counted.
 * A bad set is reported in `errors`; throws DecodeError for a bad header or a cap.
 */
export function decodeIpfix(
  datagram: Uint8Array,
  exporterKey: string,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): IpfixResult {
  const b = datagram;
  if (b.length < HEADER) throw new DecodeError('truncated', 'ipfix', 'header needs 16 bytes', 0);
  const version = rd16(b, 0, false);
  if (version !== 10) throw new DecodeError('unsupported', 'ipfix', `version ${version}`, 0);
  const length = rd16(b, 2, false);
  if (length < HEADER) throw new DecodeError('malformed', 'ipfix', `message length ${length}`, 2);
  if (length > b.length) {
    throw new DecodeError('truncated', 'ipfix', `message length ${length} > datagram ${b.length}`, 2);
  }
  const header: IpfixHeader = {
    version: 10,
    length,
    exportTimeSec: rd32(b, 4, false),
    sequence: rd32(b, 8, false),
    observationDomainId: rd32(b, 12, false),
    sequenceGap: false,
  };
  const dom = header.observationDomainId;
  const src = cache.source('ipfix', exporterKey, dom);
  const result: IpfixResult = {
    header,
    records: [],
    options: [],
    pendingSets: [],
    errors: [],
    templatesAdded: 0,
    templatesWithdrawn: 0,
  };
  const out: DataSetOutput = {
    records: result.records,
    options: result.options,
    count: 0,
    maxRecords: limits.maxRecordsPerDatagram ?? DEFAULT_MAX_RECORDS,
    systemInitMs: null,
  };
  let o = HEADER;
  while (length - o >= 4) {
    const setId = rd16(b, o, false);
    const setLen = rd16(b, o + 2, false);
    if (setLen < 4 || o + setLen > length) {
      result.errors.push(
        new DecodeError(setLen < 4 ? 'malformed' : 'truncated', 'ipfix', `set ${setId} length ${setLen}`, o),
      );
      break;
    }
    const s = o + 4;
    const e = o + setLen;
    try {
      if (setId === 2 || setId === 3) {
        templateSet(b, s, e, setId === 3, exporterKey, dom, cache, result);
      } else if (setId >= 256) {
        const t = src.templates.get(setId);
        if (t === undefined) {
          result.pendingSets.push({
            version: 10,
            exporter: exporterKey,
            domainId: dom,
            templateId: setId,
            exportTimeSec: header.exportTimeSec,
            sysUptimeMs: 0,
            data: b.slice(s, e),
          });
        } else {
          const ctx: RecordContext = {
            version: 10,
            exporter: exporterKey,
            domainId: dom,
            templateId: setId,
            exportTimeSec: header.exportTimeSec,
            sysUptimeMs: 0,
            systemInitMs: src.systemInitMs,
          };
          decodeDataSet(b, s, e, t, ctx, out);
          if (out.systemInitMs !== null) src.systemInitMs = out.systemInitMs;
        }
      } // set ids 0, 1, 4..255: reserved, skipped
    } catch (err) {
      if (!(err instanceof DecodeError) || err.kind === 'limit') throw err;
      result.errors.push(err);
    }
    o = e;
  }
  // The sequence number counts data records; unknown when some sets could not be decoded.
  const advance = result.pendingSets.length > 0 || result.errors.length > 0 ? null : out.count;
  header.sequenceGap = cache.noteSequence(src, header.sequence, advance);
  return result;
}

function templateSet(
  b: Uint8Array,
  s: number,
  e: number,
  options: boolean,
  exp: string,
  dom: number,
  cache: TemplateCache,
  result: IpfixResult,
): void {
  let o = s;
  while (e - o >= 4) {
    const id = rd16(b, o, false);
    const count = rd16(b, o + 2, false);
    if (count === 0) {
      // Withdrawal: template id 2 (template set) / 3 (options set) withdraws all templates of the domain.
      if (id === 2 || id === 3) result.templatesWithdrawn += cache.withdraw('ipfix', exp, dom);
      else if (id >= 256) result.templatesWithdrawn += cache.withdraw('ipfix', exp, dom, id);
      else break; // padding
      o += 4;
      continue;
    }
    if (id < 256) throw new DecodeError('malformed', 'ipfix', `template id ${id}`, o);
    o += 4;
    let scope = 0;
    if (options) {
      if (e - o < 2) throw new DecodeError('truncated', 'ipfix', `options template ${id}`, o);
      scope = rd16(b, o, false);
      o += 2;
      if (scope === 0 || scope > count) {
        throw new DecodeError('malformed', 'ipfix', `options template ${id} scope count ${scope}`, o - 2);
      }
    }
    const fields: TemplateField[] = [];
    for (let i = 0; i < count; i++) {
      if (e - o < 4) throw new DecodeError('truncated', 'ipfix', `template ${id} field ${i}`, o);
      const raw = rd16(b, o, false);
      const length = rd16(b, o + 2, false);
      o += 4;
      let pen = 0;
      if (raw & 0x8000) {
        if (e - o < 4) throw new DecodeError('truncated', 'ipfix', `template ${id} enterprise number`, o);
        pen = rd32(b, o, false);
        o += 4;
      }
      fields.push({ id: raw & 0x7fff, length, pen });
    }
    const t = makeTemplate(id, fields, options, scope);
    if (t === null) throw new DecodeError('malformed', 'ipfix', `template ${id} has zero record length`, o);
    cache.setTemplate('ipfix', exp, dom, t);
    result.templatesAdded++;
  }
}

/**
 * Retry a pending IPFIX data set once its template may have arrived. Returns null when the template is
 * still unknown, else the decoded records/options (errors thrown as DecodeError).
 */
export function decodePendingIpfix(
  p: PendingSet,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): Pick<IpfixResult, 'records' | 'options'> | null {
  const src = cache.peek('ipfix', p.exporter, p.domainId);
  const t = src?.templates.get(p.templateId);
  if (src === undefined || t === undefined) return null;
  const out: DataSetOutput = {
    records: [],
    options: [],
    count: 0,
    maxRecords: limits.maxRecordsPerDatagram ?? DEFAULT_MAX_RECORDS,
    systemInitMs: null,
  };
  const ctx: RecordContext = {
    version: 10,
    exporter: p.exporter,
    domainId: p.domainId,
    templateId: p.templateId,
    exportTimeSec: p.exportTimeSec,
    sysUptimeMs: 0,
    systemInitMs: src.systemInitMs,
  };
  decodeDataSet(p.data, 0, p.data.length, t, ctx, out);
  if (out.systemInitMs !== null) src.systemInitMs = out.systemInitMs;
  return { records: out.records, options: out.options };
}
