/**
 * PostgreSQL's binary COPY format, written straight into Buffers (a pure encoder, no I/O): what bulk loads
 * send as `COPY … FROM STDIN WITH (FORMAT binary)` (PGlite: `FROM '/dev/blob'`). Against COPY text it saves
 * both sides the work of numbers and times as digits: no string per value here, no text parsing in the
 * server (timestamptz and inet input are among PostgreSQL's slowest).
 *
 * A value the chosen column type cannot hold exactly (a fraction or an out-of-range number for an integer
 * column, an address or UUID this encoder does not read) throws `Unrepresentable`; the caller then sends the
 * batch as text, so the server decides and answers as it always did. Text drops NUL, as COPY text does
 * (PostgreSQL text cannot hold it).
 *
 * Format (PostgreSQL docs, "COPY … Binary Format"): an 11-byte signature, int32 flags, int32 header
 * extension length; per row an int16 field count, then per field an int32 byte length (-1: NULL) and the
 * value in the type's send format, big-endian; an int16 -1 ends the data.
 */
import { parseIp4, parseIp6 } from '../wire/addr.js';

/** A value the binary encoder will not write (the text path is used instead). */
export class Unrepresentable extends Error {
  constructor(what: string) {
    super(`not representable in binary COPY: ${what}`);
    this.name = 'Unrepresentable';
  }
}

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // "PGCOPY\n\377\r\n\0"
const HEADER_BYTES = SIGNATURE.length + 8;
/** µs from the Unix epoch to PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_US = 946_684_800_000_000;
const TWO32 = 4_294_967_296;
/** inet's address families on the wire (PGSQL_AF_INET, PGSQL_AF_INET6). */
const AF_INET = 2;
const AF_INET6 = 3;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Builds a COPY binary stream in chunks: row(), then one call per field in column order, then finish(). */
export class CopyBinaryWriter {
  private readonly chunks: Buffer[] = [];
  private buf: Buffer;
  private view: DataView;
  private pos = 0;

  constructor(private readonly chunkBytes = 1 << 18) {
    this.buf = Buffer.allocUnsafe(Math.max(chunkBytes, HEADER_BYTES));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    for (const b of SIGNATURE) this.buf[this.pos++] = b;
    this.view.setInt32(this.pos, 0); // flags: no OIDs
    this.view.setInt32(this.pos + 4, 0); // no header extension
    this.pos += 8;
  }

  /** Makes room for `n` more bytes (a new chunk when the current one is full). */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, n));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
  }

  /** Starts a row of `fields` values. */
  row(fields: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
  }

  null(): void {
    this.ensure(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
  }

  /** smallint */
  int2(v: number): void {
    if (!Number.isInteger(v) || v < -32768 || v > 32767) throw new Unrepresentable(`smallint ${v}`);
    this.ensure(6);
    this.view.setInt32(this.pos, 2);
    this.view.setInt16(this.pos + 4, v);
    this.pos += 6;
  }

  /** integer */
  int4(v: number): void {
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new Unrepresentable(`integer ${v}`);
    this.ensure(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
  }

  /** bigint: any safe integer. */
  int8(v: number): void {
    if (!Number.isSafeInteger(v)) throw new Unrepresentable(`bigint ${v}`);
    this.put8(v);
  }

  /** timestamptz from µs since the Unix epoch (a fraction of a µs is cut, as COPY text of it does). */
  timestamptz(us: number): void {
    const v = Math.floor(us) - PG_EPOCH_US;
    if (!Number.isSafeInteger(v)) throw new Unrepresentable(`timestamp ${us}`);
    this.put8(v);
  }

  private put8(v: number): void {
    this.ensure(12);
    const hi = Math.floor(v / TWO32);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, v - hi * TWO32);
    this.pos += 12;
  }

  /** text (UTF-8; NUL dropped). */
  text(s: string): void {
    const len = s.length;
    this.ensure(4 + len * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const b = this.buf;
    const start = this.pos;
    let p = start + 4;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
      b[p++] = c;
    }
    if (i < len) {
      const rest = i === 0 ? s : s.slice(i);
      p += b.write(rest.includes('\0') ? rest.replaceAll('\0', '') : rest, p, 'utf8');
    }
    this.view.setInt32(start, p - start - 4);
    this.pos = p;
  }

  /** inet of one host address, from its text (dotted IPv4 or IPv6 without a zone or prefix). */
  inet(s: string): void {
    const v4 = parseIp4(s);
    if (v4 !== null) {
      this.ensure(12);
      const b = this.buf;
      const p = this.pos;
      this.view.setInt32(p, 8);
      b[p + 4] = AF_INET;
      b[p + 5] = 32;
      b[p + 6] = 0; // not cidr
      b[p + 7] = 4;
      this.view.setUint32(p + 8, v4);
      this.pos += 12;
      return;
    }
    const v6 = s.includes('%') ? null : parseIp6(s);
    if (v6 === null) throw new Unrepresentable(`inet ${JSON.stringify(s.slice(0, 64))}`);
    this.ensure(24);
    const b = this.buf;
    const p = this.pos;
    this.view.setInt32(p, 20);
    b[p + 4] = AF_INET6;
    b[p + 5] = 128;
    b[p + 6] = 0;
    b[p + 7] = 16;
    b.set(v6, p + 8);
    this.pos += 24;
  }

  /** uuid, as uuidBytes() read it (read it once for a value repeated on every row). */
  uuid(bytes: Uint8Array): void {
    this.ensure(20);
    this.view.setInt32(this.pos, 16);
    this.buf.set(bytes, this.pos + 4);
    this.pos += 20;
  }

  /** Ends the data; the chunks to send, in order. */
  finish(): Buffer[] {
    this.ensure(2);
    this.view.setInt16(this.pos, -1);
    this.pos += 2;
    this.chunks.push(this.buf.subarray(0, this.pos));
    return this.chunks;
  }
}

/** A uuid's 16 bytes from its canonical text (8-4-4-4-12 hex digits), for CopyBinaryWriter.uuid. */
export function uuidBytes(s: string): Uint8Array {
  if (!UUID_TEXT.test(s)) throw new Unrepresentable(`uuid ${JSON.stringify(s.slice(0, 64))}`);
  return Buffer.from(s.replaceAll('-', ''), 'hex');
}
