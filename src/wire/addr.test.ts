import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp, parseIp4 } from './addr.js';

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
