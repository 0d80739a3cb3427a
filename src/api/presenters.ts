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

/** A stored flow (store/traffic FlowRow), as the traffic and alert routes return it. */
export const flowSchema = z.object({
  id: z.number(),
  ts_start: z.string(),
  ts_end: z.string(),
  device_id: z.number().nullable(),
  peer_device_id: z.number().nullable(),
  community_id: z.string().nullable(),
  src_ip: z.string(),
  src_port: z.number().nullable(),
  dst_ip: z.string(),
  dst_port: z.number().nullable(),
  proto: z.number(),
  app_proto: z.string().nullable(),
  bytes_out: z.number(),
  bytes_in: z.number(),
  packets_out: z.number(),
  packets_in: z.number(),
  tcp_flags_out: z.number(),
  tcp_flags_in: z.number(),
  conn_state: z.string().nullable(),
  src_mac: z.string().nullable(),
  dst_mac: z.string().nullable(),
  vlan: z.number().nullable(),
  sni: z.string().nullable(),
  http_host: z.string().nullable(),
  dns_query: z.string().nullable(),
  uid: z.string().nullable(),
  label: z.string().nullable(),
});
