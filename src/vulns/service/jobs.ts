/**
 * Worker jobs of the `vulns` queue:
 * - `match_device` {device_id}: re-match one device (enqueue it when a device's CPEs change);
 * - `match_all`: re-match every device (after an import made elsewhere);
 * - `sync` {nvd?, kev?, if_due?}: NVD + KEV sync, then `match_all`. Scheduled every NVD_SYNC_INTERVAL_HOURS
 *   when NVD_SYNC=on and once at worker start, each skipped when the last sync ran less than half an interval
 *   ago (several workers, restarts).
 * The processor always runs (matching jobs are useful without sync); only the schedule depends on NVD_SYNC.
 */
import type { Logger } from 'pino';
import type { Services } from '../../api/context.js';
import type { Bus, Unsubscribe } from '../../bus/types.js';
import type { Config } from '../../config.js';
import { SYNC_LAST_RUN_KEY, runSync } from '../sync/index.js';
import { matcherFor } from './matching.js';
import { getSetting } from './repository.js';

export const VULNS_QUEUE = 'vulns';

export function enqueueMatchDevice(bus: Bus, deviceId: number): Promise<string> {
  return bus.enqueue(VULNS_QUEUE, 'match_device', { device_id: deviceId }, { attempts: 3, backoffMs: 2000 });
}

export function enqueueMatchAll(bus: Bus): Promise<string> {
  return bus.enqueue(VULNS_QUEUE, 'match_all', {}, { attempts: 3, backoffMs: 5000 });
}

type JobData = { device_id?: unknown; nvd?: unknown; kev?: unknown; if_due?: unknown };

export async function startVulnWorker(services: Services, config: Config, log: Logger): Promise<Unsubscribe> {
  const matcher = matcherFor(services.store.db, services.bus);
  const intervalMs = config.nvdSyncIntervalHours * 3_600_000;
  const stop = await services.bus.process(VULNS_QUEUE, async (job) => {
    const data = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as JobData;
    switch (job.name) {
      case 'match_device': {
        const id = Number(data.device_id);
        if (!Number.isSafeInteger(id)) throw new Error('match_device needs an integer device_id');
        return matcher.matchDevice(id);
      }
      case 'match_all': {
        const r = await matcher.matchAllDevices((p) => job.progress(p));
        log.info({ job: job.name, ...r }, 'vulnerability re-match done');
        return r;
      }
      case 'sync': {
        if (data.if_due === true) {
          const last = await getSetting<{ at?: string }>(services.store.db, SYNC_LAST_RUN_KEY);
          const at = last?.at ? Date.parse(last.at) : NaN;
          if (Number.isFinite(at) && Date.now() - at < intervalMs / 2) return { skipped: 'not due' };
        }
        const what = { nvd: data.nvd !== false, kev: data.kev !== false };
        const r = await runSync(services.store.db, config, what, {
          onRetry: (i) => log.warn(i, 'vulnerability feed request failed; retrying'),
        });
        const m = await matcher.matchAllDevices((p) => job.progress(p));
        log.info(
          {
            nvd: r.nvd && { pages: r.nvd.pages, records: r.nvd.records, last_sync_end: r.nvd.last_sync_end },
            kev: r.kev && { records: r.kev.records, created: r.kev.created },
            match: m,
          },
          'vulnerability sync done',
        );
        return { nvd: r.nvd, kev: r.kev && { records: r.kev.records, bad: r.kev.bad }, match: m };
      }
      default:
        throw new Error(`unknown vulns job ${job.name}`);
    }
  });
  if (config.nvdSync === 'on') {
    await services.bus.schedule(VULNS_QUEUE, 'sync', intervalMs, { if_due: true });
    await services.bus.enqueue(VULNS_QUEUE, 'sync', { if_due: true }, { attempts: 3, backoffMs: 60_000 });
  }
  return stop;
}
