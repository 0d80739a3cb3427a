import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../store/schema.js';
import type { Services } from '../context.js';
import { apiKeySchema, presentApiKey } from '../presenters.js';
import { actorOf } from './actor.js';

export const apiKeyRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['api-keys'],
        summary: 'List API keys (never the keys themselves)',
        response: { 200: z.object({ items: z.array(apiKeySchema), next_cursor: z.null() }) },
      },
    },
    async () => ({ items: (await services.apiKeys.list()).map(presentApiKey), next_cursor: null }),
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key; the key is shown in this response only',
        body: z.strictObject({
          name: z.string().min(1).max(128),
          role: z.enum(ROLES).optional(),
          expires_in_days: z.number().int().min(1).max(3650).optional(),
        }),
        response: { 201: z.object({ key: z.string(), api_key: apiKeySchema }) },
      },
    },
    async (request, reply) => {
      const { key, apiKey } = await services.apiKeys.create(actorOf(request).actorRef, {
        name: request.body.name,
        role: request.body.role,
        expiresInDays: request.body.expires_in_days,
      });
      return reply.status(201).send({ key, api_key: presentApiKey(apiKey) });
    },
  );

  app.delete(
    '/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key (by id or prefix)',
        params: z.object({ id: z.string().min(1).max(64) }),
      },
    },
    async (request, reply) => {
      await services.apiKeys.revoke(actorOf(request).actorRef, request.params.id);
      return reply.status(204).send();
    },
  );
};
