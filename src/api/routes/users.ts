import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { USER_ROLES } from '../../store/schema.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { presentUser, userSchema } from '../presenters.js';
import { actorOf } from './actor.js';

const idParams = z.object({ id: z.uuid() });

export const userRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'List users',
        querystring: z.object(listQuery),
        response: { 200: page(userSchema) },
      },
    },
    async (request) => {
      const after = decodeCursor(request.query.cursor, z.object({ u: z.string() }));
      const rows = await services.users.list({ limit: request.query.limit + 1, afterUsername: after?.u });
      const items = rows.slice(0, request.query.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentUser),
        next_cursor: rows.length > request.query.limit && last ? encodeCursor({ u: last.username }) : null,
      };
    },
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: z.strictObject({
          username: z.string().min(1).max(64),
          password: z.string().min(1).max(1024),
          role: z.enum(USER_ROLES),
        }),
        response: { 201: userSchema },
      },
    },
    async (request, reply) => {
      const user = await services.users.create(actorOf(request).actorRef, request.body);
      return reply.status(201).send(presentUser(user));
    },
  );

  app.get(
    '/:id',
    {
      config: { access: 'admin' },
      schema: { tags: ['users'], summary: 'One user', params: idParams, response: { 200: userSchema } },
    },
    async (request) => presentUser(await services.users.get(request.params.id)),
  );

  app.patch(
    '/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: "Change a user's role, disable or enable them, or set a new password",
        params: idParams,
        body: z
          .strictObject({
            role: z.enum(USER_ROLES).optional(),
            disabled: z.boolean().optional(),
            password: z.string().min(1).max(1024).optional(),
          })
          .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
        response: { 200: userSchema },
      },
    },
    async (request) =>
      presentUser(await services.users.update(actorOf(request).actorRef, request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    { config: { access: 'admin' }, schema: { tags: ['users'], summary: 'Delete a user', params: idParams } },
    async (request, reply) => {
      await services.users.delete(actorOf(request).actorRef, request.params.id);
      return reply.status(204).send();
    },
  );
};
