import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { Bus } from '../bus/types.js';
import { updateDestinationProfiles } from '../detect/destinations/service.js';
import { detectAfterCommit } from '../detect/live.js';
import { afterIngestBatch } from '../devices/service.js';
import { inFlowTimeOrder } from '../detect/flow-order.js';
import type { IngestFlow, SourceItem } from '../sources/types.js';
import type { Store } from '../store/db.js';
import type { Logger } from 'pino';
import { trafficTicker } from './traffic-tick.js';
import type { NewDevice, WriteResult } from './writer.js';

/**
 * What follows every committed batch, whatever the source (file, log, live), in two steps:
 * 1. `identifyAfterCommit`: the batch's flows are counted for the source's next `traffic_tick`
 *    (./traffic-tick.ts), then device identity and identification (randomized MACs merged, signals, type),
 *    then `new_device` events for the devices that are really new. It updates device rows, so it runs
 *    before the next batch is written (the writer updates the same rows).
 * 2. `analyseAfterCommit`: the detectors, then the devices' learned destination profiles
 *    (src/detect/destinations). Batches must be analysed in order, but a live source may analyse one
 *    while it writes the next (stream-sink.ts).
 * The batch is already committed: a caller must never write the items again because these failed.
 */
type Deps = { store: Store; bus: Bus };
type Ctx = { sourceId: string; log?: Logger | undefined };

/** Step 1; returns the devices that are really new. */
export async function identifyAfterCommit(
  deps: Deps,
  items: readonly SourceItem[],
  res: Pick<WriteResult, 'newDevices'>,
  ctx: Pick<Ctx, 'sourceId'>,
): Promise<NewDevice[]> {
  trafficTicker(deps.bus).add(ctx.sourceId, items);
  const fresh = await afterIngestBatch(deps, items, res);
  for (const d of fresh) {
    await deps.bus.publish(
      EVENTS_CHANNEL,
      makeEvent('new_device', { device_id: d.id, mac: d.mac, ip: d.ip }),
    );
  }
  return fresh;
}

/** Step 2: both analyses read the batch's flows in flow-time order, sorted once here. */
export async function analyseAfterCommit(deps: Deps, items: readonly SourceItem[], ctx: Ctx): Promise<void> {
  const flows: IngestFlow[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as SourceItem;
    if (it.kind === 'flow') flows.push(it.flow);
  }
  if (flows.length === 0) return;
  const ordered = inFlowTimeOrder(flows);
  await detectAfterCommit(
    deps,
    ordered,
    ctx.log ? { sourceId: ctx.sourceId, log: ctx.log } : { sourceId: ctx.sourceId },
  );
  await updateDestinationProfiles(deps, ordered, { sourceId: ctx.sourceId, log: ctx.log });
}

/**
 * Step 2 of consecutive batches, each beside the caller's next write: add() queues a batch's analysis
 * after the ones before it and resolves once the previous one is done, so batches are analysed in order
 * and at most one runs while the caller writes. A run must not reject (the caller logs or records its
 * failure).
 */
export class AnalysisQueue {
  private last: Promise<void> = Promise.resolve();

  async add(run: () => Promise<void>): Promise<void> {
    const previous = this.last;
    this.last = previous.then(run);
    await previous;
  }

  /** Resolves once every queued analysis is done. */
  settled(): Promise<void> {
    return this.last;
  }
}

/** Both steps, one after the other; returns the devices that are really new. */
export async function afterCommit(
  deps: Deps,
  items: readonly SourceItem[],
  res: Pick<WriteResult, 'newDevices'>,
  ctx: Ctx,
): Promise<NewDevice[]> {
  const fresh = await identifyAfterCommit(deps, items, res, ctx);
  await analyseAfterCommit(deps, items, ctx);
  return fresh;
}
