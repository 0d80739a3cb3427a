/**
 * Byte input for the importers: a file path, a Node stream or any async iterable of chunks. Gzip is detected by its
 * magic bytes (1f 8b), not by the file name, and decompressed on the fly (multi-member gzip included).
 */
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type ByteSource = string | Readable | AsyncIterable<Uint8Array | string>;

export function sourceName(src: ByteSource): string {
  return typeof src === 'string' ? src : '<stream>';
}

function toBuffer(c: Uint8Array | string): Buffer {
  return typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.isBuffer(c) ? c : Buffer.from(c);
}

/** Yields the (decompressed) bytes of `src`. */
export async function* readBytes(src: ByteSource): AsyncGenerator<Buffer, void, undefined> {
  const raw: AsyncIterable<Uint8Array | string> = typeof src === 'string' ? createReadStream(src) : src;
  const it = raw[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  while (head.length < 2) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = head.length === 0 ? toBuffer(r.value) : Buffer.concat([head, toBuffer(r.value)]);
  }
  async function* rest(): AsyncGenerator<Buffer, void, undefined> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield toBuffer(r.value);
    }
  }
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  pipeline(Readable.from(rest(), { objectMode: false }), gunzip, () => {
    // errors surface through the iteration of `gunzip` below
  });
  for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
}

/** Yields the lines of `src` (LF or CRLF), decoding UTF-8 across chunk boundaries. Line numbers start at 1. */
export async function* readLines(
  src: ByteSource,
  maxLineLength = 1 << 20,
): AsyncGenerator<{ line: string; lineNo: number }, void, undefined> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  let lineNo = 0;
  for await (const chunk of readBytes(src)) {
    carry += decoder.decode(chunk, { stream: true });
    let nl = carry.indexOf('\n');
    let start = 0;
    while (nl !== -1) {
      let line = carry.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lineNo++;
      yield { line, lineNo };
      start = nl + 1;
      nl = carry.indexOf('\n', start);
    }
    carry = carry.slice(start);
    if (carry.length > maxLineLength) {
      throw new Error(`line ${lineNo + 1} is longer than ${maxLineLength} characters`);
    }
  }
  carry += decoder.decode();
  if (carry.length > 0) {
    lineNo++;
    yield { line: carry.endsWith('\r') ? carry.slice(0, -1) : carry, lineNo };
  }
}
