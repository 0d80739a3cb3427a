import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { captureItems, type CaptureBatch } from './capture-items.js';
import { IngestInputError } from './input-error.js';

/** What decoding a capture file needs: the same in this thread or in a decode worker (decode-worker.ts). */
export interface FileDecodeOptions {
  /** The file's absolute path. */
  file: string;
  /** The file as the user named it, in error messages. */
  name: string;
  gzip: boolean;
  /** Refuse gzip input that inflates beyond this many bytes (gzip bombs). */
  maxInflatedBytes?: number | undefined;
  batchItems: number;
}

/** A batch of the capture and the bytes of the file read so far (before decompression; for progress). */
export interface FileBatch {
  batch: CaptureBatch;
  bytesRead: number;
}

export const isGzip = (b: Uint8Array): boolean => b[0] === 0x1f && b[1] === 0x8b;

function limitBytes(max: number, file: string): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > max) cb(new IngestInputError(file, `inflates beyond ${max} bytes; refusing (gzip bomb?)`));
      else cb(null, chunk);
    },
  });
}

const CHUNK = 1 << 20;

/**
 * The bytes of a file in chunks read into two buffers used in turn: a fresh megabyte per read costs page
 * faults, a copy into new memory and external memory for the GC to track. The next chunk is read while the
 * consumer decodes this one, into the buffer it released when it asked for this one: the consumer must be
 * done with a chunk when it asks for the next (captureItems releases each chunk before that).
 */
async function* reusedChunks(file: string, onRead: (n: number) => void): AsyncGenerator<Uint8Array> {
  const fh = await open(file, 'r');
  const ring = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let k = 0;
  let pending: ReturnType<typeof fh.read<Uint8Array>> | null = fh.read(ring[0] as Uint8Array, 0, CHUNK, null);
  try {
    while (pending) {
      const { bytesRead, buffer } = await pending;
      pending = null;
      if (bytesRead === 0) return;
      onRead(bytesRead);
      k ^= 1;
      pending = fh.read(ring[k] as Uint8Array, 0, CHUNK, null);
      yield bytesRead === CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    // Stopped early: let the read in flight finish (or fail) before closing its file.
    await pending?.catch(() => undefined);
    await fh.close();
  }
}

/** The capture batches of a pcap/pcapng file (gunzipped on the fly), read in this thread. */
export async function* fileBatches(o: FileDecodeOptions): AsyncGenerator<FileBatch> {
  let bytesRead = 0;
  const counted = (n: number) => (bytesRead += n);
  let raw: Readable | null = null;
  let input: AsyncIterable<Uint8Array>;
  if (o.gzip) {
    const r = createReadStream(o.file, { highWaterMark: CHUNK });
    raw = r;
    r.on('data', (c) => counted(c.length));
    let inflated: Readable = r.pipe(createGunzip());
    if (o.maxInflatedBytes) inflated = inflated.pipe(limitBytes(o.maxInflatedBytes, o.name));
    r.on('error', (e) => inflated.destroy(e));
    input = inflated;
  } else input = reusedChunks(o.file, counted);
  try {
    for await (const batch of captureItems(input, {
      source: o.name,
      batchItems: o.batchItems,
    })) {
      yield { batch, bytesRead };
    }
  } catch (e) {
    if (
      o.gzip &&
      e instanceof Error &&
      !(e instanceof IngestInputError) &&
      /incorrect header check|unexpected end of file|invalid/i.test(e.message)
    )
      throw new IngestInputError(o.name, `gzip: ${e.message}`);
    throw e;
  } finally {
    raw?.destroy();
  }
}
