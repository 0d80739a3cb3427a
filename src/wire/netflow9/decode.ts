import { DecodeError } from '../errors.js';
import { rd16, rd32 } from '../capture/chunks.js';
import type { TemplateCache } from '../flowexport/cache.js';
import { decodeDataSet, makeTemplate, type DataSetOutput } from '../flowexport/fields.js';
import type { FlowExportLimits, PendingSet, TemplateField } from '../flowexport/types.js';
import type { Netflow9Header, Netflow9Result } from './types.js';

export type * from './types.js';

const HEADER = 20;
const DEFAULT_MAX_RECORDS = 8192;

/**
 * Decode one NetFlow v9 export datagram. Templates and options templates are learnt into `cache` (scoped by
 * exporterKey and source id); data flowsets with an unknown template come back in pendingSets. A bad flowset
 * is reported in `errors` and the rest of the datagram is skipped. Throws DecodeError for a bad header, the
 * record cap (limits.maxRecordsPerDatagram) or the cache's template cap.
 */
export function decodeNetflow9(
  datagram: Uint8Array,
  exporterKey: string,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): Netflow9Result {
  const b = datagram;
  if (b.length < HEADER) throw new DecodeError('truncated', 'netflow9', 'header needs 20 bytes', 0);
  const version = rd16(b, 0, false);
  if (version !== 9) throw new DecodeError('unsupported', 'netflow9', `version ${version}`, 0);
  const header: Netflow9Header = {
    version: 9,
    count: rd16(b, 2, false),
    sysUptimeMs: rd32(b, 4, false),
    unixSecs: rd32(b, 8, false),
    sequence: rd32(b, 12, false),
    sourceId: rd32(b, 16, false),
    sequenceGap: false,
  };
  const src = cache.source('v9', exporterKey, header.sourceId);
  header.sequenceGap = cache.noteSequence(src, header.sequence, 1);
  const result: Netflow9Result = {
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
  while (b.length - o >= 4) {
    const setId = rd16(b, o, false);
    const setLen = rd16(b, o + 2, false);
    if (setLen < 4 || o + setLen > b.length) {
      result.errors.push(
        new DecodeError(
          setLen < 4 ? 'malformed' : 'truncated',
          'netflow9',
          `flowset ${setId} length ${setLen}`,
          o,
        ),
      );
      break;
    }
    const s = o + 4;
    const e = o + setLen;
    try {
      if (setId === 0) result.templatesAdded += templates(b, s, e, exporterKey, header.sourceId, cache);
      else if (setId === 1)
        result.templatesAdded += optionsTemplates(b, s, e, exporterKey, header.sourceId, cache);
      else if (setId >= 256) {
        const t = src.templates.get(setId);
        if (t === undefined) {
          result.pendingSets.push({
            version: 9,
            exporter: exporterKey,
            domainId: header.sourceId,
            templateId: setId,
            exportTimeSec: header.unixSecs,
            sysUptimeMs: header.sysUptimeMs,
            data: b.slice(s, e),
          });
        } else {
          decodeDataSet(b, s, e, t, ctxOf(exporterKey, header, setId), out);
        }
      }
    } catch (err) {
      if (!(err instanceof DecodeError) || err.kind === 'limit') throw err;
      result.errors.push(err);
    }
    o = e;
  }
  return result;
}

function ctxOf(exporter: string, h: Netflow9Header, templateId: number) {
  return {
    version: 9 as const,
    exporter,
    domainId: h.sourceId,
    templateId,
    exportTimeSec: h.unixSecs,
    sysUptimeMs: h.sysUptimeMs,
    systemInitMs: null,
  };
}

function templates(
  b: Uint8Array,
  s: number,
  e: number,
  exp: string,
  dom: number,
  cache: TemplateCache,
): number {
  let o = s;
  let n = 0;
  while (e - o >= 4) {
    const id = rd16(b, o, false);
    const count = rd16(b, o + 2, false);
    o += 4;
    if (id < 256) {
      if (id === 0 && count === 0) break; // padding
      throw new DecodeError('malformed', 'netflow9', `template id ${id}`, o - 4);
    }
    if (o + count * 4 > e) throw new DecodeError('truncated', 'netflow9', `template ${id} fields`, o);
    const fields: TemplateField[] = [];
    for (let i = 0; i < count; i++, o += 4)
      fields.push({ id: rd16(b, o, false), length: rd16(b, o + 2, false), pen: 0 });
    const t = makeTemplate(id, fields, false, 0);
    if (t === null)
      throw new DecodeError('malformed', 'netflow9', `template ${id} has zero record length`, o);
    cache.setTemplate('v9', exp, dom, t);
    n++;
  }
  return n;
}

function optionsTemplates(
  b: Uint8Array,
  s: number,
  e: number,
  exp: string,
  dom: number,
  cache: TemplateCache,
): number {
  let o = s;
  let n = 0;
  while (e - o >= 6) {
    const id = rd16(b, o, false);
    const scopeLen = rd16(b, o + 2, false);
    const optLen = rd16(b, o + 4, false);
    o += 6;
    if (id < 256) {
      if (id === 0) break; // padding
      throw new DecodeError('malformed', 'netflow9', `options template id ${id}`, o - 6);
    }
    if (scopeLen % 4 !== 0 || optLen % 4 !== 0 || o + scopeLen + optLen > e) {
      throw new DecodeError(
        'malformed',
        'netflow9',
        `options template ${id} lengths ${scopeLen}/${optLen}`,
        o,
      );
    }
    const fields: TemplateField[] = [];
    const nScope = scopeLen / 4;
    for (let i = 0; i < (scopeLen + optLen) / 4; i++, o += 4) {
      fields.push({ id: rd16(b, o, false), length: rd16(b, o + 2, false), pen: 0 });
    }
    const t = makeTemplate(id, fields, true, nScope);
    if (t === null)
      throw new DecodeError('malformed', 'netflow9', `options template ${id} has zero record length`, o);
    cache.setTemplate('v9', exp, dom, t);
    n++;
  }
  return n;
}

/**
 * Retry a pending v9 data set once its template may have arrived. Returns null when the template is still
 * unknown, else the decoded records/options (errors thrown as DecodeError).
 */
export function decodePendingNetflow9(
  p: PendingSet,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): Pick<Netflow9Result, 'records' | 'options'> | null {
  const t = cache.getTemplate('v9', p.exporter, p.domainId, p.templateId);
  if (t === undefined) return null;
  const out: DataSetOutput = {
    records: [],
    options: [],
    count: 0,
    maxRecords: limits.maxRecordsPerDatagram ?? DEFAULT_MAX_RECORDS,
    systemInitMs: null,
  };
  decodeDataSet(
    p.data,
    0,
    p.data.length,
    t,
    {
      version: 9,
      exporter: p.exporter,
      domainId: p.domainId,
      templateId: p.templateId,
      exportTimeSec: p.exportTimeSec,
      sysUptimeMs: p.sysUptimeMs,
      systemInitMs: null,
    },
    out,
  );
  return { records: out.records, options: out.options };
}
