import { DecodeError } from '../errors.js';
import { rd16 } from '../capture/chunks.js';
import { decodeIpfix, decodePendingIpfix } from '../ipfix/decode.js';
import { decodeNetflow5 } from '../netflow5/decode.js';
import { decodeNetflow9, decodePendingNetflow9 } from '../netflow9/decode.js';
import type { TemplateCache } from './cache.js';
import type { FlowExportLimits, FlowExportRecord, OptionsRecord, PendingSet } from './types.js';

export * from './types.js';
export { TemplateCache, type SourceState, type TemplateCacheOptions, type ExportProtocol } from './cache.js';

export interface AnyFlowExportResult {
  version: 5 | 9 | 10;
  records: FlowExportRecord[];
  options: OptionsRecord[];
  pendingSets: PendingSet[];
  errors: DecodeError[];
  sequenceGap: boolean;
}

/**
 * Decode a flow-export datagram of any supported version (NetFlow v5, v9, IPFIX) by its version field.
 * Throws DecodeError('unsupported') for other versions.
 */
export function decodeFlowExport(
  datagram: Uint8Array,
  exporterKey: string,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): AnyFlowExportResult {
  if (datagram.length < 2) throw new DecodeError('truncated', 'flowexport', 'no version field', 0);
  const v = rd16(datagram, 0, false);
  if (v === 5) {
    const r = decodeNetflow5(datagram, exporterKey, cache);
    return {
      version: 5,
      records: r.records,
      options: [],
      pendingSets: [],
      errors: [],
      sequenceGap: r.header.sequenceGap,
    };
  }
  if (v === 9) {
    const r = decodeNetflow9(datagram, exporterKey, cache, limits);
    return { version: 9, ...pick(r), sequenceGap: r.header.sequenceGap };
  }
  if (v === 10) {
    const r = decodeIpfix(datagram, exporterKey, cache, limits);
    return { version: 10, ...pick(r), sequenceGap: r.header.sequenceGap };
  }
  throw new DecodeError('unsupported', 'flowexport', `export version ${v}`, 0);
}

function pick(r: Pick<AnyFlowExportResult, 'records' | 'options' | 'pendingSets' | 'errors'>) {
  return { records: r.records, options: r.options, pendingSets: r.pendingSets, errors: r.errors };
}

/** Retry a pending set (v9 or IPFIX): null while its template is still unknown. */
export function decodePendingSet(
  p: PendingSet,
  cache: TemplateCache,
  limits: FlowExportLimits = {},
): { records: FlowExportRecord[]; options: OptionsRecord[] } | null {
  return p.version === 9 ? decodePendingNetflow9(p, cache, limits) : decodePendingIpfix(p, cache, limits);
}
