import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENTS_CHANNEL, makeEvent } from '../../bus/events.js';
import type { Config } from '../../config.js';
import {
  deviceAddresses,
  deviceSignals,
  deviceTraffic,
  getDevice,
  listDevices,
  listFeedback,
  mergeByHand,
  patchDevice,
  sortValue,
  SORTS,
} from '../../devices/repository.js';
import { loadUserRules, saveUserRules } from '../../devices/rules-store.js';
import { ruleSchema } from '../../devices/rules.js';
import { identifyDevices, matchDeviceVulnerabilities } from '../../devices/service.js';
import { AppError } from '../../errors.js';
import { tryParseCpe } from '../../vulns/cpe/fs.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { deviceFilter, deviceFilterQuery } from './device-filter.js';
import { actorOf } from './actor.js';

const deviceSchema = z.object({
  id: z.number(),
  mac: z.string().nullable(),
  mac_randomized: z.boolean(),
  ip: z.string().nullable(),
  vendor: z.string().nullable(),
  device_type: z.string(),
  type_source: z.string(),
  confidence: z.number(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  os: z.string().nullable(),
  hostname: z.string().nullable(),
  cpe23: z.array(z.string()),
  tags: z.array(z.string()),
  notes: z.string().nullable(),
  user_fields: z.array(z.string()),
  risk_score: z.number(),
  first_seen: z.string(),
  last_seen: z.string(),
  online: z.boolean(),
  status: z.enum(['online', 'offline']),
});

const evidenceSchema = z.object({
  source: z.string(),
  ref: z.string().nullable().optional(),
  text: z.string(),
  confidence: z.number().optional(),
  used: z.boolean().optional(),
});

const detailSchema = deviceSchema.extend({
  evidence: z.array(evidenceSchema),
  addresses: z.array(z.object({ ip: z.string(), first_seen: z.string(), last_seen: z.string() })),
});

const idParams = z.object({ id: z.coerce.number().int().positive() });
const text = (max: number) => z.string().trim().min(1).max(max);

const withStatus = <T extends { online: boolean }>(d: T) => ({
  ...d,
  status: d.online ? ('online' as const) : ('offline' as const),
});

function evidenceList(e: unknown[]): z.infer<typeof evidenceSchema>[] {
  return e.flatMap((x) => {
    const p = evidenceSchema.safeParse(x);
    return p.success ? [p.data] : [];
  });
}

export const deviceRoutes: FastifyPluginAsyncZod<{
  services: Services;
  config: Pick<Config, 'deviceOfflineMinutes'>;
}> = async (app, { services, config }) => {
  const db = () => services.store.readDb;
  const offline = config.deviceOfflineMinutes;
  const publish = (type: 'device_update' | 'new_device', data: Record<string, unknown>) =>
    services.bus.publish(EVENTS_CHANNEL, makeEvent(type, data));

  app.get(
    '/',
    {
      config: { access: 'viewer', rateLimit: { budget: 'search', whenQuery: 'q' } },
      schema: {
        tags: ['devices'],
        summary:
          'The device inventory: filter by type, vendor, risk, online status or a search; sort; paginate',
        querystring: z.object({
          ...listQuery,
          ...deviceFilterQuery,
          sort: z.enum(SORTS).default('last_seen'),
          order: z.enum(['asc', 'desc']).default('desc'),
        }),
        response: { 200: page(deviceSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const after = decodeCursor(
        q.cursor,
        z.object({
          s: z.enum(SORTS),
          o: z.enum(['asc', 'desc']),
          v: z.union([z.string(), z.number()]).nullable(),
          id: z.number().int(),
        }),
      );
      if (after && (after.s !== q.sort || after.o !== q.order))
        throw new AppError('INVALID_CURSOR', 'The cursor belongs to another sort order.');
      const rows = await listDevices(db(), {
        ...deviceFilter(q),
        sort: q.sort,
        order: q.order,
        limit: q.limit + 1,
        after: after ? { v: after.v, id: after.id } : undefined,
        offlineMinutes: offline,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(withStatus),
        next_cursor:
          rows.length > q.limit && last
            ? encodeCursor({ s: q.sort, o: q.order, v: sortValue(last, q.sort), id: last.id })
            : null,
      };
    },
  );

  app.get(
    '/rules',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: 'User identification rules (evaluated before the built-in ones)',
        response: { 200: z.object({ items: z.array(ruleSchema), next_cursor: z.null() }) },
      },
    },
    async () => ({ items: await loadUserRules(db()), next_cursor: null }),
  );

  app.post(
    '/rules',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: 'Add (or replace, same id) a user identification rule',
        body: ruleSchema,
        response: { 201: ruleSchema },
      },
    },
    async (request, reply) => {
      const a = actorOf(request);
      await services.store.db.transaction(async (tx) => {
        const rules = (await loadUserRules(tx)).filter((r) => r.id !== request.body.id);
        await saveUserRules(tx, [...rules, request.body]);
        await services.audit.record(
          {
            actorId: a.actorId,
            actor: a.actor,
            action: 'device_rule.put',
            target: `rule:${request.body.id}`,
            ip: a.ip,
            requestId: a.requestId,
            details: { rule: request.body },
          },
          tx,
        );
      });
      return reply.status(201).send(request.body);
    },
  );

  app.delete(
    '/rules/:rule_id',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: 'Delete a user identification rule',
        params: z.object({ rule_id: z.string().min(1).max(64) }),
      },
    },
    async (request, reply) => {
      const a = actorOf(request);
      await services.store.db.transaction(async (tx) => {
        const rules = await loadUserRules(tx);
        if (!rules.some((r) => r.id === request.params.rule_id))
          throw new AppError('RULE_NOT_FOUND', `No user rule ${request.params.rule_id}.`);
        await saveUserRules(
          tx,
          rules.filter((r) => r.id !== request.params.rule_id),
        );
        await services.audit.record(
          {
            actorId: a.actorId,
            actor: a.actor,
            action: 'device_rule.delete',
            target: `rule:${request.params.rule_id}`,
            ip: a.ip,
            requestId: a.requestId,
          },
          tx,
        );
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/feedback',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: 'Hand-corrected device types (labelled feedback for retraining), newest first',
        querystring: z.object(listQuery),
        response: {
          200: page(
            z.object({
              id: z.number(),
              at: z.string(),
              actor: z.string(),
              device_id: z.number(),
              mac: z.string().nullable(),
              label: z.string(),
              predicted: z.string().nullable(),
              predicted_source: z.string().nullable(),
              model_id: z.string().nullable(),
            }),
          ),
        },
      },
    },
    async (request) => {
      const after = decodeCursor(request.query.cursor, z.object({ id: z.number().int() }));
      const rows = await listFeedback(db(), request.query.limit + 1, after?.id);
      const items = rows.slice(0, request.query.limit);
      const last = items[items.length - 1];
      return {
        items,
        next_cursor: rows.length > request.query.limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },
  );

  app.post(
    '/identify',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: 'Run identification (rules + production model) again on some devices',
        body: z.strictObject({ device_ids: z.array(z.number().int().positive()).min(1).max(1000) }),
        response: { 200: z.object({ changed: z.array(z.number()) }) },
      },
    },
    async (request) => identifyDevices({ store: services.store, bus: services.bus }, request.body.device_ids),
  );

  app.post(
    '/merge',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: 'Merge one device into another (addresses, signals, flows, alerts move over)',
        body: z.strictObject({ from_id: z.number().int().positive(), into_id: z.number().int().positive() }),
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const { from_id, into_id } = request.body;
      await mergeByHand(services.store, services.audit, actorOf(request).actorRef, from_id, into_id);
      await publish('device_update', { device_id: into_id, reason: 'merged', merged_from: from_id });
      const d = await getDevice(services.store.db, into_id, offline);
      return {
        ...withStatus(d),
        evidence: evidenceList(d.evidence),
        addresses: await deviceAddresses(services.store.db, into_id),
      };
    },
  );

  app.get(
    '/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: 'One device: identity, evidence, addresses',
        params: idParams,
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const d = await getDevice(db(), request.params.id, offline);
      return {
        ...withStatus(d),
        evidence: evidenceList(d.evidence),
        addresses: await deviceAddresses(db(), d.id),
      };
    },
  );

  app.get(
    '/:id/signals',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: "A device's identifying signals with counts and first/last seen",
        params: idParams,
        querystring: z.object({ ...listQuery, kind: z.string().max(32).optional() }),
        response: {
          200: page(
            z.object({
              id: z.number(),
              kind: z.string(),
              value: z.string(),
              count: z.number(),
              first_seen: z.string(),
              last_seen: z.string(),
            }),
          ),
        },
      },
    },
    async (request) => {
      await getDevice(db(), request.params.id, offline);
      const after = decodeCursor(request.query.cursor, z.object({ id: z.number().int() }));
      const rows = await deviceSignals(
        db(),
        request.params.id,
        request.query.limit + 1,
        after?.id,
        request.query.kind,
      );
      const items = rows.slice(0, request.query.limit);
      const last = items[items.length - 1];
      return {
        items,
        next_cursor: rows.length > request.query.limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },
  );

  app.get(
    '/:id/traffic',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: "A device's traffic per time bucket, from the minute rollups",
        params: idParams,
        querystring: z.object({
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          bucket: z.coerce.number().int().min(60).max(86_400).optional(),
        }),
        response: {
          200: z.object({
            bucket_seconds: z.number(),
            items: z.array(
              z.object({
                t: z.string(),
                bytes_out: z.number(),
                bytes_in: z.number(),
                packets_out: z.number(),
                packets_in: z.number(),
                flows: z.number(),
                distinct_peers: z.number(),
                distinct_ports: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const d = await getDevice(db(), request.params.id, offline);
      const to = request.query.to
        ? new Date(request.query.to)
        : new Date(Math.max(Date.now(), Date.parse(d.last_seen)));
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 86_400_000);
      if (from >= to) throw new AppError('VALIDATION_FAILED', '`from` must be before `to`');
      const span = (to.getTime() - from.getTime()) / 1000;
      const bucket = Math.max(
        request.query.bucket ?? 60 * Math.ceil(span / 120 / 60),
        Math.ceil(span / 2000),
        60,
      );
      return { bucket_seconds: bucket, items: await deviceTraffic(db(), d.id, from, to, bucket) };
    },
  );

  app.patch(
    '/:id',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary:
          'Correct a device by hand (never overwritten by rules or the model; audited; labelled feedback)',
        params: idParams,
        body: z
          .strictObject({
            device_type: text(128).optional(),
            vendor: text(128).nullable().optional(),
            model: text(128).nullable().optional(),
            cpe23: z.array(z.string().max(512)).max(32).optional(),
            tags: z.array(text(64)).max(64).optional(),
            hostname: text(253).nullable().optional(),
            notes: z.string().max(4000).nullable().optional(),
          })
          .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const bad = (request.body.cpe23 ?? []).filter((c) => !tryParseCpe(c) || !c.startsWith('cpe:2.3:'));
      if (bad.length)
        throw new AppError('VALIDATION_FAILED', `Not CPE 2.3 formatted strings: ${bad.join(', ')}`);
      const id = request.params.id;
      const { changed } = await patchDevice(
        services.store,
        services.audit,
        actorOf(request).actorRef,
        id,
        request.body,
      );
      await publish('device_update', { device_id: id, reason: 'user', fields: changed });
      if (request.body.cpe23 !== undefined) {
        // The edit is committed; a failed re-match is logged and retried by the next import or sync.
        await matchDeviceVulnerabilities(services.store, services.bus, id).catch((err: unknown) =>
          request.log.warn({ err, device_id: id }, 'vulnerability re-match after a CPE edit failed'),
        );
      }
      const d = await getDevice(services.store.db, id, offline);
      return {
        ...withStatus(d),
        evidence: evidenceList(d.evidence),
        addresses: await deviceAddresses(services.store.db, id),
      };
    },
  );
};
