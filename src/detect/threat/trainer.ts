/**
 * `iotsec train threat` and the worker's `task: threat` trainer: labelled sources → scenarios → the
 * gradient-boosted classifier, evaluated by scenario. Dataset spec for the worker:
 * `{ labels: ["/path/conn.log.labeled" | "/path/sources.csv", …], sim_seeds: [1, 2] }`.
 */
import { AppError } from '../../errors.js';
import type { Actor } from '../../auth/users.js';
import type { ModelRegistry, ModelRow } from '../../ml/registry/registry.js';
import { registerTrainer, type Trainer, type TrainOutput } from '../../ml/registry/trainers.js';
import { loadScenario, readLabelSources, ThreatLabelsError, type SourceSpec } from './dataset.js';
import { THREAT_ALGORITHM, trainThreat, type TrainThreatOptions } from './model.js';

export { ThreatLabelsError };

/** Loads every labels file (CSV manifests or IoT-23 conn logs) plus simulator seeds and trains. */
export async function trainThreatFromSources(
  labelFiles: readonly string[],
  simSeeds: readonly number[],
  opts: TrainThreatOptions = {},
): Promise<TrainOutput> {
  const specs: SourceSpec[] = [];
  for (const f of labelFiles) specs.push(...(await readLabelSources(f)));
  for (const s of simSeeds) specs.push({ kind: `sim:${s}`, path: '' });
  if (specs.length === 0) throw new ThreatLabelsError('no labelled sources given');
  const scenarios = [];
  for (const [i, s] of specs.entries()) {
    opts.onProgress?.('reading', i, specs.length);
    scenarios.push(await loadScenario(s));
  }
  opts.onProgress?.('reading', specs.length, specs.length);
  return trainThreat(scenarios, opts);
}

export async function registerThreatModel(
  registry: ModelRegistry,
  out: TrainOutput,
  opts: { promote: boolean; actor: Actor },
): Promise<ModelRow> {
  const row = await registry.register(
    {
      task: 'threat',
      algorithm: THREAT_ALGORITHM,
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

export const threatTrainer: Trainer = {
  task: 'threat',
  algorithms: [THREAT_ALGORITHM],
  fromStoredData: false,
  async train(ctx) {
    const raw = ctx.dataset['labels'];
    const labels = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
    const seedsRaw = ctx.dataset['sim_seeds'];
    const seeds = Array.isArray(seedsRaw) ? seedsRaw : [];
    if (
      !labels.every((l): l is string => typeof l === 'string' && l !== '') ||
      !seeds.every((s): s is number => Number.isInteger(s)) ||
      labels.length + seeds.length === 0
    )
      throw new AppError(
        'VALIDATION_FAILED',
        'threat training needs dataset.labels (label file paths) and/or dataset.sim_seeds (integers)',
      );
    try {
      return await trainThreatFromSources(labels as string[], seeds as number[], {
        onProgress: (stage, d, t) => void ctx.progress(t > 0 ? d / t : 0, stage),
      });
    } catch (e) {
      if (e instanceof ThreatLabelsError) throw new AppError('VALIDATION_FAILED', e.message);
      throw e;
    }
  },
};

registerTrainer(threatTrainer);
