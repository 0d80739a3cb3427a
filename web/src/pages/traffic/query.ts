/**
 * The traffic explorer's state, all of it in the URL query string (shareable, kept across a reload):
 * `range` (a preset) or `from`/`to` (a custom range, ISO 8601), and the filters `device_id`, `ip`, `port`,
 * `proto`, `app` as GET /network-traffic takes them.
 */

export const PRESETS = [
  { key: '15m', label: '15 m', name: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', name: 'Last hour', ms: 3_600_000 },
  { key: '24h', label: '24 h', name: 'Last 24 hours', ms: 86_400_000 },
  { key: '7d', label: '7 d', name: 'Last 7 days', ms: 7 * 86_400_000 },
] as const;
export type PresetKey = (typeof PRESETS)[number]['key'];
export const DEFAULT_PRESET: PresetKey = '1h';

export const FILTER_KEYS = ['device_id', 'ip', 'port', 'proto', 'app'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export const URL_KEYS = ['range', 'from', 'to', ...FILTER_KEYS] as const;

export interface TrafficQuery {
  /** The preset in use, or null for a custom range. */
  preset: PresetKey | null;
  from: string;
  to: string;
  filters: Partial<Record<FilterKey, string>>;
}

const validTime = (s: string | null): s is string => s !== null && !Number.isNaN(Date.parse(s));

/** The URL keys the explorer reads, in a fixed order: one string that changes when the query does. */
export function queryKey(params: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const k of URL_KEYS) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  return out.toString();
}

/** Resolves the URL's range against `now` (presets are relative to it). */
export function resolveQuery(key: string, now: number): TrafficQuery {
  const p = new URLSearchParams(key);
  const filters: Partial<Record<FilterKey, string>> = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k)?.trim();
    if (v) filters[k] = v;
  }
  const from = p.get('from');
  if (validTime(from)) {
    const to = p.get('to');
    return {
      preset: null,
      from: new Date(from).toISOString(),
      to: validTime(to) ? new Date(to).toISOString() : new Date(now).toISOString(),
      filters,
    };
  }
  const preset =
    PRESETS.find((x) => x.key === p.get('range')) ?? PRESETS.find((x) => x.key === DEFAULT_PRESET);
  const ms = preset?.ms ?? 3_600_000;
  return {
    preset: preset?.key ?? DEFAULT_PRESET,
    from: new Date(now - ms).toISOString(),
    to: new Date(now).toISOString(),
    filters,
  };
}

/** ISO time → the value of an <input type="datetime-local"> (local time, minutes). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An <input type="datetime-local"> value → ISO, or null when empty or invalid. */
export function fromLocalInput(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** date_bin's origin on the server (2000-01-01T00:00:00Z): buckets start at multiples of the size from it. */
const ORIGIN_MS = Date.UTC(2000, 0, 1);

/**
 * The series with its empty buckets filled in: the server returns only buckets that hold flows, and a chart
 * without the gaps would join points hours apart.
 */
export function fillBuckets<T extends { t: string }>(
  items: T[],
  bucketSeconds: number,
  from: string,
  to: string,
  empty: (t: string) => T,
): T[] {
  const step = bucketSeconds * 1000;
  const start = Date.parse(from);
  const end = Date.parse(to);
  if (!(step > 0) || !(end > start) || (end - start) / step > 5000) return items;
  const byTime = new Map(items.map((i) => [Date.parse(i.t), i]));
  const out: T[] = [];
  for (let t = start - ((((start - ORIGIN_MS) % step) + step) % step); t < end; t += step) {
    const iso = new Date(t).toISOString();
    out.push(byTime.get(t) ?? empty(iso));
    byTime.delete(t);
  }
  // Anything the grid missed (a server with another origin) keeps its place in time.
  if (byTime.size > 0) return [...out, ...byTime.values()].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  return out;
}

/**
 * The flows of a live `traffic_tick` whose flow time overlaps the view's range (a preset's range runs on to
 * the present), else 0. A tick counts a source's newly stored flows before any filter: what it says is
 * "new flows may be in this view".
 */
export function tickFlowsIn(data: unknown, q: TrafficQuery): number {
  if (typeof data !== 'object' || data === null) return 0;
  const d = data as { flows?: unknown; first_seen?: unknown; last_seen?: unknown };
  if (typeof d.flows !== 'number' || typeof d.first_seen !== 'string' || typeof d.last_seen !== 'string')
    return 0;
  const to = q.preset === null ? Date.parse(q.to) : Infinity;
  return Date.parse(d.last_seen) >= Date.parse(q.from) && Date.parse(d.first_seen) <= to ? d.flows : 0;
}
