import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL } from '../bus/events.js';
import { createBus } from '../bus/index.js';
import type { Bus, BusEvent } from '../bus/types.js';
import type { SourceItem } from '../sources/types.js';
import { ingestFlow } from '../test-support/flows.js';
import { TrafficTicker, type TrafficTickData } from './traffic-tick.js';

const T0 = Date.UTC(2024, 4, 1, 12) * 1000;

function flow(startUs: number, endUs: number, packets: number, bytes: number): SourceItem {
  return {
    kind: 'flow',
    flow: ingestFlow({
      tsStart: startUs,
      tsEnd: endUs,
      packetsOut: packets,
      packetsIn: 1,
      bytesOut: bytes,
      bytesIn: 100,
    }),
  };
}

describe('traffic ticks', () => {
  let bus: Bus;
  const got: BusEvent[] = [];
  beforeAll(async () => {
    ({ bus } = await createBus({ redisUrl: undefined, redisPrefix: 'test' }));
    await bus.subscribe(EVENTS_CHANNEL, (e) => {
      got.push(e);
    });
  });
  afterAll(async () => bus.close());

  it('folds every batch a source commits within a tick into one event per source', async () => {
    got.length = 0;
    const ticker = new TrafficTicker(bus, 50);
    ticker.add('a', [flow(T0 + 5_000_000, T0 + 6_000_000, 3, 1000), flow(T0, T0 + 1_000_000, 1, 10)]);
    ticker.add('a', [flow(T0 + 2_000_000, T0 + 9_000_500, 2, 50)]);
    ticker.add('b', [flow(T0, T0, 1, 1)]);
    ticker.add('c', []); // nothing committed: no tick
    expect(got).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    const ticks = got.filter((e) => e.type === 'traffic_tick').map((e) => e.data as TrafficTickData);
    expect(ticks).toEqual([
      {
        source_id: 'a',
        flows: 3,
        packets: 3 + 1 + 1 + 1 + 2 + 1,
        bytes: 1100 + 110 + 150,
        first_seen: '2024-05-01T12:00:00.000Z',
        last_seen: '2024-05-01T12:00:09.001Z',
      },
      expect.objectContaining({ source_id: 'b', flows: 1, packets: 2, bytes: 101 }),
    ]);
  });

  it('sends what is counted at once on flush (a command about to end), and nothing twice', async () => {
    got.length = 0;
    const ticker = new TrafficTicker(bus, 60_000);
    ticker.add('a', [flow(T0, T0, 1, 1)]);
    await ticker.flush();
    await ticker.flush();
    expect(got.map((e) => (e.data as TrafficTickData).flows)).toEqual([1]);
  });
});
