import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL } from '../bus/events.js';
import type { BusEvent, JobInfo } from '../bus/types.js';
import { ModelRegistry } from '../ml/registry/registry.js';
import { insertRollups, registerTestModel } from '../ml/registry/test-support.js';
import { mlModels } from '../store/schema.js';
import { makeStack, stackKinds, type Stack } from '../test-support/api.js';
import { enqueueTraining, startTraining, TRAINING_QUEUE } from './training.js';

const kinds = await stackKinds();

interface JobUpdate {
  job_id: string;
  queue: string;
  progress: number;
  stage: string | null;
  status: string;
  error?: string;
  result?: { model_id: string; version: number };
}

describe.each(kinds)('training jobs on %s stack', (kind) => {
  let s: Stack;
  let registry: ModelRegistry;
  let stop: () => Promise<void>;
  const updates: JobUpdate[] = [];

  beforeAll(async () => {
    s = await makeStack(kind);
    registry = new ModelRegistry({
      db: s.services.store.db,
      audit: s.services.audit,
      bus: s.services.bus,
      dataDir: s.config.dataDir,
    });
    await s.services.bus.subscribe(EVENTS_CHANNEL, (e: BusEvent) => {
      if (e.type === 'job_update') updates.push(e.data as JobUpdate);
    });
    stop = await startTraining(s.services, s.config, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await stop?.();
    await s?.close();
  });

  async function finished(id: string, ms = 60_000): Promise<JobInfo> {
    const end = Date.now() + ms;
    for (;;) {
      const j = await s.services.bus.getJob(TRAINING_QUEUE, id);
      const final = updates.some(
        (u) => u.job_id === id && (u.status === 'completed' || u.status === 'failed'),
      );
      if (j && (j.status === 'completed' || j.status === 'failed') && final) return j;
      if (Date.now() > end) throw new Error(`job ${id} did not finish: ${JSON.stringify(j)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('fails clearly on an empty traffic_rollups table and leaves production untouched', async () => {
    const prod = await registry.promote((await registerTestModel(registry, 'anomaly', 1)).id);
    const before = await s.services.store.db.select().from(mlModels);
    const id = await enqueueTraining(s.services.bus, { task: 'anomaly', promote: true }, { attempts: 1 });
    const job = await finished(id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/ML_EMPTY_DATA: no traffic_rollups rows/);
    const failed = updates.find((u) => u.job_id === id && u.status === 'failed');
    expect(failed).toMatchObject({ queue: TRAINING_QUEUE, status: 'failed' });
    expect(failed?.error).toContain('ML_EMPTY_DATA');
    expect(updates.find((u) => u.job_id === id)?.status).toBe('waiting');
    expect(await s.services.store.db.select().from(mlModels)).toEqual(before);
    expect((await registry.production('anomaly'))?.id).toBe(prod.id);
  });

  it('retries per the job options, then ends in a clear failed state', async () => {
    const id = await enqueueTraining(
      s.services.bus,
      { task: 'anomaly', dataset: { since: '2999-01-01T00:00:00Z' } },
      { attempts: 2, backoffMs: 50 },
    );
    const job = await finished(id);
    expect(job.status).toBe('failed');
    expect(job.attemptsMade).toBe(2);
    expect(job.error).toContain('ML_EMPTY_DATA');
  });

  it('trains the anomaly model on rollups end to end through the bus, with progress events', async () => {
    const prod = await registry.production('anomaly');
    await insertRollups(s.services, 6, 120);
    const id = await enqueueTraining(
      s.services.bus,
      { task: 'anomaly', params: { nEstimators: 30, seed: 3 }, dataset: { window_minutes: 5 } },
      { attempts: 1 },
    );
    const job = await finished(id);
    expect(job.error).toBeNull();
    expect(job.status).toBe('completed');
    const mine = updates.filter((u) => u.job_id === id);
    const progress = mine.filter((u) => u.status === 'active').map((u) => u.progress);
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(100);
    expect(mine.filter((u) => u.status === 'active').map((u) => u.stage)).toContain('training');
    const done = mine.find((u) => u.status === 'completed');
    const result = job.result as { model_id: string; version: number; promoted: boolean };
    expect(done?.result?.model_id).toBe(result.model_id);
    expect(result.promoted).toBe(false);

    const row = await registry.get(result.model_id);
    expect(row).toMatchObject({ task: 'anomaly', algorithm: 'isolation-forest', status: 'candidate' });
    expect(row.featureSet).toBe('rollup-window');
    expect(row.metrics).toMatchObject({ kind: 'unsupervised', devices: 6 });
    expect(row.metrics['windows']).toBeGreaterThanOrEqual(6 * 24);
    expect(row.metrics['windows']).toBeLessThanOrEqual(6 * 25);
    expect(row.trainingSummary).toMatchObject({ source: 'traffic_rollups', rows: 720, window_minutes: 5 });
    expect(row.params).toMatchObject({ nEstimators: 30, seed: 3 });
    const loaded = await registry.load(row.id);
    expect(loaded.envelope.featureSet?.name).toBe('rollup-window');
    expect((await registry.production('anomaly'))?.id).toBe(prod?.id);
    const [stored] = await s.services.store.db.select().from(mlModels).where(eq(mlModels.id, prod!.id));
    expect(stored?.status).toBe('production');
  });

  it('rejects an algorithm no trainer serves before queueing', async () => {
    await expect(
      enqueueTraining(s.services.bus, { task: 'threat', algorithm: 'no-such-algorithm' }),
    ).rejects.toMatchObject({ code: 'MODEL_TRAINER_UNAVAILABLE' });
    await expect(
      enqueueTraining(s.services.bus, { task: 'anomaly', algorithm: 'lstm-autoencoder' }),
    ).rejects.toMatchObject({ code: 'MODEL_TRAINER_UNAVAILABLE' });
  });
});
