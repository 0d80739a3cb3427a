import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The database schema (ARCHITECTURE section 5). drizzle-kit generates the migrations in drizzle/ from this
 * file; `network_traffic` is range-partitioned by day in its migration (drizzle-kit cannot express
 * partitioning), so later changes to it must stay additive (ALTER TABLE … ADD COLUMN works on partitions).
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

export const ROLES = ['admin', 'analyst', 'viewer', 'sensor'] as const;
export type Role = (typeof ROLES)[number];
export const USER_ROLES = ['admin', 'analyst', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<UserRole>().notNull(),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    lastLoginAt: ts('last_login_at'),
  },
  (t) => [
    uniqueIndex('users_username_key').on(sql`lower(${t.username})`),
    check('users_role_check', sql`${t.role} in ('admin','analyst','viewer')`),
  ],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    revokedAt: ts('revoked_at'),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    role: text('role').$type<Role>().notNull().default('sensor'),
    scopes: text('scopes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    expiresAt: ts('expires_at'),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('api_keys_hash_key').on(t.keyHash),
    check('api_keys_role_check', sql`${t.role} in ('admin','analyst','viewer','sensor')`),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actorId: uuid('actor_id'),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    outcome: text('outcome').notNull().default('success'),
    ip: text('ip'),
    requestId: text('request_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_action_idx').on(t.action)],
);

export const devices = pgTable(
  'devices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mac: text('mac'),
    macRandomized: boolean('mac_randomized').notNull().default(false),
    primaryIp: inet('primary_ip'),
    vendor: text('vendor'),
    deviceType: text('device_type').notNull().default('unknown'),
    model: text('model'),
    firmware: text('firmware'),
    os: text('os'),
    hostname: text('hostname'),
    cpe23: text('cpe23')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    typeSource: text('type_source').$type<'model' | 'rule' | 'user' | 'none'>().notNull().default('none'),
    confidence: real('confidence').notNull().default(0),
    evidence: jsonb('evidence').$type<unknown[]>().notNull().default([]),
    userFields: text('user_fields')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    firstSeen: ts('first_seen').notNull().defaultNow(),
    lastSeen: ts('last_seen').notNull().defaultNow(),
    riskScore: real('risk_score').notNull().default(0),
    tags: text('tags')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    mergedInto: bigint('merged_into', { mode: 'number' }),
    notes: text('notes'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('devices_mac_key').on(t.mac),
    index('devices_primary_ip_idx').on(t.primaryIp),
    index('devices_last_seen_idx').on(t.lastSeen),
    index('devices_type_idx').on(t.deviceType),
    index('devices_risk_idx').on(t.riskScore),
  ],
);

export const deviceSignals = pgTable(
  'device_signals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    firstSeen: ts('first_seen').notNull(),
    lastSeen: ts('last_seen').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(1),
  },
  (t) => [
    uniqueIndex('device_signals_key').on(t.deviceId, t.kind, t.value),
    index('device_signals_kind_value_idx').on(t.kind, t.value),
  ],
);

export const deviceAddresses = pgTable(
  'device_addresses',
  {
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    ip: inet('ip').notNull(),
    firstSeen: ts('first_seen').notNull(),
    lastSeen: ts('last_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.ip] }), index('device_addresses_ip_idx').on(t.ip)],
);

/** Range-partitioned by day on ts_start (see the migration); primary key includes the partition key. */
export const networkTraffic = pgTable(
  'network_traffic',
  {
    id: bigserial('id', { mode: 'number' }).notNull(),
    tsStart: ts('ts_start').notNull(),
    tsEnd: ts('ts_end').notNull(),
    deviceId: bigint('device_id', { mode: 'number' }),
    peerDeviceId: bigint('peer_device_id', { mode: 'number' }),
    communityId: text('community_id'),
    srcIp: inet('src_ip').notNull(),
    srcPort: integer('src_port'),
    dstIp: inet('dst_ip').notNull(),
    dstPort: integer('dst_port'),
    proto: smallint('proto').notNull(),
    appProto: text('app_proto'),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    packetsOut: bigint('packets_out', { mode: 'number' }).notNull().default(0),
    packetsIn: bigint('packets_in', { mode: 'number' }).notNull().default(0),
    tcpFlagsOut: smallint('tcp_flags_out').notNull().default(0),
    tcpFlagsIn: smallint('tcp_flags_in').notNull().default(0),
    connState: text('conn_state'),
    srcMac: text('src_mac'),
    dstMac: text('dst_mac'),
    vlan: integer('vlan'),
    sni: text('sni'),
    httpHost: text('http_host'),
    dnsQuery: text('dns_query'),
    uid: text('uid'),
    label: text('label'),
    sourceId: uuid('source_id'),
  },
  (t) => [
    primaryKey({ columns: [t.tsStart, t.id] }),
    index('network_traffic_ts_brin').using('brin', t.tsStart),
    index('network_traffic_device_ts_idx').on(t.deviceId, t.tsStart),
    // "A device's flows" is device_id = X OR peer_device_id = X (profiles, baselines, the traffic API, merges):
    // without this, the peer side scanned every partition. Partial: most peers are not devices.
    index('network_traffic_peer_ts_idx')
      .on(t.peerDeviceId, t.tsStart)
      .where(sql`${t.peerDeviceId} IS NOT NULL`),
  ],
);

export const trafficRollups = pgTable(
  'traffic_rollups',
  {
    deviceId: bigint('device_id', { mode: 'number' }).notNull(),
    minute: ts('minute').notNull(),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    packetsOut: bigint('packets_out', { mode: 'number' }).notNull().default(0),
    packetsIn: bigint('packets_in', { mode: 'number' }).notNull().default(0),
    flows: integer('flows').notNull().default(0),
    distinctPeers: integer('distinct_peers').notNull().default(0),
    distinctPorts: integer('distinct_ports').notNull().default(0),
    dnsQueries: integer('dns_queries').notNull().default(0),
    dnsFailures: integer('dns_failures').notNull().default(0),
    synNoAck: integer('syn_no_ack').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.minute] }), index('traffic_rollups_minute_idx').on(t.minute)],
);

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const ALERT_STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'] as const;

export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: bigint('device_id', { mode: 'number' }).references(() => devices.id, { onDelete: 'set null' }),
    kind: text('kind').notNull(),
    severity: text('severity').$type<(typeof SEVERITIES)[number]>().notNull(),
    status: text('status').$type<(typeof ALERT_STATUSES)[number]>().notNull().default('new'),
    title: text('title').notNull(),
    description: text('description'),
    peer: text('peer'),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull().default({}),
    dedupKey: text('dedup_key').notNull(),
    count: integer('count').notNull().default(1),
    firstSeen: ts('first_seen').notNull(),
    lastSeen: ts('last_seen').notNull(),
    modelVersion: text('model_version'),
    sourceId: uuid('source_id'),
    statusChangedBy: uuid('status_changed_by'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('alerts_dedup_idx').on(t.dedupKey, t.lastSeen),
    index('alerts_device_idx').on(t.deviceId, t.lastSeen),
    index('alerts_status_idx').on(t.status, t.severity),
    index('alerts_last_seen_idx').on(t.lastSeen),
    check('alerts_severity_check', sql`${t.severity} in ('critical','high','medium','low','info')`),
    check('alerts_status_check', sql`${t.status} in ('new','acknowledged','resolved','false_positive')`),
  ],
);

export const suppressions = pgTable('suppressions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  deviceId: bigint('device_id', { mode: 'number' }).references(() => devices.id, { onDelete: 'cascade' }),
  kind: text('kind'),
  peer: text('peer'),
  reason: text('reason').notNull(),
  expiresAt: ts('expires_at'),
  createdBy: uuid('created_by'),
  createdAt: createdAt(),
  hits: bigint('hits', { mode: 'number' }).notNull().default(0),
});

export const vulnerabilities = pgTable(
  'vulnerabilities',
  {
    cveId: text('cve_id').primaryKey(),
    description: text('description'),
    severity: text('severity'),
    cvssV31Score: real('cvss_v31_score'),
    cvssV31Vector: text('cvss_v31_vector'),
    cvssV2Score: real('cvss_v2_score'),
    cvssV2Vector: text('cvss_v2_vector'),
    published: ts('published'),
    modified: ts('modified'),
    kev: boolean('kev').notNull().default(false),
    kevDateAdded: date('kev_date_added'),
    kevDueDate: date('kev_due_date'),
    kevRansomware: text('kev_ransomware'),
    epss: doublePrecision('epss'),
    epssPercentile: doublePrecision('epss_percentile'),
    configurations: jsonb('configurations').$type<unknown[]>().notNull().default([]),
    references: jsonb('references').$type<unknown[]>().notNull().default([]),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('vulnerabilities_kev_idx').on(t.kev), index('vulnerabilities_modified_idx').on(t.modified)],
);

export const VULN_STATUSES = ['open', 'mitigated', 'accepted', 'false_positive'] as const;

export const deviceVulnerabilities = pgTable(
  'device_vulnerabilities',
  {
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    cveId: text('cve_id')
      .notNull()
      .references(() => vulnerabilities.cveId, { onDelete: 'cascade' }),
    matchedCpe: text('matched_cpe').notNull(),
    matchedBy: jsonb('matched_by').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<(typeof VULN_STATUSES)[number]>().notNull().default('open'),
    possible: boolean('possible').notNull().default(false),
    firstSeen: ts('first_seen').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.deviceId, t.cveId] }),
    index('device_vulnerabilities_cve_idx').on(t.cveId),
    check(
      'device_vulnerabilities_status_check',
      sql`${t.status} in ('open','mitigated','accepted','false_positive')`,
    ),
  ],
);

export const ML_TASKS = ['device_type', 'anomaly', 'threat'] as const;
export const MODEL_STATUSES = ['candidate', 'production', 'archived'] as const;

export const mlModels = pgTable(
  'ml_models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    task: text('task').$type<(typeof ML_TASKS)[number]>().notNull(),
    algorithm: text('algorithm').notNull(),
    version: integer('version').notNull(),
    status: text('status').$type<(typeof MODEL_STATUSES)[number]>().notNull().default('candidate'),
    trafficShare: real('traffic_share').notNull().default(0),
    shadow: boolean('shadow').notNull().default(false),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    featureSet: text('feature_set').notNull(),
    featureSetVersion: integer('feature_set_version').notNull(),
    trainingSummary: jsonb('training_summary').$type<Record<string, unknown>>().notNull().default({}),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull().default({}),
    artifactPath: text('artifact_path').notNull(),
    checksum: text('checksum').notNull(),
    createdAt: createdAt(),
    promotedAt: ts('promoted_at'),
  },
  (t) => [
    uniqueIndex('ml_models_task_version_key').on(t.task, t.version),
    check('ml_models_task_check', sql`${t.task} in ('device_type','anomaly','threat')`),
    check('ml_models_status_check', sql`${t.status} in ('candidate','production','archived')`),
  ],
);

export const modelMetrics = pgTable(
  'model_metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    windowStart: ts('window_start').notNull(),
    windowEnd: ts('window_end').notNull(),
    predictions: bigint('predictions', { mode: 'number' }).notNull().default(0),
    latencyP50Ms: real('latency_p50_ms'),
    latencyP99Ms: real('latency_p99_ms'),
    drift: jsonb('drift').$type<Record<string, number>>().notNull().default({}),
    accuracy: real('accuracy'),
    labelled: integer('labelled').notNull().default(0),
  },
  (t) => [index('model_metrics_model_idx').on(t.modelId, t.windowStart)],
);

export const sources = pgTable('sources', {
  id: uuid('id').primaryKey().defaultRandom(),
  kind: text('kind').notNull(),
  name: text('name').notNull(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
  checkpoint: jsonb('checkpoint').$type<Record<string, unknown>>().notNull().default({}),
  status: text('status').notNull().default('idle'),
  lastError: text('last_error'),
  stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Per-device behaviour baselines (src/detect/baseline): an isolation forest fitted on the device's own
 * 5-minute windows of traffic_rollups (feature set rollup-window), its learned threshold and feature
 * statistics (for evidence), and how far scoring has got.
 */
export const deviceBaselines = pgTable('device_baselines', {
  deviceId: bigint('device_id', { mode: 'number' })
    .primaryKey()
    .references(() => devices.id, { onDelete: 'cascade' }),
  algorithm: text('algorithm').notNull(),
  /** The model envelope (src/ml/serialize.ts) with its checksum. */
  model: jsonb('model').$type<Record<string, unknown>>().notNull(),
  featureSet: text('feature_set').notNull(),
  windowMinutes: integer('window_minutes').notNull(),
  windowsUsed: integer('windows_used').notNull(),
  trainedFrom: ts('trained_from').notNull(),
  trainedTo: ts('trained_to').notNull(),
  threshold: doublePrecision('threshold').notNull(),
  stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
  fittedAt: ts('fitted_at').notNull().defaultNow(),
  lastScoredWindow: ts('last_scored_window'),
  windowsScored: integer('windows_scored').notNull().default(0),
  anomalies: integer('anomalies').notNull().default(0),
});

/** Per-device-type sequence models (an LSTM autoencoder over consecutive windows of every device of a type). */
export const deviceTypeBaselines = pgTable('device_type_baselines', {
  deviceType: text('device_type').primaryKey(),
  algorithm: text('algorithm').notNull(),
  model: jsonb('model').$type<Record<string, unknown>>().notNull(),
  featureSet: text('feature_set').notNull(),
  windowMinutes: integer('window_minutes').notNull(),
  steps: integer('steps').notNull(),
  devices: bigint('devices', { mode: 'number' })
    .array()
    .notNull()
    .default(sql`'{}'::bigint[]`),
  sequences: integer('sequences').notNull(),
  trainedTo: ts('trained_to').notNull(),
  threshold: doublePrecision('threshold').notNull(),
  stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
  fittedAt: ts('fitted_at').notNull().defaultNow(),
  lastScoredWindow: ts('last_scored_window'),
});

export const DESTINATION_KINDS = ['domain', 'endpoint', 'protocol'] as const;
export const DESTINATION_SOURCES = ['learned', 'user'] as const;

/**
 * Learned destination profiles in the spirit of MUD (RFC 8520): per device, a learning period (flow time)
 * and then enforcement; `version` moves on every change by a user so caches in every process reload.
 */
export const deviceDestinationProfiles = pgTable(
  'device_destination_profiles',
  {
    deviceId: bigint('device_id', { mode: 'number' })
      .primaryKey()
      .references(() => devices.id, { onDelete: 'cascade' }),
    status: text('status').$type<'learning' | 'enforcing'>().notNull().default('learning'),
    learningHours: real('learning_hours').notNull(),
    /** Flow time the learning started; null after a reset until the device's next flow. */
    learningStarted: ts('learning_started'),
    learningUntil: ts('learning_until'),
    version: integer('version').notNull().default(1),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [check('device_destination_profiles_status_check', sql`${t.status} in ('learning','enforcing')`)],
);

export const deviceDestinations = pgTable(
  'device_destinations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<(typeof DESTINATION_KINDS)[number]>().notNull(),
    value: text('value').notNull(),
    source: text('source').$type<(typeof DESTINATION_SOURCES)[number]>().notNull().default('learned'),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
    firstSeen: ts('first_seen'),
    lastSeen: ts('last_seen'),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('device_destinations_key').on(t.deviceId, t.kind, t.value),
    check('device_destinations_kind_check', sql`${t.kind} in ('domain','endpoint','protocol')`),
    check('device_destinations_source_check', sql`${t.source} in ('learned','user')`),
  ],
);
