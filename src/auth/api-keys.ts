import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../store/db.js';
import { apiKeys, type Role } from '../store/schema.js';
import type { Actor } from './users.js';

/**
 * API keys for sensors and automation: `iotsec_<8-char id>_<secret>`. Only a SHA-256 of the key is stored
 * (the key has 256 bits of entropy, so a slow hash adds nothing); the full key is shown once at creation.
 * The default role is `sensor`, which may only push data.
 */

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const view = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  role: apiKeys.role,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

export const API_KEY_PATTERN = /^iotsec_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ApiKeyService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  async create(
    actor: Actor,
    input: { name: string; role?: Role | undefined; expiresInDays?: number | undefined },
  ): Promise<{ key: string; apiKey: ApiKeyView }> {
    const prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
    const key = `iotsec_${prefix}_${randomBytes(32).toString('base64url')}`;
    const role = input.role ?? 'sensor';
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(apiKeys)
        .values({
          name: input.name,
          prefix,
          keyHash: sha256(key),
          role,
          scopes: role === 'sensor' ? ['ingest'] : [],
          createdBy: actor.id,
          expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
        })
        .returning(view);
      if (!row) throw new Error('insert returned nothing');
      await this.audit.record(
        {
          actorId: actor.id,
          actor: actor.name,
          action: 'api_key.create',
          target: `api_key:${row.prefix}`,
          ip: actor.ip ?? null,
          requestId: actor.requestId ?? null,
          details: { name: row.name, role: row.role },
        },
        tx,
      );
      return { key, apiKey: row };
    });
  }

  async list(): Promise<ApiKeyView[]> {
    return this.db.select(view).from(apiKeys).orderBy(desc(apiKeys.createdAt)).limit(1000);
  }

  /** Revokes by id or by the 8-character prefix shown in listings. */
  async revoke(actor: Actor, idOrPrefix: string): Promise<ApiKeyView> {
    const byId = /^[0-9a-f-]{36}$/i.test(idOrPrefix);
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(
          and(byId ? eq(apiKeys.id, idOrPrefix) : eq(apiKeys.prefix, idOrPrefix), isNull(apiKeys.revokedAt)),
        )
        .returning(view);
      if (!row) throw new AppError('API_KEY_NOT_FOUND');
      await this.audit.record(
        {
          actorId: actor.id,
          actor: actor.name,
          action: 'api_key.revoke',
          target: `api_key:${row.prefix}`,
          ip: actor.ip ?? null,
          requestId: actor.requestId ?? null,
        },
        tx,
      );
      return row;
    });
  }

  /** The key's identity when it is valid (not revoked, not expired), else null. */
  async authenticate(key: string): Promise<ApiKeyView | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const [row] = await this.db
      .select(view)
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, sha256(key)));
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return null;
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
    }
    return row;
  }
}
