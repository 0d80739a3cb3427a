import { describe, expect, it } from 'vitest';
import { readAhead, ReadAheadNow } from './read-ahead.js';

/** A source that logs when it starts and finishes producing each item. */
function logged(n: number, log: string[], failAt = -1) {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        log.push(`make ${i}`);
        await new Promise((r) => setTimeout(r, 1));
        if (i === failAt) throw new Error(`bad ${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  })();
}

describe('readAhead', () => {
  it('yields every item in order and produces the next one while the consumer works', async () => {
    const log: string[] = [];
    const got: number[] = [];
    for await (const v of readAhead(logged(3, log))) {
      log.push(`use ${v} start`);
      await new Promise((r) => setTimeout(r, 5)); // the consumer awaits I/O
      log.push(`use ${v} end`);
      got.push(v);
    }
    expect(got).toEqual([0, 1, 2]);
    // Item 1 was being made before the consumer finished with item 0.
    expect(log.indexOf('make 1')).toBeLessThan(log.indexOf('use 0 end'));
    expect(log).toContain('closed');
  });

  it('closes the source when the consumer stops early, with the item in production settled', async () => {
    const log: string[] = [];
    for await (const v of readAhead(logged(10, log))) if (v === 1) break;
    expect(log).toContain('closed');
    expect(log.filter((l) => l.startsWith('make')).length).toBeLessThanOrEqual(3);
  });

  it('raises an error of the source when that item is asked for, after the good ones', async () => {
    const log: string[] = [];
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const v of readAhead(logged(5, log, 2))) got.push(v);
      })(),
    ).rejects.toThrow('bad 2');
    expect(got).toEqual([0, 1]);
  });

  it('leaves no unhandled rejection when the consumer stops before a failing item', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for await (const v of readAhead(logged(5, [], 1))) {
        if (v === 0) {
          await new Promise((r) => setTimeout(r, 10)); // item 1 fails meanwhile
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe('ReadAheadNow', () => {
  it('starts on the first item before it is iterated, then yields them all in order', async () => {
    const log: string[] = [];
    const ahead = new ReadAheadNow(logged(3, log));
    await new Promise((r) => setTimeout(r, 20)); // the caller opens its database meanwhile
    expect(log[0]).toBe('make 0');
    const got: number[] = [];
    for await (const v of ahead) got.push(v);
    expect(got).toEqual([0, 1, 2]);
    expect(log).toContain('closed');
  });

  it('closes the source when it is not iterated after all, and keeps an early failure for the iteration', async () => {
    const log: string[] = [];
    await new ReadAheadNow(logged(10, log)).close();
    expect(log).toContain('closed');
    expect(log.filter((l) => l.startsWith('make')).length).toBeLessThanOrEqual(2);

    const failing = new ReadAheadNow(logged(3, [], 0));
    await new Promise((r) => setTimeout(r, 20));
    await expect(
      (async () => {
        for await (const _ of failing) void _;
      })(),
    ).rejects.toThrow('bad 0');
  });
});
