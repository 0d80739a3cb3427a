import { FlowTable, type FlowTableOptions } from '../flows/flow-table.js';
import { extractObservations } from '../flows/observations.js';
import { CaptureReader, type CaptureRecord } from '../wire/capture/decode.js';
import { isDecodeError } from '../wire/errors.js';
import { decodePacket } from '../wire/packet/decode.js';
import { PacketInfo } from '../wire/packet/types.js';
import { countError, emptyStats, type SourceItem, type SourceStats } from '../sources/types.js';

/**
 * Capture bytes → flows and observations: CaptureReader → decodePacket → FlowTable + extractObservations.
 * Pure apart from consuming the async chunk stream; deterministic (flow expiry follows packet time), so
 * replaying the same file yields the same items in the same order — the file checkpoint relies on that.
 */

export interface CaptureBatch {
  items: SourceItem[];
  /** Bytes of the capture consumed so far (after decompression). */
  offset: number;
  stats: SourceStats;
  /** Set on the last batch. */
  done: boolean;
  /** A corrupt or truncated capture: everything before `offset` was read; the rest is lost. */
  error: { message: string; offset: number } | null;
}

export interface CaptureItemsOptions {
  source: string;
  /** Yield a batch once this many items are pending (default 5000). */
  batchItems?: number;
  flowTable?: Omit<FlowTableOptions, 'onFlow'>;
}

export async function* captureItems(
  chunks: AsyncIterable<Uint8Array>,
  opts: CaptureItemsOptions,
): AsyncGenerator<CaptureBatch> {
  const batchItems = opts.batchItems ?? 5000;
  const stats = emptyStats();
  let items: SourceItem[] = [];
  const table = new FlowTable({
    ...opts.flowTable,
    onFlow: (flow) => {
      stats.flows++;
      items.push({ kind: 'flow', flow });
    },
  });
  const reader = new CaptureReader({ source: opts.source });
  const info = new PacketInfo();
  let error: CaptureBatch['error'] = null;

  const take = (done: boolean): CaptureBatch => {
    const b = { items, offset: reader.offset, stats: { ...stats, errors: { ...stats.errors } }, done, error };
    items = [];
    return b;
  };

  const handle = (rec: CaptureRecord): void => {
    stats.records++;
    stats.bytes += rec.wireLen;
    decodePacket(rec.linkType, rec.data, info);
    info.tsMicros = rec.tsMicros;
    info.iface = rec.iface;
    if (info.decodeError !== null)
      countError(stats, `${info.decodeErrorLayer ?? 'packet'}_${info.decodeError}`);
    table.add(info, rec.data);
    const obs = extractObservations(info, rec.data);
    for (const o of obs) items.push({ kind: 'observation', observation: o });
  };

  try {
    let ended = false;
    for await (const chunk of endMarked(chunks)) {
      if (chunk === END) {
        reader.end();
        ended = true;
      } else reader.push(chunk);
      for (let rec = reader.next(); rec !== null; rec = reader.next()) {
        handle(rec);
        if (items.length >= batchItems) yield take(false);
      }
      if (ended) break;
    }
  } catch (e) {
    if (!isDecodeError(e)) throw e;
    countError(stats, e.kind);
    error = { message: e.message, offset: e.offset ?? reader.offset };
  }
  table.flushAll();
  const fs = table.stats;
  stats.errors = { ...stats.errors };
  if (fs.evicted > 0) stats.errors.flow_evicted = fs.evicted;
  if (fs.decodeErrors > 0) stats.errors.payload_decode = fs.decodeErrors;
  yield take(true);
}

const END = Symbol('end');

async function* endMarked(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array | typeof END> {
  yield* chunks;
  yield END;
}
