/**
 * The error catalogue: every error a client can see, with its stable code and HTTP status. API responses
 * are `{"error":{"code","message"}}`; the CLI prints `error CODE: message`. Codes never change meaning;
 * add new ones at the end of their group. The README's error table is checked against this list.
 */
export const ERROR_CATALOGUE = {
  // Request shape
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request content type is not accepted here.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this route.' },
  INVALID_CURSOR: { status: 400, message: 'The pagination cursor is not valid.' },
  INVALID_CAPTURE: {
    status: 400,
    message: 'The upload is not a pcap, pcapng, Zeek log or Suricata EVE file.',
  },
  // Authentication and authorization
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong username or password.' },
  TOKEN_INVALID: { status: 401, message: 'The token is invalid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  TOKEN_REVOKED: { status: 401, message: 'The token has been revoked.' },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    message: 'A refresh token was used twice; the session has been revoked.',
  },
  ACCOUNT_DISABLED: { status: 403, message: 'The account is disabled.' },
  FORBIDDEN: { status: 403, message: 'Your role does not allow this action.' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'The request origin is not allowed.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  LOGIN_RATE_LIMITED: { status: 429, message: 'Too many failed logins; retry later.' },
  ROUTE_RATE_LIMITED: {
    status: 429,
    message:
      'Too many requests of this kind (uploads, exports, training, bulk changes or searches); retry later.',
  },
  // Resources
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  USER_EXISTS: { status: 409, message: 'A user with that name already exists.' },
  LAST_ADMIN: { status: 409, message: 'The last active admin cannot be demoted, disabled or deleted.' },
  WEAK_PASSWORD: { status: 400, message: 'The password is too weak (at least 12 characters).' },
  API_KEY_NOT_FOUND: { status: 404, message: 'No such API key.' },
  DEVICE_NOT_FOUND: { status: 404, message: 'No such device.' },
  ALERT_NOT_FOUND: { status: 404, message: 'No such alert.' },
  SUPPRESSION_NOT_FOUND: { status: 404, message: 'No such suppression.' },
  VULNERABILITY_NOT_FOUND: { status: 404, message: 'No such vulnerability.' },
  MODEL_NOT_FOUND: { status: 404, message: 'No such model.' },
  RULE_NOT_FOUND: { status: 404, message: 'No such identification rule.' },
  SOURCE_NOT_FOUND: { status: 404, message: 'No such source.' },
  JOB_NOT_FOUND: { status: 404, message: 'No such job.' },
  CONFLICT: { status: 409, message: 'The resource was changed by someone else.' },
  MODEL_ARTIFACT_MISSING: { status: 409, message: 'The model artifact file is missing.' },
  MODEL_ARTIFACT_INVALID: { status: 409, message: 'The model artifact cannot be read by its algorithm.' },
  MODEL_CHECKSUM_MISMATCH: {
    status: 409,
    message: 'The model artifact does not match its recorded checksum.',
  },
  FEATURE_SET_MISMATCH: {
    status: 409,
    message: 'The model was trained on another feature set than the one it is used with.',
  },
  MODEL_NO_PRODUCTION: { status: 409, message: 'The task has no production model.' },
  MODEL_NO_PREVIOUS: { status: 409, message: 'There is no earlier production model to roll back to.' },
  MODEL_INVALID_STATE: { status: 409, message: 'The model is not in a state that allows this change.' },
  MODEL_TRAINER_UNAVAILABLE: { status: 400, message: 'No trainer is available for that task or algorithm.' },
  DESTINATION_NOT_FOUND: { status: 404, message: "No such entry in the device's destination profile." },
  // Dependencies
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unavailable; retry shortly.' },
  REDIS_UNAVAILABLE: { status: 503, message: 'Redis is unavailable; retry shortly.' },
  NOT_READY: { status: 503, message: 'A dependency is not ready.' },
  // Catch-all
  INTERNAL: { status: 500, message: 'Internal error. The request id is in the logs.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error the API or CLI shows to the user with its stable code. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
    /** Extra headers for the HTTP response (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
