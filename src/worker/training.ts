/**
 * Training jobs on the bus queue `training` (BullMQ with Redis, in-process without): a job names a task, an
 * optional algorithm and parameters, and a dataset spec; the task's trainer (src/ml/registry/trainers.ts)
 * fits and evaluates, and the result is registered as a `candidate` (promoted only when the job asks). A job
 * that fails registers nothing, so production is never touched by a failed training. Progress and the final
 * state are published as `job_update` events on the events channel; scheduled retraining runs every
 * MODEL_RETRAIN_HOURS for the trainers that learn from stored data.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Services } from '../api/context.js';
import type { Actor } from '../auth/users.js';
import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { Bus, JobContext, JobEvent, JobOptions, JobProgress, Unsubscribe } from '../bus/types.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { modelServices } from '../ml/registry/services.js';
import { SYSTEM_ACTOR, type ModelRegistry } from '../ml/registry/registry.js';
import { listTrainers, trainerFor } from '../ml/registry/trainers.js';
import '../detect/threat/trainer.js'; // registers the task: threat trainer
import type { Db } from '../store/db.js';
import { ML_TASKS } from '../store/schema.js';

export const TRAINING_QUEUE = 'training';
export const TRAIN_JOB = 'train';

export const trainJobSchema = z.object({
  task: z.enum(ML_TASKS),
  algorithm: z.string().min(1).max(64).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  dataset: z.record(z.string(), z.unknown()).default({}),
  /** Promote the new version when training succeeds. */
  promote: z.boolean().default(false),
  requested_by: z.object({ id: z.string().nullable(), name: z.string() }).optional(),
  scheduled: z.boolean().optional(),
});

export type TrainJobData = z.input<typeof trainJobSchema>;

export interface TrainJobResult {
  model_id: string;
  task: string;
  version: number;
  algorithm: string;
  promoted: boolean;
  metrics: Record<string, unknown>;
}

export const DEFAULT_TRAIN_JOB_OPTIONS: JobOptions = { attempts: 2, backoffMs: 10_000 };

/** Throws MODEL_TRAINER_UNAVAILABLE unless a trainer serves this task and algorithm. */
export function assertTrainable(task: (typeof ML_TASKS)[number], algorithm?: string): void {
  const trainer = trainerFor(task);
  if (!trainer) {
    throw new AppError('MODEL_TRAINER_UNAVAILABLE', `No trainer is installed for task ${task}.`);
  }
  if (algorithm !== undefined && !trainer.algorithms.includes(algorithm)) {
    throw new AppError(
      'MODEL_TRAINER_UNAVAILABLE',
      `The ${task} trainer supports ${trainer.algorithms.join(', ')}, not ${algorithm}.`,
    );
  }
}

/** Queues a training job (validated first) and announces it; returns the job id. */
export async function enqueueTraining(
  bus: Bus,
  data: TrainJobData,
  opts: JobOptions = DEFAULT_TRAIN_JOB_OPTIONS,
): Promise<string> {
  const job = trainJobSchema.parse(data);
  assertTrainable(job.task, job.algorithm);
  // Announce before queueing: an in-process worker may start (and report progress) at once.
  const id = opts.jobId ?? randomUUID();
  await bus.publish(
    EVENTS_CHANNEL,
    makeEvent('job_update', {
      job_id: id,
      queue: TRAINING_QUEUE,
      progress: 0,
      stage: 'queued',
      status: 'waiting',
    }),
  );
  return bus.enqueue(TRAINING_QUEUE, TRAIN_JOB, job, { ...opts, jobId: id });
}

/** Runs one training job: train, register as candidate, promote when asked. */
export async function runTrainingJob(
  deps: { db: Db; registry: ModelRegistry },
  job: Pick<JobContext, 'data' | 'progress'>,
): Promise<TrainJobResult> {
  const data = trainJobSchema.parse(job.data);
  assertTrainable(data.task, data.algorithm);
  const trainer = trainerFor(data.task);
  if (!trainer) throw new AppError('MODEL_TRAINER_UNAVAILABLE');
  const actor: Actor = data.requested_by ?? {
    ...SYSTEM_ACTOR,
    name: data.scheduled ? 'system:retrain' : 'system',
  };
  const progress = (fraction: number, stage: string) =>
    job.progress({ percent: Math.round(Math.max(0, Math.min(1, fraction)) * 100), stage });
  await progress(0, 'starting');
  const out = await trainer.train({
    db: deps.db,
    algorithm: data.algorithm ?? (trainer.algorithms[0] as string),
    params: data.params,
    dataset: data.dataset,
    progress: (f, stage) => progress(f * 0.9, stage),
  });
  await progress(0.92, 'registering');
  const row = await deps.registry.register(
    {
      task: data.task,
      algorithm: out.algorithm,
      envelope: out.envelope,
      featureSet: out.featureSet,
      metrics: out.metrics,
      trainingSummary: { ...out.trainingSummary, scheduled: data.scheduled ?? false },
      params: out.params,
      ...(out.trainingData ? { trainingData: out.trainingData } : {}),
    },
    actor,
  );
  let promoted = false;
  if (data.promote) {
    await progress(0.96, 'promoting');
    await deps.registry.promote(row.id, actor);
    promoted = true;
  }
  await progress(1, 'done');
  return {
    model_id: row.id,
    task: row.task,
    version: row.version,
    algorithm: row.algorithm,
    promoted,
    metrics: out.metrics,
  };
}

export function progressPercent(p: JobProgress | undefined): { percent: number; stage: string | null } {
  if (typeof p === 'number') return { percent: p, stage: null };
  if (p && typeof p === 'object') {
    const percent = typeof p['percent'] === 'number' ? p['percent'] : 0;
    return { percent, stage: typeof p['stage'] === 'string' ? p['stage'] : null };
  }
  return { percent: 0, stage: null };
}

/** Republishes a queue's job events as `job_update` events ({job_id, queue, progress, stage, status}). */
export async function forwardJobEvents(bus: Bus, queue: string): Promise<Unsubscribe> {
  return bus.onJobEvent(queue, (e: JobEvent) => {
    const { percent, stage } = progressPercent(e.progress);
    const status = e.kind === 'progress' ? 'active' : e.kind;
    const data: Record<string, unknown> = {
      job_id: e.jobId,
      queue: e.queue,
      progress: e.kind === 'completed' ? 100 : percent,
      stage: e.kind === 'progress' ? stage : null,
      status,
    };
    if (e.kind === 'failed') data['error'] = e.error ?? 'failed';
    if (e.kind === 'completed') data['result'] = e.result ?? null;
    void bus.publish(EVENTS_CHANNEL, makeEvent('job_update', data)).catch(() => undefined);
  });
}

/** The worker side: processes training jobs, forwards their events, schedules retraining. */
export async function startTraining(
  services: Services,
  config: Config,
  log: Logger,
): Promise<() => Promise<void>> {
  const { registry } = modelServices(services, config);
  const stopEvents = await forwardJobEvents(services.bus, TRAINING_QUEUE);
  const stopWorker = await services.bus.process(TRAINING_QUEUE, async (job) => {
    const started = Date.now();
    try {
      const r = await runTrainingJob({ db: services.store.db, registry }, job);
      log.info(
        { job: job.id, task: r.task, version: r.version, ms: Date.now() - started },
        'training job done',
      );
      return r;
    } catch (err) {
      log.warn({ job: job.id, attempt: job.attempt, err }, 'training job failed');
      // The job's failed state shows the message: make it carry the stable code.
      if (err instanceof AppError) throw new Error(`${err.code}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  if (config.modelRetrainHours > 0) {
    const everyMs = Math.round(config.modelRetrainHours * 3_600_000);
    for (const t of listTrainers().filter((x) => x.fromStoredData)) {
      await services.bus.schedule(TRAINING_QUEUE, `retrain-${t.task}`, everyMs, {
        task: t.task,
        scheduled: true,
      } satisfies TrainJobData);
    }
  }
  return async () => {
    await stopWorker();
    await stopEvents();
  };
}
