/** Display helpers: every value from the network becomes plain text. */

import type { ApiError } from './api/client';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const integer = new Intl.NumberFormat();

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** Compact, to the second (flows: many start within the same minute). */
export function formatDateTimeSeconds(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeSeconds.format(d);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : time.format(d);
}

export const formatInt = (n: number): string => integer.format(Math.round(n));

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const i = Math.min(UNITS.length - 1, Math.floor(Math.log10(n) / 3));
  const v = n / 1000 ** i;
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i] ?? 'B'}`;
}

export const formatRate = (bytesPerSecond: number): string => `${formatBytes(bytesPerSecond)}/s`;

/** Any JSON value as one line of text (objects as JSON), cut at `max` characters. */
export function toText(v: unknown, max = 200): string {
  let s: string;
  if (v === null || v === undefined) s = '—';
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') s = String(v);
  else if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) s = v.join(', ');
  else {
    try {
      s = JSON.stringify(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const ACRONYMS = new Set([
  'id',
  'ip',
  'mac',
  'cve',
  'cvss',
  'cpe',
  'kev',
  'epss',
  'dns',
  'sni',
  'http',
  'tcp',
  'url',
  'os',
  'ab',
]);

/** "device_type" → "Device type", "cve_id" → "CVE ID". */
export function humanize(key: string): string {
  const words = key.split('_').filter(Boolean);
  return words
    .map((w, i) =>
      ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w,
    )
    .join(' ');
}

export const deviceLabel = (d: {
  hostname: string | null;
  vendor: string | null;
  mac: string | null;
  device_id: number;
}): string => d.hostname ?? (d.vendor && d.mac ? `${d.vendor} ${d.mac}` : (d.mac ?? `device ${d.device_id}`));

/** An API error as one line: its message and code. */
export const errorText = (e: ApiError): string => `${e.message} (${e.code})`;
