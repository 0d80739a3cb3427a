import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import { PacketPipeline } from '../ingest/packet-pipeline.js';
import { StreamSink } from '../ingest/stream-sink.js';
import { createDemoNetwork } from '../sim/network.js';
import type { SourceSpec } from './collector.js';

const ETHERNET = 1;

/**
 * The demo network as a live source: the simulator's frames go through the same decoders, flow table,
 * writer and detectors as real traffic. On start it back-fills `backfill_minutes` (default 60) of history
 * so the dashboard has charts at once, then generates in real time, once a second.
 */
export async function startDemoSource(
  services: Services,
  id: string,
  spec: SourceSpec,
  log: Logger,
): Promise<{ stop(): Promise<void> }> {
  const seed = Number(spec.config.seed ?? 1);
  const backfillMs = Math.max(0, Number(spec.config.backfill_minutes ?? 60)) * 60_000;
  const net = createDemoNetwork({ seed, startMs: Date.now() - backfillMs, incidents: true });
  const pipe = new PacketPipeline();
  const sink = new StreamSink(services, {
    sourceId: id,
    log,
    stats: () => ({ ...pipe.stats, simulated: true }),
  });
  let stopped = false;

  const step = (untilMs: number) => {
    for (const f of net.nextBatch(untilMs)) pipe.add(ETHERNET, f.frame, f.tsMicros);
    pipe.advance(untilMs * 1000);
    sink.push(pipe.take());
  };

  // Back-fill in one-minute steps, yielding between them so the server stays responsive.
  const backfill = (async () => {
    const end = Date.now();
    for (let t = end - backfillMs; t < end && !stopped; t += 60_000) {
      step(Math.min(t + 60_000, end));
      await sink.flush();
      await new Promise((r) => setImmediate(r));
    }
    log.info({ devices: net.devices().length }, 'demo network running');
  })();

  const timer = setInterval(() => {
    if (!stopped) step(Date.now());
  }, 1000);
  timer.unref();

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await backfill.catch(() => undefined);
      sink.push(pipe.finish());
      await sink.close();
    },
  };
}
