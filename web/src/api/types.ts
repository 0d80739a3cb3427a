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
