import { FlowItem } from '../flows/flow-record.js';
import { FlowTable, type FlowTableOptions } from '../flows/flow-table.js';
import { emitObservations, ObservationAggregator } from '../flows/observations.js';
import { PayloadCache } from '../flows/payload-cache.js';
import { CaptureReader } from '../wire/capture/decode.js';
import { isDecodeError } from '../wire/errors.js';
import { decodeFrame } from '../wire/packet/decode.js';
import { PacketInfo } from '../wire/packet/types.js';
import { countError, emptyStats, type SourceItem, type SourceStats } from '../sources/types.js';

/**
 * Capture bytes → flows and observations: CaptureReader → decodePacket → FlowTable + emitObservations.
 * Pure apart from consuming the async chunk stream; deterministic (flow expiry follows packet time), so
 * replaying the same file yields the same items in the same order — the file checkpoint relies on that.
 *
 * Observations are aggregated per batch: identical sightings (same kind, mac, ip, value) become one item
 * with a count and first/last times (Observation.count/firstMicros). A batch holds its flows first, then
 * its observations ordered by last sighting.
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
  /**
   * Yield a batch once this many items (flows + distinct observations) are pending (default 5000), or once
   * 50× as many observation sightings were aggregated.
   */
  batchItems?: number;
  flowTable?: Omit<FlowTableOptions, 'onFlow'>;
}

/**
 * The batches of a capture. A chunk of `chunks` is not referred to once the next one is asked for, so the
 * producer may reuse its buffers. Decoding runs one batch ahead of the caller: while the caller awaits its write of
 * batch N (database I/O), batch N+1 is decoded, so on a separate database server the two overlap. Stopping
 * early (break/return) stops the decoder and closes `chunks`.
 */
export async function* captureItems(
  chunks: AsyncIterable<Uint8Array>,
  opts: CaptureItemsOptions,
): AsyncGenerator<CaptureBatch> {
  const inner = decodeBatches(chunks, opts);
  let pending: Promise<IteratorResult<CaptureBatch>> | null = inner.next();
  try {
    while (pending) {
      const r: IteratorResult<CaptureBatch> = await pending;
      pending = null;
      if (r.done) return;
      if (!r.value.done) {
        pending = inner.next();
        // Handled when awaited above; until then a failure must not count as an unhandled rejection.
        pending.catch(() => undefined);
      }
      yield r.value;
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await inner.return(undefined);
  }
}

async function* decodeBatches(
  chunks: AsyncIterable<Uint8Array>,
  opts: CaptureItemsOptions,
): AsyncGenerator<CaptureBatch> {
  const batchItems = opts.batchItems ?? 5000;
  const stats = emptyStats();
  let items: SourceItem[] = [];
  const cache = new PayloadCache();
  const obs = new ObservationAggregator();
  const maxSightings = batchItems * 50;
  const table = new FlowTable({
    ...opts.flowTable,
    payloadCache: cache,
    observations: obs,
    onFlow: (flow) => {
      stats.flows++;
      items.push(new FlowItem(flow));
    },
  });
  const reader = new CaptureReader({ source: opts.source });
  const info = new PacketInfo();
  let error: CaptureBatch['error'] = null;

  const take = (done: boolean): CaptureBatch => {
    for (const o of obs.take()) items.push({ kind: 'observation', observation: o });
    const b = { items, offset: reader.offset, stats: { ...stats, errors: { ...stats.errors } }, done, error };
    items = [];
    return b;
  };
  const full = (): boolean => items.length + obs.size >= batchItems || obs.sightings >= maxSightings;

  // One frame: no record object and no subarray (decodeFrame reads the frame inside its chunk).
  const frame = reader.frame;
  const handle = (): void => {
    const f = frame;
    stats.records++;
    stats.bytes += f.wireLen;
    const data = f.buf;
    decodeFrame(f.linkType, data, f.start, f.end, info);
    info.tsMicros = f.tsMicros;
    info.iface = f.iface;
    info.wireLen = f.wireLen;
    if (info.decodeError !== null)
      countError(stats, `${info.decodeErrorLayer ?? 'packet'}_${info.decodeError}`);
    cache.clear();
    table.add(info, data);
    if (info.payloadLength > 0) emitObservations(info, data, obs, cache);
  };

  try {
    let ended = false;
    for await (const chunk of endMarked(chunks)) {
      if (chunk === END) {
        reader.end();
        ended = true;
      } else reader.push(plainBytes(chunk));
      while (reader.nextFrame()) {
        handle();
        if (full()) yield take(false);
      }
      // Nothing refers to this chunk any more (a partial record left in it is copied): the producer may
      // fill it again (fileBatches reads into two reused buffers).
      reader.release();
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
  if (fs.bodiesSkipped > 0) stats.errors.http_body_skipped = fs.bodiesSkipped;
  yield take(true);
}

const END = Symbol('end');

/**
 * A plain Uint8Array view of a chunk: frames are subarrays of it, and Buffer#subarray (a FastBuffer per
 * call) costs several times a typed-array subarray at a million packets.
 */
function plainBytes(chunk: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(chunk) === Uint8Array.prototype
    ? chunk
    : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* endMarked(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array | typeof END> {
  yield* chunks;
  yield END;
}
