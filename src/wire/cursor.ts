import { DecodeError } from './errors.js';

/**
 * A bounds-checked reader over a byte range. Every read checks the remaining length first and throws a
 * DecodeError('truncated') instead of reading past the end. No allocation per read.
 */
export class Cursor {
  pos: number;
  readonly end: number;
  private dv: DataView | null = null;

  constructor(
    readonly bytes: Uint8Array,
    readonly decoder: string,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = Math.min(end, bytes.length);
  }

  /** A DataView over `bytes` (created on first use: most decoders only need the integer reads below). */
  get view(): DataView {
    return (this.dv ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(
        'truncated',
        this.decoder,
        `need ${n} bytes, have ${this.end - this.pos}`,
        this.pos,
      );
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] ?? 0;
  }

  u16(littleEndian = false): number {
    this.need(2);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 2;
    const x = b[p] ?? 0;
    const y = b[p + 1] ?? 0;
    return littleEndian ? x | (y << 8) : (x << 8) | y;
  }

  u32(littleEndian = false): number {
    this.need(4);
    const v = rd32(this.bytes, this.pos, littleEndian);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit as a JS number (exact up to 2^53; larger values lose low bits). */
  u64(littleEndian = false): number {
    this.need(8);
    const hi = rd32(this.bytes, this.pos + (littleEndian ? 4 : 0), littleEndian);
    const lo = rd32(this.bytes, this.pos + (littleEndian ? 0 : 4), littleEndian);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** A sub-array view (no copy) of the next n bytes. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A sub-cursor over the next n bytes; this cursor moves past them. */
  sub(n: number, decoder = this.decoder): Cursor {
    this.need(n);
    const c = new Cursor(this.bytes, decoder, this.pos, this.pos + n);
    this.pos += n;
    return c;
  }
}

function rd32(b: Uint8Array, p: number, le: boolean): number {
  const a = b[p] ?? 0;
  const c = b[p + 1] ?? 0;
  const d = b[p + 2] ?? 0;
  const e = b[p + 3] ?? 0;
  return le ? ((e << 24) | (d << 16) | (c << 8) | a) >>> 0 : ((a << 24) | (c << 16) | (d << 8) | e) >>> 0;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Bytes as text, invalid UTF-8 replaced (U+FFFD). Attacker-controlled: callers must cap lengths. */
export function utf8Text(b: Uint8Array): string {
  return utf8.decode(b);
}

/** Bytes as Latin-1 text (one char per byte), for protocols whose headers are ASCII. */
export function latin1Text(b: Uint8Array): string {
  return latin1.decode(b);
}
