import type { Role } from './client';

/** Shapes of the API's answers (snake_case, as the server's presenters write them). */

export type UserRole = Exclude<Role, 'sensor'>;
export const USER_ROLES: readonly UserRole[] = ['admin', 'analyst', 'viewer'];
export const KEY_ROLES: readonly Role[] = ['sensor', 'viewer', 'analyst', 'admin'];

export interface User {
  id: string;
  username: string;
  role: UserRole;
  disabled: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedApiKey {
  key: string;
  api_key: ApiKey;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  hash: string;
}

export interface TimeSeries {
  bucket_seconds: number;
  buckets: string[];
  series: { name: string; values: number[] }[];
}

export interface DeviceRef {
  device_id: number;
  mac: string | null;
  hostname: string | null;
  vendor: string | null;
  device_type: string;
  primary_ip: string | null;
}

export interface DashboardMetrics {
  generated_at: string;
  devices: { total: number; online: number; new_24h: number };
  alerts_open: { total: number; critical: number; high: number; medium: number; low: number; info: number };
  vulnerabilities: { open: number; critical: number; kev: number; affected_devices: number };
  traffic_rate: {
    window_seconds: number;
    bytes_per_second: number;
    packets_per_second: number;
    flows_per_minute: number;
  };
  traffic_over_time: TimeSeries;
  alerts_over_time: TimeSeries;
  device_types: { device_type: string; count: number }[];
  top_talkers: (DeviceRef & { bytes_out: number; bytes_in: number; bytes: number })[];
  riskiest_devices: (DeviceRef & { risk_score: number; open_alerts: number; open_vulnerabilities: number })[];
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Device {
  id: number;
  mac: string | null;
  mac_randomized: boolean;
  ip: string | null;
  vendor: string | null;
  device_type: string;
  type_source: string;
  confidence: number;
  model: string | null;
  firmware: string | null;
  os: string | null;
  hostname: string | null;
  cpe23: string[];
  tags: string[];
  notes: string | null;
  user_fields: string[];
  risk_score: number;
  first_seen: string;
  last_seen: string;
  online: boolean;
  status: 'online' | 'offline';
}

export interface Evidence {
  source: string;
  ref?: string | null;
  text: string;
  confidence?: number;
  used?: boolean;
}

export interface DeviceDetail extends Device {
  evidence: Evidence[];
  addresses: { ip: string; first_seen: string; last_seen: string }[];
}

export const DEVICE_SORTS = [
  'last_seen',
  'first_seen',
  'risk_score',
  'confidence',
  'hostname',
  'vendor',
  'device_type',
  'id',
] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

export interface DeviceSignal {
  id: number;
  kind: string;
  value: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

export interface DeviceTrafficPoint {
  t: string;
  bytes_out: number;
  bytes_in: number;
  packets_out: number;
  packets_in: number;
  flows: number;
  distinct_peers: number;
  distinct_ports: number;
}

export interface DeviceTraffic {
  bucket_seconds: number;
  items: DeviceTrafficPoint[];
}

export interface Flow {
  id: number;
  ts_start: string;
  ts_end: string;
  device_id: number | null;
  community_id: string | null;
  src_ip: string;
  src_port: number | null;
  dst_ip: string;
  dst_port: number | null;
  proto: number;
  app_proto: string | null;
  bytes_out: number;
  bytes_in: number;
  packets_out: number;
  packets_in: number;
  conn_state: string | null;
  sni: string | null;
  http_host: string | null;
  dns_query: string | null;
}

export interface DeviceVulnerability {
  cve_id: string;
  description: string | null;
  severity: string | null;
  cvss_score: number | null;
  kev: boolean;
  epss: number | null;
  matched_cpe: string;
  possible: boolean;
  status: string;
  explanation: string | null;
}

export const ALERT_STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export type SettableAlertStatus = Exclude<AlertStatus, 'new'>;

export interface Alert {
  id: number;
  device_id: number | null;
  kind: string;
  severity: Severity;
  status: AlertStatus;
  title: string;
  description: string | null;
  peer: string | null;
  evidence: Record<string, unknown>;
  dedup_key: string;
  count: number;
  first_seen: string;
  last_seen: string;
  model_version: string | null;
  source_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface AlertDetail extends Alert {
  flows: Flow[];
}

export interface Suppression {
  id: number;
  device_id: number | null;
  kind: string | null;
  peer: string | null;
  reason: string;
  expires_at: string | null;
  active: boolean;
}

/** Traffic explorer (/network-traffic): buckets and top talkers of the same filtered range as the flows. */
export interface TrafficBucket {
  t: string;
  bytes: number;
  packets: number;
  flows: number;
}

export interface TrafficSeries {
  bucket_seconds: number;
  items: TrafficBucket[];
}

export interface TopTalker {
  device_id: number | null;
  ip: string;
  bytes: number;
  packets: number;
  flows: number;
}

export const VULN_STATUSES = ['open', 'mitigated', 'accepted', 'false_positive'] as const;
export type VulnStatus = (typeof VULN_STATUSES)[number];
export const VULN_SEVERITIES = ['critical', 'high', 'medium', 'low', 'none'] as const;
export const VULN_SORTS = ['cvss', 'epss', 'published', 'modified', 'cve_id'] as const;
export type VulnSort = (typeof VULN_SORTS)[number];

export interface Vulnerability {
  cve_id: string;
  description: string | null;
  severity: string | null;
  cvss_score: number | null;
  cvss_v3_score: number | null;
  cvss_v3_vector: string | null;
  cvss_v2_score: number | null;
  cvss_v2_vector: string | null;
  published: string | null;
  modified: string | null;
  kev: boolean;
  kev_date_added: string | null;
  kev_due_date: string | null;
  kev_ransomware: boolean | null;
  epss: number | null;
  epss_percentile: number | null;
  affected_devices: number;
}

export interface VulnMatch {
  matched_cpe: string;
  possible: boolean;
  status: VulnStatus;
  status_note: string | null;
  status_changed_by: string | null;
  status_changed_at: string | null;
  still_matches: boolean;
  explanation: string | null;
  first_seen: string;
  updated_at: string;
}

export interface AffectedDevice extends VulnMatch {
  device_id: number;
  mac: string | null;
  hostname: string | null;
  vendor: string | null;
  model: string | null;
}

export interface VulnerabilityDetail extends Vulnerability {
  configurations: unknown[];
  references: string[];
  affected: AffectedDevice[];
}

export const ML_TASKS = ['device_type', 'anomaly', 'threat'] as const;
export type MlTask = (typeof ML_TASKS)[number];
export type ModelStatus = 'candidate' | 'production' | 'archived';

export interface MlModel {
  id: string;
  task: MlTask;
  algorithm: string;
  version: number;
  status: ModelStatus;
  traffic_share: number;
  shadow: boolean;
  feature_set: { name: string; version: number };
  checksum: string;
  created_at: string;
  promoted_at: string | null;
}

/** A row of GET /models: the version with its headline evaluation. */
export interface MlModelListItem extends MlModel {
  accuracy: number | null;
  macro_f1: number | null;
}

export interface MlModelDetail extends MlModel {
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  training_summary: Record<string, unknown>;
  artifact_path: string;
}

export interface ModelWindow {
  id: number;
  model_id: string;
  window_start: string;
  window_end: string;
  predictions: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  drift: Record<string, number>;
  accuracy: number | null;
  labelled: number;
}

export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** GET /jobs/:queue/:id */
export interface Job {
  id: string;
  queue: string;
  name: string;
  status: JobStatus;
  /** Percent done, 0..100. */
  progress: number;
  stage: string | null;
  attempts_made: number;
  result: unknown;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface UploadAccepted {
  job_id: string;
  queue: string;
  name: string;
  bytes: number;
  format: string;
}

export const SOURCE_KINDS = ['netflow', 'live', 'watch'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface Source {
  id: string;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  status: string;
  last_error: string | null;
  stats: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export const DESTINATION_KINDS = ['domain', 'endpoint', 'protocol'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

export interface DestinationEntry {
  id: number | string;
  kind: DestinationKind;
  value: string;
  source: 'learned' | 'user';
  count: number;
  first_seen: string | null;
  last_seen: string | null;
}

export interface DestinationProfile {
  device_id: number;
  status: 'learning' | 'enforcing';
  learning_hours?: number;
  learning_started?: string | null;
  learning_until: string | null;
  entries: DestinationEntry[];
}
