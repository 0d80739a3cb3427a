import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import type { Config } from '../config.js';
import { PartitionManager } from '../store/partitions.js';
import { refreshTokens } from '../store/schema.js';
import { lt, or } from 'drizzle-orm';

export const MAINTENANCE_QUEUE = 'maintenance';

/**
 * Housekeeping that keeps the database healthy: flow partitions made ahead of time, expired ones dropped
 * (FLOW_RETENTION_DAYS), dead refresh tokens purged. Runs at worker start and every hour after.
 */
export async function runMaintenance(services: Services, config: Config, now = new Date()) {
  const partitions = new PartitionManager(services.store.db);
  await partitions.premake(now, config.partitionPremakeDays);
  const dropped = await partitions.dropExpired(now, config.flowRetentionDays);
  const purged = await services.store.db
    .delete(refreshTokens)
    .where(
      or(lt(refreshTokens.expiresAt, now), lt(refreshTokens.revokedAt, new Date(now.getTime() - 86_400_000))),
    )
    .returning({ id: refreshTokens.id });
  if (dropped.length > 0) {
    await services.audit.record({
      actor: 'system',
      action: 'retention.drop_partitions',
      details: { partitions: dropped, retention_days: config.flowRetentionDays },
    });
  }
  return { dropped, purgedTokens: purged.length };
}

export async function startMaintenance(services: Services, config: Config, log: Logger) {
  const stop = await services.bus.process(MAINTENANCE_QUEUE, async (job) => {
    const r = await runMaintenance(services, config);
    log.info({ job: job.name, ...r }, 'maintenance done');
    return r;
  });
  await services.bus.schedule(MAINTENANCE_QUEUE, 'hourly', 3_600_000);
  await services.bus.enqueue(MAINTENANCE_QUEUE, 'startup', {});
  return stop;
}
