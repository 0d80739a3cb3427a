import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { progressPercent } from '../../worker/training.js';
import type { Services } from '../context.js';

export const jobSchema = z.object({
  id: z.string(),
  queue: z.string(),
  name: z.string(),
  status: z.enum(['waiting', 'delayed', 'active', 'completed', 'failed']),
  /** Percent done, 0..100. */
  progress: z.number(),
  stage: z.string().nullable(),
  attempts_made: z.number(),
  result: z.unknown(),
  error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});

export const jobRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/:queue/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['jobs'],
        summary: 'State, progress and error of a background job (e.g. training)',
        params: z.object({
          queue: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
          id: z.string().min(1).max(200),
        }),
        response: { 200: jobSchema },
      },
    },
    async (request) => {
      const { queue, id } = request.params;
      const job = await services.bus.getJob(queue, id);
      if (!job) throw new AppError('JOB_NOT_FOUND', `No job ${id} in queue ${queue}.`);
      const { percent, stage } = progressPercent(job.progress);
      // Ingest jobs report `{pct, bytes_read, …}` rather than training's `{percent, stage}`.
      const p = job.progress;
      const pct = typeof p === 'object' && p !== null && typeof p['pct'] === 'number' ? p['pct'] : null;
      return {
        id: job.id,
        queue: job.queue,
        name: job.name,
        status: job.status,
        progress: job.status === 'completed' ? 100 : (pct ?? percent),
        stage,
        attempts_made: job.attemptsMade,
        result: job.result ?? null,
        error: job.error,
        created_at: new Date(job.createdAt).toISOString(),
        finished_at: job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
      };
    },
  );
};
