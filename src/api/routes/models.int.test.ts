import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL } from '../../bus/events.js';
import type { BusEvent } from '../../bus/types.js';
import { modelServices } from '../../ml/registry/services.js';
import { registerTestModel, ROLLUP_SIGNATURE, trafficMatrix } from '../../ml/registry/test-support.js';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../../test-support/api.js';

const kinds = await stackKinds();

describe.each(kinds)('models API on %s stack', (kind) => {
  let s: Stack;
  let admin: Record<string, string>;
  let viewer: Record<string, string>;
  const events: BusEvent[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    s = await makeStack(kind, { API_RATE_LIMIT: '100000' });
    admin = bearer((await login(s.app, 'admin', ADMIN_PASSWORD)).access_token);
    await s.services.users.create(
      { id: null, name: 'test' },
      { username: 'vera', password: 'viewer-password-1', role: 'viewer' },
    );
    viewer = bearer((await login(s.app, 'vera', 'viewer-password-1')).access_token);
    await s.services.bus.subscribe(EVENTS_CHANNEL, (e) => events.push(e));
    const { registry } = modelServices(s.services, s.config);
    for (const seed of [1, 2, 3]) ids.push((await registerTestModel(registry, 'anomaly', seed)).id);
    await registerTestModel(registry, 'threat', 4, { accuracy: 0.93, macro_f1: 0.81 });
  });
  afterAll(async () => s?.close());

  const get = (url: string, headers = viewer) => s.app.inject({ method: 'GET', url, headers });
  const post = (url: string, payload: unknown, headers = admin) =>
    s.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });

  it('lists versions with filters and a cursor', async () => {
    const all = await get('/api/v1/models?limit=2');
    expect(all.statusCode).toBe(200);
    const p1 = all.json() as { items: { task: string; version: number }[]; next_cursor: string | null };
    expect(p1.items.map((m) => `${m.task}:${m.version}`)).toEqual(['anomaly:3', 'anomaly:2']);
    const p2 = (
      await get(`/api/v1/models?limit=2&cursor=${encodeURIComponent(p1.next_cursor ?? '')}`)
    ).json() as typeof p1;
    expect(p2.items.map((m) => `${m.task}:${m.version}`)).toEqual(['anomaly:1', 'threat:1']);
    expect(p2.next_cursor).toBeNull();
    const threat = (await get('/api/v1/models?task=threat')).json() as typeof p1;
    expect(threat.items).toHaveLength(1);
    // Each row carries its headline evaluation, null where the trainer stored none.
    expect(threat.items[0]).toMatchObject({ accuracy: 0.93, macro_f1: 0.81 });
    expect(p1.items[0]).toMatchObject({ accuracy: null, macro_f1: null });
    expect(((await get('/api/v1/models?status=production')).json() as typeof p1).items).toEqual([]);
    expect(errorCode(await get('/api/v1/models?task=bogus'))).toBe('VALIDATION_FAILED');
    expect(errorCode(await get('/api/v1/models?cursor=zzz'))).toBe('INVALID_CURSOR');
  });

  it('shows one version with its stored metrics', async () => {
    const res = await get(`/api/v1/models/${ids[0]}`);
    expect(res.statusCode).toBe(200);
    const m = res.json() as Record<string, unknown> & { training_summary: Record<string, unknown> };
    expect(m).toMatchObject({
      id: ids[0],
      task: 'anomaly',
      version: 1,
      status: 'candidate',
      traffic_share: 0,
      feature_set: { name: 'rollup-window', version: 1 },
      metrics: { confusion: { labels: [0, 1], counts: [1, 0, 0, 1] }, per_class: [{ label: 0, f1: 1 }] },
    });
    expect(m.training_summary['drift_reference']).toMatchObject({ features: ROLLUP_SIGNATURE.featureNames });
    expect(m.training_summary['reference']).toBeUndefined();
    expect(errorCode(await get('/api/v1/models/00000000-0000-4000-8000-000000000000'))).toBe(
      'MODEL_NOT_FOUND',
    );
  });

  it('promote is admin only, audited and announced; rollback and A/B work through the API', async () => {
    const denied = await post(`/api/v1/models/${ids[0]}/promote`, undefined, viewer);
    expect(denied.statusCode).toBe(403);
    expect(errorCode(denied)).toBe('FORBIDDEN');
    expect((await post('/api/v1/models/rollback', { task: 'anomaly' }, viewer)).statusCode).toBe(403);
    expect((await post('/api/v1/models/train', { task: 'anomaly' }, viewer)).statusCode).toBe(403);

    const p1 = await post(`/api/v1/models/${ids[0]}/promote`, undefined);
    expect(p1.statusCode).toBe(200);
    expect(p1.json()).toMatchObject({ id: ids[0], status: 'production', traffic_share: 1 });
    expect(errorCode(await post('/api/v1/models/rollback', { task: 'anomaly' }))).toBe('MODEL_NO_PREVIOUS');

    const ab = await post('/api/v1/models/ab', { task: 'anomaly', candidate_id: ids[1], share: 0.2 });
    expect(ab.statusCode).toBe(200);
    expect(ab.json()).toMatchObject({
      candidate: { id: ids[1], traffic_share: 0.2, shadow: false },
      production: { id: ids[0], traffic_share: 0.8 },
    });
    const shadow = await post('/api/v1/models/ab', {
      task: 'anomaly',
      candidate_id: ids[1],
      share: 0.5,
      shadow: true,
    });
    expect(shadow.json()).toMatchObject({ candidate: { shadow: true }, production: { traffic_share: 1 } });
    expect(
      errorCode(await post('/api/v1/models/ab', { task: 'anomaly', candidate_id: ids[1], share: 2 })),
    ).toBe('VALIDATION_FAILED');

    expect((await post(`/api/v1/models/${ids[2]}/promote`, undefined)).statusCode).toBe(200);
    const rb = await post('/api/v1/models/rollback', { task: 'anomaly' });
    expect(rb.statusCode).toBe(200);
    expect(rb.json()).toMatchObject({ id: ids[0], status: 'production' });

    const audit = await s.app.inject({ method: 'GET', url: '/api/v1/audit-log?limit=20', headers: admin });
    const actions = (audit.json() as { items: { action: string; actor: string }[] }).items.map(
      (r) => r.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['model.promote', 'model.ab', 'model.rollback']));
    expect(events.filter((e) => e.type === 'model_update').length).toBeGreaterThanOrEqual(5);
  });

  it('serves metrics windows and Prometheus gauges labelled by task and version', async () => {
    const { server } = modelServices(s.services, s.config);
    server.invalidate();
    for (let d = 0; d < 20; d++) await server.predict('anomaly', d, trafficMatrix(5, d), ROLLUP_SIGNATURE);
    server.recordFeedback(ids[0]!, 1, 1);
    await server.flush();
    const res = await get(`/api/v1/models/${ids[0]}/metrics`);
    expect(res.statusCode).toBe(200);
    const w = res.json() as { items: Record<string, unknown>[]; next_cursor: string | null };
    expect(w.items.length).toBeGreaterThanOrEqual(1);
    expect(w.items[0]).toMatchObject({ model_id: ids[0], labelled: 1, accuracy: 1 });
    expect(w.items[0]!['predictions']).toBeGreaterThan(0);
    expect(errorCode(await get('/api/v1/models/00000000-0000-4000-8000-000000000000/metrics'))).toBe(
      'MODEL_NOT_FOUND',
    );

    const prom = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(prom.statusCode).toBe(200);
    expect(prom.body).toMatch(
      /iotsec_model_traffic_share\{task="anomaly",version="1",status="production"\} 1/,
    );
    expect(prom.body).toMatch(/iotsec_model_predictions_total\{task="anomaly",version="1"\} [1-9]/);
    expect(prom.body).toMatch(/iotsec_model_accuracy\{task="anomaly",version="1"\} 1/);
    expect(prom.body).toContain('iotsec_model_latency_p99_ms{task="anomaly",version="1"}');
  });

  it('queues training and reports the job', async () => {
    const res = await post('/api/v1/models/train', { task: 'anomaly', params: { nEstimators: 10 } });
    expect(res.statusCode).toBe(202);
    const { job_id, queue } = res.json() as { job_id: string; queue: string };
    expect(queue).toBe('training');
    const job = await get(`/api/v1/jobs/training/${job_id}`);
    expect(job.statusCode).toBe(200);
    expect(job.json()).toMatchObject({ id: job_id, queue: 'training', name: 'train', error: null });
    expect(errorCode(await get('/api/v1/jobs/training/nope'))).toBe('JOB_NOT_FOUND');
    expect(
      errorCode(await post('/api/v1/models/train', { task: 'threat', algorithm: 'no-such-algorithm' })),
    ).toBe('MODEL_TRAINER_UNAVAILABLE');
    expect(errorCode(await post('/api/v1/models/train', { task: 'anomaly', bogus: 1 }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});
