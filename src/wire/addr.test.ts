import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Text, ipv4ToString, macToString, parseIp, parseIp4 } from './addr.js';

/** The regex reading parseIp4 had before it was hand-written: the reference for its acceptance. */
function reference(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? '';
    if (part.length > 1 && part.startsWith('0')) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

describe('parseIp4', () => {
  it('reads exactly the dotted quads the regex reference reads, to the same number', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('01', '00', '', 'a', ' 1', '٣'),
    );
    const text = fc.oneof(
      fc.array(octet, { minLength: 1, maxLength: 6 }).map((o) => o.join('.')),
      fc.string({ maxLength: 16 }),
    );
    fc.assert(
      fc.property(text, (s) => parseIp4(s) === reference(s)),
      { numRuns: 2000 },
    );
    expect(parseIp4('192.168.1.255')).toBe(0xc0a801ff);
    expect(parseIp4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIp4('0.0.0.0')).toBe(0);
    expect(parseIp4('1.2.3.04')).toBeNull();
    expect(parseIp('  10.0.0.1 ')).toEqual({ version: 4, ip4: 0x0a000001 });
  });
});

describe('ipv4Text', () => {
  it('is ipv4ToString of the same 32 bits, given signed or unsigned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        (v) => ipv4Text(v) === ipv4ToString(v) && ipv4Text(v | 0) === ipv4ToString(v),
      ),
      { numRuns: 2000 },
    );
    expect(ipv4Text(0xc0a80001 | 0)).toBe('192.168.0.1');
    expect(ipv4Text(0xffffffff)).toBe('255.255.255.255');
  });

  it('gives every address its own text whatever came before it (addresses share cache slots)', () => {
    // More addresses than slots, repeated in any order, with 0.0.0.0 (the empty slots' key) among them.
    const pool = fc.constantFrom(0, 1, 0x0a000001, 0xc0a80001, 0xffffffff, 0x80000000);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(pool, fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 20_000 }),
        (vs) => vs.every((v) => ipv4Text(v) === ipv4ToString(v)),
      ),
      { numRuns: 30 },
    );
  });
});

describe('macToString', () => {
  it('formats every 48-bit value, however many other values share its cache slot', () => {
    const reference = (v: number): string =>
      v
        .toString(16)
        .padStart(12, '0')
        .replace(/(..)(?!$)/g, '$1:');
    const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
    fc.assert(
      fc.property(fc.array(mac, { minLength: 1, maxLength: 50 }), (vs) =>
        // Twice over: the second round reads whatever the first left in the cache.
        [...vs, ...vs].every((v) => macToString(v) === reference(v)),
      ),
      { numRuns: 500 },
    );
    expect(macToString(0x94103e48f2a4)).toBe('94:10:3e:48:f2:a4');
  });
});
