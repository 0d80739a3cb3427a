import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.js';
import { dataPath, hasData, randomChunks, readBytes } from '../test-support/data.js';
import { readPcap } from '../pcap/decode.js';
import { CaptureReader, readCapture, readCaptureStream, sniffCaptureFormat } from './decode.js';
import { ChunkQueue } from './chunks.js';

describe('capture facade', () => {
  it('a new CaptureFrame starts at zero (its timestamp field first set to a double)', () => {
    const r = new CaptureReader();
    expect(r.frame).toMatchObject({ start: 0, end: 0, linkType: 0, tsMicros: 0, wireLen: 0, offset: 0 });
  });

  it('sniffs formats', () => {
    expect(sniffCaptureFormat(Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1]))).toBe('pcap');
    expect(sniffCaptureFormat(Uint8Array.from([0xa1, 0xb2, 0x3c, 0x4d]))).toBe('pcap');
    expect(sniffCaptureFormat(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a]))).toBe('pcapng');
    expect(sniffCaptureFormat(Uint8Array.from([1, 2, 3, 4]))).toBeNull();
    expect(sniffCaptureFormat(Uint8Array.from([0x0a]))).toBeNull();
  });

  it('rejects unknown magic and too-short files with DecodeError', () => {
    const r = new CaptureReader({ source: 'f.bin' });
    expect(() => r.push(Uint8Array.from([1, 2, 3, 4, 5]))).toThrow(
      expect.objectContaining({ kind: 'unsupported' }) as Error,
    );
    const r2 = new CaptureReader();
    r2.push(Uint8Array.from([0xd4, 0xc3]));
    r2.end();
    expect(() => r2.next()).toThrow(DecodeError);
  });

  it('ChunkQueue copies only straddling records', () => {
    const q = new ChunkQueue(100);
    q.push(Uint8Array.from([1, 2, 3]));
    q.push(Uint8Array.from([4, 5, 6, 7]));
    expect(q.ensure(2)).toBe(true);
    q.consume(2);
    expect(q.ensure(3)).toBe(true);
    expect(Array.from(q.front.subarray(q.pos, q.pos + 3))).toEqual([3, 4, 5]);
    q.consume(3);
    expect(q.consumed).toBe(105);
    expect(q.available).toBe(2);
    expect(q.ensure(3)).toBe(false);
  });

  describe.skipIf(!hasData('moniotr-sample'))('over a real capture', () => {
    const file = dataPath('moniotr-sample', 'yi_camera_sample.pcap');
    it('matches the pcap reader, also when streamed in chunks (first chunk shorter than the magic)', async () => {
      const bytes = readBytes(file);
      const direct = [...readPcap(bytes)];
      const viaFacade = [...readCapture(bytes)];
      expect(viaFacade.length).toBe(1631);
      expect(viaFacade.map((r) => r.tsMicros)).toEqual(direct.map((r) => r.tsMicros));
      const chunks = [bytes.subarray(0, 2), ...randomChunks(bytes.subarray(2), 3, 9000)];
      const streamed = [];
      for await (const rec of readCaptureStream(Readable.from(chunks))) streamed.push(rec);
      expect(streamed.map((r) => `${r.offset}:${r.capLen}:${r.linkType}`)).toEqual(
        direct.map((r) => `${r.offset}:${r.capLen}:${r.linkType}`),
      );
      const r = new CaptureReader();
      r.push(bytes.subarray(0, 3));
      expect(r.format).toBeNull();
      r.push(bytes.subarray(3, 100));
      expect(r.format).toBe('pcap');
    });
  });
});
