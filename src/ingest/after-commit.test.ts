import { describe, expect, it } from 'vitest';
import { AnalysisQueue } from './after-commit.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AnalysisQueue', () => {
  it("starts a deferred analysis when the next write's rows are sent, in order, one beside a write", async () => {
    const q = new AnalysisQueue();
    const log: string[] = [];
    const run = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await tick(ms);
      log.push(`${name} end`);
    };
    q.defer(run('a', 20)); // batch 1 committed
    await tick(5);
    expect(log).toEqual([]); // waits for the next write
    log.push('write 2 sends its rows');
    q.start();
    await tick(0);
    log.push('write 2 commits');
    await q.done(); // a is done before batch 2's analysis is queued
    q.defer(run('b', 5));
    q.start(); // write 3 sends its rows
    q.start(); // and again after it: nothing waits
    await q.settled();
    expect(log).toEqual([
      'write 2 sends its rows',
      'a start',
      'write 2 commits',
      'a end',
      'b start',
      'b end',
    ]);
  });

  it('settled() starts a waiting analysis; defer() starts one still waiting first, so none is lost', async () => {
    const q = new AnalysisQueue();
    const log: string[] = [];
    const run = (name: string) => async () => {
      log.push(name);
      await tick(1);
    };
    q.defer(run('a'));
    q.defer(run('b')); // no write came between: a starts now
    await q.done();
    expect(log).toEqual(['a']);
    await q.settled();
    expect(log).toEqual(['a', 'b']);
  });

  it('beside() starts the waiting analysis when the write sends its rows, or when the write fails', async () => {
    const q = new AnalysisQueue();
    const log: string[] = [];
    q.defer(async () => {
      log.push('a');
    });
    const written = await q.beside(async (hooks) => {
      log.push('rows sent');
      hooks.onRowsSent?.();
      await tick(5);
      log.push('commit');
      return 7;
    });
    expect(written).toBe(7);
    expect(log).toEqual(['rows sent', 'a', 'commit']);
    q.defer(async () => {
      log.push('b');
    });
    await expect(
      q.beside(() => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    await q.done();
    expect(log.at(-1)).toBe('b');
  });
});
