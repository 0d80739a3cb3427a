import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addDestination,
  deleteDestination,
  getDestinationProfile,
  presentDestination,
  resetDestinationProfile,
} from '../../detect/destinations/service.js';
import { DESTINATION_KINDS } from '../../store/schema.js';
import type { Services } from '../context.js';
import { actorOf } from './actor.js';

/**
 * A device's learned destination profile (src/detect/destinations): view it, add and delete entries by
 * hand, reset it to learn again. Registered under /api/v1/devices.
 */

const entrySchema = z.object({
  id: z.number(),
  kind: z.enum(DESTINATION_KINDS),
  value: z.string(),
  source: z.enum(['learned', 'user']),
  count: z.number(),
  first_seen: z.string().nullable(),
  last_seen: z.string().nullable(),
});

const profileSchema = z.object({
  device_id: z.number(),
  status: z.enum(['learning', 'enforcing']),
  learning_hours: z.number(),
  learning_started: z.string().nullable(),
  learning_until: z.string().nullable(),
  entries: z.array(entrySchema),
});

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const idParams = z.object({ id });
const entryParams = z.object({ id, entryId: id });

export const deviceDestinationRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/:id/destinations',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary:
          "A device's destination profile: status (learning until learning_until of flow time, then enforcing) and entries (domains, internet endpoints, protocols) with counts",
        params: idParams,
        response: { 200: profileSchema },
      },
    },
    async (request) => getDestinationProfile(services.store.db, request.params.id),
  );

  app.post(
    '/:id/destinations',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary:
          'Allow a destination by hand: {kind: domain (name or *.zone), endpoint (ip[:port][/proto], * for any) or protocol, value} (audited)',
        params: idParams,
        body: z.strictObject({
          kind: z.enum(DESTINATION_KINDS),
          value: z.string().trim().min(1).max(255),
        }),
        response: { 201: entrySchema },
      },
    },
    async (request, reply) => {
      const row = await addDestination(services, actorOf(request).actorRef, request.params.id, request.body);
      return reply.status(201).send(presentDestination(row));
    },
  );

  app.post(
    '/:id/destinations/reset',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary:
          'Forget the learned entries (entries added by hand stay) and learn again from the next flow, for learning_hours (audited)',
        params: idParams,
        body: z.strictObject({ learning_hours: z.number().min(0.01).max(8760).optional() }).optional(),
        response: { 200: profileSchema },
      },
    },
    async (request) => {
      await resetDestinationProfile(
        services,
        actorOf(request).actorRef,
        request.params.id,
        request.body?.learning_hours,
      );
      return getDestinationProfile(services.store.db, request.params.id);
    },
  );

  app.delete(
    '/:id/destinations/:entryId',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['devices'],
        summary: "Remove an entry from a device's destination profile (audited)",
        params: entryParams,
      },
    },
    async (request, reply) => {
      await deleteDestination(services, actorOf(request).actorRef, request.params.id, request.params.entryId);
      return reply.status(204).send();
    },
  );
};
