import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { listFlows, timeSeries, topTalkers, type FlowFilter } from '../../store/traffic.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor } from '../pagination.js';
import { flowSchema } from '../presenters.js';

const DAY = 86_400_000;
// A sanity bound only: the (ts_start, id) primary key of every partition serves the ordering, and
// time-series buckets are capped at 2,000 per query whatever the range.
const MAX_RANGE_DAYS = 36_600;

const filterQuery = {
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Start of the range (default: 24 h before `to`)'),
  to: z.iso.datetime({ offset: true }).optional().describe('End of the range (default: now)'),
  device_id: z.coerce.number().int().positive().optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  port: z.coerce.number().int().min(0).max(65535).optional(),
  proto: z.coerce.number().int().min(0).max(255).optional(),
  app: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .optional(),
  community_id: z.string().max(64).optional(),
};

type FilterQuery = Partial<{ [K in keyof typeof filterQuery]: z.output<(typeof filterQuery)[K]> }>;

function toFilter(q: FilterQuery): FlowFilter {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY);
  if (from.getTime() >= to.getTime()) throw new AppError('VALIDATION_FAILED', '`from` must be before `to`');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY) {
    throw new AppError('VALIDATION_FAILED', `the range may span at most ${MAX_RANGE_DAYS} days`);
  }
  return {
    from,
    to,
    deviceId: q.device_id,
    ip: q.ip,
    port: q.port,
    proto: q.proto,
    app: q.app,
    communityId: q.community_id,
  };
}

export const trafficRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const db = () => services.store.readDb;

  app.get(
    '/',
    {
      config: { access: 'viewer', rateLimit: 'search' },
      schema: {
        tags: ['traffic'],
        summary: 'Flows in a time range, newest first, filtered by device, IP, port, protocol or application',
        querystring: z.object({
          ...filterQuery,
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(512).optional(),
        }),
        response: { 200: z.object({ items: z.array(flowSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const after = decodeCursor(q.cursor, z.object({ ts: z.iso.datetime(), id: z.number().int() }));
      const rows = await listFlows(db(), toFilter(q), q.limit + 1, after);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items,
        next_cursor: rows.length > q.limit && last ? encodeCursor({ ts: last.ts_start, id: last.id }) : null,
      };
    },
  );

  app.get(
    '/top-talkers',
    {
      config: { access: 'viewer', rateLimit: 'search' },
      schema: {
        tags: ['traffic'],
        summary: 'The sources that moved the most bytes in the range',
        querystring: z.object({ ...filterQuery, limit: z.coerce.number().int().min(1).max(100).default(10) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                device_id: z.number().nullable(),
                ip: z.string(),
                bytes: z.number(),
                packets: z.number(),
                flows: z.number(),
              }),
            ),
            next_cursor: z.null(),
          }),
        },
      },
    },
    async (request) => ({
      items: await topTalkers(db(), toFilter(request.query), request.query.limit),
      next_cursor: null,
    }),
  );

  app.get(
    '/timeseries',
    {
      config: { access: 'viewer', rateLimit: 'search' },
      schema: {
        tags: ['traffic'],
        summary: 'Bytes, packets and flows per time bucket',
        querystring: z.object({
          ...filterQuery,
          bucket: z.coerce.number().int().min(1).max(86_400).optional(),
        }),
        response: {
          200: z.object({
            bucket_seconds: z.number(),
            items: z.array(
              z.object({ t: z.string(), bytes: z.number(), packets: z.number(), flows: z.number() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const f = toFilter(request.query);
      const span = (f.to.getTime() - f.from.getTime()) / 1000;
      // Default: about 120 buckets over the range; never more than 2,000.
      const bucket = Math.max(request.query.bucket ?? Math.ceil(span / 120), Math.ceil(span / 2000), 1);
      return { bucket_seconds: bucket, items: await timeSeries(db(), f, bucket) };
    },
  );
};
