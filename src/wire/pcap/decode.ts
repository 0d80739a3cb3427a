import { DecodeError } from '../errors.js';
import { ChunkQueue, rd16, rd32 } from '../capture/chunks.js';
import { CaptureFrame, type RecordReader } from '../capture/types.js';
import type { PcapHeader, PcapReaderOptions, PcapRecord } from './types.js';

export type { PcapHeader, PcapReaderOptions, PcapRecord } from './types.js';

/** Largest caplen accepted in a record header (libpcap's maximum snapshot length). */
export const PCAP_MAX_CAPLEN = 262_144;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/** True when the first 4 bytes are one of the four classic pcap magics. */
export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = rd32(b, 0, false);
  return be === 0xa1b2c3d4 || be === 0xd4c3b2a1 || be === 0xa1b23c4d || be === 0x4d3cb2a1;
}

/** Decode the 24-byte global header. Throws DecodeError (truncated / malformed / unsupported). */
export function decodePcapHeader(b: Uint8Array, source = 'stream'): PcapHeader {
  if (b.length < GLOBAL_HEADER) {
    throw new DecodeError('truncated', 'pcap', `${source}: global header needs 24 bytes`, 0);
  }
  const be = rd32(b, 0, false);
  let littleEndian: boolean;
  let nanos: boolean;
  if (be === 0xa1b2c3d4) [littleEndian, nanos] = [false, false];
  else if (be === 0xd4c3b2a1) [littleEndian, nanos] = [true, false];
  else if (be === 0xa1b23c4d) [littleEndian, nanos] = [false, true];
  else if (be === 0x4d3cb2a1) [littleEndian, nanos] = [true, true];
  else throw new DecodeError('malformed', 'pcap', `${source}: bad magic 0x${be.toString(16)}`, 0);
  const versionMajor = rd16(b, 4, littleEndian);
  const versionMinor = rd16(b, 6, littleEndian);
  if (versionMajor !== 2) {
    throw new DecodeError('unsupported', 'pcap', `${source}: version ${versionMajor}.${versionMinor}`, 4);
  }
  const snaplen = rd32(b, 16, littleEndian);
  const network = rd32(b, 20, littleEndian);
  const fcsLen = network & 0x04000000 ? ((network >>> 28) & 0x0f) * 2 : 0;
  return { littleEndian, nanos, versionMajor, versionMinor, snaplen, linkType: network & 0xffff, fcsLen };
}

/**
 * Incremental classic-pcap reader: push() chunks of the stream in order, then call next() until it returns
 * null. Only the unconsumed tail is kept. Records carry their absolute offset for error messages and
 * checkpoints; `offset` (between records) is a safe resume point (see PcapReaderOptions.resume).
 */
export class PcapReader implements RecordReader {
  header: PcapHeader | null = null;
  /** The frame nextFrame() moved to. */
  readonly frame: CaptureFrame;
  /** A DataView of the chunk record headers are read from, kept while the chunk is the same. */
  private viewOf: Uint8Array | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly q: ChunkQueue;
  private readonly source: string;
  private ended = false;
  private failed: DecodeError | null = null;

  constructor(opts: PcapReaderOptions = {}) {
    this.source = opts.source ?? 'stream';
    this.q = new ChunkQueue(opts.resume?.offset ?? 0);
    this.frame = opts.frame ?? new CaptureFrame();
    if (opts.resume) this.header = opts.resume.header;
  }

  push(chunk: Uint8Array): void {
    this.q.push(chunk);
    if (this.header === null) this.headerIfValid();
  }

  /**
   * Reads the global header once it is buffered and valid (nextFrame() reads it otherwise, and reports a
   * stream that stops inside it or a bad one). Here rather than only in nextFrame(): its header branch runs
   * once per capture, before V8 collects type feedback for nextFrame(), so the optimised nextFrame() lacked
   * that branch and the next capture's first call discarded it.
   */
  private headerIfValid(): void {
    if (!this.q.ensure(GLOBAL_HEADER)) return;
    try {
      this.takeHeader();
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }

  /** Decodes and consumes the buffered global header; throws a DecodeError for a bad one. */
  private takeHeader(): PcapHeader {
    const q = this.q;
    const h = decodePcapHeader(q.front.subarray(q.pos, q.pos + GLOBAL_HEADER), this.source);
    this.header = h;
    q.consume(GLOBAL_HEADER);
    return h;
  }

  /** Stops referring to the chunks pushed so far (see ChunkQueue.detach). */
  release(): void {
    this.q.detach();
  }

  end(): void {
    this.ended = true;
  }

  get offset(): number {
    return this.q.consumed;
  }

  next(): PcapRecord | null {
    if (!this.nextFrame()) return null;
    const f = this.frame;
    return {
      linkType: f.linkType,
      tsMicros: f.tsMicros,
      capLen: f.end - f.start,
      wireLen: f.wireLen,
      data: f.buf.subarray(f.start, f.end),
      offset: f.offset,
      iface: 0,
    };
  }

  /**
   * Moves `frame` to the next complete record (no allocation unless the record straddles chunks). False
   * when more bytes are needed or the stream is finished; throws like next().
   */
  nextFrame(): boolean {
    if (this.failed) throw this.failed;
    const q = this.q;
    let h = this.header;
    if (h === null) {
      if (!q.ensure(GLOBAL_HEADER)) return this.atEnd(GLOBAL_HEADER);
      h = this.takeHeader();
    }
    if (!q.ensure(RECORD_HEADER)) return this.atEnd(RECORD_HEADER);
    let b = q.front;
    let p = q.pos;
    if (b !== this.viewOf) {
      this.viewOf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const v = this.view;
    const le = h.littleEndian;
    const sec = v.getUint32(p, le);
    const frac = v.getUint32(p + 4, le);
    const capLen = v.getUint32(p + 8, le);
    const wireLen = v.getUint32(p + 12, le);
    const recOffset = q.consumed;
    if (capLen > PCAP_MAX_CAPLEN) {
      return this.fail(
        new DecodeError(
          'malformed',
          'pcap',
          `${this.source}: record caplen ${capLen} exceeds ${PCAP_MAX_CAPLEN} (corrupt record header)`,
          recOffset,
        ),
      );
    }
    const total = RECORD_HEADER + capLen;
    if (!q.ensure(total)) return this.atEnd(total);
    b = q.front;
    p = q.pos;
    const f = this.frame;
    f.buf = b;
    f.start = p + RECORD_HEADER;
    f.end = p + total;
    f.linkType = h.linkType;
    f.tsMicros = sec * 1_000_000 + (h.nanos ? Math.floor(frac / 1000) : frac);
    f.wireLen = wireLen;
    f.offset = recOffset;
    q.consume(total);
    return true;
  }

  private atEnd(need: number): false {
    if (this.ended && this.q.available > 0) {
      const have = this.q.available;
      const at = this.q.consumed;
      this.q.consume(have); // report once
      throw new DecodeError(
        'truncated',
        'pcap',
        `${this.source}: stream ends inside a ${this.header ? 'record' : 'header'} (${have} of ${need} bytes)`,
        at,
      );
    }
    return false;
  }

  private fail(e: DecodeError): never {
    this.failed = e;
    throw e;
  }
}

/** Convenience: every record of a whole in-memory pcap file. */
export function* readPcap(bytes: Uint8Array, source?: string): Generator<PcapRecord> {
  const r = new PcapReader(source === undefined ? {} : { source });
  r.push(bytes);
  r.end();
  for (let rec = r.next(); rec !== null; rec = r.next()) yield rec;
}
