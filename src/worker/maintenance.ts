import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import type { Config } from '../config.js';
import { PartitionManager } from '../store/partitions.js';
import { alerts, refreshTokens, trafficRollups } from '../store/schema.js';
import { and, inArray, lt, or } from 'drizzle-orm';

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
  const day = 86_400_000;
  const uploadsRemoved = await removeOldUploads(join(config.dataDir, 'uploads'), now.getTime() - day);
  let rollups = 0;
  let alertsDeleted = 0;
  let auditPruned = 0;
  if (config.rollupRetentionDays > 0) {
    const r = await services.store.db
      .delete(trafficRollups)
      .where(lt(trafficRollups.minute, new Date(now.getTime() - config.rollupRetentionDays * day)))
      .returning({ d: trafficRollups.deviceId });
    rollups = r.length;
  }
  if (config.alertRetentionDays > 0) {
    const r = await services.store.db
      .delete(alerts)
      .where(
        and(
          inArray(alerts.status, ['resolved', 'false_positive']),
          lt(alerts.lastSeen, new Date(now.getTime() - config.alertRetentionDays * day)),
        ),
      )
      .returning({ id: alerts.id });
    alertsDeleted = r.length;
  }
  if (config.auditRetentionDays > 0) {
    auditPruned = await services.audit.prune(new Date(now.getTime() - config.auditRetentionDays * day));
  }
  if (dropped.length > 0 || rollups > 0 || alertsDeleted > 0 || auditPruned > 0) {
    await services.audit.record({
      actor: 'system',
      action: 'retention.run',
      details: {
        flow_partitions_dropped: dropped,
        rollups_deleted: rollups,
        alerts_deleted: alertsDeleted,
        audit_rows_pruned: auditPruned,
      },
    });
  }
  return { dropped, purgedTokens: purged.length, rollups, alertsDeleted, auditPruned, uploadsRemoved };
}

/** Uploaded captures whose ingest job failed for good are left behind; remove those older than `before`. */
async function removeOldUploads(dir: string, before: number): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => null);
    if (st?.isFile() && st.mtimeMs < before) {
      await rm(p, { force: true });
      removed++;
    }
  }
  return removed;
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
