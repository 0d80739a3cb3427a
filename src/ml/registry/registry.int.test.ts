import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL } from '../../bus/events.js';
import type { BusEvent } from '../../bus/types.js';
import { AppError } from '../../errors.js';
import { alerts, auditLog, mlModels, modelMetrics } from '../../store/schema.js';
import { makeStack, stackKinds, type Stack } from '../../test-support/api.js';
import { ModelServer } from '../ab/server.js';
import { featureSetSignature } from '../features/feature-set.js';
import { ModelMonitor } from '../monitor/monitor.js';
import { ModelRegistry } from './registry.js';
import { registerTestModel, ROLLUP_SIGNATURE, trafficMatrix } from './test-support.js';

const kinds = await stackKinds();

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
  return undefined;
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(kinds)('model registry on %s stack', (kind) => {
  let s: Stack;
  let registry: ModelRegistry;
  const events: BusEvent[] = [];
  const actor = { id: null, name: 'tester', ip: '127.0.0.1' };

  beforeAll(async () => {
    s = await makeStack(kind);
    registry = new ModelRegistry({
      db: s.services.store.db,
      audit: s.services.audit,
      bus: s.services.bus,
      dataDir: s.config.dataDir,
    });
    await s.services.bus.subscribe(EVENTS_CHANNEL, (e) => events.push(e));
  });
  afterAll(async () => s?.close());

  const auditActions = async (id: string) =>
    (
      await s.services.store.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.target, `model:${id}`))
    ).map((r) => r.action);

  it('registers a candidate with an artifact file, checksum and the next version, and loads it back', async () => {
    const a = await registerTestModel(registry, 'threat', 1);
    const b = await registerTestModel(registry, 'threat', 2);
    expect(a.status).toBe('candidate');
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(a.artifactPath).toBe(`models/threat/${a.id}.json`);
    expect(a.featureSet).toBe('rollup-window');
    const text = await readFile(join(s.config.dataDir, a.artifactPath), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'iotsec-model', algorithm: 'isolation-forest' });
    expect((a.trainingSummary['reference'] as { features: string[] }).features).toEqual(
      ROLLUP_SIGNATURE.featureNames,
    );
    const loaded = await registry.load(a.id, ROLLUP_SIGNATURE);
    expect(loaded.row.id).toBe(a.id);
    const X = trafficMatrix(20, 5);
    expect(loaded.model.score(X)).toHaveLength(20);
    expect(await auditActions(a.id)).toEqual(['model.register']);
    await until(() =>
      events.some((e) => e.type === 'model_update' && (e.data as { model_id: string }).model_id === b.id),
    );
  });

  it('two registrations at once never take the same version', async () => {
    const rows = await Promise.all([1, 2, 3, 4].map((i) => registerTestModel(registry, 'device_type', i)));
    expect(rows.map((r) => r.version).sort()).toEqual([1, 2, 3, 4]);
  });

  it('refuses a tampered artifact, a missing one and a different feature set', async () => {
    const m = await registerTestModel(registry, 'threat', 3);
    const file = join(s.config.dataDir, m.artifactPath);
    const original = await readFile(file, 'utf8');
    const other = featureSetSignature({
      name: 'flow-v1',
      version: 1,
      features: [{ name: 'x', description: 'x' }],
    });
    expect(await codeOf(registry.load(m.id, other))).toBe('FEATURE_SET_MISMATCH');
    expect(await codeOf(registry.load(m.id, { ...ROLLUP_SIGNATURE, version: 2 }))).toBe(
      'FEATURE_SET_MISMATCH',
    );

    await writeFile(file, original.replace('"nEstimators":20', '"nEstimators":21'));
    expect(await codeOf(registry.load(m.id))).toBe('MODEL_CHECKSUM_MISMATCH');
    expect(await codeOf(registry.promote(m.id, actor))).toBe('MODEL_CHECKSUM_MISMATCH');
    await rm(file);
    expect(await codeOf(registry.load(m.id))).toBe('MODEL_ARTIFACT_MISSING');
    await writeFile(file, original);
    expect((await registry.load(m.id)).row.id).toBe(m.id);
    expect(await codeOf(registry.load('00000000-0000-4000-8000-000000000000'))).toBe('MODEL_NOT_FOUND');
  });

  it('promote, ab and rollback move production and candidates as a state machine, audited', async () => {
    const v1 = await registerTestModel(registry, 'anomaly', 11);
    const v2 = await registerTestModel(registry, 'anomaly', 12);
    const v3 = await registerTestModel(registry, 'anomaly', 13);
    expect(await codeOf(registry.rollback('anomaly', actor))).toBe('MODEL_NO_PRODUCTION');
    expect(await codeOf(registry.ab({ task: 'anomaly', candidateId: v2.id, share: 0.1 }, actor))).toBe(
      'MODEL_NO_PRODUCTION',
    );

    const p1 = await registry.promote(v1.id, actor);
    expect(p1).toMatchObject({ status: 'production', trafficShare: 1 });
    expect(await codeOf(registry.rollback('anomaly', actor))).toBe('MODEL_NO_PREVIOUS');

    const ab = await registry.ab({ task: 'anomaly', candidateId: v2.id, share: 0.25 }, actor);
    expect(ab.candidate).toMatchObject({ trafficShare: 0.25, shadow: false, status: 'candidate' });
    expect(ab.production).toMatchObject({ id: v1.id, trafficShare: 0.75 });
    // A new split replaces the old one: one experiment per task.
    const ab3 = await registry.ab({ task: 'anomaly', candidateId: v3.id, share: 0.5, shadow: true }, actor);
    expect(ab3.candidate).toMatchObject({ trafficShare: 0.5, shadow: true });
    expect(ab3.production.trafficShare).toBe(1);
    expect((await registry.get(v2.id)).trafficShare).toBe(0);
    expect(await codeOf(registry.ab({ task: 'threat', candidateId: v3.id, share: 0.1 }, actor))).toBe(
      'MODEL_INVALID_STATE',
    );
    expect(await codeOf(registry.ab({ task: 'anomaly', candidateId: v1.id, share: 0.1 }, actor))).toBe(
      'MODEL_INVALID_STATE',
    );

    await registry.promote(v2.id, actor);
    await registry.promote(v3.id, actor);
    const state = async () =>
      Object.fromEntries(
        (await registry.list({ task: 'anomaly', limit: 10 })).map((r) => [
          `v${r.version}`,
          `${r.status}:${r.trafficShare}${r.shadow ? ':shadow' : ''}`,
        ]),
      );
    expect(await state()).toEqual({ v1: 'archived:0', v2: 'archived:0', v3: 'production:1' });

    expect((await registry.rollback('anomaly', actor)).id).toBe(v2.id);
    expect(await state()).toEqual({ v1: 'archived:0', v2: 'production:1', v3: 'archived:0' });
    expect((await registry.rollback('anomaly', actor)).id).toBe(v1.id);
    expect(await state()).toEqual({ v1: 'production:1', v2: 'archived:0', v3: 'archived:0' });
    // The rolled-back versions are withdrawn: nothing earlier than v1.
    expect(await codeOf(registry.rollback('anomaly', actor))).toBe('MODEL_NO_PREVIOUS');

    expect(await auditActions(v1.id)).toEqual(['model.register', 'model.promote', 'model.rollback']);
    expect(await auditActions(v2.id)).toEqual([
      'model.register',
      'model.ab',
      'model.promote',
      'model.rollback',
    ]);
    const [rb] = await s.services.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'model.rollback'), eq(auditLog.target, `model:${v1.id}`)));
    expect(rb).toMatchObject({ actor: 'tester', ip: '127.0.0.1' });
    expect(rb?.details).toMatchObject({ task: 'anomaly', from: { id: v2.id }, to: { id: v1.id } });
    expect((await s.services.audit.verify()).broken).toBeNull();
    await until(() =>
      events.some((e) => e.type === 'model_update' && (e.data as { action: string }).action === 'rollback'),
    );
  });

  it('serves with a sticky split, records metrics per window, and a shadow never decides', async () => {
    const monitor = new ModelMonitor({
      db: s.services.store.db,
      bus: s.services.bus,
      driftPsiThreshold: 0.2,
    });
    const server = new ModelServer({ registry, monitor, bus: s.services.bus, windowMs: 0 });
    await server.start();
    try {
      const prod = await registry.production('anomaly');
      const cand = await registerTestModel(registry, 'anomaly', 21);
      await registry.ab({ task: 'anomaly', candidateId: cand.id, share: 0.3 }, actor);
      server.invalidate('anomaly');
      const X = trafficMatrix(4, 1);
      let toCandidate = 0;
      for (let d = 0; d < 400; d++) {
        const first = await server.chooseModel('anomaly', d);
        const again = await server.chooseModel('anomaly', d);
        expect(again.decide?.id).toBe(first.decide?.id);
        const r = await server.predict('anomaly', d, X, ROLLUP_SIGNATURE);
        expect(r.modelId).toBe(first.decide?.id);
        expect(r.labels).toHaveLength(4);
        if (r.modelId === cand.id) toCandidate++;
      }
      expect(toCandidate / 400).toBeGreaterThan(0.2);
      expect(toCandidate / 400).toBeLessThan(0.4);

      // Shadow: the candidate scores every device in its share, production always decides.
      await registry.ab({ task: 'anomaly', candidateId: cand.id, share: 1, shadow: true }, actor);
      server.invalidate('anomaly');
      for (let d = 0; d < 50; d++) {
        const r = await server.predict('anomaly', d, X, ROLLUP_SIGNATURE);
        expect(r.modelId).toBe(prod?.id);
        expect(r.arm).toBe('production');
        expect(r.shadow?.modelId).toBe(cand.id);
      }
      expect(await codeOf(server.predict('anomaly', 1, X, { ...ROLLUP_SIGNATURE, version: 9 }))).toBe(
        'FEATURE_SET_MISMATCH',
      );

      server.recordFeedback(cand.id, 1, 1);
      server.recordFeedback(cand.id, 1, 0);
      const flushed = await server.flush();
      const byModel = new Map(flushed.map((f) => [f.modelId, f.metrics]));
      expect(byModel.get(cand.id)).toMatchObject({ labelled: 2, accuracy: 0.5 });
      expect(byModel.get(cand.id)!.predictions).toBe(4 * (toCandidate + 50));
      expect(byModel.get(prod!.id)!.predictions).toBe(4 * (400 - toCandidate + 50));
      expect(byModel.get(prod!.id)!.latencyP99Ms).toBeGreaterThanOrEqual(0);
      const rows = await s.services.store.db
        .select()
        .from(modelMetrics)
        .where(eq(modelMetrics.modelId, cand.id));
      expect(rows).toHaveLength(1);
      expect(await server.flush()).toEqual([]); // nothing new in the next window
    } finally {
      await server.stop();
      await registry.ab(
        { task: 'anomaly', candidateId: (await registry.experiment('anomaly'))?.id ?? '', share: 0 },
        actor,
      );
    }
  });

  it('raises one model_drift alert on shifted inputs and none on inputs like the training data', async () => {
    const monitor = new ModelMonitor({
      db: s.services.store.db,
      bus: s.services.bus,
      driftPsiThreshold: 0.2,
    });
    const server = new ModelServer({ registry, monitor, windowMs: 0 });
    const m = await registry.promote((await registerTestModel(registry, 'device_type', 31)).id, actor);
    const same = await registry.promote((await registerTestModel(registry, 'threat', 32)).id, actor);
    const serve = async (task: 'device_type' | 'threat', shift: number) => {
      for (let i = 0; i < 10; i++) {
        await server.predict(task, i, trafficMatrix(30, 100 + i, shift), ROLLUP_SIGNATURE);
      }
    };
    await serve('device_type', 2);
    await serve('threat', 0);
    const alertEvents = () => events.filter((e) => e.type === 'new_alert' || e.type === 'alert_update');
    const before = alertEvents().length;
    const out = await server.flush();
    const shifted = out.find((f) => f.modelId === m.id);
    const calm = out.find((f) => f.modelId === same.id);
    expect(shifted?.drifted.length).toBeGreaterThan(0);
    expect(shifted?.alertId).not.toBeNull();
    expect(calm?.drifted).toEqual([]);
    expect(calm?.alertId).toBeNull();
    expect(Math.max(...Object.values(calm!.metrics.drift))).toBeLessThan(0.2);

    const rows = await s.services.store.db
      .select()
      .from(alerts)
      .where(inArray(alerts.dedupKey, [`model_drift:${m.id}`, `model_drift:${same.id}`]));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      kind: 'model_drift',
      severity: 'medium',
      deviceId: null,
      dedupKey: `model_drift:${m.id}`,
      count: 1,
    });
    await until(() => alertEvents().length > before);
    expect(alertEvents().at(-1)?.type).toBe('new_alert');

    // Still drifting in the next window: the same alert counts up.
    await serve('device_type', 2);
    await server.flush();
    const again = await s.services.store.db
      .select()
      .from(alerts)
      .where(eq(alerts.dedupKey, `model_drift:${m.id}`));
    expect(again).toHaveLength(1);
    expect(again[0]?.count).toBe(2);
    const [stored] = await s.services.store.db.select().from(mlModels).where(eq(mlModels.id, m.id));
    expect(stored?.status).toBe('production');
  });
});
