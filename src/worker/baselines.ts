import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import type { Config } from '../config.js';
import { baselineSettingsFrom, runBaselineJob } from '../detect/baseline/job.js';

export const BASELINE_QUEUE = 'baselines';

/**
 * The worker side of the behaviour baselines (src/detect/baseline/job.ts): fit per-device isolation
 * forests and per-device-type LSTMs, score the windows completed since the last run, raise `anomaly`
 * alerts. Every BASELINE_INTERVAL_MINUTES (0 = off), in the worker role, so also in the single-process
 * `iotsec start`. One run at a time per process; the schedule is shared across processes on Redis.
 */
export async function startBaselines(
  services: Services,
  config: Config,
  log: Logger,
): Promise<() => Promise<void>> {
  if (config.baselineIntervalMinutes <= 0) return async () => undefined;
  const settings = baselineSettingsFrom(config);
  const stop = await services.bus.process(
    BASELINE_QUEUE,
    async (job) => {
      const r = await runBaselineJob(services, settings, log);
      if (r.fitted > 0 || r.alerts > 0 || r.lstm_fitted.length > 0)
        log.info({ job: job.name, ...r }, 'baselines run');
      else log.debug({ job: job.name, ...r }, 'baselines run');
      return r;
    },
    { concurrency: 1 },
  );
  await services.bus.schedule(BASELINE_QUEUE, 'periodic', config.baselineIntervalMinutes * 60_000);
  await services.bus.enqueue(BASELINE_QUEUE, 'startup', {});
  return stop;
}
