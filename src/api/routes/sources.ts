import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { sniffFormat } from '../../ingest/file-ingest.js';
import { sources } from '../../store/schema.js';
import { INGEST_QUEUE, MAX_GZIP_RATIO, type IngestJobData } from '../../worker/ingest-jobs.js';
import type { Services } from '../context.js';
import { actorOf } from './actor.js';

const UPLOAD_TYPES = [
  'application/octet-stream',
  'application/vnd.tcpdump.pcap',
  'application/x-pcapng',
  'application/gzip',
  'application/x-gzip',
  'text/plain',
  'application/x-ndjson',
];

const sourceSchema = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  config: z.record(z.string(), z.unknown()),
  status: z.string(),
  last_error: z.string().nullable(),
  stats: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});

type SourceRow = typeof sources.$inferSelect;
const present = (s: SourceRow): z.infer<typeof sourceSchema> => ({
  id: s.id,
  kind: s.kind,
  name: s.name,
  config: s.config,
  status: s.status,
  last_error: s.lastError,
  stats: s.stats,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

const createBody = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('netflow'),
    name: z.string().min(1).max(128),
    config: z.strictObject({ port: z.number().int().min(1).max(65535), host: z.string().max(64).optional() }),
  }),
  z.strictObject({
    kind: z.literal('live'),
    name: z.string().min(1).max(128),
    config: z.strictObject({
      interface: z.string().regex(/^[A-Za-z0-9._:@-]{1,32}$/),
      filter: z.string().max(1024).optional(),
    }),
  }),
  z.strictObject({
    kind: z.literal('watch'),
    name: z.string().min(1).max(128),
    config: z.strictObject({ directory: z.string().min(1).max(1024) }),
  }),
]);

function capBytes(max: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > max) cb(new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than ${max} bytes.`));
      else cb(null, chunk);
    },
  });
}

export const sourceRoutes: FastifyPluginAsyncZod<{
  services: Services;
  dataDir: string;
  uploadMaxBytes: number;
}> = async (app, { services, dataDir, uploadMaxBytes }) => {
  // Uploads are streamed to disk as they arrive: the body is never buffered in memory.
  app.addContentTypeParser(UPLOAD_TYPES, (_req, payload, done) => done(null, payload));

  app.get(
    '/',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['sources'],
        summary:
          'Traffic sources: collectors, live captures, watched folders and ingested files, with status',
        querystring: z.object({
          kind: z.string().max(16).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
        response: { 200: z.object({ items: z.array(sourceSchema), next_cursor: z.null() }) },
      },
    },
    async (request) => {
      const rows = await services.store.db
        .select()
        .from(sources)
        .where(request.query.kind ? eq(sources.kind, request.query.kind) : undefined)
        .orderBy(desc(sources.updatedAt))
        .limit(request.query.limit);
      return { items: rows.map(present), next_cursor: null };
    },
  );

  app.post(
    '/',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['sources'],
        summary:
          'Configure a NetFlow/IPFIX collector, a live capture or a watched folder (run by the collector role)',
        body: createBody,
        response: { 201: sourceSchema },
      },
    },
    async (request, reply) => {
      const a = actorOf(request);
      const row = await services.store.db.transaction(async (tx) => {
        const [r] = await tx
          .insert(sources)
          .values({
            kind: request.body.kind,
            name: request.body.name,
            config: request.body.config,
            status: 'configured',
          })
          .returning();
        if (!r) throw new Error('insert returned nothing');
        await services.audit.record(
          {
            ...a,
            action: 'source.create',
            target: `source:${r.id}`,
            details: { kind: r.kind, name: r.name, config: r.config },
          },
          tx,
        );
        return r;
      });
      return reply.status(201).send(present(row));
    },
  );

  app.delete(
    '/:id',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['sources'],
        summary: 'Remove a source (its flows stay)',
        params: z.object({ id: z.uuid() }),
      },
    },
    async (request, reply) => {
      const a = actorOf(request);
      await services.store.db.transaction(async (tx) => {
        const [r] = await tx.delete(sources).where(eq(sources.id, request.params.id)).returning();
        if (!r) throw new AppError('SOURCE_NOT_FOUND');
        await services.audit.record(
          {
            ...a,
            action: 'source.delete',
            target: `source:${r.id}`,
            details: { kind: r.kind, name: r.name },
          },
          tx,
        );
      });
      return reply.status(204).send();
    },
  );

  app.post(
    '/upload',
    {
      config: { access: 'ingest', rateLimit: 'upload' },
      schema: {
        tags: ['sources'],
        summary:
          'Upload a capture (pcap, pcapng, gzip of either, Zeek log, Suricata EVE) as the raw request body; ' +
          'it is ingested by a background job whose progress is published on the WebSocket (job_update)',
        querystring: z.object({
          name: z
            .string()
            .max(255)
            .regex(/^[^/\\]+$/, 'a file name, not a path')
            .optional(),
        }),
        response: {
          202: z.object({
            job_id: z.string(),
            queue: z.string(),
            name: z.string(),
            bytes: z.number(),
            format: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const declared = Number(request.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > uploadMaxBytes) {
        // Refuse before reading a byte; close the connection so the client stops sending.
        void reply.header('connection', 'close');
        throw new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than ${uploadMaxBytes} bytes.`);
      }
      const body = request.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `Send the file as the raw body with Content-Type ${UPLOAD_TYPES[0]}.`,
        );
      }
      const dir = join(dataDir, 'uploads');
      await mkdir(dir, { recursive: true });
      const name = request.query.name ?? 'upload.pcap';
      const path = join(dir, `${randomUUID()}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      try {
        await pipeline(body, capBytes(uploadMaxBytes), counter, createWriteStream(path, { flags: 'wx' }));
      } catch (e) {
        await rm(path, { force: true });
        if (e instanceof AppError) {
          void reply.header('connection', 'close');
          throw e;
        }
        throw e;
      }
      const fh = await open(path, 'r');
      const head = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      await fh.close();
      const format = sniffFormat(head.subarray(0, bytesRead));
      if (!format) {
        await rm(path, { force: true });
        throw new AppError('INVALID_CAPTURE');
      }
      const a = actorOf(request);
      const data: IngestJobData = {
        path,
        name,
        delete_after: true,
        requested_by: a.actor,
        max_inflated_bytes: Math.max(bytes * MAX_GZIP_RATIO, 64 * 1024 * 1024),
      };
      const jobId = await services.bus.enqueue(INGEST_QUEUE, 'upload', data, {
        attempts: 3,
        backoffMs: 2000,
      });
      await services.audit.record({
        ...a,
        action: 'source.upload',
        target: `job:${jobId}`,
        details: { name, bytes, format },
      });
      return reply.status(202).send({ job_id: jobId, queue: INGEST_QUEUE, name, bytes, format });
    },
  );
};
