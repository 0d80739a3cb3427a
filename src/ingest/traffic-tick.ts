import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { Bus } from '../bus/types.js';
import type { SourceItem } from '../sources/types.js';
import { microsToIsoMs } from '../store/timestamps.js';

/**
 * `traffic_tick` events: what each source committed, once a second. Every committed batch is counted here
 * (after its transaction, like every other event); a tick per source that committed anything goes out at
 * most once per `TICK_MS`, so a busy collector's many batches make one event a second, not one each, and
 * the WebSocket replay window is not filled with them. The counts are per source: the flows committed since
 * the source's last tick, their packets and bytes (both directions), and the flow time they span.
 */
export const TICK_MS = 1000;

/** The data of a `traffic_tick` event (snake_case, as on the wire). */
export interface TrafficTickData {
  source_id: string;
  flows: number;
  packets: number;
  bytes: number;
  /** Flow time covered: the earliest start and the latest end among the flows counted (ISO 8601). */
  first_seen: string;
  last_seen: string;
}

interface Tally {
  flows: number;
  packets: number;
  bytes: number;
  firstUs: number;
  lastUs: number;
}

/** Counts committed flows per source and publishes them as ticks (one ticker per bus: `trafficTicker`). */
export class TrafficTicker {
  private readonly pending = new Map<string, Tally>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly tickMs = TICK_MS,
  ) {}

  /** Counts the flows of a committed batch; the tick follows within `tickMs`. */
  add(sourceId: string, items: readonly SourceItem[]): void {
    let t = this.pending.get(sourceId);
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as SourceItem;
      if (it.kind !== 'flow') continue;
      const f = it.flow;
      if (!t)
        this.pending.set(
          sourceId,
          (t = { flows: 0, packets: 0, bytes: 0, firstUs: f.tsStart, lastUs: f.tsEnd }),
        );
      t.flows++;
      t.packets += f.packetsOut + f.packetsIn;
      t.bytes += f.bytesOut + f.bytesIn;
      if (f.tsStart < t.firstUs) t.firstUs = f.tsStart;
      if (f.tsEnd > t.lastUs) t.lastUs = f.tsEnd;
    }
    if (t && this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.tickMs);
      this.timer.unref();
    }
  }

  /** Publishes what is counted now (a failed publish is dropped: ticks are live figures, not records). */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ticks = [...this.pending];
    this.pending.clear();
    for (const [sourceId, t] of ticks) {
      const data: TrafficTickData = {
        source_id: sourceId,
        flows: t.flows,
        packets: t.packets,
        bytes: t.bytes,
        first_seen: microsToIsoMs(t.firstUs),
        last_seen: new Date(Math.ceil(t.lastUs / 1000)).toISOString(),
      };
      await this.bus.publish(EVENTS_CHANNEL, makeEvent('traffic_tick', data)).catch(() => undefined);
    }
  }
}

const tickers = new WeakMap<Bus, TrafficTicker>();

/** The ticker of a bus (one per bus, so every source of a process shares its one-second rhythm). */
export function trafficTicker(bus: Bus): TrafficTicker {
  let t = tickers.get(bus);
  if (!t) tickers.set(bus, (t = new TrafficTicker(bus)));
  return t;
}
