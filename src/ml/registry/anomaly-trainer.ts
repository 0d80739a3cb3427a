/**
 * The built-in `anomaly` trainer: an isolation forest over per-device windows of `traffic_rollups`
 * (feature set `rollup-window`, shared with inference). Evaluation is unsupervised: a forest fitted on the
 * earliest 80% of the windows scores the latest 20%, and the share flagged there (against the training
 * share) tells whether the threshold generalises. The registered model is then fitted on every window.
 */
import { ROLLUP_MINUTE_COLUMNS } from '../../store/rollup-minutes.js';
import { and, desc, gte, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { trafficRollups } from '../../store/schema.js';
import { MlError } from '../errors.js';
import { quantileSorted } from '../eval/metrics.js';
import {
  aggregateRollupWindows,
  DEFAULT_WINDOW_MINUTES,
  ROLLUP_WINDOW_FEATURES,
  type RollupMinute,
  type RollupWindow,
} from '../features/rollup-window.js';
import { extractMatrix, featureSetSignature } from '../features/feature-set.js';
import {
  ISOLATION_FOREST_ALGORITHM,
  IsolationForest,
  type IsolationForestOptions,
} from '../isolation-forest.js';
import type { Matrix } from '../matrix.js';
import type { TrainContext, Trainer, TrainOutput } from './trainers.js';

export const MIN_ANOMALY_WINDOWS = 8;

const paramsSchema = z.strictObject({
  nEstimators: z.number().int().min(1).max(2000).optional(),
  maxSamples: z.union([z.literal('auto'), z.number().positive()]).optional(),
  maxFeatures: z.number().positive().optional(),
  contamination: z.union([z.literal('auto'), z.number().gt(0).max(0.5)]).optional(),
  seed: z.number().int().min(0).optional(),
});

const datasetSchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  window_minutes: z.number().int().min(1).max(1440).optional(),
  max_rows: z.number().int().min(1).max(5_000_000).optional(),
});

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.length ? `${what}.${issue.path.join('.')}` : what;
    throw new MlError('ML_INVALID_PARAM', `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

function scoreQuantiles(scores: Float64Array): Record<string, number> {
  const s = Float64Array.from(scores).sort();
  const q = (p: number) => Number(quantileSorted(s, p).toFixed(6));
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) };
}

function rate(labels: Int32Array): number {
  let n = 0;
  for (const v of labels) n += v;
  return labels.length ? Number((n / labels.length).toFixed(6)) : 0;
}

export const anomalyTrainer: Trainer = {
  task: 'anomaly',
  algorithms: [ISOLATION_FOREST_ALGORITHM],
  fromStoredData: true,
  async train(ctx: TrainContext): Promise<TrainOutput> {
    const opts = parseOrThrow(paramsSchema, ctx.params, 'params');
    const dataset = parseOrThrow(datasetSchema, ctx.dataset, 'dataset');
    const params: IsolationForestOptions = { nEstimators: 100, contamination: 0.01, seed: 0, ...opts };
    const windowMinutes = dataset.window_minutes ?? DEFAULT_WINDOW_MINUTES;
    const maxRows = dataset.max_rows ?? 500_000;

    await ctx.progress(0.05, 'loading');
    const conds: SQL[] = [];
    if (dataset.since) conds.push(gte(trafficRollups.minute, new Date(dataset.since)));
    if (dataset.until) conds.push(lt(trafficRollups.minute, new Date(dataset.until)));
    const rows: RollupMinute[] = await ctx.db
      .select(ROLLUP_MINUTE_COLUMNS)
      .from(trafficRollups)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(trafficRollups.minute))
      .limit(maxRows);
    const range =
      dataset.since || dataset.until ? ` between ${dataset.since ?? '-'} and ${dataset.until ?? 'now'}` : '';
    if (rows.length === 0) {
      throw new MlError(
        'ML_EMPTY_DATA',
        `no traffic_rollups rows${range}: nothing to train the anomaly model on (ingest traffic first)`,
      );
    }
    const windows = aggregateRollupWindows(rows, windowMinutes);
    if (windows.length < MIN_ANOMALY_WINDOWS) {
      throw new MlError(
        'ML_EMPTY_DATA',
        `only ${windows.length} device windows of ${windowMinutes} min in traffic_rollups${range}; ` +
          `the anomaly model needs at least ${MIN_ANOMALY_WINDOWS}`,
      );
    }
    const byTime = [...windows].sort(
      (a, b) => a.windowStart.getTime() - b.windowStart.getTime() || a.deviceId - b.deviceId,
    );
    const signature = featureSetSignature(ROLLUP_WINDOW_FEATURES);
    const X = extractMatrix(ROLLUP_WINDOW_FEATURES, byTime);

    await ctx.progress(0.3, 'evaluating');
    let holdout: Record<string, unknown> | null = null;
    const cut = Math.floor(byTime.length * 0.8);
    if (byTime.length >= 20 && cut < byTime.length) {
      const train = slice(X, 0, cut);
      const test = slice(X, cut, X.nRows);
      const evalModel = new IsolationForest(params).fit(train);
      const testScores = evalModel.scoreSamples(test);
      holdout = {
        windows: test.nRows,
        train_anomaly_rate: rate(evalModel.predict(train)),
        anomaly_rate: rate(evalModel.predict(test)),
        scores: scoreQuantiles(testScores),
      };
    }

    await ctx.progress(0.6, 'training');
    const model = new IsolationForest(params).fit(X, { featureSet: signature });
    const scores = model.scoreSamples(X);
    await ctx.progress(0.85, 'summarising');
    const devices = new Set(windows.map((w: RollupWindow) => w.deviceId));
    const first = byTime[0];
    const last = byTime[byTime.length - 1];
    return {
      algorithm: ISOLATION_FOREST_ALGORITHM,
      envelope: model.toJSON(),
      featureSet: signature,
      params: { ...model.params },
      metrics: {
        kind: 'unsupervised',
        windows: X.nRows,
        devices: devices.size,
        threshold: Number(model.threshold.toFixed(6)),
        train_anomaly_rate: rate(model.predict(X)),
        scores: scoreQuantiles(scores),
        holdout,
      },
      trainingSummary: {
        source: 'traffic_rollups',
        rows: rows.length,
        windows: X.nRows,
        devices: devices.size,
        window_minutes: windowMinutes,
        from: first?.windowStart.toISOString() ?? null,
        to: last ? new Date(last.windowStart.getTime() + windowMinutes * 60_000).toISOString() : null,
        truncated: rows.length >= maxRows,
        dataset,
      },
      trainingData: X,
    };
  },
};

function slice(X: Matrix, from: number, to: number): Matrix {
  return { data: X.data.slice(from * X.nCols, to * X.nCols), nRows: to - from, nCols: X.nCols };
}
