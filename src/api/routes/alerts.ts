import { and, sql, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  getAlert,
  presentAlert,
  setAlertStatus,
  type AlertRow,
  type StatusOptions,
} from '../../alerts/service.js';
import { alertConditions } from '../../alerts/filter.js';
import type { Config } from '../../config.js';
import { modelServices } from '../../ml/registry/services.js';
import { ALERT_STATUSES, alerts, SEVERITIES } from '../../store/schema.js';
import { listFlows, type FlowRow } from '../../store/traffic.js';
import { exactIso } from '../../store/exact-time.js';
import { flowSchema } from '../presenters.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { actorOf } from './actor.js';

export const alertSchema = z.object({
  id: z.number(),
  device_id: z.number().nullable(),
  kind: z.string(),
  severity: z.enum(SEVERITIES),
  status: z.enum(ALERT_STATUSES),
  title: z.string(),
  description: z.string().nullable(),
  peer: z.string().nullable(),
  evidence: z.record(z.string(), z.unknown()),
  dedup_key: z.string(),
  count: z.number(),
  first_seen: z.string(),
  last_seen: z.string(),
  model_version: z.string().nullable(),
  source_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const SORTS = ['last_seen', 'first_seen', 'severity', 'count'] as const;
type Sort = (typeof SORTS)[number];
const SEVERITY_RANK = sql`(CASE ${alerts.severity} WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END)`;

function sortExpr(s: Sort): SQL {
  switch (s) {
    case 'last_seen':
      return sql`${alerts.lastSeen}`;
    case 'first_seen':
      return sql`${alerts.firstSeen}`;
    case 'severity':
      return SEVERITY_RANK;
    case 'count':
      return sql`${alerts.count}`;
  }
}

function sortValue(a: AlertRow, exact: { first: string; last: string }, s: Sort): string | number {
  switch (s) {
    case 'last_seen':
      return exact.last;
    case 'first_seen':
      return exact.first;
    case 'severity':
      return { critical: 5, high: 4, medium: 3, low: 2, info: 1 }[a.severity];
    case 'count':
      return a.count;
  }
}

/** Flows shown with an alert: at most this many community ids are looked up. */
const DETAIL_FLOW_IDS = 50;
const DETAIL_MARGIN_MS = 10 * 60_000;

const idParams = z.object({ id: z.coerce.number().int().positive() });
const settable = z.enum(['acknowledged', 'resolved', 'false_positive']);

export const alertRoutes: FastifyPluginAsyncZod<{ services: Services; config: Config }> = async (
  app,
  { services, config },
) => {
  const feedback: StatusOptions['feedback'] = (modelId, predicted, actual) =>
    modelServices(services, config).server.recordFeedback(modelId, predicted, actual);

  app.get(
    '/',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, filtered by status, severity, kind, device and time, sorted',
        querystring: z.object({
          ...listQuery,
          status: z.enum(ALERT_STATUSES).optional(),
          severity: z.enum(SEVERITIES).optional(),
          kind: z.string().max(64).optional(),
          device_id: z.coerce.number().int().positive().optional(),
          since: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Alerts last seen at or after this time'),
          sort: z.enum(SORTS).default('last_seen'),
          order: z.enum(['asc', 'desc']).default('desc'),
        }),
        response: { 200: page(alertSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const after = decodeCursor(
        q.cursor,
        z.object({ s: z.enum(SORTS), v: z.union([z.string(), z.number()]), id: z.number().int() }),
      );
      const conds = alertConditions(q);
      const expr = sortExpr(q.sort);
      if (after && after.s === q.sort) {
        const v = typeof after.v === 'string' ? sql`${after.v}::timestamptz` : sql`${after.v}`;
        conds.push(
          q.order === 'desc'
            ? sql`(${expr}, ${alerts.id}) < (${v}, ${after.id})`
            : sql`(${expr}, ${alerts.id}) > (${v}, ${after.id})`,
        );
      }
      const dir = q.order === 'desc' ? sql`DESC` : sql`ASC`;
      const rows = await services.store.readDb
        .select({ alert: alerts, first: exactIso(alerts.firstSeen), last: exactIso(alerts.lastSeen) })
        .from(alerts)
        .where(conds.length ? and(...conds) : undefined)
        .orderBy(sql`${expr} ${dir}`, sql`${alerts.id} ${dir}`)
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map((r) => presentAlert(r.alert)),
        next_cursor:
          rows.length > q.limit && last
            ? encodeCursor({ s: q.sort, v: sortValue(last.alert, last, q.sort), id: last.alert.id })
            : null,
      };
    },
  );

  app.get(
    '/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its evidence and the stored flows behind it',
        params: idParams,
        response: { 200: alertSchema.extend({ flows: z.array(flowSchema) }) },
      },
    },
    async (request) => {
      const a = await getAlert(services, request.params.id);
      const raw = a.evidence['community_ids'];
      const ids = (Array.isArray(raw) ? raw : []).filter((x): x is string => typeof x === 'string');
      const from = new Date(a.firstSeen.getTime() - DETAIL_MARGIN_MS);
      const to = new Date(a.lastSeen.getTime() + DETAIL_MARGIN_MS);
      const flows: FlowRow[] = [];
      for (const cid of ids.slice(0, DETAIL_FLOW_IDS)) {
        flows.push(...(await listFlows(services.store.readDb, { from, to, communityId: cid }, 5)));
      }
      flows.sort((x, y) => (x.ts_start < y.ts_start ? -1 : x.ts_start > y.ts_start ? 1 : x.id - y.id));
      return { ...presentAlert(a), flows };
    },
  );

  app.patch(
    '/:id',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['alerts'],
        summary: "Change an alert's status: acknowledged, resolved or false_positive (audited)",
        params: idParams,
        body: z.strictObject({ status: settable }),
        response: { 200: alertSchema },
      },
    },
    async (request) => {
      const [row] = await setAlertStatus(
        services,
        actorOf(request).actorRef,
        [request.params.id],
        request.body.status,
        { feedback },
      );
      if (!row) throw new Error('status change returned nothing');
      return presentAlert(row);
    },
  );

  app.post(
    '/bulk',
    {
      config: { access: 'analyst', rateLimit: 'bulk' },
      schema: {
        tags: ['alerts'],
        summary: 'Change the status of several alerts at once (all or nothing, audited)',
        body: z.strictObject({
          ids: z.array(z.number().int().positive()).min(1).max(1000),
          status: settable,
        }),
        response: { 200: z.object({ items: z.array(alertSchema), next_cursor: z.null() }) },
      },
    },
    async (request) => {
      const rows = await setAlertStatus(
        services,
        actorOf(request).actorRef,
        request.body.ids,
        request.body.status,
        { feedback },
      );
      return { items: rows.map(presentAlert), next_cursor: null };
    },
  );
};
