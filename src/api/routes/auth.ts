import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LoginLimiter } from '../../auth/login-limiter.js';
import { verifyAgainstNothing, verifyPassword } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import { AppError } from '../../errors.js';
import { USER_ROLES, ROLES } from '../../store/schema.js';
import type { Services } from '../context.js';
import { actorOf } from './actor.js';

const tokenPair = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  user: z.object({ id: z.string(), username: z.string(), role: z.enum(USER_ROLES) }),
});

export const authRoutes: FastifyPluginAsyncZod<{
  services: Services;
  tokens: TokenService;
  loginMaxFailures: number;
}> = async (app, { services, tokens, loginMaxFailures }) => {
  const limiter = new LoginLimiter(services.kv, loginMaxFailures);

  app.post(
    '/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a username and password',
        body: z.strictObject({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) }),
        response: { 200: tokenPair },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const ip = request.ip;
      const audit = (outcome: 'success' | 'failure' | 'denied', actorId: string | null, reason?: string) =>
        services.audit.record({
          actorId,
          actor: username.slice(0, 128),
          action: 'auth.login',
          outcome,
          target: `user:${username.slice(0, 128)}`,
          ip,
          requestId: request.id,
          details: reason ? { reason } : {},
        });
      try {
        await limiter.check(username, ip);
      } catch (e) {
        await audit('denied', null, 'rate_limited');
        throw e;
      }
      const user = await services.users.findByUsername(username);
      const ok = user
        ? await verifyPassword(user.passwordHash, password)
        : await verifyAgainstNothing(password);
      if (!user || !ok) {
        await limiter.failed(username, ip);
        await audit('failure', user?.id ?? null, user ? 'wrong_password' : 'unknown_user');
        throw new AppError('INVALID_CREDENTIALS');
      }
      if (user.disabled) {
        await audit('denied', user.id, 'disabled');
        throw new AppError('ACCOUNT_DISABLED');
      }
      await limiter.succeeded(username);
      await services.users.touchLogin(user.id);
      await audit('success', user.id);
      return tokens.issue(
        { id: user.id, username: user.username, role: user.role },
        { ip, userAgent: request.headers['user-agent'] ?? null },
      );
    },
  );

  app.post(
    '/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new token pair (the old refresh token stops working)',
        body: z.strictObject({ refresh_token: z.string().min(1).max(512) }),
        response: { 200: tokenPair },
      },
    },
    async (request) =>
      tokens.refresh(request.body.refresh_token, {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      }),
  );

  app.post(
    '/logout',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'End this session: revokes the access token and the refresh token family',
        body: z.strictObject({ refresh_token: z.string().max(512).optional() }).optional(),
      },
    },
    async (request, reply) => {
      const p = request.principal;
      await tokens.logout(
        request.body?.refresh_token,
        p?.jti !== undefined && p.exp !== undefined ? { jti: p.jti, exp: p.exp } : undefined,
      );
      if (p)
        await services.audit.record({ ...actorOf(request), action: 'auth.logout', target: `user:${p.name}` });
      return reply.status(204).send();
    },
  );

  app.get(
    '/me',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'Who am I',
        response: {
          200: z.object({
            id: z.string(),
            name: z.string(),
            role: z.enum(ROLES),
            kind: z.enum(['user', 'api_key']),
          }),
        },
      },
    },
    async (request) => {
      const p = request.principal;
      if (!p) throw new AppError('UNAUTHENTICATED');
      return { id: p.id, name: p.name, role: p.role, kind: p.kind };
    },
  );

  app.post(
    '/password',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['auth'],
        summary: 'Change my password (ends my other sessions)',
        body: z.strictObject({
          current_password: z.string().min(1).max(1024),
          new_password: z.string().max(1024),
        }),
      },
    },
    async (request, reply) => {
      const p = request.principal;
      if (!p || p.kind !== 'user') throw new AppError('FORBIDDEN');
      const user = await services.users.findByUsername(p.name);
      if (!user || !(await verifyPassword(user.passwordHash, request.body.current_password))) {
        throw new AppError('INVALID_CREDENTIALS');
      }
      await services.users.update(actorOf(request).actorRef, user.id, {
        password: request.body.new_password,
      });
      return reply.status(204).send();
    },
  );
};
