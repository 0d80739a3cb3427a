import { describe, expect, it } from 'vitest';
import { uniqueName } from './services.js';
import { STALE_AFTER_MS, staleTestSchemas } from './stale-schemas.js';

describe('staleTestSchemas', () => {
  it('picks only test schemas made more than the limit ago', () => {
    const now = Date.now();
    const fresh = uniqueName('t');
    const old = `t_${(now - STALE_AFTER_MS - 1000).toString(36)}_a1b2c3`;
    const names = [fresh, old, 'public', 'bench_x', 't_notatime', 'iotsec', `t_${now.toString(36)}_zzzzzz`];
    expect(staleTestSchemas(names, now, STALE_AFTER_MS)).toEqual([old]);
  });
});
