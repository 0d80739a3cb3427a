import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../errors.js';

/**
 * One error shape for every failure: `{"error":{"code","message","details"?}}` with the status from the
 * catalogue. Stack traces and internal messages go to the log with the request id, never to the client.
 */

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

function isDatabaseDown(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const x = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof x.code === 'string' && DB_DOWN_CODES.has(x.code)) return true;
    if (
      typeof x.message === 'string' &&
      /Connection terminated|connection timeout|Client has encountered a connection error/i.test(x.message)
    ) {
      return true;
    }
    e = x.cause;
  }
  return false;
}

/** ioredis gave up on a command: the server is unreachable (its offline queue retried and failed). */
function isRedisDown(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const x = e as { name?: unknown; message?: unknown; cause?: unknown };
    if (x.name === 'MaxRetriesPerRequestError') return true;
    if (typeof x.message === 'string' && /^Connection is closed\.?$|Stream isn't writeable/.test(x.message)) {
      return true;
    }
    e = x.cause;
  }
  return false;
}

/** PostgreSQL refused a value from the request: NUL or an invalid byte in text (22021), untranslatable (22P05). */
const DB_BAD_INPUT_CODES = new Set(['22021', '22P05']);

function isDatabaseBadInput(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const x = e as { code?: unknown; cause?: unknown };
    if (typeof x.code === 'string' && DB_BAD_INPUT_CODES.has(x.code)) return true;
    e = x.cause;
  }
  return false;
}

/** Errors Fastify raises before routing (malformed URL, path parameter over maxParamLength): same error shape. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  return sendError(
    reply,
    'VALIDATION_FAILED',
    err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : 'The URL is malformed.',
  );
}

function fromFastifyError(err: FastifyError): ErrorCode | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'MALFORMED_JSON';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'VALIDATION_FAILED';
    case 'FST_ERR_VALIDATION':
      return 'VALIDATION_FAILED';
    default:
      break;
  }
  if (err instanceof SyntaxError && err.statusCode === 400) return 'MALFORMED_JSON';
  const status = err.statusCode ?? 500;
  if (status === 404) return 'NOT_FOUND';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 400 && status < 500) return 'VALIDATION_FAILED';
  return null;
}

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  details?: Record<string, unknown>,
) {
  const body: ErrorBody = { error: { code, message: message ?? ERROR_CATALOGUE[code].message } };
  if (details) body.error.details = details;
  return reply.status(ERROR_CATALOGUE[code].status).type('application/json; charset=utf-8').send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.headers) void reply.headers(err.headers);
      if (err.status >= 500) request.log.error({ err }, err.message);
      return sendError(reply, err.code, err.message, err.details);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
        message: v.message ?? 'invalid',
      }));
      const first = issues[0];
      return sendError(
        reply,
        'VALIDATION_FAILED',
        first ? `${first.path}: ${first.message}` : ERROR_CATALOGUE.VALIDATION_FAILED.message,
        { issues },
      );
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err, issues: err.cause.issues }, 'response does not match its schema');
      return sendError(reply, 'INTERNAL');
    }
    if (isRedisDown(err)) {
      request.log.warn({ err }, 'redis unavailable');
      void reply.header('retry-after', '5');
      return sendError(reply, 'REDIS_UNAVAILABLE');
    }
    if (isDatabaseDown(err)) {
      request.log.warn({ err }, 'database unavailable');
      void reply.header('retry-after', '5');
      return sendError(reply, 'DATABASE_UNAVAILABLE');
    }
    if (isDatabaseBadInput(err)) {
      return sendError(
        reply,
        'VALIDATION_FAILED',
        'The request contains characters that cannot be stored (e.g. NUL).',
      );
    }
    const code = fromFastifyError(err);
    if (code) return sendError(reply, code, code === 'VALIDATION_FAILED' ? err.message : undefined);
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 'INTERNAL');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`),
  );
}
