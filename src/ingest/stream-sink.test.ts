/**
 * StreamSink's flush timing with fake timers (the writes themselves are in stream-sink.int.test.ts, against a
 * real store). Here flush() is replaced, and only the moments it starts are checked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '../api/context.js';
import { ingestFlow } from '../test-support/flows.js';
import { StreamSink } from './stream-sink.js';

/** Enough of Services for a sink that never writes (its constructor only keeps the store). */
const services = { store: { db: {}, engine: 'pglite' } } as unknown as Services;

function sinkWithOneFlow() {
  const sink = new StreamSink(services, { sourceId: 's', flushMs: 1000 });
  const flush = vi.spyOn(sink, 'flush').mockResolvedValue(undefined);
  sink.push([{ kind: 'flow', flow: ingestFlow() }]);
  return flush;
}

describe('StreamSink periodic flush', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes what waits at the first period even when the timer fires a little before the wall clock', () => {
    const flush = sinkWithOneFlow();
    // The event loop's clock lagged the wall clock read at construction: the tick comes 3 ms "early".
    vi.setSystemTime(Date.now() - 3);
    vi.advanceTimersByTime(1000);
    expect(flush).toHaveBeenCalledTimes(1);
  });

  it('flushes once per period while items wait', () => {
    const flush = sinkWithOneFlow();
    vi.advanceTimersByTime(999);
    expect(flush).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(flush).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(2);
  });
});
