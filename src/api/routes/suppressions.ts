import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createSuppression, deleteSuppression, presentSuppression } from '../../alerts/service.js';
import { AppError } from '../../errors.js';
import { suppressions } from '../../store/schema.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { actorOf } from './actor.js';

const suppressionSchema = z.object({
  id: z.number(),
  device_id: z.number().nullable(),
  kind: z.string().nullable(),
  peer: z.string().nullable(),
  reason: z.string(),
  expires_at: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  hits: z.number(),
  active: z.boolean(),
});

const idParams = z.object({ id: z.coerce.number().int().positive() });
const future = z.iso
  .datetime({ offset: true })
  .refine((s) => new Date(s).getTime() > Date.now(), 'expires_at must be in the future');

export const suppressionRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: 'Suppression rules, newest first',
        querystring: z.object({ ...listQuery, active: z.enum(['true', 'false']).optional() }),
        response: { 200: page(suppressionSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const after = decodeCursor(q.cursor, z.object({ id: z.number().int() }));
      const conds: SQL[] = [];
      if (after) conds.push(lt(suppressions.id, after.id));
      if (q.active === 'true')
        conds.push(sql`(${suppressions.expiresAt} IS NULL OR ${suppressions.expiresAt} > now())`);
      if (q.active === 'false') conds.push(sql`${suppressions.expiresAt} <= now()`);
      const rows = await services.store.db
        .select()
        .from(suppressions)
        .where(conds.length ? and(...conds) : undefined)
        .orderBy(desc(suppressions.id))
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentSuppression),
        next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },
  );

  app.get(
    '/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: 'One suppression rule',
        params: idParams,
        response: { 200: suppressionSchema },
      },
    },
    async (request) => {
      const [row] = await services.store.db
        .select()
        .from(suppressions)
        .where(eq(suppressions.id, request.params.id));
      if (!row) throw new AppError('SUPPRESSION_NOT_FOUND');
      return presentSuppression(row);
    },
  );

  app.post(
    '/',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['alerts'],
        summary:
          'Create a suppression rule: {device_id?, kind?, peer?} (at least one), or {alert_id} to silence alerts like that one (audited)',
        body: z.union([
          z.strictObject({
            alert_id: z.number().int().positive(),
            reason: z.string().min(1).max(1000),
            expires_at: future.nullable().optional(),
          }),
          z.strictObject({
            device_id: z.number().int().positive().nullable().optional(),
            kind: z.string().min(1).max(64).nullable().optional(),
            peer: z.string().min(1).max(255).nullable().optional(),
            reason: z.string().min(1).max(1000),
            expires_at: future.nullable().optional(),
          }),
        ]),
        response: { 201: suppressionSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const expiresAt = b.expires_at ? new Date(b.expires_at) : null;
      const row = await createSuppression(
        services,
        actorOf(request).actorRef,
        'alert_id' in b
          ? { alertId: b.alert_id, reason: b.reason, expiresAt }
          : {
              deviceId: b.device_id ?? null,
              kind: b.kind ?? null,
              peer: b.peer ?? null,
              reason: b.reason,
              expiresAt,
            },
      );
      return reply.status(201).send(presentSuppression(row));
    },
  );

  app.delete(
    '/:id',
    {
      config: { access: 'analyst' },
      schema: { tags: ['alerts'], summary: 'Delete a suppression rule (audited)', params: idParams },
    },
    async (request, reply) => {
      await deleteSuppression(services, actorOf(request).actorRef, request.params.id);
      return reply.status(204).send();
    },
  );
};
