import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { Bus } from '../bus/types.js';
import { updateDestinationProfiles } from '../detect/destinations/service.js';
import { detectAfterCommit } from '../detect/live.js';
import { afterIngestBatch } from '../devices/service.js';
import type { SourceItem } from '../sources/types.js';
import type { Store } from '../store/db.js';
import type { Logger } from 'pino';
import type { NewDevice, WriteResult } from './writer.js';

/**
 * What follows every committed batch, whatever the source (file, log, live): device identity and
 * identification (randomized MACs merged, signals, type), `new_device` events for the devices that are
 * really new, then the detectors, then the devices' learned destination profiles (src/detect/destinations).
 * Returns those new devices. The batch is already committed: a caller must never write the items again
 * because this failed.
 */
export async function afterCommit(
  deps: { store: Store; bus: Bus },
  items: readonly SourceItem[],
  res: Pick<WriteResult, 'newDevices'>,
  ctx: { sourceId: string; log?: Logger | undefined },
): Promise<NewDevice[]> {
  const fresh = await afterIngestBatch(deps, items, res);
  for (const d of fresh) {
    await deps.bus.publish(
      EVENTS_CHANNEL,
      makeEvent('new_device', { device_id: d.id, mac: d.mac, ip: d.ip }),
    );
  }
  await detectAfterCommit(
    deps,
    items,
    ctx.log ? { sourceId: ctx.sourceId, log: ctx.log } : { sourceId: ctx.sourceId },
  );
  await updateDestinationProfiles(deps, items, { sourceId: ctx.sourceId, log: ctx.log });
  return fresh;
}
