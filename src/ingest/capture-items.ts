import { FlowItem } from '../flows/flow-record.js';
import { FlowTable, tableErrorCounts, type FlowTableOptions } from '../flows/flow-table.js';
import type { FlowRecord } from '../flows/types.js';
import { emitObservations, ObservationAggregator } from '../flows/observations.js';
import { objectArray } from '../flows/object-array.js';
import { PayloadCache } from '../flows/payload-cache.js';
import { CaptureReader, type CaptureFrame } from '../wire/capture/decode.js';
import { isDecodeError, type DecodeError } from '../wire/errors.js';
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
  const d = new BatchDecoder(opts);
  const reader = d.reader;
  try {
    let ended = false;
    for await (const chunk of endMarked(chunks)) {
      if (chunk === END) {
        reader.end();
        ended = true;
      } else reader.push(plainBytes(chunk));
      while (d.decodeFrames()) yield d.take(false);
      // Nothing refers to this chunk any more (a partial record left in it is copied): the producer may
      // fill it again (fileBatches reads into two reused buffers).
      reader.release();
      if (ended) break;
    }
  } catch (e) {
    if (!isDecodeError(e)) throw e;
    d.failed(e);
  }
  yield d.finish();
}

/**
 * The decoding state of one capture, with the per-packet steps as methods rather than closures made per
 * capture: optimised code inlines a call target it has seen, and a fresh closure per capture is another
 * target, so the second capture decoded in a process (a re-ingest, the bench's second pass) threw away the
 * hot loop's optimised code and ran slower until it was compiled again.
 */
class BatchDecoder {
  readonly reader: CaptureReader;
  private readonly stats = emptyStats();
  private readonly items = objectArray<SourceItem>();
  private readonly cache = new PayloadCache();
  private readonly obs = new ObservationAggregator();
  private readonly table: FlowTable;
  private readonly info = new PacketInfo();
  /** One frame: no record object and no subarray (decodeFrame reads the frame inside its chunk). */
  private readonly frame: CaptureFrame;
  private readonly batchItems: number;
  private readonly maxSightings: number;
  private error: CaptureBatch['error'] = null;

  constructor(opts: CaptureItemsOptions) {
    this.batchItems = opts.batchItems ?? 5000;
    this.maxSightings = this.batchItems * 50;
    this.table = new FlowTable({
      ...opts.flowTable,
      payloadCache: this.cache,
      observations: this.obs,
      onFlow: (flow) => this.flow(flow),
    });
    this.reader = new CaptureReader({ source: opts.source });
    this.frame = this.reader.frame;
  }

  private flow(flow: FlowRecord): void {
    this.stats.flows++;
    this.items.push(new FlowItem(flow));
  }

  /**
   * Decodes the frames the reader holds until a batch is full (true) or more bytes are needed (false). The
   * per-frame loop is here rather than in the generator: a method's optimised code serves every capture,
   * where a generator starts each one over in the interpreter.
   */
  decodeFrames(): boolean {
    const reader = this.reader;
    while (reader.nextFrame()) {
      this.handle();
      if (this.full()) return true;
    }
    return false;
  }

  /** Decodes the reader's current frame into flows and observations. */
  private handle(): void {
    const f = this.frame;
    const stats = this.stats;
    const info = this.info;
    stats.records++;
    stats.bytes += f.wireLen;
    const data = f.buf;
    decodeFrame(f.linkType, data, f.start, f.end, info);
    info.tsMicros = f.tsMicros;
    info.iface = f.iface;
    info.wireLen = f.wireLen;
    if (info.decodeError !== null)
      countError(stats, `${info.decodeErrorLayer ?? 'packet'}_${info.decodeError}`);
    this.cache.clear();
    this.table.add(info, data);
    if (info.payloadLength > 0) emitObservations(info, data, this.obs, this.cache);
  }

  private full(): boolean {
    const obs = this.obs;
    return this.items.length + obs.size >= this.batchItems || obs.sightings >= this.maxSightings;
  }

  take(done: boolean): CaptureBatch {
    // The batch gets a copy and `items` stays the same array: V8 takes a field only ever set once as
    // constant, and replacing it at the first take() (mid-way through the first capture) threw away the
    // optimised packet loop.
    const items = this.items.slice();
    this.items.length = 0;
    for (const o of this.obs.take()) items.push({ kind: 'observation', observation: o });
    const stats = this.stats;
    return {
      items,
      offset: this.reader.offset,
      stats: { ...stats, errors: { ...stats.errors } },
      done,
      error: this.error,
    };
  }

  /** A corrupt or truncated capture: what was decoded stands, the rest is lost. */
  failed(e: DecodeError): void {
    countError(this.stats, e.kind);
    this.error = { message: e.message, offset: e.offset ?? this.reader.offset };
  }

  /** End of the capture: every live flow is exported; the last batch. */
  finish(): CaptureBatch {
    this.table.flushAll();
    this.stats.errors = { ...this.stats.errors, ...tableErrorCounts(this.table.stats) };
    return this.take(true);
  }
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
