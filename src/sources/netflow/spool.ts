/**
 * A first-in first-out queue of flow batches in a file, for the NetFlow receiving thread (worker.ts): when
 * the main thread (or the database behind it) falls behind for longer than the in-memory queue covers, the
 * sealed batches wait here instead of being dropped, and are handed over in order once there is room.
 * Memory stays bounded (a batch's size and an index entry per spooled batch); disk is bounded by `maxBytes`,
 * past which push() refuses (the caller drops and counts). The file is emptied (truncated) whenever the queue
 * drains, and removed by close(); it is scratch space, not a journal: what it holds when the process dies is
 * lost, like the in-memory queue.
 *
 * A record: u32 flows, u32 number-buffer bytes, u32 string-table bytes (JSON), then the two. The index in
 * memory keeps the same lengths, so reading needs no header; it makes the file readable on its own.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FlowBatch } from './flow-batch.js';

const HEADER = 12;

export class BatchSpool {
  private fd: number | null = null;
  /** Per spooled batch: its flows, and the byte lengths of its number buffer and string table. */
  private readonly index: { n: number; numBytes: number; strBytes: number }[] = [];
  private head = 0;
  private writePos = 0;
  private readPos = 0;
  private flows = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
  ) {}

  /** Flows waiting in the file. */
  get records(): number {
    return this.flows;
  }

  /** Bytes the file holds that are still to be read. */
  get bytes(): number {
    return this.writePos - this.readPos;
  }

  get empty(): boolean {
    return this.head === this.index.length;
  }

  /** Appends a batch; false (nothing written) when it would take the spool past maxBytes. */
  push(b: FlowBatch): boolean {
    const strings = Buffer.from(JSON.stringify(b.strings), 'utf8');
    const bytes = HEADER + b.buffer.byteLength + strings.length;
    if (this.bytes + bytes > this.maxBytes) return false;
    const fd = this.open();
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(b.n, 0);
    header.writeUInt32LE(b.buffer.byteLength, 4);
    header.writeUInt32LE(strings.length, 8);
    this.writeAll(fd, header);
    this.writeAll(fd, new Uint8Array(b.buffer));
    this.writeAll(fd, strings);
    this.index.push({ n: b.n, numBytes: b.buffer.byteLength, strBytes: strings.length });
    this.flows += b.n;
    return true;
  }

  /** The oldest batch, or null when none waits. Read straight into its own buffers (no staging copy). */
  shift(): FlowBatch | null {
    if (this.empty || this.fd === null) return null;
    const { n, numBytes, strBytes } = this.index[this.head] as (typeof this.index)[number];
    const buffer = new ArrayBuffer(numBytes);
    this.readAll(this.fd, new Uint8Array(buffer), this.readPos + HEADER);
    const text = Buffer.alloc(strBytes);
    this.readAll(this.fd, text, this.readPos + HEADER + numBytes);
    this.head++;
    this.readPos += HEADER + numBytes + strBytes;
    this.flows -= n;
    const strings = JSON.parse(text.toString('utf8')) as string[];
    if (this.empty) this.reset();
    else if (this.head >= 1024 && this.head * 2 >= this.index.length) {
      this.index.splice(0, this.head); // read entries: the index stays as long as what waits
      this.head = 0;
    }
    return { n, buffer, strings };
  }

  /** Drops what waits and removes the file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.file, { force: true });
    this.index.length = 0;
    this.head = this.writePos = this.readPos = this.flows = 0;
  }

  private open(): number {
    if (this.fd === null) {
      mkdirSync(dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'w+');
    }
    return this.fd;
  }

  private writeAll(fd: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, this.writePos + done);
    this.writePos += data.length;
  }

  private readAll(fd: number, into: Uint8Array, position: number): void {
    let got = 0;
    while (got < into.length) {
      const k = readSync(fd, into, got, into.length - got, position + got);
      if (k === 0) throw new Error(`netflow spool ${this.file}: ended ${into.length - got} bytes early`);
      got += k;
    }
  }

  /** Empty again: the file is truncated so it does not keep the high-water mark on disk. */
  private reset(): void {
    this.index.length = 0;
    this.head = 0;
    this.writePos = this.readPos = 0;
    if (this.fd !== null) ftruncateSync(this.fd, 0);
  }
}
