import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { microsToIso, microsToIsoMs, minuteOf } from './timestamps.js';

/** The obvious formatter, through Date, as the reference. */
function reference(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = Math.floor(us - ms * 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

describe('microsToIso', () => {
  it('writes microseconds exactly', () => {
    expect(microsToIso(Date.UTC(2026, 10, 25, 6, 17, 38, 95) * 1000 + 123)).toBe(
      '2026-11-25T06:17:38.095123Z',
    );
    expect(microsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(-1)).toBe('1969-12-31T23:59:59.999999Z');
    expect(microsToIso(4_102_444_799_999_999)).toBe('2099-12-31T23:59:59.999999Z');
  });

  it('matches the Date-based formatter for any time, in and out of order', () => {
    // Integers µs are exact in a double within ±2^53 (years 1684 to 2255).
    const us = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(fc.array(us, { maxLength: 20 }), (list) =>
        list.every((t) => microsToIso(t) === reference(t)),
      ),
    );
    // Neighbouring times across day boundaries (the memoised day must not leak).
    for (let t = Date.UTC(2024, 1, 28) * 1000 - 5; t < Date.UTC(2024, 1, 28) * 1000 + 5; t++)
      expect(microsToIso(t + 86_400_000_000)).toBe(reference(t + 86_400_000_000));
  });

  it('throws like Date beyond its range', () => {
    expect(() => microsToIso(9e21)).toThrow(RangeError);
  });
});

describe('minuteOf', () => {
  it('is the start of the minute in ms', () => {
    expect(minuteOf(Date.UTC(2026, 0, 1, 0, 1, 59, 999) * 1000 + 999)).toBe(Date.UTC(2026, 0, 1, 0, 1));
  });
});

describe('microsToIsoMs', () => {
  it('cuts to the millisecond, before the epoch too', () => {
    expect(microsToIsoMs(Date.UTC(2026, 10, 25, 6, 17, 38, 95) * 1000 + 999)).toBe(
      '2026-11-25T06:17:38.095Z',
    );
    expect(microsToIsoMs(-1)).toBe('1969-12-31T23:59:59.999Z');
  });
});
