import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../auth/users.js';

/** The calling principal as an audit actor. */
export function actorOf(request: FastifyRequest): {
  actorId: string | null;
  actor: string;
  ip: string;
  requestId: string;
  actorRef: Actor;
} {
  const p = request.principal;
  const actorRef: Actor = {
    id: p?.kind === 'user' ? p.id : null,
    name: p?.name ?? 'anonymous',
    ip: request.ip,
    requestId: request.id,
  };
  return { actorId: actorRef.id, actor: actorRef.name, ip: request.ip, requestId: request.id, actorRef };
}
