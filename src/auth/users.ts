import { and, asc, count, eq, gt, ne, sql } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../store/db.js';
import { users, type UserRole } from '../store/schema.js';
import { assertStrongPassword, hashPassword } from './passwords.js';

export interface UserView {
  id: string;
  username: string;
  role: UserRole;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

/** Who is acting, for the audit log. */
export interface Actor {
  id: string | null;
  name: string;
  ip?: string | null;
  requestId?: string | null;
}

const view = {
  id: users.id,
  username: users.username,
  role: users.role,
  disabled: users.disabled,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  lastLoginAt: users.lastLoginAt,
};

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return err.code === '23505' || err.cause?.code === '23505';
}

/**
 * Users and roles. Every change is audited in the same transaction. The last active admin cannot be
 * demoted, disabled or deleted, so an installation never locks itself out.
 */
export class UserService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    /** Called after a change that must end the user's existing sessions (role, disable, password). */
    private readonly onSessionsInvalidated: (userId: string) => Promise<void> = async () => undefined,
  ) {}

  async create(
    actor: Actor,
    input: { username: string; password: string; role: UserRole },
  ): Promise<UserView> {
    if (!USERNAME.test(input.username)) {
      throw new AppError('VALIDATION_FAILED', 'username: 1-64 characters of letters, digits and . _ @ -');
    }
    assertStrongPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values({ ...input, passwordHash })
          .returning(view);
        if (!row) throw new Error('insert returned nothing');
        await this.audit.record(
          {
            actorId: actor.id,
            actor: actor.name,
            action: 'user.create',
            target: `user:${row.username}`,
            ip: actor.ip ?? null,
            requestId: actor.requestId ?? null,
            details: { role: row.role },
          },
          tx,
        );
        return row;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError('USER_EXISTS');
      throw e;
    }
  }

  async get(id: string): Promise<UserView> {
    const [row] = await this.db.select(view).from(users).where(eq(users.id, id));
    if (!row) throw new AppError('USER_NOT_FOUND');
    return row;
  }

  async findByUsername(username: string) {
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.username}) = lower(${username})`);
    return row ?? null;
  }

  async list(opts: { limit: number; afterUsername?: string | undefined }): Promise<UserView[]> {
    return this.db
      .select(view)
      .from(users)
      .where(opts.afterUsername !== undefined ? gt(users.username, opts.afterUsername) : undefined)
      .orderBy(asc(users.username))
      .limit(opts.limit);
  }

  async countActiveAdmins(): Promise<number> {
    const [r] = await this.db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), eq(users.disabled, false)));
    return Number(r?.n ?? 0);
  }

  async update(
    actor: Actor,
    id: string,
    patch: { role?: UserRole | undefined; disabled?: boolean | undefined; password?: string | undefined },
  ): Promise<UserView> {
    if (patch.password !== undefined) assertStrongPassword(patch.password);
    const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    const result = await this.db.transaction(async (tx) => {
      // Lock admins so two concurrent demotions cannot both pass the last-admin check.
      await tx.execute(sql`SELECT id FROM ${users} WHERE ${users.role} = 'admin' FOR UPDATE`);
      const [before] = await tx.select(view).from(users).where(eq(users.id, id));
      if (!before) throw new AppError('USER_NOT_FOUND');
      const losesAdmin =
        before.role === 'admin' &&
        !before.disabled &&
        ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
      if (losesAdmin) {
        const [others] = await tx
          .select({ n: count() })
          .from(users)
          .where(and(eq(users.role, 'admin'), eq(users.disabled, false), ne(users.id, id)));
        if (Number(others?.n ?? 0) === 0) throw new AppError('LAST_ADMIN');
      }
      const [after] = await tx
        .update(users)
        .set({
          ...(patch.role !== undefined ? { role: patch.role } : {}),
          ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
          ...(passwordHash !== undefined ? { passwordHash } : {}),
          updatedAt: new Date(),
        })
        .where(eq(users.id, id))
        .returning(view);
      if (!after) throw new AppError('USER_NOT_FOUND');
      const base = {
        actorId: actor.id,
        actor: actor.name,
        target: `user:${after.username}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
      };
      if (patch.role !== undefined && patch.role !== before.role) {
        await this.audit.record(
          { ...base, action: 'user.role', details: { from: before.role, to: after.role } },
          tx,
        );
      }
      if (patch.disabled !== undefined && patch.disabled !== before.disabled) {
        await this.audit.record({ ...base, action: after.disabled ? 'user.disable' : 'user.enable' }, tx);
      }
      if (passwordHash !== undefined) await this.audit.record({ ...base, action: 'user.password' }, tx);
      return {
        after,
        invalidate: patch.role !== undefined || patch.disabled !== undefined || passwordHash !== undefined,
      };
    });
    if (result.invalidate) await this.onSessionsInvalidated(id);
    return result.after;
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT id FROM ${users} WHERE ${users.role} = 'admin' FOR UPDATE`);
      const [before] = await tx.select(view).from(users).where(eq(users.id, id));
      if (!before) throw new AppError('USER_NOT_FOUND');
      if (before.role === 'admin' && !before.disabled) {
        const [others] = await tx
          .select({ n: count() })
          .from(users)
          .where(and(eq(users.role, 'admin'), eq(users.disabled, false), ne(users.id, id)));
        if (Number(others?.n ?? 0) === 0) throw new AppError('LAST_ADMIN');
      }
      await tx.delete(users).where(eq(users.id, id));
      await this.audit.record(
        {
          actorId: actor.id,
          actor: actor.name,
          action: 'user.delete',
          target: `user:${before.username}`,
          ip: actor.ip ?? null,
          requestId: actor.requestId ?? null,
        },
        tx,
      );
    });
    await this.onSessionsInvalidated(id);
  }

  async touchLogin(id: string): Promise<void> {
    await this.db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, id));
  }

  /**
   * First start: when no user exists, creates the admin with the given password, or a generated one that is
   * returned so the caller prints it once. Returns null when users already exist.
   */
  async ensureFirstAdmin(username: string, password: string): Promise<{ username: string } | null> {
    const [r] = await this.db.select({ n: count() }).from(users);
    if (Number(r?.n ?? 0) > 0) return null;
    try {
      await this.create({ id: null, name: 'system' }, { username, password, role: 'admin' });
    } catch (e) {
      // Another process created it first (two replicas starting at once).
      if (e instanceof AppError && e.code === 'USER_EXISTS') return null;
      throw e;
    }
    return { username };
  }
}
