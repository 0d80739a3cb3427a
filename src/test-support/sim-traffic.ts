/**
 * TEST-ONLY: the demo network's traffic as ingest batches. Frames go through the real decoders and flow
 * table (PacketPipeline) in one-minute steps, like the demo source; flows and observations are cut into
 * batches of `batchMinutes` of simulated time. `keepMacs` keeps only the items of some devices (flows with
 * either end among them, their observations), so tests can run long simulated periods cheaply.
 */
import { PacketPipeline } from '../ingest/packet-pipeline.js';
import { createDemoNetwork, type DemoNetwork } from '../sim/network.js';
import type { SourceItem } from '../sources/types.js';

export interface SimBatch {
  /** End of the batch (simulated ms). */
  untilMs: number;
  items: SourceItem[];
}

export interface SimTrafficOptions {
  seed: number;
  startMs: number;
  hours: number;
  batchMinutes?: number;
  /** Sim device ids whose traffic to keep (default: everything). */
  keep?: readonly string[];
  /** Called with the network before any frame is generated (inject incidents here). */
  setup?: (net: DemoNetwork) => void;
}

export function simulateTraffic(o: SimTrafficOptions): { net: DemoNetwork; batches: SimBatch[] } {
  const net = createDemoNetwork({ seed: o.seed, startMs: o.startMs });
  o.setup?.(net);
  // The kept devices' MACs, read again for every batch: a rotating randomized MAC adds new ones.
  const keptMacs = () =>
    o.keep
      ? new Set(
          net
            .devices()
            .filter((d) => o.keep?.includes(d.id))
            .flatMap((d) => d.macs),
        )
      : null;
  const pipe = new PacketPipeline();
  const batchMs = (o.batchMinutes ?? 10) * 60_000;
  const end = o.startMs + o.hours * 3_600_000;
  const batches: SimBatch[] = [];
  for (let t = o.startMs; t < end; t += batchMs) {
    const until = Math.min(t + batchMs, end);
    for (let m = t + 60_000; m <= until; m += 60_000) {
      for (const f of net.nextBatch(m)) pipe.add(1, f.frame, f.tsMicros);
      pipe.advance(m * 1000);
    }
    const items = until === end ? [...pipe.take(), ...pipe.finish()] : pipe.take();
    const macs = keptMacs();
    batches.push({
      untilMs: until,
      items: macs
        ? items.filter((it) =>
            it.kind === 'flow'
              ? macs.has(it.flow.srcMac ?? '') || macs.has(it.flow.dstMac ?? '')
              : it.kind === 'observation'
                ? macs.has(it.observation.mac ?? '')
                : false,
          )
        : items,
    });
  }
  return { net, batches };
}
