import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { registerModelMetrics } from '../../ml/monitor/prometheus.js';
import type { ModelRow } from '../../ml/registry/registry.js';
import { modelServices } from '../../ml/registry/services.js';
import { ML_TASKS, MODEL_STATUSES, modelMetrics } from '../../store/schema.js';
import { enqueueTraining, TRAINING_QUEUE } from '../../worker/training.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { actorOf } from './actor.js';

const idParams = z.object({ id: z.uuid() });
const json = z.record(z.string(), z.unknown());

export const modelSchema = z.object({
  id: z.string(),
  task: z.enum(ML_TASKS),
  algorithm: z.string(),
  version: z.number(),
  status: z.enum(MODEL_STATUSES),
  traffic_share: z.number(),
  shadow: z.boolean(),
  feature_set: z.object({ name: z.string(), version: z.number() }),
  checksum: z.string(),
  created_at: z.string(),
  promoted_at: z.string().nullable(),
});

/** A list row: the version and its headline evaluation (so a list needs no request per version). */
export const modelListItemSchema = modelSchema.extend({
  accuracy: z.number().nullable(),
  macro_f1: z.number().nullable(),
});

export const modelDetailSchema = modelSchema.extend({
  params: json,
  metrics: json,
  training_summary: json,
  artifact_path: z.string(),
});

const windowSchema = z.object({
  id: z.number(),
  model_id: z.string(),
  window_start: z.string(),
  window_end: z.string(),
  predictions: z.number(),
  latency_p50_ms: z.number().nullable(),
  latency_p99_ms: z.number().nullable(),
  drift: z.record(z.string(), z.number()),
  accuracy: z.number().nullable(),
  labelled: z.number(),
});

export const presentModel = (m: ModelRow): z.infer<typeof modelSchema> => ({
  id: m.id,
  task: m.task,
  algorithm: m.algorithm,
  version: m.version,
  status: m.status,
  traffic_share: m.trafficShare,
  shadow: m.shadow,
  feature_set: { name: m.featureSet, version: m.featureSetVersion },
  checksum: m.checksum,
  created_at: m.createdAt.toISOString(),
  promoted_at: m.promotedAt ? m.promotedAt.toISOString() : null,
});

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export const presentModelListItem = (m: ModelRow): z.infer<typeof modelListItemSchema> => ({
  ...presentModel(m),
  accuracy: finiteOrNull(m.metrics['accuracy']),
  macro_f1: finiteOrNull(m.metrics['macro_f1']),
});

/** The detail view: metrics as the trainer stored them; the drift reference is summarised, not dumped. */
export const presentModelDetail = (m: ModelRow): z.infer<typeof modelDetailSchema> => {
  const { reference, ...summary } = m.trainingSummary;
  const ref = reference as { features?: unknown; rows?: unknown } | undefined;
  return {
    ...presentModel(m),
    params: m.params,
    metrics: m.metrics,
    training_summary: {
      ...summary,
      ...(ref ? { drift_reference: { features: ref.features ?? [], rows: ref.rows ?? null } } : {}),
    },
    artifact_path: m.artifactPath,
  };
};

export const modelRoutes: FastifyPluginAsyncZod<{
  services: Services;
  config: Config;
  metrics?: Registry;
}> = async (app, { services, config, metrics }) => {
  const { registry } = modelServices(services, config);
  if (metrics) registerModelMetrics(metrics, services.store.db);

  app.get(
    '/',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['models'],
        summary: 'List model versions (by task, newest version first)',
        querystring: z.object({
          ...listQuery,
          task: z.enum(ML_TASKS).optional(),
          status: z.enum(MODEL_STATUSES).optional(),
        }),
        response: { 200: page(modelListItemSchema) },
      },
    },
    async (request) => {
      const { limit, task, status } = request.query;
      const after = decodeCursor(request.query.cursor, z.object({ t: z.string(), v: z.number().int() }));
      const rows = await registry.list({
        task,
        status,
        limit: limit + 1,
        after: after ? { task: after.t, version: after.v } : undefined,
      });
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentModelListItem),
        next_cursor: rows.length > limit && last ? encodeCursor({ t: last.task, v: last.version }) : null,
      };
    },
  );

  app.post(
    '/rollback',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['models'],
        summary: "Bring back the task's previous production version (audited)",
        body: z.strictObject({ task: z.enum(ML_TASKS) }),
        response: { 200: modelSchema },
      },
    },
    async (request) => presentModel(await registry.rollback(request.body.task, actorOf(request).actorRef)),
  );

  app.post(
    '/ab',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['models'],
        summary: 'Split a task between production and a candidate (sticky per device); share 0 ends it',
        body: z.strictObject({
          task: z.enum(ML_TASKS),
          candidate_id: z.uuid(),
          share: z.number().min(0).max(1),
          shadow: z.boolean().default(false),
        }),
        response: { 200: z.object({ candidate: modelSchema, production: modelSchema }) },
      },
    },
    async (request) => {
      const { task, candidate_id, share, shadow } = request.body;
      const r = await registry.ab(
        { task, candidateId: candidate_id, share, shadow },
        actorOf(request).actorRef,
      );
      return { candidate: presentModel(r.candidate), production: presentModel(r.production) };
    },
  );

  app.post(
    '/train',
    {
      config: { access: 'admin', rateLimit: 'train' },
      schema: {
        tags: ['models'],
        summary: 'Queue a training job; the new version is registered as a candidate',
        body: z.strictObject({
          task: z.enum(ML_TASKS),
          algorithm: z.string().min(1).max(64).optional(),
          params: json.optional(),
          dataset: json.optional(),
          promote: z.boolean().default(false),
        }),
        response: { 202: z.object({ job_id: z.string(), queue: z.string() }) },
      },
    },
    async (request, reply) => {
      const a = actorOf(request);
      const { task, algorithm, params, dataset, promote } = request.body;
      const jobId = await enqueueTraining(services.bus, {
        task,
        ...(algorithm ? { algorithm } : {}),
        params: params ?? {},
        dataset: dataset ?? {},
        promote,
        requested_by: { id: a.actorId, name: a.actor },
      });
      await services.audit.record({
        actorId: a.actorId,
        actor: a.actor,
        action: 'model.train',
        target: `job:${TRAINING_QUEUE}:${jobId}`,
        ip: a.ip,
        requestId: a.requestId,
        details: { task, algorithm: algorithm ?? null, promote },
      });
      return reply.status(202).send({ job_id: jobId, queue: TRAINING_QUEUE });
    },
  );

  app.get(
    '/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['models'],
        summary: 'One model version with its evaluation metrics and training summary',
        params: idParams,
        response: { 200: modelDetailSchema },
      },
    },
    async (request) => presentModelDetail(await registry.get(request.params.id)),
  );

  app.post(
    '/:id/promote',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['models'],
        summary: 'Make this version production (the current one is archived; audited)',
        params: idParams,
        response: { 200: modelSchema },
      },
    },
    async (request) => presentModel(await registry.promote(request.params.id, actorOf(request).actorRef)),
  );

  app.get(
    '/:id/metrics',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['models'],
        summary: 'Serving metrics of a model per window, newest first',
        params: idParams,
        querystring: z.object({
          ...listQuery,
          since: z.iso.datetime({ offset: true }).optional(),
          until: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: page(windowSchema) },
      },
    },
    async (request) => {
      await registry.get(request.params.id);
      const { limit, since, until } = request.query;
      const after = decodeCursor(request.query.cursor, z.object({ i: z.number().int() }));
      const conds: SQL[] = [eq(modelMetrics.modelId, request.params.id)];
      if (since) conds.push(gte(modelMetrics.windowEnd, new Date(since)));
      if (until) conds.push(lte(modelMetrics.windowStart, new Date(until)));
      if (after) conds.push(lt(modelMetrics.id, after.i));
      const rows = await services.store.readDb
        .select()
        .from(modelMetrics)
        .where(and(...conds))
        .orderBy(desc(modelMetrics.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map((r) => ({
          id: r.id,
          model_id: r.modelId,
          window_start: r.windowStart.toISOString(),
          window_end: r.windowEnd.toISOString(),
          predictions: r.predictions,
          latency_p50_ms: r.latencyP50Ms,
          latency_p99_ms: r.latencyP99Ms,
          drift: r.drift,
          accuracy: r.accuracy,
          labelled: r.labelled,
        })),
        next_cursor: rows.length > limit && last ? encodeCursor({ i: last.id }) : null,
      };
    },
  );
};
