import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Kv } from '../bus/types.js';
import type { Db } from '../store/db.js';
import { refreshTokens, users, type UserRole } from '../store/schema.js';

/**
 * Refresh tokens: opaque random strings, stored as SHA-256 hashes, rotated on every use. Each login starts a
 * family; using a token that was already rotated means it was stolen or replayed, so the whole family is
 * revoked. Access tokens (JWT, signed by the API) are short-lived; logout and role changes revoke them
 * through the KV (`revoked-jti:*`, `user-epoch:*`), which every request checks.
 */

export interface SessionUser {
  id: string;
  username: string;
  role: UserRole;
}

export interface AccessClaims {
  sub: string;
  name: string;
  role: UserRole;
  jti: string;
  typ: 'access';
  /** Issue time in ms (JWT iat has only seconds; session invalidation compares against this). */
  ims: number;
}

export type SignAccess = (claims: AccessClaims, ttlSeconds: number) => string;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: SessionUser;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class TokenService {
  constructor(
    private readonly db: Db,
    private readonly kv: Kv,
    private readonly audit: AuditLog,
    private readonly sign: SignAccess,
    private readonly accessTtl: number,
    private readonly refreshTtl: number,
  ) {}

  private access(user: SessionUser): string {
    return this.sign(
      {
        sub: user.id,
        name: user.username,
        role: user.role,
        jti: randomUUID(),
        typ: 'access',
        ims: Date.now(),
      },
      this.accessTtl,
    );
  }

  private newRefresh(): { token: string; hash: string } {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    return { token, hash: sha256(token) };
  }

  /** A new session (login): a new refresh family. */
  async issue(
    user: SessionUser,
    meta: { ip?: string | null; userAgent?: string | null },
  ): Promise<TokenPair> {
    const r = this.newRefresh();
    await this.db.insert(refreshTokens).values({
      userId: user.id,
      familyId: randomUUID(),
      tokenHash: r.hash,
      expiresAt: new Date(Date.now() + this.refreshTtl * 1000),
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 256) ?? null,
    });
    return {
      access_token: this.access(user),
      refresh_token: r.token,
      token_type: 'Bearer',
      expires_in: this.accessTtl,
      user,
    };
  }

  /** Rotates a refresh token. Reuse of a rotated token revokes the family (REFRESH_TOKEN_REUSED). */
  async refresh(token: string, meta: { ip?: string | null; userAgent?: string | null }): Promise<TokenPair> {
    const next = this.newRefresh();
    const outcome = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ t: refreshTokens, u: users })
        .from(refreshTokens)
        .innerJoin(users, eq(users.id, refreshTokens.userId))
        .where(eq(refreshTokens.tokenHash, sha256(token)))
        .for('update');
      if (!row) return { kind: 'invalid' as const };
      const { t, u } = row;
      if (t.revokedAt) return { kind: 'revoked' as const };
      if (t.usedAt) {
        await tx
          .update(refreshTokens)
          .set({ revokedAt: new Date() })
          .where(and(eq(refreshTokens.familyId, t.familyId), isNull(refreshTokens.revokedAt)));
        await this.audit.record(
          {
            actorId: u.id,
            actor: u.username,
            action: 'auth.refresh_reuse',
            outcome: 'denied',
            target: `user:${u.username}`,
            ip: meta.ip ?? null,
            details: { family: t.familyId },
          },
          tx,
        );
        return { kind: 'reused' as const };
      }
      if (t.expiresAt.getTime() <= Date.now()) return { kind: 'expired' as const };
      if (u.disabled) return { kind: 'disabled' as const };
      await tx.update(refreshTokens).set({ usedAt: new Date() }).where(eq(refreshTokens.id, t.id));
      await tx.insert(refreshTokens).values({
        userId: u.id,
        familyId: t.familyId,
        tokenHash: next.hash,
        expiresAt: t.expiresAt, // the family keeps its original lifetime
        ip: meta.ip ?? null,
        userAgent: meta.userAgent?.slice(0, 256) ?? null,
      });
      return { kind: 'ok' as const, user: { id: u.id, username: u.username, role: u.role } };
    });
    switch (outcome.kind) {
      case 'ok':
        return {
          access_token: this.access(outcome.user),
          refresh_token: next.token,
          token_type: 'Bearer',
          expires_in: this.accessTtl,
          user: outcome.user,
        };
      case 'reused':
        throw new AppError('REFRESH_TOKEN_REUSED');
      case 'expired':
        throw new AppError('TOKEN_EXPIRED');
      case 'revoked':
        throw new AppError('TOKEN_REVOKED');
      case 'disabled':
        throw new AppError('ACCOUNT_DISABLED');
      default:
        throw new AppError('TOKEN_INVALID');
    }
  }

  /** Logout: revokes the refresh token's family and the current access token. */
  async logout(
    refreshToken: string | undefined,
    access: { jti: string; exp: number } | undefined,
  ): Promise<void> {
    if (refreshToken) {
      const [row] = await this.db
        .select({ familyId: refreshTokens.familyId })
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, sha256(refreshToken)));
      if (row) {
        await this.db
          .update(refreshTokens)
          .set({ revokedAt: new Date() })
          .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)));
      }
    }
    if (access) {
      const ttl = access.exp * 1000 - Date.now();
      if (ttl > 0) await this.kv.set(`revoked-jti:${access.jti}`, '1', ttl);
    }
  }

  /** Ends every session of a user: refresh tokens revoked, access tokens issued before now rejected. */
  async invalidateUser(userId: string): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
    await this.kv.set(`user-epoch:${userId}`, String(Date.now()), (this.accessTtl + 5) * 1000);
  }

  /** Is an access token (by its jti, user and issue time) still good? */
  async accessRevoked(claims: { jti: string; sub: string; ims: number }): Promise<boolean> {
    const [jti, epoch] = await Promise.all([
      this.kv.get(`revoked-jti:${claims.jti}`),
      this.kv.get(`user-epoch:${claims.sub}`),
    ]);
    if (jti !== null) return true;
    return epoch !== null && claims.ims <= Number(epoch);
  }
}
