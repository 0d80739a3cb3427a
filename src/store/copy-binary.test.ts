import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ip6ToString, ipv4ToString } from '../wire/addr.js';
import { CopyBinaryWriter, Unrepresentable, uuidBytes } from './copy-binary.js';

/** A reader of the format, independent of the writer: the rows as arrays of raw field bytes (null: NULL). */
function readCopy(chunks: readonly Buffer[]): (Buffer | null)[][] {
  const b = Buffer.concat(chunks);
  expect(b.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  expect(b.readInt32BE(11)).toBe(0);
  let p = 15 + 4 + b.readInt32BE(15);
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const n = b.readInt16BE(p);
    p += 2;
    if (n === -1) break;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < n; i++) {
      const len = b.readInt32BE(p);
      p += 4;
      if (len === -1) row.push(null);
      else {
        row.push(b.subarray(p, p + len));
        p += len;
      }
    }
    rows.push(row);
  }
  expect(p).toBe(b.length);
  return rows;
}

const one = (write: (w: CopyBinaryWriter) => void, chunkBytes?: number): Buffer | null => {
  const w = new CopyBinaryWriter(chunkBytes);
  w.row(1);
  write(w);
  return readCopy(w.finish())[0]?.[0] ?? null;
};

const PG_EPOCH_US = 946_684_800_000_000n;
const PG_EPOCH_US_NUM = 946_684_800_000_000;

describe('CopyBinaryWriter', () => {
  it('writes integers of each width big-endian, exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (v) => {
        expect(one((w) => w.int2(v))?.readInt16BE(0)).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.integer(), (v) => {
        expect(one((w) => w.int4(v))?.readInt32BE(0)).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        expect(one((w) => w.int8(v))?.readBigInt64BE(0)).toBe(BigInt(v));
      }),
    );
  });

  it('writes timestamptz as µs since 2000-01-01 UTC, a fraction of a µs cut', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_000_000_000_000 }) /* ms: µs exact up to 2255 */,
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (ms, frac) => {
          const us = ms * 1000 + 999 + frac;
          const got = one((w) => w.timestamptz(us))?.readBigInt64BE(0);
          expect(got).toBe(BigInt(Math.floor(us)) - PG_EPOCH_US); // the double as given, cut like COPY text
        },
      ),
    );
    expect(one((w) => w.timestamptz(1_000_000.75))?.readBigInt64BE(0)).toBe(1_000_000n - PG_EPOCH_US);
    // 2024-05-01T12:00:00.000007Z, as COPY text of the same value stores it.
    const us = Date.UTC(2024, 4, 1, 12) * 1000 + 7;
    expect(one((w) => w.timestamptz(us))?.readBigInt64BE(0)).toBe(BigInt(us) - PG_EPOCH_US);
  });

  it('refuses what the column cannot hold exactly, instead of writing something else', () => {
    for (const [write, what] of [
      [(w: CopyBinaryWriter) => w.int2(32768), 'smallint 32768'],
      [(w: CopyBinaryWriter) => w.int2(1.5), 'smallint 1.5'],
      [(w: CopyBinaryWriter) => w.int4(2 ** 31), 'integer'],
      [(w: CopyBinaryWriter) => w.int8(2 ** 53), 'bigint'],
      [(w: CopyBinaryWriter) => w.int8(Number.NaN), 'bigint NaN'],
      [(w: CopyBinaryWriter) => w.timestamptz(2 ** 53 + PG_EPOCH_US_NUM), 'timestamp'],
      [(w: CopyBinaryWriter) => w.inet('10.0.0.1/24'), 'inet'],
      [(w: CopyBinaryWriter) => w.inet('fe80::1%eth0'), 'inet'],
      [(w: CopyBinaryWriter) => w.inet('010.0.0.1'), 'inet'],
      [(w: CopyBinaryWriter) => w.inet('not-an-ip'), 'inet'],
      [(w: CopyBinaryWriter) => w.uuid(uuidBytes('f940baa91e154de3adb656571e7d0786')), 'uuid'],
    ] as const) {
      expect(() => one(write)).toThrow(Unrepresentable);
      expect(() => one(write)).toThrow(what);
    }
  });

  it('writes text as UTF-8 without NUL, whatever the characters and the chunk size', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.integer({ min: 1, max: 64 }),
        (s, chunk) => {
          const want = Buffer.from(s.replaceAll('\0', ''), 'utf8');
          expect(one((w) => w.text(s), chunk)).toEqual(want);
          expect(one((w) => w.text(s))).toEqual(want);
        },
      ),
    );
  });

  it('writes inet as family, bits, cidr flag, length and the address bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const got = one((w) => w.inet(ipv4ToString(v)));
        expect([...(got ?? [])]).toEqual([2, 32, 0, 4, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const got = one((w) => w.inet(ip6ToString(bytes)));
        expect([...(got ?? [])]).toEqual([3, 128, 0, 16, ...bytes]);
      }),
    );
    expect([...(one((w) => w.inet('::ffff:192.0.2.1')) ?? [])]).toEqual([
      3, 128, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
    ]);
  });

  it('writes uuid as its 16 bytes', () => {
    const got = one((w) => w.uuid(uuidBytes('F940BAA9-1e15-4de3-adb6-56571e7d0786')));
    expect(got?.toString('hex')).toBe('f940baa91e154de3adb656571e7d0786');
  });

  it('rows of mixed fields read back whole across chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.option(fc.string()), fc.maxSafeInteger(), fc.boolean()), { maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (rows, chunk) => {
          const w = new CopyBinaryWriter(chunk);
          for (const [s, n, isNull] of rows) {
            w.row(3);
            if (s === null) w.null();
            else w.text(s);
            w.int8(n);
            if (isNull) w.null();
            else w.int2(7);
          }
          const back = readCopy(w.finish());
          expect(back.length).toBe(rows.length);
          back.forEach((r, i) => {
            const [s, n, isNull] = rows[i] as [string | null, number, boolean];
            expect(r[0]?.toString('utf8') ?? null).toBe(
              s === null ? null : Buffer.from(s.replaceAll('\0', '')).toString(),
            );
            expect(r[1]?.readBigInt64BE(0)).toBe(BigInt(n));
            expect(r[2] === null).toBe(isNull);
          });
        },
      ),
    );
  });
});
