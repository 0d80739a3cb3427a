/**
 * Trainers, one per task: the worker's training job looks the task up here, so the device-type (issue 5)
 * and threat (issue 7) trainers plug in with `registerTrainer` without touching the job. A trainer reads
 * its data (from the store or files named in the dataset spec), fits, evaluates and returns what the
 * registry records; it never registers or promotes by itself.
 */
import type { Db } from '../../store/db.js';
import { anomalyTrainer } from './anomaly-trainer.js';
import type { FeatureSetSignature } from '../features/feature-set.js';
import type { Matrix } from '../matrix.js';
import type { ModelEnvelope } from '../serialize.js';
import type { MlTask } from './registry.js';

export interface TrainContext {
  db: Db;
  /** One of the trainer's `algorithms`. */
  algorithm: string;
  /** Algorithm options as given by the caller (the trainer validates them: ML_INVALID_PARAM). */
  params: Record<string, unknown>;
  /** Which data to train on, trainer-specific (time range, window size, label file…). */
  dataset: Record<string, unknown>;
  /** Reports progress: fraction 0..1 and a short stage name. */
  progress(fraction: number, stage: string): Promise<void>;
}

export interface TrainOutput {
  algorithm: string;
  envelope: ModelEnvelope;
  featureSet: FeatureSetSignature;
  /** Evaluation: stored as ml_models.metrics (confusion matrix, per-class table, AUC… as the task has). */
  metrics: Record<string, unknown>;
  /** What the model was trained on (rows, time range, class counts…). */
  trainingSummary: Record<string, unknown>;
  /** Effective parameters, defaults filled in. */
  params: Record<string, unknown>;
  /** The training matrix, kept only to derive the drift reference. */
  trainingData?: Matrix;
}

export interface Trainer {
  readonly task: MlTask;
  /** Supported algorithms; the first is the default. */
  readonly algorithms: readonly string[];
  /** True when it trains from stored data alone, so scheduled retraining (MODEL_RETRAIN_HOURS) can run it. */
  readonly fromStoredData: boolean;
  train(ctx: TrainContext): Promise<TrainOutput>;
}

const TRAINERS = new Map<MlTask, Trainer>();

export function registerTrainer(trainer: Trainer): void {
  TRAINERS.set(trainer.task, trainer);
}

export function trainerFor(task: MlTask): Trainer | undefined {
  return TRAINERS.get(task);
}

export function listTrainers(): Trainer[] {
  return [...TRAINERS.values()];
}

registerTrainer(anomalyTrainer);
