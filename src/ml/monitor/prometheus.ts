/**
 * Model metrics on /metrics, labelled by task and version, for every model that is not archived. Read from
 * the database at scrape time (model_metrics is written by whichever process serves), so every API replica
 * shows the same figures. One query set per scrape, shared by all the gauges.
 */
import { sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import { queryRows, type Db } from '../../store/db.js';

interface ModelFigures {
  task: string;
  version: number;
  status: string;
  trafficShare: number;
  predictions: number;
  labelled: number;
  p50: number | null;
  p99: number | null;
  accuracy: number | null;
  drift: Record<string, number>;
}

async function fetchFigures(db: Db): Promise<ModelFigures[]> {
  const rows = await queryRows<{
    task: string;
    version: number;
    status: string;
    traffic_share: number;
    predictions: number | string | null;
    labelled: number | string | null;
    p50: number | null;
    p99: number | null;
    drift: Record<string, number> | null;
    accuracy: number | null;
  }>(
    db,
    sql`SELECT m.task, m.version, m.status, m.traffic_share,
          (SELECT coalesce(sum(x.predictions), 0) FROM model_metrics x WHERE x.model_id = m.id) AS predictions,
          (SELECT coalesce(sum(x.labelled), 0) FROM model_metrics x WHERE x.model_id = m.id) AS labelled,
          l.latency_p50_ms AS p50, l.latency_p99_ms AS p99, l.drift,
          (SELECT a.accuracy FROM model_metrics a WHERE a.model_id = m.id AND a.labelled > 0
             ORDER BY a.window_end DESC LIMIT 1) AS accuracy
        FROM ml_models m
        LEFT JOIN LATERAL (
          SELECT latency_p50_ms, latency_p99_ms, drift FROM model_metrics x
          WHERE x.model_id = m.id ORDER BY x.window_end DESC LIMIT 1
        ) l ON true
        WHERE m.status <> 'archived'`,
  );
  return rows.map((r) => ({
    task: r.task,
    version: Number(r.version),
    status: r.status,
    trafficShare: Number(r.traffic_share),
    predictions: Number(r.predictions ?? 0),
    labelled: Number(r.labelled ?? 0),
    p50: r.p50 === null ? null : Number(r.p50),
    p99: r.p99 === null ? null : Number(r.p99),
    accuracy: r.accuracy === null ? null : Number(r.accuracy),
    drift: r.drift ?? {},
  }));
}

export function registerModelMetrics(registry: Registry, db: Db): void {
  let cached: { at: number; p: Promise<ModelFigures[]> } | null = null;
  const figures = async (): Promise<ModelFigures[]> => {
    if (!cached || Date.now() - cached.at > 1000) {
      const p = fetchFigures(db).catch(() => [] as ModelFigures[]);
      cached = { at: Date.now(), p };
    }
    return cached.p;
  };
  const labels = (f: ModelFigures) => ({ task: f.task, version: String(f.version) });

  new Gauge({
    name: 'iotsec_model_traffic_share',
    help: 'Share of devices a model version serves (A/B split), by task, version and status',
    labelNames: ['task', 'version', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const f of await figures()) this.set({ ...labels(f), status: f.status }, f.trafficShare);
    },
  });
  new Counter({
    name: 'iotsec_model_predictions_total',
    help: 'Rows scored by a model version (all processes, as flushed to model_metrics)',
    labelNames: ['task', 'version'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const f of await figures()) this.inc(labels(f), f.predictions);
    },
  });
  new Counter({
    name: 'iotsec_model_feedback_total',
    help: 'Labelled feedback received for a model version',
    labelNames: ['task', 'version'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const f of await figures()) this.inc(labels(f), f.labelled);
    },
  });
  const latest = (name: string, help: string, pick: (f: ModelFigures) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['task', 'version'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const f of await figures()) {
          const v = pick(f);
          if (v !== null && Number.isFinite(v)) this.set(labels(f), v);
        }
      },
    });
  latest('iotsec_model_latency_p50_ms', 'Median prediction latency in the latest window (ms)', (f) => f.p50);
  latest(
    'iotsec_model_latency_p99_ms',
    '99th percentile prediction latency in the latest window (ms)',
    (f) => f.p99,
  );
  latest(
    'iotsec_model_accuracy',
    'Accuracy on labelled feedback in the latest window that had any',
    (f) => f.accuracy,
  );
  latest('iotsec_model_drift_psi_max', 'Largest feature PSI in the latest window', (f) => {
    const v = Object.values(f.drift);
    return v.length ? Math.max(...v) : null;
  });
  new Gauge({
    name: 'iotsec_model_drift_psi',
    help: 'PSI of each input feature (recent inputs vs training) in the latest window',
    labelNames: ['task', 'version', 'feature'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const f of await figures()) {
        for (const [feature, v] of Object.entries(f.drift)) {
          if (Number.isFinite(v)) this.set({ ...labels(f), feature }, v);
        }
      }
    },
  });
}
