/**
 * The I/O side of model monitoring: writes one `model_metrics` row per model per window (predictions,
 * latency p50/p99, PSI per feature, accuracy on labelled feedback) and raises a `model_drift` alert when a
 * feature's PSI crosses MODEL_DRIFT_PSI_THRESHOLD: one open alert per model (dedup key
 * `model_drift:<model id>`), counted up while the drift lasts, announced as `new_alert` on the events channel.
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { EVENTS_CHANNEL, makeEvent } from '../../bus/events.js';
import type { Bus } from '../../bus/types.js';
import type { Db } from '../../store/db.js';
import type { mlModels } from '../../store/schema.js';
import { alerts, modelMetrics } from '../../store/schema.js';
import { driftedFeatures, featureDrift, parseReference } from './drift.js';
import type { ModelStats } from './stats.js';

type ModelRow = typeof mlModels.$inferSelect;
export type ModelMetricsRow = typeof modelMetrics.$inferSelect;
type AlertRow = typeof alerts.$inferSelect;

export interface MonitorOptions {
  db: Db;
  bus?: Bus | undefined;
  /** PSI above which a feature counts as drifted (MODEL_DRIFT_PSI_THRESHOLD). */
  driftPsiThreshold: number;
  /** Recent rows needed before drift is measured (fewer give noisy PSI). */
  minDriftRows?: number;
}

export interface FlushedWindow {
  modelId: string;
  metrics: ModelMetricsRow;
  drifted: [string, number][];
  alertId: number | null;
}

export class ModelMonitor {
  readonly minDriftRows: number;

  constructor(private readonly opts: MonitorOptions) {
    this.minDriftRows = opts.minDriftRows ?? 50;
  }

  get threshold(): number {
    return this.opts.driftPsiThreshold;
  }

  /** PSI per feature of the model's recent inputs against its training reference ({} when not measurable). */
  drift(row: ModelRow, stats: ModelStats): Record<string, number> {
    const recent = stats.recentRows;
    const reference = parseReference(row.trainingSummary['reference']);
    if (!recent || !reference || recent.size < this.minDriftRows) return {};
    return featureDrift(reference, recent);
  }

  /** Ends the model's current window: writes its metrics row and raises a drift alert when needed. */
  async flush(row: ModelRow, stats: ModelStats, now: Date = new Date()): Promise<FlushedWindow> {
    const drift = this.drift(row, stats);
    const snap = stats.snapshot(now);
    const [metrics] = await this.opts.db
      .insert(modelMetrics)
      .values({
        modelId: row.id,
        windowStart: snap.windowStart,
        windowEnd: snap.windowEnd,
        predictions: snap.predictions,
        latencyP50Ms: snap.latencyP50Ms,
        latencyP99Ms: snap.latencyP99Ms,
        drift,
        accuracy: snap.accuracy,
        labelled: snap.labelled,
      })
      .returning();
    if (!metrics) throw new Error('insert into model_metrics returned nothing');
    const drifted = driftedFeatures(drift, this.opts.driftPsiThreshold);
    const alertId = drifted.length > 0 ? await this.raiseDriftAlert(row, drift, drifted, now) : null;
    return { modelId: row.id, metrics, drifted, alertId };
  }

  async raiseDriftAlert(
    row: ModelRow,
    drift: Record<string, number>,
    drifted: [string, number][],
    now: Date = new Date(),
  ): Promise<number> {
    const dedupKey = `model_drift:${row.id}`;
    const [worst] = drifted;
    const title =
      `Input drift on ${row.task} model v${row.version}: ` +
      drifted
        .slice(0, 3)
        .map(([f, v]) => `${f} PSI ${v.toFixed(2)}`)
        .join(', ');
    const evidence = {
      model_id: row.id,
      task: row.task,
      version: row.version,
      algorithm: row.algorithm,
      threshold: this.opts.driftPsiThreshold,
      psi: drift,
      drifted: drifted.map(([feature, value]) => ({ feature, psi: value })),
    };
    const { alert, created } = await this.opts.db.transaction(async (tx) => {
      const [open] = await tx
        .select()
        .from(alerts)
        .where(and(eq(alerts.dedupKey, dedupKey), inArray(alerts.status, ['new', 'acknowledged'])))
        .orderBy(desc(alerts.lastSeen))
        .limit(1)
        .for('update');
      if (open) {
        const [updated] = await tx
          .update(alerts)
          .set({ count: open.count + 1, lastSeen: now, evidence, title, updatedAt: now })
          .where(eq(alerts.id, open.id))
          .returning();
        return { alert: updated ?? open, created: false };
      }
      const [inserted] = await tx
        .insert(alerts)
        .values({
          deviceId: null,
          kind: 'model_drift',
          severity: 'medium',
          title,
          description:
            `The recent inputs of model ${row.id} no longer look like its training data ` +
            `(largest PSI ${worst ? worst[1].toFixed(3) : '?'} on ${worst ? worst[0] : '?'}, threshold ` +
            `${this.opts.driftPsiThreshold}). Consider retraining.`,
          evidence,
          dedupKey,
          firstSeen: now,
          lastSeen: now,
          modelVersion: row.id,
        })
        .returning();
      if (!inserted) throw new Error('insert into alerts returned nothing');
      return { alert: inserted, created: true };
    });
    await this.opts.bus?.publish(
      EVENTS_CHANNEL,
      makeEvent(created ? 'new_alert' : 'alert_update', presentAlertEvent(alert)),
    );
    return alert.id;
  }
}

function presentAlertEvent(a: AlertRow) {
  return {
    id: a.id,
    device_id: a.deviceId,
    kind: a.kind,
    severity: a.severity,
    status: a.status,
    title: a.title,
    dedup_key: a.dedupKey,
    count: a.count,
    first_seen: a.firstSeen.toISOString(),
    last_seen: a.lastSeen.toISOString(),
    model_version: a.modelVersion,
    evidence: a.evidence,
  };
}
