import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_WINDOW, redateOutsideWindow } from './time-window.js';

const NOW_MS = Date.UTC(2026, 10, 25, 12);
const H_US = 3_600_000_000;

describe('redateOutsideWindow', () => {
  it('leaves flows inside the window alone', () => {
    const f = { tsStart: NOW_MS * 1000 - 23 * H_US, tsEnd: NOW_MS * 1000 + 60_000_000 };
    expect(redateOutsideWindow(f, NOW_MS, DEFAULT_TIME_WINDOW)).toBe(false);
    expect(f).toEqual({ tsStart: NOW_MS * 1000 - 23 * H_US, tsEnd: NOW_MS * 1000 + 60_000_000 });
  });

  it('moves a flow from an unset router clock (year 2000) to its arrival, keeping its duration', () => {
    const start = Date.UTC(2000, 0, 1) * 1000;
    const f = { tsStart: start, tsEnd: start + 30_000_000 };
    expect(redateOutsideWindow(f, NOW_MS, DEFAULT_TIME_WINDOW)).toBe(true);
    expect(f).toEqual({ tsStart: NOW_MS * 1000 - 30_000_000, tsEnd: NOW_MS * 1000 });
  });

  it('moves flows dated in the future, and flows ending beyond the skew', () => {
    const f = { tsStart: NOW_MS * 1000 + 48 * H_US, tsEnd: NOW_MS * 1000 + 48 * H_US };
    expect(redateOutsideWindow(f, NOW_MS, DEFAULT_TIME_WINDOW)).toBe(true);
    expect(f).toEqual({ tsStart: NOW_MS * 1000, tsEnd: NOW_MS * 1000 });
    const g = { tsStart: NOW_MS * 1000, tsEnd: NOW_MS * 1000 + H_US };
    expect(redateOutsideWindow(g, NOW_MS, DEFAULT_TIME_WINDOW)).toBe(true);
    expect(g).toEqual({ tsStart: NOW_MS * 1000 - H_US, tsEnd: NOW_MS * 1000 });
  });

  it('always leaves a flow inside the window, at most two days of partitions per arrival', () => {
    const wide = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms * 1000);
    fc.assert(
      fc.property(wide, wide, fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), (a, b, now) => {
        const f = { tsStart: Math.min(a, b), tsEnd: Math.max(a, b) };
        const before = { ...f };
        const moved = redateOutsideWindow(f, now, DEFAULT_TIME_WINDOW);
        expect(f.tsStart).toBeGreaterThanOrEqual((now - DEFAULT_TIME_WINDOW.pastMs) * 1000);
        expect(f.tsStart).toBeLessThanOrEqual(f.tsEnd);
        expect(f.tsEnd).toBeLessThanOrEqual((now + DEFAULT_TIME_WINDOW.futureMs) * 1000);
        if (!moved) expect(f).toEqual(before);
        else
          expect(f.tsEnd - f.tsStart).toBe(
            Math.min(before.tsEnd - before.tsStart, DEFAULT_TIME_WINDOW.pastMs * 1000),
          );
      }),
    );
  });
});
