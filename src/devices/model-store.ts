/**
 * The device-type model in the model registry (src/ml/registry): training from a labels CSV into a
 * registered version, loading a version (or production) with its class names, and the Trainer the worker's
 * training job can use (`registerDeviceTypeTrainer`).
 */
import type { Actor } from '../auth/users.js';
import { AppError } from '../errors.js';
import { RandomForestClassifier, RANDOM_FOREST_ALGORITHM } from '../ml/random-forest.js';
import type { ModelRegistry, ModelRow } from '../ml/registry/registry.js';
import { registerTrainer, type Trainer, type TrainOutput } from '../ml/registry/trainers.js';
import { DEVICE_TYPE_SIGNATURE } from './features.js';
import { loadLabelledSamples, readLabels } from './labels.js';
import { DEFAULT_RF, trainDeviceType, type DeviceTypeModel } from './model.js';

export interface TrainFromLabelsOptions {
  cvFolds?: number;
  nEstimators?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Reads, profiles, cross-validates and fits; nothing is registered (the caller does). */
export async function trainFromLabels(
  labelsFile: string,
  opts: TrainFromLabelsOptions = {},
): Promise<TrainOutput> {
  const rows = await readLabels(labelsFile);
  const samples = await loadLabelledSamples(labelsFile, rows, (d, t) =>
    opts.onProgress?.('reading captures', d, t),
  );
  const rf = { ...DEFAULT_RF, ...(opts.nEstimators ? { nEstimators: opts.nEstimators } : {}) };
  const trained = trainDeviceType(
    samples.map((s) => ({ profile: s.profile, label: s.row.deviceType, group: s.row.path })),
    { cvFolds: opts.cvFolds ?? 10, rf, onFold: (f, t) => opts.onProgress?.('cross-validating', f, t) },
  );
  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.row.deviceType] = (counts[s.row.deviceType] ?? 0) + 1;
  return {
    algorithm: RANDOM_FOREST_ALGORITHM,
    envelope: trained.model.toJSON(),
    featureSet: DEVICE_TYPE_SIGNATURE,
    metrics: { ...(trained.metrics ?? {}), cv_grouped_by: 'capture' },
    trainingSummary: {
      labels_file: labelsFile,
      samples: samples.length,
      captures: new Set(samples.map((s) => s.row.path)).size,
      class_names: trained.classes,
      class_counts: counts,
      augmentation: 'every capture twice: with and without packet-level features',
    },
    params: { ...rf },
    trainingData: trained.trainingData,
  };
}

export async function registerTrained(
  registry: ModelRegistry,
  out: TrainOutput,
  opts: { promote?: boolean; actor?: Actor } = {},
): Promise<ModelRow> {
  const row = await registry.register(
    {
      task: 'device_type',
      algorithm: out.algorithm,
      envelope: out.envelope,
      featureSet: out.featureSet,
      metrics: out.metrics,
      trainingSummary: out.trainingSummary,
      params: out.params,
      ...(out.trainingData ? { trainingData: out.trainingData } : {}),
    },
    opts.actor,
  );
  return opts.promote ? registry.promote(row.id, opts.actor) : row;
}

function classNames(row: ModelRow): string[] {
  const names = row.trainingSummary['class_names'];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new AppError('MODEL_ARTIFACT_INVALID', `Model ${row.id} records no device-type class names.`);
  }
  return names as string[];
}

/** A device-type model by id, or the production one (null when there is none). */
export async function loadDeviceTypeModel(
  registry: ModelRegistry,
  id?: string,
): Promise<DeviceTypeModel | null> {
  const row = id ? await registry.get(id) : await registry.production('device_type');
  if (!row) return null;
  if (row.task !== 'device_type')
    throw new AppError('VALIDATION_FAILED', `Model ${row.id} is a ${row.task} model, not a device_type one.`);
  const loaded = await registry.loadRow(row, DEVICE_TYPE_SIGNATURE);
  return {
    id: row.id,
    version: row.version,
    model: RandomForestClassifier.fromJSON(loaded.envelope),
    classes: classNames(row),
  };
}

/** The trainer for `task: device_type` jobs: dataset `{ labels: "/path/labels.csv" }`. */
export const deviceTypeTrainer: Trainer = {
  task: 'device_type',
  algorithms: [RANDOM_FOREST_ALGORITHM],
  fromStoredData: false,
  async train(ctx) {
    const labels = ctx.dataset['labels'];
    if (typeof labels !== 'string' || labels === '')
      throw new AppError(
        'VALIDATION_FAILED',
        'device_type training needs dataset.labels (a labels CSV path)',
      );
    const n = ctx.params['nEstimators'];
    return trainFromLabels(labels, {
      ...(typeof n === 'number' ? { nEstimators: n } : {}),
      onProgress: (stage, d, t) => void ctx.progress(t > 0 ? d / t : 0, stage),
    });
  },
};

export function registerDeviceTypeTrainer(): void {
  registerTrainer(deviceTypeTrainer);
}

// Like the anomaly trainer in src/ml/registry/trainers.ts: available wherever device code is loaded.
registerDeviceTypeTrainer();
