import { z } from 'zod';
import type { ApiKeyView } from '../auth/api-keys.js';
import type { UserView } from '../auth/users.js';
import type { AuditRow } from '../audit/audit-log.js';
import { ROLES, USER_ROLES } from '../store/schema.js';

/** Presenters whitelist what leaves the API, in snake_case (ARCHITECTURE section 6). */

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(USER_ROLES),
  disabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  last_login_at: z.string().nullable(),
});

export const presentUser = (u: UserView): z.infer<typeof userSchema> => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
  last_login_at: iso(u.lastLoginAt),
});

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: z.enum(ROLES),
  scopes: z.array(z.string()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

export const presentApiKey = (k: ApiKeyView): z.infer<typeof apiKeySchema> => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  scopes: k.scopes,
  created_at: k.createdAt.toISOString(),
  expires_at: iso(k.expiresAt),
  last_used_at: iso(k.lastUsedAt),
  revoked_at: iso(k.revokedAt),
});

export const auditSchema = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  actor_id: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.string(),
  ip: z.string().nullable(),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

export const presentAudit = (r: AuditRow): z.infer<typeof auditSchema> => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: r.actor,
  actor_id: r.actorId,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  ip: r.ip,
  request_id: r.requestId,
  details: r.details,
  hash: r.hash,
});

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
