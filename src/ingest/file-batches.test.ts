import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBigPcap } from '../test-support/big-capture.js';
import { hasSharedData, SHARED_DATA } from '../test-support/services.js';
import { captureItems } from './capture-items.js';
import { fileBatches } from './file-batches.js';

/**
 * fileBatches reads a capture into two reused 1 MB buffers: records that straddle them, and everything the
 * decoders keep, must come out exactly as from the whole file in one piece.
 */
describe.runIf(hasSharedData)('file batches read through reused buffers', () => {
  it('give the same flows and observations as the whole file decoded at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-fb-'));
    try {
      const file = join(dir, 'five.pcap');
      writeBigPcap(SHARED_DATA, file, 5_000_000);
      const whole: unknown[] = [];
      async function* once() {
        yield readFileSync(file);
      }
      for await (const b of captureItems(once(), { source: file, batchItems: 1000 })) whole.push(...b.items);
      const pieces: unknown[] = [];
      let last = 0;
      for await (const { batch, bytesRead } of fileBatches({
        file,
        name: file,
        gzip: false,
        batchItems: 1000,
      })) {
        pieces.push(...batch.items);
        last = bytesRead;
      }
      expect(whole.length).toBeGreaterThan(500);
      expect(pieces).toEqual(whole);
      expect(last).toBe(readFileSync(file).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
