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
import type { NewDevice, WriteHooks, WriteResult } from './writer.js';

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
 * Step 2 of consecutive batches, each beside the caller's next write, started once that write has handed
 * its rows to the database. The analysis is this thread's work and the write mostly the database's, on the
 * other core; started together, the analysis (long synchronous stretches) held up the write's own steps on
 * this thread, the database waited for them, and then this thread waited for the database: on the NetFlow
 * bench the collector's main thread was idle 40 % of the time with a backlog waiting.
 *
 * The caller, per committed batch: `defer(run)` its analysis; runs the next write through `beside`, which
 * starts it when the write's rows are sent (IngestWriter's `onRowsSent`) or when the write ends (one without
 * flows, or one that failed); `done()` before deferring the next one (at most one analysis beside a write);
 * `settled()` at the end (starts a deferred one). A caller with no write coming (a live source without a
 * backlog) starts the analysis at once with `defer` then `start`. Analyses run in order; a run must not
 * reject (the caller logs or records its failure).
 */
export class AnalysisQueue {
  private last: Promise<void> = Promise.resolve();
  private next: (() => Promise<void>) | null = null;

  /** Queues `run` to start at the next start(); one already waiting starts now (never two waiting). */
  defer(run: () => Promise<void>): void {
    this.start();
    this.next = run;
  }

  /** Starts the waiting analysis, if any, after the ones before it. */
  start(): void {
    const run = this.next;
    if (run === null) return;
    this.next = null;
    this.last = this.last.then(run);
  }

  /** Runs a write; the waiting analysis starts once its rows are sent, or when it ends however it ends. */
  async beside<T>(write: (hooks: WriteHooks) => Promise<T>): Promise<T> {
    try {
      return await write({ onRowsSent: () => this.start() });
    } finally {
      this.start();
    }
  }

  /** Resolves once every analysis started so far is done (a waiting one stays waiting). */
  done(): Promise<void> {
    return this.last;
  }

  /** Starts the waiting analysis and resolves once every analysis is done. */
  settled(): Promise<void> {
    this.start();
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
