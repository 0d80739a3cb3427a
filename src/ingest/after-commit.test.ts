import { describe, expect, it } from 'vitest';
import { AnalysisQueue } from './after-commit.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AnalysisQueue', () => {
  it('runs analyses in order, add() resolving once the previous one is done; settled() waits for all', async () => {
    const q = new AnalysisQueue();
    const log: string[] = [];
    const run = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await tick(ms);
      log.push(`${name} end`);
    };
    await q.add(run('a', 20)); // nothing before it: resolves at once, a runs beside the caller
    log.push('write 2');
    await q.add(run('b', 5)); // resolves once a is done
    log.push('write 3');
    expect(log).toEqual(['a start', 'write 2', 'a end', 'b start', 'write 3']);
    await q.settled();
    expect(log.at(-1)).toBe('b end');
  });
});
