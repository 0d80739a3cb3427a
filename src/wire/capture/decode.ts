import { DecodeError } from '../errors.js';
import { isPcapMagic, PcapReader } from '../pcap/decode.js';
import { isPcapngMagic, PcapngReader } from '../pcapng/decode.js';
import { CaptureFrame, type CaptureFormat, type CaptureRecord, type RecordReader } from './types.js';

export { CaptureFrame } from './types.js';
export type { CaptureFormat, CaptureRecord, RecordReader } from './types.js';

/** Which capture format the first bytes announce, or null when neither (fewer than 4 bytes → null). */
export function sniffCaptureFormat(head: Uint8Array): CaptureFormat | null {
  if (isPcapMagic(head)) return 'pcap';
  if (isPcapngMagic(head)) return 'pcapng';
  return null;
}

export interface CaptureReaderOptions {
  /** Name used in error messages, e.g. the file path. */
  source?: string;
  /** Force a format instead of sniffing the magic. */
  format?: CaptureFormat;
}

/**
 * Format-agnostic streaming capture reader: sniffs the magic of the first 4 bytes and delegates to
 * PcapReader or PcapngReader. Same push()/end()/next() API; every record carries its own linkType.
 */
export class CaptureReader implements RecordReader {
  private inner: PcapReader | PcapngReader | null = null;
  private head: Uint8Array[] = [];
  private headLen = 0;
  private ended = false;
  private readonly source: string;
  private readonly forced: CaptureFormat | undefined;
  /** The frame of the last nextFrame() that returned true (filled by the pcap reader itself). */
  readonly frame = new CaptureFrame();

  constructor(opts: CaptureReaderOptions = {}) {
    this.source = opts.source ?? 'stream';
    this.forced = opts.format;
    if (this.forced) this.inner = this.make(this.forced);
  }

  /** The detected format, null until 4 bytes have been pushed. */
  get format(): CaptureFormat | null {
    if (this.inner instanceof PcapReader) return 'pcap';
    if (this.inner instanceof PcapngReader) return 'pcapng';
    return null;
  }

  /** The underlying reader (for format-specific details: pcap header, pcapng interfaces and names). */
  get reader(): PcapReader | PcapngReader | null {
    return this.inner;
  }

  get offset(): number {
    return this.inner ? this.inner.offset : 0;
  }

  push(chunk: Uint8Array): void {
    if (this.inner) {
      this.inner.push(chunk);
      return;
    }
    this.head.push(chunk);
    this.headLen += chunk.length;
    if (this.headLen < 4) return;
    const first = this.head.length === 1 && chunk.length >= 4 ? chunk : concat(this.head, this.headLen);
    const fmt = sniffCaptureFormat(first);
    if (fmt === null) {
      const magic = Array.from(first.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('');
      throw new DecodeError(
        'unsupported',
        'capture',
        `${this.source}: not a pcap/pcapng file (magic ${magic})`,
        0,
      );
    }
    this.inner = this.make(fmt);
    this.inner.push(first);
    this.head = [];
    if (this.ended) this.inner.end();
  }

  /**
   * Stops referring to the chunks pushed so far: what is left of them (part of a record) is copied. After
   * it, the producer may fill those chunks with the next bytes (a reader reusing its buffers).
   */
  release(): void {
    if (this.inner) this.inner.release();
    else if (this.head.length > 0) this.head = [concat(this.head, this.headLen)];
  }

  end(): void {
    this.ended = true;
    if (this.inner) this.inner.end();
  }

  next(): CaptureRecord | null {
    if (this.inner) return this.inner.next();
    if (this.ended && this.headLen > 0) {
      this.headLen = 0;
      throw new DecodeError('truncated', 'capture', `${this.source}: file shorter than a capture header`, 0);
    }
    return null;
  }

  /**
   * Moves to the next record like next(), exposing it as `frame` instead of a record object (classic pcap:
   * no allocation per frame). False when more bytes are needed or the stream is finished.
   */
  nextFrame(): boolean {
    const inner = this.inner;
    if (inner instanceof PcapReader) return inner.nextFrame();
    const r = this.next();
    if (r === null) return false;
    const f = this.frame;
    f.buf = r.data;
    f.start = 0;
    f.end = r.data.length;
    f.linkType = r.linkType;
    f.tsMicros = r.tsMicros;
    f.wireLen = r.wireLen;
    f.offset = r.offset;
    f.iface = r.iface;
    return true;
  }

  private make(fmt: CaptureFormat): PcapReader | PcapngReader {
    return fmt === 'pcap'
      ? new PcapReader({ source: this.source, frame: this.frame })
      : new PcapngReader({ source: this.source });
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Read every record of an in-memory capture (pcap or pcapng). */
export function* readCapture(bytes: Uint8Array, source?: string): Generator<CaptureRecord> {
  const r = new CaptureReader(source === undefined ? {} : { source });
  r.push(bytes);
  r.end();
  for (let rec = r.next(); rec !== null; rec = r.next()) yield rec;
}

/** Records of a capture arriving as an async stream of chunks (e.g. a file ReadStream); no I/O here. */
export async function* readCaptureStream(
  chunks: AsyncIterable<Uint8Array>,
  source?: string,
): AsyncGenerator<CaptureRecord> {
  const r = new CaptureReader(source === undefined ? {} : { source });
  for await (const c of chunks) {
    r.push(c);
    for (let rec = r.next(); rec !== null; rec = r.next()) yield rec;
  }
  r.end();
  for (let rec = r.next(); rec !== null; rec = r.next()) yield rec;
}
