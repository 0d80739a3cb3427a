import { z } from 'zod';

/**
 * Every setting IoTSec reads, from the environment, once at start-up. `loadConfig` validates them into one
 * typed object; a bad value throws ConfigError naming the variable (the CLI prints it and exits with 2).
 * The README's configuration table lists the same variables and defaults: keep the two in step
 * (src/config.test.ts checks it).
 */

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);

const postgresUrl = z
  .string()
  .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must be a postgres:// or postgresql:// URL');
const redisUrl = z.string().refine((s) => /^rediss?:\/\//.test(s), 'must be a redis:// or rediss:// URL');

/** The environment variables, their defaults and their meaning (the README table is checked against this). */
export const ENV_SPEC = {
  PORT: { schema: intIn(0, 65535), default: '8080', doc: 'HTTP port of the API and dashboard.' },
  HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'Address to listen on (0.0.0.0 for all).' },
  DATA_DIR: {
    schema: z.string().min(1),
    default: './data',
    doc: 'Where the embedded database, the JWT secret, model artifacts and uploads live.',
  },
  DATABASE_URL: {
    schema: postgresUrl.optional(),
    default: undefined,
    doc: 'PostgreSQL server URL. Unset: embedded PGlite under DATA_DIR/pglite.',
  },
  DATABASE_READ_URL: {
    schema: postgresUrl.optional(),
    default: undefined,
    doc: 'Optional read replica for heavy read queries (charts, flow search).',
  },
  DATABASE_POOL_MAX: {
    schema: intIn(1, 500),
    default: '10',
    doc: 'Connections in the pool per process (PostgreSQL only).',
  },
  DATABASE_SCHEMA: {
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
      .optional(),
    default: undefined,
    doc: 'PostgreSQL schema to use instead of public (tests run each file in its own schema).',
  },
  REDIS_URL: {
    schema: redisUrl.optional(),
    default: undefined,
    doc: 'Redis URL for cache, token revocation, rate limits, WebSocket fan-out and jobs. Unset: in-process.',
  },
  REDIS_PREFIX: {
    schema: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/),
    default: 'iotsec',
    doc: 'Key prefix in Redis, so several installations can share one server.',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'pino log level.',
  },
  CORS_ORIGINS: {
    schema: csv,
    default: '',
    doc: 'Comma-separated origins allowed to call the API from a browser (the dashboard itself needs none).',
  },
  TRUST_PROXY: {
    schema: bool,
    default: 'false',
    doc: 'Trust X-Forwarded-* headers (behind a load balancer) for client IPs.',
  },
  TLS_CERT: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Path to a PEM certificate: serve HTTPS (with HSTS). Needs TLS_KEY.',
  },
  TLS_KEY: { schema: z.string().min(1).optional(), default: undefined, doc: 'Path to the PEM private key.' },
  ADMIN_USERNAME: {
    schema: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/),
    default: 'admin',
    doc: 'Name of the admin account created on first start.',
  },
  ADMIN_PASSWORD: {
    schema: z.string().min(12, 'must be at least 12 characters').optional(),
    default: undefined,
    doc: 'Password of the first admin. Unset: a random one is generated and printed once.',
  },
  JWT_SECRET: {
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    default: undefined,
    doc: 'HMAC key for access tokens. Unset: generated on first start and kept in DATA_DIR/jwt-secret.',
  },
  ACCESS_TOKEN_TTL: {
    schema: intIn(60, 86_400),
    default: '900',
    doc: 'Access token lifetime in seconds.',
  },
  REFRESH_TOKEN_TTL: {
    schema: intIn(300, 365 * 86_400),
    default: '2592000',
    doc: 'Refresh token lifetime in seconds (30 days).',
  },
  LOGIN_MAX_FAILURES: {
    schema: intIn(1, 1000),
    default: '5',
    doc: 'Failed logins allowed per minute per account and per client IP before 429.',
  },
  API_RATE_LIMIT: {
    schema: intIn(1, 1_000_000),
    default: '1200',
    doc: 'Requests per minute per user (or per IP when anonymous) on /api/v1.',
  },
  API_RATE_LIMIT_UPLOAD: {
    schema: intIn(1, 1_000_000),
    default: '20',
    doc: 'Uploads per minute per user or API key (POST /api/v1/sources/upload), within API_RATE_LIMIT.',
  },
  API_RATE_LIMIT_TRAIN: {
    schema: intIn(1, 1_000_000),
    default: '10',
    doc: 'Training jobs started per minute per user (POST /api/v1/models/train).',
  },
  API_RATE_LIMIT_EXPORT: {
    schema: intIn(1, 1_000_000),
    default: '10',
    doc: 'CSV exports per minute per user (GET /api/v1/export/*.csv).',
  },
  API_RATE_LIMIT_BULK: {
    schema: intIn(1, 1_000_000),
    default: '60',
    doc: 'Bulk changes per minute per user (POST /api/v1/alerts/bulk).',
  },
  API_RATE_LIMIT_SEARCH: {
    schema: intIn(1, 1_000_000),
    default: '300',
    doc: 'Searches per minute per user: flow queries, and device and vulnerability lists with a text search (q).',
  },
  UPLOAD_MAX_BYTES: {
    schema: intIn(1024, Number.MAX_SAFE_INTEGER),
    default: String(2 * 1024 ** 3),
    doc: 'Largest capture accepted by POST /api/v1/sources/upload.',
  },
  INGEST_HEAP_MB: {
    schema: intIn(64, 65_536),
    default: '160',
    doc:
      'Heap cap in MB of `iotsec ingest` (it runs in a worker thread; with 4 cores or more its packet decoding in another), which ' +
      'bounds its memory: a 2 GB capture ingests in under 300 MB resident. An ingest that needs more stops ' +
      'with an error naming this variable, and run again resumes where it stopped.',
  },
  NETFLOW_SPOOL_MB: {
    schema: intIn(0, 1_048_576),
    default: '1024',
    doc:
      'Disk space in MB (under DATA_DIR/spool) where a NetFlow/IPFIX collector keeps received flows that its ' +
      'in-memory queue (400 000 flows) cannot hold while the database falls behind, handed over in order ' +
      'once it catches up; beyond it, flows are dropped and counted (queueDropped). 0: no spool, drop at once.',
  },
  FLOW_RETENTION_DAYS: {
    schema: intIn(0, 36_500),
    default: '30',
    doc: 'Daily flow partitions older than this (by flow time) are dropped; 0 keeps everything.',
  },
  ROLLUP_RETENTION_DAYS: {
    schema: intIn(0, 36_500),
    default: '400',
    doc: 'Per-minute traffic rollups older than this are deleted; 0 keeps everything.',
  },
  ALERT_RETENTION_DAYS: {
    schema: intIn(0, 36_500),
    default: '365',
    doc: 'Resolved and false-positive alerts last seen longer ago than this are deleted; 0 keeps everything.',
  },
  AUDIT_RETENTION_DAYS: {
    schema: intIn(0, 36_500),
    default: '0',
    doc: 'Audit rows older than this are pruned (the hash chain stays verifiable from an anchor); 0 keeps all.',
  },
  PARTITION_PREMAKE_DAYS: {
    schema: intIn(1, 90),
    default: '7',
    doc: 'Daily flow partitions created ahead of time.',
  },
  HEALTH_PORT: {
    schema: intIn(1, 65535).optional(),
    default: undefined,
    doc: 'worker and collector roles: serve /healthz, /readyz and /metrics on this port (the api role uses PORT).',
  },
  DEMO: {
    schema: z.enum(['auto', 'on', 'off']),
    default: 'auto',
    doc: '`iotsec start` demo network: auto runs it when no real source is configured.',
  },
  NVD_SYNC: {
    schema: z.enum(['off', 'on']),
    default: 'off',
    doc: 'Worker job: sync NVD CVEs (incremental, resumable) and the CISA KEV catalog, then re-match devices.',
  },
  NVD_API_KEY: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'NVD API key: 50 instead of 5 requests per 30 s. Never logged.',
  },
  NVD_API_URL: {
    schema: z.url(),
    default: 'https://services.nvd.nist.gov/rest/json/cves/2.0',
    doc: 'NVD CVE API 2.0 endpoint.',
  },
  KEV_URL: {
    schema: z.url(),
    default: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
    doc: 'CISA Known Exploited Vulnerabilities catalog (JSON).',
  },
  NVD_SYNC_INTERVAL_HOURS: {
    schema: intIn(1, 8760),
    default: '24',
    doc: 'Hours between two NVD/KEV syncs when NVD_SYNC=on.',
  },
  MODEL_DRIFT_PSI_THRESHOLD: {
    schema: z.coerce.number().min(0.01).max(10),
    default: '0.2',
    doc: 'PSI of a model input feature (recent inputs vs training data) above which a model_drift alert is raised.',
  },
  MODEL_RETRAIN_HOURS: {
    schema: z.coerce.number().min(0).max(8760),
    default: '0',
    doc: 'Retrain the models that can train from stored traffic (anomaly) every this many hours; 0 = off.',
  },
  BASELINE_INTERVAL_MINUTES: {
    schema: intIn(0, 1440),
    default: '5',
    doc: 'Worker job: fit per-device baselines and score completed 5-minute windows every this many minutes; 0 = off.',
  },
  BASELINE_MIN_WINDOWS: {
    schema: intIn(8, 100_000),
    default: '36',
    doc: 'Windows with traffic a device needs before it gets its isolation-forest baseline (36 = 3 h).',
  },
  BASELINE_MAX_WINDOWS: {
    schema: intIn(36, 100_000),
    default: '2016',
    doc: 'Most recent windows a baseline is fitted on (2016 = 7 days).',
  },
  BASELINE_REFIT_HOURS: {
    schema: z.coerce.number().min(0.1).max(8760),
    default: '6',
    doc: 'Refit a baseline (and a device-type LSTM) after this many hours of flow time, or sooner when its history doubled.',
  },
  BASELINE_TREES: {
    schema: intIn(10, 1000),
    default: '50',
    doc: 'Trees of each per-device isolation forest (subsample at most 256 windows).',
  },
  BASELINE_THRESHOLD_QUANTILE: {
    schema: z.coerce.number().min(0.5).max(1),
    default: '0.995',
    doc: "Quantile of a device's own training scores its alert threshold starts from.",
  },
  BASELINE_THRESHOLD_MARGIN: {
    schema: z.coerce.number().min(0).max(0.5),
    default: '0.05',
    doc: 'Added to that quantile (scores are 0–1); larger means fewer anomaly alerts.',
  },
  BASELINE_LSTM: {
    schema: bool,
    default: 'on',
    doc: 'Also train an LSTM autoencoder per device type on sequences of consecutive windows and alert on its reconstruction error.',
  },
  BASELINE_LSTM_MIN_DEVICES: {
    schema: intIn(1, 100_000),
    default: '2',
    doc: 'Devices with a baseline a device type needs before it gets an LSTM.',
  },
  BASELINE_LSTM_MIN_SEQUENCES: {
    schema: intIn(10, 1_000_000),
    default: '100',
    doc: 'Training sequences a device-type LSTM needs.',
  },
  BASELINE_LSTM_STEPS: {
    schema: intIn(2, 48),
    default: '6',
    doc: 'Consecutive 5-minute windows per LSTM sequence.',
  },
  BASELINE_LSTM_EPOCHS: {
    schema: intIn(1, 200),
    default: '8',
    doc: 'Training epochs of a device-type LSTM.',
  },
  BASELINE_LSTM_MARGIN: {
    schema: z.coerce.number().min(0).max(10),
    default: '0.5',
    doc: 'LSTM threshold = 99.5th percentile of its training reconstruction errors × (1 + this).',
  },
  DESTINATION_PROFILES: {
    schema: bool,
    default: 'on',
    doc: "Learn each device's destinations (domains, internet endpoints, protocols) and alert new_destination on others after learning.",
  },
  DESTINATION_LEARNING_HOURS: {
    schema: z.coerce.number().min(0.01).max(8760),
    default: '24',
    doc: "Learning period of a destination profile, hours of flow time from the device's first flow (reset restarts it).",
  },
  DEVICE_OFFLINE_MINUTES: {
    schema: intIn(1, 525600),
    default: '10',
    doc: 'A device not seen for this many minutes is offline.',
  },
  SYSLOG_URL: {
    schema: z
      .string()
      .regex(/^(udp|tcp|tls):\/\/[^/\s]+$/, 'expected udp://host:port, tcp://host:port or tls://host:port')
      .optional(),
    default: undefined,
    doc: 'Send every new alert to syslog: udp://host:514, tcp://host:514 (octet counting) or tls://host:6514.',
  },
  SYSLOG_FORMAT: {
    schema: z.enum(['rfc5424', 'cef']),
    default: 'rfc5424',
    doc: 'Syslog message format: RFC 5424 with structured data, or ArcSight CEF in the message.',
  },
  WEBHOOK_URL: {
    schema: z.url().optional(),
    default: undefined,
    doc: 'POST every new alert as JSON to this URL (retried with backoff).',
  },
  WEBHOOK_SECRET: {
    schema: z.string().min(16).optional(),
    default: undefined,
    doc: 'HMAC-SHA256 key: webhook requests carry X-IoTSec-Signature: sha256=HMAC("<timestamp>.<body>"). Never logged.',
  },
} as const;

export type EnvName = keyof typeof ENV_SPEC;

/** Stricter per-minute budgets for expensive or abusable routes (config.rateLimit in route options). */
export const ROUTE_BUDGETS = ['upload', 'train', 'export', 'bulk', 'search'] as const;
export type RouteBudget = (typeof ROUTE_BUDGETS)[number];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databaseReadUrl: string | undefined;
  databasePoolMax: number;
  databaseSchema: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  corsOrigins: string[];
  trustProxy: boolean;
  tls: { cert: string; key: string } | undefined;
  adminUsername: string;
  adminPassword: string | undefined;
  jwtSecret: string | undefined;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  loginMaxFailures: number;
  apiRateLimit: number;
  /** Per-minute budgets of the routes that declare one, within apiRateLimit. */
  routeRateLimits: Record<RouteBudget, number>;
  uploadMaxBytes: number;
  /** Heap cap of `iotsec ingest` (MB). */
  ingestHeapMb: number;
  netflowSpoolMb: number;
  flowRetentionDays: number;
  partitionPremakeDays: number;
  rollupRetentionDays: number;
  alertRetentionDays: number;
  auditRetentionDays: number;
  healthPort: number | undefined;
  demo: 'auto' | 'on' | 'off';
  nvdSync: 'off' | 'on';
  nvdApiKey: string | undefined;
  nvdApiUrl: string;
  kevUrl: string;
  nvdSyncIntervalHours: number;
  modelDriftPsiThreshold: number;
  modelRetrainHours: number;
  deviceOfflineMinutes: number;
  baselineIntervalMinutes: number;
  baselineMinWindows: number;
  baselineMaxWindows: number;
  baselineRefitHours: number;
  baselineTrees: number;
  baselineThresholdQuantile: number;
  baselineThresholdMargin: number;
  baselineLstm: boolean;
  baselineLstmMinDevices: number;
  baselineLstmMinSequences: number;
  baselineLstmSteps: number;
  baselineLstmEpochs: number;
  baselineLstmMargin: number;
  destinationProfiles: boolean;
  destinationLearningHours: number;
  syslogUrl: string | undefined;
  syslogFormat: 'rfc5424' | 'cef';
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

function read<K extends EnvName>(env: NodeJS.ProcessEnv, name: K): z.output<(typeof ENV_SPEC)[K]['schema']> {
  const spec = ENV_SPEC[name];
  const raw = env[name];
  const value = raw === undefined || raw === '' ? spec.default : raw;
  const parsed = (spec.schema as z.ZodType).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(name, `invalid value ${JSON.stringify(raw)}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as z.output<(typeof ENV_SPEC)[K]['schema']>;
}

/** Reads and validates every setting. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tlsCert = read(env, 'TLS_CERT');
  const tlsKey = read(env, 'TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError(tlsCert === undefined ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together');
  }
  return {
    port: read(env, 'PORT'),
    host: read(env, 'HOST'),
    dataDir: read(env, 'DATA_DIR'),
    databaseUrl: read(env, 'DATABASE_URL'),
    databaseReadUrl: read(env, 'DATABASE_READ_URL'),
    databasePoolMax: read(env, 'DATABASE_POOL_MAX'),
    databaseSchema: read(env, 'DATABASE_SCHEMA'),
    redisUrl: read(env, 'REDIS_URL'),
    redisPrefix: read(env, 'REDIS_PREFIX'),
    logLevel: read(env, 'LOG_LEVEL'),
    corsOrigins: read(env, 'CORS_ORIGINS'),
    trustProxy: read(env, 'TRUST_PROXY'),
    tls: tlsCert !== undefined && tlsKey !== undefined ? { cert: tlsCert, key: tlsKey } : undefined,
    adminUsername: read(env, 'ADMIN_USERNAME'),
    adminPassword: read(env, 'ADMIN_PASSWORD'),
    jwtSecret: read(env, 'JWT_SECRET'),
    accessTokenTtl: read(env, 'ACCESS_TOKEN_TTL'),
    refreshTokenTtl: read(env, 'REFRESH_TOKEN_TTL'),
    loginMaxFailures: read(env, 'LOGIN_MAX_FAILURES'),
    apiRateLimit: read(env, 'API_RATE_LIMIT'),
    routeRateLimits: {
      upload: read(env, 'API_RATE_LIMIT_UPLOAD'),
      train: read(env, 'API_RATE_LIMIT_TRAIN'),
      export: read(env, 'API_RATE_LIMIT_EXPORT'),
      bulk: read(env, 'API_RATE_LIMIT_BULK'),
      search: read(env, 'API_RATE_LIMIT_SEARCH'),
    },
    uploadMaxBytes: read(env, 'UPLOAD_MAX_BYTES'),
    ingestHeapMb: read(env, 'INGEST_HEAP_MB'),
    netflowSpoolMb: read(env, 'NETFLOW_SPOOL_MB'),
    flowRetentionDays: read(env, 'FLOW_RETENTION_DAYS'),
    partitionPremakeDays: read(env, 'PARTITION_PREMAKE_DAYS'),
    rollupRetentionDays: read(env, 'ROLLUP_RETENTION_DAYS'),
    alertRetentionDays: read(env, 'ALERT_RETENTION_DAYS'),
    auditRetentionDays: read(env, 'AUDIT_RETENTION_DAYS'),
    healthPort: read(env, 'HEALTH_PORT'),
    demo: read(env, 'DEMO'),
    nvdSync: read(env, 'NVD_SYNC'),
    nvdApiKey: read(env, 'NVD_API_KEY'),
    nvdApiUrl: read(env, 'NVD_API_URL'),
    kevUrl: read(env, 'KEV_URL'),
    nvdSyncIntervalHours: read(env, 'NVD_SYNC_INTERVAL_HOURS'),
    modelDriftPsiThreshold: read(env, 'MODEL_DRIFT_PSI_THRESHOLD'),
    modelRetrainHours: read(env, 'MODEL_RETRAIN_HOURS'),
    deviceOfflineMinutes: read(env, 'DEVICE_OFFLINE_MINUTES'),
    baselineIntervalMinutes: read(env, 'BASELINE_INTERVAL_MINUTES'),
    baselineMinWindows: read(env, 'BASELINE_MIN_WINDOWS'),
    baselineMaxWindows: read(env, 'BASELINE_MAX_WINDOWS'),
    baselineRefitHours: read(env, 'BASELINE_REFIT_HOURS'),
    baselineTrees: read(env, 'BASELINE_TREES'),
    baselineThresholdQuantile: read(env, 'BASELINE_THRESHOLD_QUANTILE'),
    baselineThresholdMargin: read(env, 'BASELINE_THRESHOLD_MARGIN'),
    baselineLstm: read(env, 'BASELINE_LSTM'),
    baselineLstmMinDevices: read(env, 'BASELINE_LSTM_MIN_DEVICES'),
    baselineLstmMinSequences: read(env, 'BASELINE_LSTM_MIN_SEQUENCES'),
    baselineLstmSteps: read(env, 'BASELINE_LSTM_STEPS'),
    baselineLstmEpochs: read(env, 'BASELINE_LSTM_EPOCHS'),
    baselineLstmMargin: read(env, 'BASELINE_LSTM_MARGIN'),
    destinationProfiles: read(env, 'DESTINATION_PROFILES'),
    destinationLearningHours: read(env, 'DESTINATION_LEARNING_HOURS'),
    syslogUrl: read(env, 'SYSLOG_URL'),
    syslogFormat: read(env, 'SYSLOG_FORMAT'),
    webhookUrl: read(env, 'WEBHOOK_URL'),
    webhookSecret: read(env, 'WEBHOOK_SECRET'),
  };
}
