import type { Role } from '../store/schema.js';

/**
 * Who may call a route. Every route declares one (config.access); the app refuses to start with a route that
 * does not, and src/api/access-matrix.int.test.ts calls every route as every role.
 * - public: anyone, no token
 * - authenticated: any valid token or API key, whatever its role
 * - viewer | analyst | admin: a user (or API key) of at least that rank: admin > analyst > viewer
 * - ingest: push data: `sensor` API keys, analysts and admins
 */
export type Access = 'public' | 'authenticated' | 'viewer' | 'analyst' | 'admin' | 'ingest';

const RANK: Record<Role, number> = { sensor: 0, viewer: 1, analyst: 2, admin: 3 };

export function allows(access: Access, role: Role): boolean {
  switch (access) {
    case 'public':
    case 'authenticated':
      return true;
    case 'ingest':
      return role === 'sensor' || RANK[role] >= RANK.analyst;
    default:
      return role !== 'sensor' && RANK[role] >= RANK[access];
  }
}

export interface Principal {
  kind: 'user' | 'api_key';
  id: string;
  name: string;
  role: Role;
  /** Access-token id and expiry (users), for logout. */
  jti?: string;
  exp?: number;
}
