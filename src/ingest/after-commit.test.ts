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
});
