/** Test helpers: small isolation-forest models on the rollup-window feature set, and rollup rows. */
import type { Services } from '../../api/context.js';
import { trafficRollups } from '../../store/schema.js';
import { featureSetSignature } from '../features/feature-set.js';
import { ROLLUP_WINDOW_FEATURES } from '../features/rollup-window.js';
import { IsolationForest } from '../isolation-forest.js';
import type { Matrix } from '../matrix.js';
import { Rng } from '../random.js';
import type { MlTask, ModelRegistry, ModelRow } from './registry.js';

export const ROLLUP_SIGNATURE = featureSetSignature(ROLLUP_WINDOW_FEATURES);

/** Rows like log1p traffic features: column c around 2 + c (+ shift), with noise. */
export function trafficMatrix(n: number, seed: number, shift = 0): Matrix {
  const nCols = ROLLUP_SIGNATURE.featureNames.length;
  const rng = new Rng(seed);
  const data = new Float64Array(n * nCols);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < nCols; c++) data[r * nCols + c] = 2 + c + shift + (rng.float() + rng.float() - 1);
  }
  return { data, nRows: n, nCols };
}

export async function registerTestModel(
  registry: ModelRegistry,
  task: MlTask = 'anomaly',
  seed = 1,
  headline: { accuracy?: number; macro_f1?: number } = {},
): Promise<ModelRow> {
  const X = trafficMatrix(300, seed);
  const model = new IsolationForest({ nEstimators: 20, seed }).fit(X, { featureSet: ROLLUP_SIGNATURE });
  return registry.register({
    task,
    envelope: model.toJSON(),
    featureSet: ROLLUP_SIGNATURE,
    metrics: {
      ...headline,
      confusion: { labels: [0, 1], counts: [1, 0, 0, 1] },
      per_class: [{ label: 0, f1: 1 }],
    },
    trainingSummary: { rows: X.nRows },
    trainingData: X,
  });
}

/** `devices` devices × `minutes` minutes of rollups ending now, with steady traffic. */
export async function insertRollups(services: Services, devices: number, minutes: number, seed = 1) {
  const rng = new Rng(seed);
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const rows: (typeof trafficRollups.$inferInsert)[] = [];
  for (let d = 1; d <= devices; d++) {
    for (let m = 0; m < minutes; m++) {
      const base = 1000 * d;
      rows.push({
        deviceId: d,
        minute: new Date(end - (minutes - m) * 60_000),
        bytesOut: Math.round(base * (0.5 + rng.float())),
        bytesIn: Math.round(base * 2 * (0.5 + rng.float())),
        packetsOut: 10 + rng.int(10),
        packetsIn: 12 + rng.int(10),
        flows: 1 + rng.int(4),
        distinctPeers: 1 + rng.int(3),
        distinctPorts: 1 + rng.int(2),
        dnsQueries: rng.int(3),
        dnsFailures: rng.float() < 0.1 ? 1 : 0,
        synNoAck: 0,
      });
    }
  }
  for (let i = 0; i < rows.length; i += 500) {
    await services.store.db.insert(trafficRollups).values(rows.slice(i, i + 500));
  }
  return rows.length;
}
