/**
 * A queue of pushed chunks with a read position. Records are read in place from the front chunk; only a
 * record that straddles chunk boundaries is copied (into a buffer of exactly its size), so memory stays
 * bounded by the chunks not yet consumed — never an ever-growing concatenation.
 */
export class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private avail = 0;
  /** Read position inside `front`. */
  pos = 0;
  /** Absolute stream offset of the read position. */
  consumed: number;

  constructor(startOffset = 0) {
    this.consumed = startOffset;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.avail += chunk.length;
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.avail;
  }

  /** The front chunk; after ensure(n) returned true, bytes [pos, pos + n) of it are the next n bytes. */
  get front(): Uint8Array {
    return this.chunks[0] ?? EMPTY;
  }

  /** Make the next n bytes contiguous in `front`. False when fewer than n bytes are buffered. */
  ensure(n: number): boolean {
    if (this.avail < n) return false;
    const first = this.chunks[0];
    if (first === undefined || first.length - this.pos >= n) return true;
    const merged = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      if (c === undefined) break; // cannot happen: avail >= n
      const take = Math.min(c.length - this.pos, n - filled);
      merged.set(c.subarray(this.pos, this.pos + take), filled);
      filled += take;
      if (this.pos + take === c.length) {
        this.chunks.shift();
        this.pos = 0;
      } else {
        this.pos += take;
      }
    }
    const rest = this.chunks[0];
    if (rest !== undefined && this.pos > 0) this.chunks[0] = rest.subarray(this.pos);
    this.pos = 0;
    this.chunks.unshift(merged);
    return true;
  }

  /**
   * Copies what is still queued (at most a record's worth, once every complete record was read) into one
   * buffer of its own and drops the pushed chunks, so their producer may fill them again.
   */
  detach(): void {
    const out = new Uint8Array(this.avail);
    let o = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i] as Uint8Array;
      const part = i === 0 ? c.subarray(this.pos) : c;
      out.set(part, o);
      o += part.length;
    }
    this.chunks = out.length > 0 ? [out] : [];
    this.pos = 0;
  }

  /** Advance the read position by n bytes (n <= available). */
  consume(n: number): void {
    this.avail -= n;
    this.consumed += n;
    this.pos += n;
    for (;;) {
      const c = this.chunks[0];
      if (c === undefined || this.pos < c.length) break;
      this.pos -= c.length;
      this.chunks.shift();
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Unsigned 16/32-bit reads from a byte array at an offset the caller has bounds-checked. */
export function rd16(b: Uint8Array, o: number, le: boolean): number {
  const x = b[o] ?? 0;
  const y = b[o + 1] ?? 0;
  return le ? x | (y << 8) : (x << 8) | y;
}

export function rd32(b: Uint8Array, o: number, le: boolean): number {
  const a = b[o] ?? 0;
  const c = b[o + 1] ?? 0;
  const d = b[o + 2] ?? 0;
  const e = b[o + 3] ?? 0;
  return le ? ((e << 24) | (d << 16) | (c << 8) | a) >>> 0 : ((a << 24) | (c << 16) | (d << 8) | e) >>> 0;
}
