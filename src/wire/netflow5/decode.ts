import { DecodeError } from '../errors.js';
import { rd16, rd32 } from '../capture/chunks.js';
import type { TemplateCache } from '../flowexport/cache.js';
import { dropTimesAfterExport, emptyRecord, uptimeToUnixMs } from '../flowexport/fields.js';
import { ip4ToString } from '../addr.js';
import type { Netflow5Header, Netflow5Result } from './types.js';

export type * from './types.js';

export const NETFLOW5_HEADER = 24;
export const NETFLOW5_RECORD = 48;
/** Records accepted per datagram (the format's maximum is 30; some exporters send a few more). */
export const NETFLOW5_MAX_RECORDS = 64;

/**
 * Decode a NetFlow v5 datagram (header + count × 48-byte records). With a cache, flow_sequence gaps are
 * tracked per (exporter, engine type/id). Throws DecodeError (truncated, unsupported version, count cap).
 */
export function decodeNetflow5(
  datagram: Uint8Array,
  exporterKey = '',
  cache?: TemplateCache,
): Netflow5Result {
  const b = datagram;
  if (b.length < NETFLOW5_HEADER) throw new DecodeError('truncated', 'netflow5', 'header needs 24 bytes', 0);
  const version = rd16(b, 0, false);
  if (version !== 5) throw new DecodeError('unsupported', 'netflow5', `version ${version}`, 0);
  const count = rd16(b, 2, false);
  if (count > NETFLOW5_MAX_RECORDS) {
    throw new DecodeError('limit', 'netflow5', `count ${count} > ${NETFLOW5_MAX_RECORDS}`, 2);
  }
  if (b.length < NETFLOW5_HEADER + count * NETFLOW5_RECORD) {
    throw new DecodeError(
      'truncated',
      'netflow5',
      `${count} records need ${NETFLOW5_HEADER + count * NETFLOW5_RECORD} bytes, have ${b.length}`,
      NETFLOW5_HEADER,
    );
  }
  const sampling = rd16(b, 22, false);
  const header: Netflow5Header = {
    version: 5,
    count,
    sysUptimeMs: rd32(b, 4, false),
    unixSecs: rd32(b, 8, false),
    unixNsecs: rd32(b, 12, false),
    flowSequence: rd32(b, 16, false),
    engineType: b[20] ?? 0,
    engineId: b[21] ?? 0,
    samplingMode: sampling >> 14,
    samplingInterval: sampling & 0x3fff,
    sequenceGap: false,
  };
  const domainId = (header.engineType << 8) | header.engineId;
  if (cache) {
    const src = cache.source('v5', exporterKey, domainId);
    header.sequenceGap = cache.noteSequence(src, header.flowSequence, count);
  }
  const records = [];
  for (let i = 0; i < count; i++) {
    const o = NETFLOW5_HEADER + i * NETFLOW5_RECORD;
    const r = emptyRecord(5, exporterKey, domainId);
    r.exportTimeSec = header.unixSecs;
    r.ipVersion = 4;
    r.srcAddr = ip4ToString(rd32(b, o, false));
    r.dstAddr = ip4ToString(rd32(b, o + 4, false));
    r.nextHop = ip4ToString(rd32(b, o + 8, false));
    r.inputIf = rd16(b, o + 12, false);
    r.outputIf = rd16(b, o + 14, false);
    r.packets = rd32(b, o + 16, false);
    r.octets = rd32(b, o + 20, false);
    r.startMs = uptimeToUnixMs(header.unixSecs, header.sysUptimeMs, rd32(b, o + 24, false));
    r.endMs = uptimeToUnixMs(header.unixSecs, header.sysUptimeMs, rd32(b, o + 28, false));
    dropTimesAfterExport(r, header.unixSecs);
    r.srcPort = rd16(b, o + 32, false);
    r.dstPort = rd16(b, o + 34, false);
    r.tcpFlags = b[o + 37] ?? 0;
    r.protocol = b[o + 38] ?? 0;
    r.tos = b[o + 39] ?? 0;
    r.srcAs = rd16(b, o + 40, false);
    r.dstAs = rd16(b, o + 42, false);
    r.srcMask = b[o + 44] ?? 0;
    r.dstMask = b[o + 45] ?? 0;
    records.push(r);
  }
  return { header, records };
}
