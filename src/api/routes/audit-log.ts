import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { auditSchema, presentAudit } from '../presenters.js';

export const auditRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first',
        querystring: z.object({
          ...listQuery,
          action: z.string().max(64).optional(),
          actor: z.string().max(128).optional(),
          target: z.string().max(256).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          until: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: page(auditSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const cursor = decodeCursor(q.cursor, z.object({ id: z.number().int() }));
      const rows = await services.audit.list({
        action: q.action,
        actor: q.actor,
        target: q.target,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
        beforeId: cursor?.id,
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentAudit),
        next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },
  );
};
