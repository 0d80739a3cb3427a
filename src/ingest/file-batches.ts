import { createReadStream } from 'node:fs';
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

/** The capture batches of a pcap/pcapng file (gunzipped on the fly), read in this thread. */
export async function* fileBatches(o: FileDecodeOptions): AsyncGenerator<FileBatch> {
  const raw = createReadStream(o.file, { highWaterMark: 1 << 20 });
  let bytesRead = 0;
  raw.on('data', (c) => (bytesRead += c.length));
  let input: Readable = raw;
  if (o.gzip) {
    input = raw.pipe(createGunzip());
    if (o.maxInflatedBytes) input = input.pipe(limitBytes(o.maxInflatedBytes, o.name));
    raw.on('error', (e) => input.destroy(e));
  }
  try {
    for await (const batch of captureItems(input as AsyncIterable<Uint8Array>, {
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
    raw.destroy();
  }
}
