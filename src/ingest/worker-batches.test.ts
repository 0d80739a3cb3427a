import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hasSharedData, SHARED_DATA } from '../test-support/services.js';
import { fileBatches, type FileBatch, type FileDecodeOptions } from './file-batches.js';
import { IngestInputError } from './input-error.js';
import { workerBatches } from './worker-batches.js';

/** Decoding in the worker thread must give exactly the batches of decoding here, errors included. */

const capture = join(SHARED_DATA, 'iot-sentinel-train', 'HueSwitch', 'Setup-A-1-STA.pcap');

async function all(g: AsyncGenerator<FileBatch>): Promise<FileBatch[]> {
  const out: FileBatch[] = [];
  for await (const b of g) out.push(b);
  return out;
}

const opts = (file: string, o: Partial<FileDecodeOptions> = {}): FileDecodeOptions => ({
  file,
  name: file,
  gzip: false,
  batchItems: 10,
  ...o,
});

describe.runIf(hasSharedData)('decoding in a worker thread', () => {
  it('yields the same batches, in the same order, as decoding in this thread', async () => {
    const here = await all(fileBatches(opts(capture)));
    const there = await all(workerBatches(opts(capture)));
    expect(here.length).toBeGreaterThan(2);
    expect(there.map((b) => b.batch)).toEqual(here.map((b) => b.batch));
    expect(there.at(-1)?.batch.done).toBe(true);
    expect(there.at(-1)?.bytesRead).toBe(readFileSync(capture).length);
  });

  it('reports a corrupt gzip and a gzip bomb as input errors naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-wb-'));
    const gz = gzipSync(readFileSync(capture));
    const cut = join(dir, 'cut.pcap.gz');
    writeFileSync(
      cut,
      gz.subarray(0, gz.length - 40).map((x, i) => (i > 200 ? x ^ 0x5a : x)),
    );
    const err = await all(workerBatches(opts(cut, { name: 'cut.pcap.gz', gzip: true }))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IngestInputError);
    expect((err as Error).message).toMatch(/^cut\.pcap\.gz: gzip: /);
    const bomb = join(dir, 'bomb.pcap.gz');
    writeFileSync(bomb, gz);
    const e2 = await all(
      workerBatches(opts(bomb, { name: 'bomb.pcap.gz', gzip: true, maxInflatedBytes: 1000 })),
    ).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(IngestInputError);
    expect((e2 as Error).message).toContain('bomb.pcap.gz: inflates beyond 1000 bytes');
  });

  it('stops the worker when the reader stops early', async () => {
    let n = 0;
    for await (const b of workerBatches(opts(capture))) {
      n += b.batch.items.length;
      break;
    }
    expect(n).toBeGreaterThan(0);
  });
});
