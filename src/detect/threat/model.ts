/**
 * The threat classifier: gradient-boosted trees (histogram splits, registry algorithm "gbt-hist") over the
 * flow threat feature set, trained on labelled scenarios and evaluated with scenario-grouped splits (a
 * scenario, i.e. one capture, conn log or simulator run, is never in training and test at once).
 *
 * Imbalance: the classifier takes no sample weights, so class weights are applied as integer weights by
 * replicating rows: every class is first capped per scenario (a flood yields tens of thousands of near
 * identical flows), then a class with n rows is repeated round(nMax / (4 n)) times (1..20), giving rare
 * classes (C&C beacons, downloads) a comparable say without drowning benign traffic.
 */
import { AppError } from '../../errors.js';
import { classificationReport } from '../../ml/eval/metrics.js';
import { groupKFold, type Split } from '../../ml/eval/split.js';
import { GradientBoostingClassifier, type GradientBoostingOptions } from '../../ml/gradient-boosting.js';
import { takeRows, type Matrix } from '../../ml/matrix.js';
import type { ModelRegistry, ModelRow } from '../../ml/registry/registry.js';
import type { TrainOutput } from '../../ml/registry/trainers.js';
import type { FlowRecord } from '../../flows/types.js';
import type { FlowLabel } from '../types.js';
import type { LabelledScenario } from './dataset.js';
import { THREAT_FEATURES, THREAT_SIGNATURE, threatMatrix } from './features.js';
import { LABELS, labelIndex } from './labels.js';

export const THREAT_ALGORITHM = 'gbt-hist';
/** Rows kept per class per scenario (deterministic stride sample). */
export const CAP_PER_CLASS = 800;

export const DEFAULT_GBT: GradientBoostingOptions = {
  nEstimators: 50,
  learningRate: 0.2,
  maxDepth: 5,
  minChildWeight: 1,
  subsample: 0.8,
  colsampleByTree: 0.8,
  seed: 7,
};

export interface ThreatDataset {
  X: Matrix;
  /** Index into LABELS. */
  y: Int32Array;
  /** Scenario of each row. */
  groups: string[];
}

/** Features for every flow of each scenario (context over all its flows), then the per-class cap. */
export function buildDataset(scenarios: readonly LabelledScenario[], cap = CAP_PER_CLASS): ThreatDataset {
  const parts: (Float64Array | Float32Array)[] = [];
  const y: number[] = [];
  const groups: string[] = [];
  let nCols = THREAT_FEATURES.features.length;
  for (const s of scenarios) {
    const X = threatMatrix(s.flows);
    nCols = X.nCols;
    const byClass = new Map<FlowLabel, number[]>();
    s.labels.forEach((l, i) => {
      const a = byClass.get(l) ?? [];
      a.push(i);
      byClass.set(l, a);
    });
    const keep: number[] = [];
    for (const rows of byClass.values()) {
      if (rows.length <= cap) keep.push(...rows);
      else for (let j = 0; j < cap; j++) keep.push(rows[Math.floor((j * rows.length) / cap)] as number);
    }
    keep.sort((a, b) => a - b);
    for (const r of keep) {
      parts.push(X.data.subarray(r * nCols, (r + 1) * nCols));
      y.push(labelIndex(s.labels[r] as FlowLabel));
      groups.push(s.group);
    }
  }
  const data = new Float64Array(y.length * nCols);
  parts.forEach((p, i) => data.set(p, i * nCols));
  return { X: { data, nRows: y.length, nCols }, y: Int32Array.from(y), groups };
}

/** Row indices with minority classes replicated (integer class weights). */
export function balancedRows(y: ArrayLike<number>, rows: ArrayLike<number>): Int32Array {
  const count = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) {
    const c = y[rows[i] as number] as number;
    count.set(c, (count.get(c) ?? 0) + 1);
  }
  const nMax = Math.max(0, ...count.values());
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    const rep = Math.min(20, Math.max(1, Math.round(nMax / (4 * (count.get(y[r] as number) ?? 1)))));
    for (let k = 0; k < rep; k++) out.push(r);
  }
  return Int32Array.from(out);
}

export function fitThreat(
  ds: ThreatDataset,
  rows: ArrayLike<number> | null = null,
  opts: GradientBoostingOptions = DEFAULT_GBT,
): GradientBoostingClassifier {
  const all = rows ?? Int32Array.from({ length: ds.y.length }, (_, i) => i);
  const idx = balancedRows(ds.y, all);
  const X = takeRows(ds.X, idx);
  const y = Int32Array.from(idx, (r) => ds.y[r] as number);
  return new GradientBoostingClassifier(opts).fit(X, y, { featureSet: THREAT_SIGNATURE });
}

/** Leave-one-scenario-out (folds = 'loso') or GroupKFold by scenario. */
export function scenarioSplits(groups: readonly string[], folds: number | 'loso'): Split[] {
  const n = new Set(groups).size;
  return groupKFold(groups, folds === 'loso' ? n : Math.min(folds, n));
}

export interface ClassRow {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ThreatMetrics {
  evaluation: string;
  folds: number;
  scenarios: number;
  rows: number;
  macro_f1: number;
  accuracy: number;
  /** Per class present in the truth or the predictions of the held-out rows. */
  per_class: Record<string, ClassRow>;
  confusion: { labels: string[]; counts: number[] };
}

/** Fits on each split's training scenarios, predicts its held-out ones, and pools the predictions. */
export function evaluateByScenario(
  ds: ThreatDataset,
  splits: readonly Split[],
  opts: GradientBoostingOptions = DEFAULT_GBT,
  onFold?: (done: number, total: number) => void,
): ThreatMetrics {
  const pred = new Int32Array(ds.y.length).fill(-1);
  splits.forEach((s, i) => {
    const trainSet = new Set(Array.from(s.train, (r) => ds.groups[r]));
    for (const r of s.test)
      if (trainSet.has(ds.groups[r] as string)) throw new Error('scenario split leaks a scenario');
    const m = fitThreat(ds, s.train, opts);
    const p = m.predict(takeRows(ds.X, s.test));
    s.test.forEach((r, j) => (pred[r] = p[j] as number));
    onFold?.(i + 1, splits.length);
  });
  const rows = Array.from({ length: pred.length }, (_, i) => i).filter((i) => (pred[i] as number) >= 0);
  const yt = rows.map((r) => ds.y[r] as number);
  const yp = rows.map((r) => pred[r] as number);
  const rep = classificationReport(yt, yp);
  const per: Record<string, ClassRow> = {};
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  for (const c of rep.perClass)
    per[LABELS[c.label] ?? String(c.label)] = {
      precision: r4(c.precision),
      recall: r4(c.recall),
      f1: r4(c.f1),
      support: c.support,
    };
  return {
    evaluation:
      splits.length === new Set(ds.groups).size ? 'leave-one-scenario-out' : 'group-k-fold by scenario',
    folds: splits.length,
    scenarios: new Set(ds.groups).size,
    rows: rows.length,
    macro_f1: r4(rep.macroF1),
    accuracy: r4(rep.accuracy),
    per_class: per,
    confusion: {
      labels: Array.from(rep.confusion.labels, (l) => LABELS[l] ?? String(l)),
      counts: Array.from(rep.confusion.counts),
    },
  };
}

export interface TrainThreatOptions {
  /** Scenario-grouped folds: a number (GroupKFold), 'loso', or 0 to skip evaluation. */
  folds?: number | 'loso';
  gbt?: GradientBoostingOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Evaluates by scenario, fits on everything, and returns what the registry records. */
export function trainThreat(
  scenarios: readonly LabelledScenario[],
  opts: TrainThreatOptions = {},
): TrainOutput {
  const gbt = { ...DEFAULT_GBT, ...(opts.gbt ?? {}) };
  const ds = buildDataset(scenarios);
  const present = [...new Set(ds.y)].sort((a, b) => a - b);
  if (present.length < 2)
    throw new AppError(
      'VALIDATION_FAILED',
      'threat training needs at least two classes in the labelled data',
    );
  const folds = opts.folds ?? 5;
  const nGroups = new Set(ds.groups).size;
  let metrics: Record<string, unknown> = { evaluation: 'skipped' };
  if (folds !== 0 && nGroups >= 2) {
    const m = evaluateByScenario(ds, scenarioSplits(ds.groups, folds), gbt, (d, t) =>
      opts.onProgress?.('evaluating', d, t),
    );
    metrics = { ...m };
  }
  opts.onProgress?.('fitting', 0, 1);
  const model = fitThreat(ds, null, gbt);
  opts.onProgress?.('fitting', 1, 1);
  const counts: Record<string, number> = {};
  for (const c of ds.y) counts[LABELS[c] ?? String(c)] = (counts[LABELS[c] ?? String(c)] ?? 0) + 1;
  return {
    algorithm: THREAT_ALGORITHM,
    envelope: model.toJSON(),
    featureSet: THREAT_SIGNATURE,
    metrics,
    trainingSummary: {
      samples: ds.y.length,
      scenarios: [...new Set(ds.groups)],
      class_counts: counts,
      class_names: Array.from(model.classes, (c) => LABELS[c]),
      cap_per_class_per_scenario: CAP_PER_CLASS,
    },
    params: { ...gbt },
    trainingData: ds.X,
  };
}

export interface ThreatModel {
  id: string;
  version: number;
  model: GradientBoostingClassifier;
}

/** A threat model by id, or the production one (null when there is none). */
export async function loadThreatModel(registry: ModelRegistry, id?: string): Promise<ThreatModel | null> {
  let row: ModelRow | null;
  if (id) row = await registry.get(id);
  else row = await registry.production('threat');
  if (!row) return null;
  if (row.task !== 'threat')
    throw new AppError('VALIDATION_FAILED', `Model ${row.id} is a ${row.task} model, not a threat one.`);
  const loaded = await registry.loadRow(row, THREAT_SIGNATURE);
  return { id: row.id, version: row.version, model: GradientBoostingClassifier.fromJSON(loaded.envelope) };
}

/** The classifier's label and its probability for every flow (same order). */
export function classifyFlows(
  model: GradientBoostingClassifier,
  flows: readonly FlowRecord[],
): { label: FlowLabel; score: number }[] {
  if (flows.length === 0) return [];
  const X = threatMatrix(flows);
  const proba = model.predictProba(X);
  const classes = model.classes;
  const K = classes.length;
  return flows.map((_, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if ((proba[r * K + k] as number) > (proba[r * K + best] as number)) best = k;
    return { label: LABELS[classes[best] as number] ?? 'other', score: proba[r * K + best] as number };
  });
}

/**
 * Combines the classifier with the rules: the model's label wins, except that a flow the model calls
 * benign but a rule flagged with a threat class keeps the rule's class and confidence, reported with model
 * `rules+<id>` so the output says which judgement it is.
 */
export function combineVerdicts(
  modelId: string,
  model: readonly { label: FlowLabel; score: number }[],
  rules: readonly { label: FlowLabel; score: number }[],
): { label: FlowLabel; score: number; model: string }[] {
  return model.map((m, i) => {
    const r = rules[i];
    if (m.label === 'benign' && r && r.label !== 'benign') return { ...r, model: `rules+${modelId}` };
    return { ...m, model: modelId };
  });
}
