import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCompress from '@fastify/compress';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyJwt from '@fastify/jwt';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { resolveJwtSecret } from '../auth/jwt-secret.js';
import { TokenService, type AccessClaims } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { openServices, type Services } from './context.js';
import { registerAuth, registerAuthorization } from './plugins/auth.js';
import { frameworkErrors, registerErrorHandling } from './plugins/errors.js';
import { registerMetrics } from './plugins/metrics.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { auditRoutes } from './routes/audit-log.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { sourceRoutes } from './routes/sources.js';
import { trafficRoutes } from './routes/traffic.js';
import { userRoutes } from './routes/users.js';
import { vulnerabilityRoutes } from './routes/vulnerabilities.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { deviceRoutes } from './routes/devices.js';
import { deviceDestinationRoutes } from './routes/device-destinations.js';
import { webRoutes } from './web.js';
import { alertRoutes } from './routes/alerts.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { exportRoutes } from './routes/exports.js';
import { registerWsHub } from './ws/hub.js';

export interface BuildOptions {
  /** Shared services; when omitted the app opens its own from the config and closes them on close(). */
  services?: Services;
  /** pino logger settings; tests pass false. */
  logger?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the API (routes, plugins, docs). Tests call `inject()` on it; `serve` calls `listen()`. */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      opts.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers["x-api-key"]',
                'req.headers.cookie',
                '*.password',
                '*.refresh_token',
              ],
              censor: '[redacted]',
            },
          },
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ...(config.tls
      ? { https: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } }
      : {}),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  const services = opts.services ?? (await openServices(config, app.log));
  if (!opts.services) app.addHook('onClose', async () => services.close());

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: config.tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyCors, {
    origin: (origin, cb) => cb(null, origin === undefined ? false : config.corsOrigins.includes(origin)),
    credentials: false,
    methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
  });
  await app.register(fastifyCompress, { threshold: 1024 });
  await app.register(fastifyJwt, {
    secret: resolveJwtSecret(config.jwtSecret, config.dataDir),
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'] },
  });

  const tokens = new TokenService(
    services.store.db,
    services.kv,
    services.audit,
    (claims: AccessClaims, ttl: number) => app.jwt.sign(claims, { expiresIn: ttl }),
    config.accessTokenTtl,
    config.refreshTokenTtl,
  );
  services.sessionInvalidators.push((id) => tokens.invalidateUser(id));

  const metrics = registerMetrics(app, services.bus);
  registerAuth(app, services, tokens);
  registerRateLimit(app, services.kv, config.apiRateLimit, config.routeRateLimits);
  registerAuthorization(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'IoTSec API',
        description:
          'IoT network security: devices, traffic, alerts, vulnerabilities, models. Errors are ' +
          '`{"error":{"code","message"}}` with the codes of the error catalogue.',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or iotsec_ API key' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(healthRoutes, { services, metrics });
  await app.register(authRoutes, {
    prefix: '/api/v1/auth',
    services,
    tokens,
    loginMaxFailures: config.loginMaxFailures,
  });
  await app.register(userRoutes, { prefix: '/api/v1/users', services });
  await app.register(apiKeyRoutes, { prefix: '/api/v1/api-keys', services });
  await app.register(auditRoutes, { prefix: '/api/v1/audit-log', services });
  await app.register(trafficRoutes, { prefix: '/api/v1/network-traffic', services });
  await app.register(sourceRoutes, {
    prefix: '/api/v1/sources',
    services,
    dataDir: config.dataDir,
    uploadMaxBytes: config.uploadMaxBytes,
  });
  await registerWsHub(app, { services, tokens, corsOrigins: config.corsOrigins });
  await app.register(dashboardRoutes, { prefix: '/api/v1/dashboard', services });
  await app.register(modelRoutes, { prefix: '/api/v1/models', services, config, metrics });
  await app.register(jobRoutes, { prefix: '/api/v1/jobs', services });
  await app.register(vulnerabilityRoutes, { prefix: '/api/v1', services });
  await app.register(deviceRoutes, { prefix: '/api/v1/devices', services, config });
  await app.register(deviceDestinationRoutes, { prefix: '/api/v1/devices', services });
  await app.register(alertRoutes, { prefix: '/api/v1/alerts', services, config });
  await app.register(suppressionRoutes, { prefix: '/api/v1/suppressions', services });
  await app.register(exportRoutes, { prefix: '/api/v1/export', services, config });
  await app.register(webRoutes); // the dashboard (web/dist) and its SPA fallback: register last

  return app;
}
