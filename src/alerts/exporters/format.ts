/**
 * Alert formats for SIEMs. Every string in an alert may be attacker-controlled (host names, DNS names, user
 * agents, peers): each format escapes by its own rules, control characters never pass, and fields are
 * bounded, so a hostile value can neither break the framing nor inject a field or a second message.
 *
 * - RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`; header fields are PRINTUSASCII
 *   without spaces; SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3); MSG has control characters
 *   replaced by spaces.
 * - CEF (ArcSight CEF 25): `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`; header fields
 *   escape `\` and `|`; extension values escape `\`, `=` and encode newlines as `\n` / `\r`; other control
 *   characters and NUL are dropped.
 */
import { hostname } from 'node:os';
import type { PresentedAlert } from '../service.js';

export const MAX_FIELD = 1024;
export const PRODUCT_VERSION = '0.1.0';

const SYSLOG_SEVERITY: Record<string, number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };
const CEF_SEVERITY: Record<string, number> = { critical: 10, high: 8, medium: 5, low: 3, info: 1 };
/** local0 */
export const SYSLOG_FACILITY = 16;

const clip = (s: string, max = MAX_FIELD) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** PRINTUSASCII (33..126) only, no spaces, 1..max characters; "-" when empty (RFC 5424 NILVALUE). */
export function headerToken(s: string | null | undefined, max: number): string {
  const t = (s ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return t.length ? t : '-';
}

export function sdEscape(s: string): string {
  return clip(s)
    .replace(CONTROL, ' ')
    .replace(/[\\"\]]/g, (c) => `\\${c}`);
}

export function msgText(s: string): string {
  return clip(s, 4 * MAX_FIELD).replace(CONTROL, ' ');
}

export interface SyslogHeader {
  hostname?: string;
  appName?: string;
  msgId?: string;
}

export function rfc5424(alert: PresentedAlert, h: SyslogHeader = {}, at = new Date()): string {
  const pri = SYSLOG_FACILITY * 8 + (SYSLOG_SEVERITY[alert.severity] ?? 5);
  const sd: [string, string | number | null][] = [
    ['id', alert.id],
    ['kind', alert.kind],
    ['severity', alert.severity],
    ['status', alert.status],
    ['device_id', alert.device_id],
    ['peer', alert.peer],
    ['count', alert.count],
    ['first_seen', alert.first_seen],
    ['last_seen', alert.last_seen],
  ];
  const params = sd
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}="${sdEscape(String(v))}"`)
    .join(' ');
  return (
    `<${pri}>1 ${at.toISOString()} ${headerToken(h.hostname ?? hostname(), 255)} ${headerToken(h.appName ?? 'iotsec', 48)} ` +
    `- ${headerToken(h.msgId ?? 'alert', 32)} [iotsec@32473 ${params}] ${msgText(`${alert.title}${alert.description ? ` - ${alert.description}` : ''}`)}`
  );
}

export function cefHeader(s: string): string {
  return clip(s)
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(CONTROL, '')
    .replace(/[\\|]/g, (c) => `\\${c}`);
}

export function cefValue(s: string): string {
  return clip(s)
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(CONTROL, '');
}

export function cef(alert: PresentedAlert): string {
  const ext: [string, string | number | null][] = [
    ['rt', Date.parse(alert.last_seen)],
    ['start', Date.parse(alert.first_seen)],
    ['end', Date.parse(alert.last_seen)],
    ['cnt', alert.count],
    ['externalId', alert.id],
    ['cat', alert.kind],
    ['act', alert.status],
    ['cs1Label', 'peer'],
    ['cs1', alert.peer],
    ['cs2Label', 'device_id'],
    ['cs2', alert.device_id],
    ['msg', alert.description],
  ];
  const extension = ext
    .filter(([, v]) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v)))
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  return (
    `CEF:0|IoTSec|IoTSec|${PRODUCT_VERSION}|${cefHeader(alert.kind)}|${cefHeader(alert.title)}|` +
    `${CEF_SEVERITY[alert.severity] ?? 5}|${extension}`
  );
}

/** CEF carried as the MSG of an RFC 5424 message (no structured data). */
export function cefOverSyslog(alert: PresentedAlert, h: SyslogHeader = {}, at = new Date()): string {
  const pri = SYSLOG_FACILITY * 8 + (SYSLOG_SEVERITY[alert.severity] ?? 5);
  return (
    `<${pri}>1 ${at.toISOString()} ${headerToken(h.hostname ?? hostname(), 255)} ${headerToken(h.appName ?? 'iotsec', 48)} ` +
    `- ${headerToken(h.msgId ?? 'alert', 32)} - ${cef(alert)}`
  );
}
