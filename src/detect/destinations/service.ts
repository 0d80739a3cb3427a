/**
 * Learned destination profiles against the database.
 *
 * `updateDestinationProfiles` runs after every committed ingest batch (src/ingest/after-commit.ts), for
 * every source, so an imported capture and live traffic behave the same. Per batch: the devices that opened
 * flows are resolved (cached, one query for the unknown ones), their profiles read in one query (a profile
 * whose `version` has not moved is served from the in-memory cache; the others reload their entries in one
 * query), the flows judged in memory in flow-time order, then learned entries upserted and usage counted in
 * one statement each. During the learning period (DESTINATION_LEARNING_HOURS of flow time from the device's
 * first flow here) every destination is learned; after it, one that is not in the profile raises
 * `new_destination` (dedup per device and peer). Alerts are bounded: the same destination is raised again at
 * most every 10 minutes of flow time, and past 20 new destinations in an hour a device's further ones fold
 * into one `*` alert with a count. Never throws: a failure is logged and the ingest goes on.
 *
 * The API side (list, add, delete, reset) bumps the profile's `version`, so every process's cache reloads.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Services } from '../../api/context.js';
import { raiseAlerts, type AlertCandidate } from '../../alerts/service.js';
import type { Actor } from '../../auth/users.js';
import { AppError } from '../../errors.js';
import { evictOldest, FLOWS_PER_TURN, nextTurn } from '../util.js';
import type { IngestFlow } from '../../sources/types.js';
import { intArrayLiteral, textArrayLiteral } from '../../store/array-literal.js';
import { queryRows, type Db, type Store, type Tx } from '../../store/db.js';
import { microsToIsoMs } from '../../store/timestamps.js';
import { deviceDestinationProfiles, deviceDestinations, devices } from '../../store/schema.js';
import {
  destinationsOf,
  eachEntry,
  judge,
  normaliseEntry,
  ProfileMatcher,
  type DestinationKind,
  type FlowDestinations,
  type Violation,
} from './profile.js';

export interface DestinationSettings {
  enabled: boolean;
  /** Default learning period, hours of flow time. */
  learningHours: number;
}

const settings: DestinationSettings = { enabled: true, learningHours: 24 };

/** Set once per process from the config (openServices); tests set theirs. */
export function configureDestinationProfiles(s: Partial<DestinationSettings>): void {
  Object.assign(settings, s);
}

export function destinationSettings(): Readonly<DestinationSettings> {
  return settings;
}

const HOUR_US = 3_600_000_000;
/** Entries a profile learns at most (a device talking to more is no candidate for a destination profile). */
export const MAX_PROFILE_ENTRIES = 5000;
/** New destinations raised per device per hour of flow time before they fold into one `*` alert. */
export const ALERTS_PER_HOUR = 20;
/** The same destination is raised again (folding into its open alert) at most this often (flow time). */
const REPEAT_US = 10 * 60_000_000;
const ID_TTL_MS = 5 * 60_000;
const MAX_CACHED_PROFILES = 10_000;

type Deps = Pick<Services, 'store' | 'bus'>;

interface Log {
  warn(obj: unknown, msg?: string): void;
}

interface CachedProfile {
  version: number;
  status: 'learning' | 'enforcing';
  learningHours: number;
  startedUs: number | null;
  untilUs: number | null;
  matcher: ProfileMatcher;
  alerted: Map<string, number>;
  budget: { hour: number; used: number };
}

interface PerStore {
  /** Device ids by MAC and by IP, with the time they were read. */
  ids: {
    mac: Map<string, { id: number | null; at: number }>;
    ip: Map<string, { id: number | null; at: number }>;
  };
  profiles: Map<number, CachedProfile>;
}

const perStore = new WeakMap<Store, PerStore>();

function stateOf(store: Store): PerStore {
  let s = perStore.get(store);
  if (!s) perStore.set(store, (s = { ids: { mac: new Map(), ip: new Map() }, profiles: new Map() }));
  return s;
}

/** Process-wide counters (tests, metrics). */
export const destinationStats = { batches: 0, learned: 0, violations: 0, alerts: 0, failures: 0 };

/**
 * Times of bulk statements go as whole milliseconds (int8[]) and become timestamps in SQL: formatting an
 * ISO string per row cost more than the rest of preparing the statement.
 */
const msOf = (us: number) => Math.floor(us / 1000);
const MS_EPOCH = sql.raw(`'epoch'::timestamptz`);
const MS = sql.raw(`interval '1 millisecond'`);

/**
 * Learns and enforces the profiles of the devices that opened a batch's flows, given in flow-time order
 * (inFlowTimeOrder).
 */
export async function updateDestinationProfiles(
  deps: Deps,
  batch: readonly IngestFlow[],
  ctx: { sourceId: string | null; log?: Log | undefined },
): Promise<{ learned: number; violations: number; alerts: number }> {
  const none = { learned: 0, violations: 0, alerts: 0 };
  if (!settings.enabled) return none;
  try {
    const flows: { f: IngestFlow; d: FlowDestinations }[] = [];
    // Indexed loops over the batch: they run once per batch, too rarely to be optimised (an iterator step
    // object per flow otherwise).
    for (let i = 0; i < batch.length; i++) {
      if (i > 0 && i % FLOWS_PER_TURN === 0) await nextTurn(); // a write beside is not held up
      const f = batch[i] as IngestFlow;
      const d = destinationsOf(f);
      if (d) flows.push({ f, d });
    }
    if (flows.length === 0) return none;
    destinationStats.batches++;
    const st = stateOf(deps.store);
    const ids = await resolveDevices(
      deps.store.db,
      st,
      flows.map((x) => x.d.device),
    );
    const byDevice = new Map<number, { f: IngestFlow; d: FlowDestinations }[]>();
    for (let i = 0; i < flows.length; i++) {
      const x = flows[i] as { f: IngestFlow; d: FlowDestinations };
      const id = idOf(ids, x.d.device);
      if (id === undefined || id === null) continue;
      let list = byDevice.get(id);
      if (!list) byDevice.set(id, (list = []));
      list.push(x);
    }
    if (byDevice.size === 0) return none;
    const profiles = await loadProfiles(deps.store.db, st, [...byDevice.keys()]);

    const learnedRows: LearnedRow[] = [];
    const usedRows: UsedRow[] = [];
    const created: { id: number; hours: number; startUs: number; untilUs: number }[] = [];
    const started: { id: number; startUs: number; untilUs: number }[] = [];
    const enforcing: { id: number; atUs: number }[] = [];
    const found: { id: number; v: Violation; f: IngestFlow; p: CachedProfile }[] = [];

    for (const [id, list] of byDevice) {
      let p = profiles.get(id);
      const firstUs = (list[0] as { f: IngestFlow }).f.tsStart;
      if (!p) {
        p = newProfile(settings.learningHours, firstUs);
        profiles.set(id, p);
        remember(st, id, p);
        created.push({ id, hours: p.learningHours, startUs: firstUs, untilUs: p.untilUs as number });
      } else if (p.startedUs === null) {
        p.startedUs = firstUs;
        p.untilUs = firstUs + p.learningHours * HOUR_US;
        started.push({ id, startUs: firstUs, untilUs: p.untilUs });
      }
      // This device's tallies for the batch, per kind by value (rows in first-seen order). The callbacks
      // are made once per device, not per flow: `ts` and `violations` are the current flow's.
      const learned = new Tally<LearnedRow>();
      const used = new Tally<UsedRow>();
      const matcher = p.matcher;
      let ts = 0;
      let violations: Violation[] = [];
      const tally = (kind: DestinationKind, value: string) => {
        const l = learned.get(kind, value);
        if (l) {
          l.n++;
          if (ts > l.last) l.last = ts;
        } else learned.put(kind, value, { id, kind, value, n: 1, first: ts, last: ts });
      };
      const learn = (kind: DestinationKind, value: string, exact: boolean, service: number) => {
        // A known value counts towards the entry that holds it (a service learned for any peer).
        const entry = matcher.entryFor(kind, value, service);
        if (entry !== null) return tally(kind, entry);
        if (matcher.size >= MAX_PROFILE_ENTRIES) return;
        const generalised = matcher.learn(kind, value, exact, service);
        tally(kind, value);
        if (typeof generalised === 'string') tally(kind, generalised);
      };
      const use = (kind: DestinationKind, value: string, _exact: boolean, service: number) => {
        if (violations.length > 0 && violations.some((v) => v.kind === kind && v.value === value)) return;
        const entry = matcher.entryFor(kind, value, service) ?? value;
        const u = used.get(kind, entry);
        if (u) {
          u.n++;
          if (ts > u.last) u.last = ts;
        } else used.put(kind, entry, { id, kind, value: entry, n: 1, last: ts });
      };
      for (let i = 0; i < list.length; i++) {
        const { f, d } = list[i] as { f: IngestFlow; d: FlowDestinations };
        ts = f.tsStart;
        if (p.status === 'learning' && ts >= (p.untilUs as number)) {
          p.status = 'enforcing';
          enforcing.push({ id, atUs: ts });
        }
        if (p.status === 'learning') {
          eachEntry(d, learn);
          continue;
        }
        violations = judge(matcher, d);
        eachEntry(d, use);
        for (const v of violations) found.push({ id, v, f, p });
      }
      learned.drainInto(learnedRows);
      used.drainInto(usedRows);
    }

    const db = deps.store.db;
    await saveProfiles(db, created, started, enforcing);
    await upsertLearned(db, learnedRows);
    await countUsage(db, usedRows);
    destinationStats.learned += learnedRows.length;

    const raise: AlertCandidate[] = [];
    const violations = await stillUnknown(db, found);
    destinationStats.violations += violations.length;
    // Per device, what is left after the repeat throttle and the hourly budget.
    const overflow = new Map<
      number,
      { count: number; sample: string[]; first: IngestFlow; last: IngestFlow; p: CachedProfile }
    >();
    for (const x of violations) {
      const key = `${x.v.kind}\u0000${x.v.value}`;
      const last = x.p.alerted.get(key);
      if (last !== undefined && x.f.tsStart - last < REPEAT_US && x.f.tsStart >= last) continue;
      const isRepeat = last !== undefined;
      const hour = Math.floor(x.f.tsStart / HOUR_US);
      if (x.p.budget.hour !== hour) x.p.budget = { hour, used: 0 };
      if (!isRepeat && x.p.budget.used >= ALERTS_PER_HOUR) {
        const o = overflow.get(x.id);
        if (o) {
          o.count++;
          if (o.sample.length < 50) o.sample.push(x.v.value);
          o.last = x.f;
        } else overflow.set(x.id, { count: 1, sample: [x.v.value], first: x.f, last: x.f, p: x.p });
        x.p.alerted.set(key, x.f.tsStart);
        continue;
      }
      if (!isRepeat) x.p.budget.used++;
      x.p.alerted.set(key, x.f.tsStart);
      if (x.p.alerted.size > 10_000) evictOldest(x.p.alerted, 10_000 >> 4);
      raise.push(violationAlert(x.id, x.v, x.f, x.p, ctx.sourceId));
    }
    for (const [id, o] of overflow) {
      raise.push({
        deviceId: id,
        kind: 'new_destination',
        severity: 'medium',
        title: `${o.first.srcIp} contacts many destinations outside its profile`,
        description:
          `${o.count} more destinations outside the device's learned profile within an hour (beyond the ` +
          `${ALERTS_PER_HOUR} raised one by one), e.g. ${o.sample.slice(0, 5).join(', ')}.`,
        peer: '*',
        evidence: {
          more_destinations: o.count,
          sample: o.sample,
          profile: profileEvidence(o.p),
          community_ids: [o.first.communityId, o.last.communityId],
        },
        firstSeen: new Date(Math.floor(o.first.tsStart / 1000)),
        lastSeen: new Date(Math.ceil(o.last.tsEnd / 1000)),
        sourceId: ctx.sourceId,
      });
    }
    await raiseAlerts(deps, raise);
    const alerts = raise.length;
    destinationStats.alerts += alerts;
    return { learned: learnedRows.length, violations: violations.length, alerts };
  } catch (err) {
    destinationStats.failures++;
    ctx.log?.warn(
      { err, source_id: ctx.sourceId },
      'destination profiles failed for a batch; ingest goes on',
    );
    return none;
  }
}

interface LearnedRow {
  id: number;
  kind: DestinationKind;
  value: string;
  n: number;
  first: number;
  last: number;
}

interface UsedRow {
  id: number;
  kind: DestinationKind;
  value: string;
  n: number;
  last: number;
}

/** One device's rows of a batch, per kind by value (no composite string key per flow). */
class Tally<T> {
  private readonly byKind: Record<DestinationKind, Map<string, T>> = {
    domain: new Map(),
    endpoint: new Map(),
    protocol: new Map(),
  };

  get(kind: DestinationKind, value: string): T | undefined {
    return this.byKind[kind].get(value);
  }

  put(kind: DestinationKind, value: string, row: T): void {
    this.byKind[kind].set(value, row);
  }

  drainInto(out: T[]): void {
    for (const m of Object.values(this.byKind)) for (const r of m.values()) out.push(r);
  }
}

function newProfile(hours: number, startUs: number | null): CachedProfile {
  return {
    version: 1,
    status: 'learning',
    learningHours: hours,
    startedUs: startUs,
    untilUs: startUs === null ? null : startUs + hours * HOUR_US,
    matcher: new ProfileMatcher(),
    alerted: new Map(),
    budget: { hour: -1, used: 0 },
  };
}

function remember(st: PerStore, id: number, p: CachedProfile): void {
  st.profiles.delete(id);
  if (st.profiles.size >= MAX_CACHED_PROFILES) evictOldest(st.profiles, MAX_CACHED_PROFILES >> 4);
  st.profiles.set(id, p);
}

function profileEvidence(p: CachedProfile): Record<string, unknown> {
  return {
    status: p.status,
    learning_until: p.untilUs === null ? null : microsToIsoMs(p.untilUs),
    entries: p.matcher.size,
  };
}

function violationAlert(
  deviceId: number,
  v: Violation,
  f: IngestFlow,
  p: CachedProfile,
  sourceId: string | null,
) {
  const what =
    v.kind === 'domain' ? `the name ${v.value}` : v.kind === 'endpoint' ? v.value : `protocol ${v.value}`;
  return {
    deviceId,
    kind: 'new_destination',
    severity: v.severity,
    title: `${f.srcIp} contacts a destination outside its profile: ${what}`,
    description:
      `${f.srcIp} reached ${what} (${f.dstIp}:${String(f.dstPort)}, ${f.appProto ?? 'unknown protocol'}), which ` +
      `is not in the destination profile it learned until ${p.untilUs === null ? '-' : microsToIsoMs(p.untilUs)}. ` +
      `If this is expected, add it to the device's destinations.`,
    peer: v.peer,
    evidence: {
      destination: { kind: v.kind, value: v.value },
      profile: profileEvidence(p),
      flow: {
        src: f.srcIp,
        sport: f.srcPort,
        dst: f.dstIp,
        dport: f.dstPort,
        proto: f.proto,
        app_proto: f.appProto,
        sni: f.sni,
        http_host: f.httpHost,
        community_id: f.communityId,
      },
      unusual_port: v.severity === 'medium',
      community_ids: [f.communityId],
    },
    firstSeen: new Date(Math.floor(f.tsStart / 1000)),
    lastSeen: new Date(Math.ceil(f.tsEnd / 1000)),
    sourceId,
  };
}

/** Device ids by MAC and by IP (two maps: no key string made per flow). */
interface DeviceIds {
  mac: Map<string, number | null>;
  ip: Map<string, number | null>;
}

const idOf = (ids: DeviceIds, d: { mac: string | null; ip: string }): number | null | undefined =>
  d.mac ? ids.mac.get(d.mac) : ids.ip.get(d.ip);

/** Device ids by MAC (the merge target when merged) or, without a MAC, by the device that last had the IP. */
async function resolveDevices(
  db: Db,
  st: PerStore,
  ends: readonly { mac: string | null; ip: string }[],
): Promise<DeviceIds> {
  const now = Date.now();
  const out: DeviceIds = { mac: new Map(), ip: new Map() };
  const macs = new Set<string>();
  const ips = new Set<string>();
  for (let i = 0; i < ends.length; i++) {
    const e = ends[i] as { mac: string | null; ip: string };
    const key = e.mac ? e.mac : e.ip;
    const known = e.mac ? out.mac : out.ip;
    const cache = e.mac ? st.ids.mac : st.ids.ip;
    if (known.has(key)) continue;
    const c = cache.get(key);
    if (c && now - c.at < ID_TTL_MS && c.id !== null) {
      known.set(key, c.id);
      continue;
    }
    known.set(key, null);
    if (e.mac) macs.add(e.mac);
    else ips.add(e.ip);
  }
  const put = (known: DeviceIds['mac'], cache: PerStore['ids']['mac'], key: string, id: number) => {
    known.set(key, id);
    if (cache.size >= 100_000) cache.clear();
    cache.set(key, { id, at: now });
  };
  if (macs.size) {
    const rows = await queryRows<{ id: number | string; mac: string; merged_into: number | string | null }>(
      db,
      sql`SELECT id, mac, merged_into FROM devices WHERE mac = ANY(${sql.param([...macs])}::text[])`,
    );
    for (const r of rows) put(out.mac, st.ids.mac, r.mac, Number(r.merged_into ?? r.id));
  }
  if (ips.size) {
    const rows = await queryRows<{ ip: string; device_id: number | string }>(
      db,
      sql`SELECT DISTINCT ON (a.ip) host(a.ip) AS ip, a.device_id FROM (
            SELECT ip, device_id, last_seen FROM device_addresses WHERE ip = ANY(${sql.param([...ips])}::inet[])
            UNION ALL
            SELECT primary_ip, id, last_seen FROM devices
             WHERE mac IS NULL AND merged_into IS NULL AND primary_ip = ANY(${sql.param([...ips])}::inet[])
          ) a ORDER BY a.ip, a.last_seen DESC`,
    );
    for (const r of rows) put(out.ip, st.ids.ip, r.ip, Number(r.device_id));
  }
  return out;
}

/** Profiles of the devices, from the cache when their version has not moved, else (re)loaded. */
async function loadProfiles(
  db: Db,
  st: PerStore,
  ids: readonly number[],
): Promise<Map<number, CachedProfile>> {
  const rows = await queryRows<{
    device_id: number | string;
    status: 'learning' | 'enforcing';
    learning_hours: number;
    learning_started: string | Date | null;
    learning_until: string | Date | null;
    version: number;
  }>(
    db,
    sql`SELECT device_id, status, learning_hours, learning_started, learning_until, version
          FROM device_destination_profiles WHERE device_id = ANY(${sql.param([...ids])}::int8[])`,
  );
  const out = new Map<number, CachedProfile>();
  const reload: number[] = [];
  for (const r of rows) {
    const id = Number(r.device_id);
    const c = st.profiles.get(id);
    if (c && c.version === r.version) {
      out.set(id, c);
      continue;
    }
    const us = (v: string | Date | null) => (v === null ? null : new Date(v).getTime() * 1000);
    const p: CachedProfile = {
      version: r.version,
      status: r.status,
      learningHours: Number(r.learning_hours),
      startedUs: us(r.learning_started),
      untilUs: us(r.learning_until),
      matcher: new ProfileMatcher(),
      alerted: c?.alerted ?? new Map(),
      budget: c?.budget ?? { hour: -1, used: 0 },
    };
    out.set(id, p);
    reload.push(id);
  }
  if (reload.length) {
    const entries = await queryRows<{ device_id: number | string; kind: DestinationKind; value: string }>(
      db,
      sql`SELECT device_id, kind, value FROM device_destinations
           WHERE device_id = ANY(${sql.param(reload)}::int8[])`,
    );
    for (const e of entries) out.get(Number(e.device_id))?.matcher.add(e.kind, e.value);
  }
  for (const [id, p] of out) remember(st, id, p);
  return out;
}

async function saveProfiles(
  db: Db,
  created: readonly { id: number; hours: number; startUs: number; untilUs: number }[],
  started: readonly { id: number; startUs: number; untilUs: number }[],
  enforcing: readonly { id: number; atUs: number }[],
): Promise<void> {
  if (created.length) {
    await db.execute(sql`
      INSERT INTO device_destination_profiles (device_id, learning_hours, learning_started, learning_until)
      SELECT v.id, v.h, v.s, v.u
        FROM unnest(${sql.param(created.map((c) => c.id))}::int8[], ${sql.param(created.map((c) => c.hours))}::real[],
                    ${sql.param(created.map((c) => microsToIsoMs(c.startUs)))}::timestamptz[],
                    ${sql.param(created.map((c) => microsToIsoMs(c.untilUs)))}::timestamptz[]) AS v(id, h, s, u)
       WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = v.id)
      ON CONFLICT (device_id) DO NOTHING`);
  }
  if (started.length) {
    await db.execute(sql`
      UPDATE device_destination_profiles p
         SET learning_started = v.s, learning_until = v.u, updated_at = now()
        FROM unnest(${sql.param(started.map((c) => c.id))}::int8[],
                    ${sql.param(started.map((c) => microsToIsoMs(c.startUs)))}::timestamptz[],
                    ${sql.param(started.map((c) => microsToIsoMs(c.untilUs)))}::timestamptz[]) AS v(id, s, u)
       WHERE p.device_id = v.id AND p.learning_started IS NULL`);
  }
  if (enforcing.length) {
    await db.execute(sql`
      UPDATE device_destination_profiles p SET status = 'enforcing', updated_at = now()
        FROM unnest(${sql.param(enforcing.map((c) => c.id))}::int8[],
                    ${sql.param(enforcing.map((c) => microsToIsoMs(c.atUs)))}::timestamptz[]) AS v(id, t)
       WHERE p.device_id = v.id AND p.status = 'learning'
         AND p.learning_until IS NOT NULL AND p.learning_until <= v.t`);
  }
}

async function upsertLearned(db: Db, rows: readonly LearnedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const c = rows.slice(i, i + 5000);
    await db.execute(sql`
      INSERT INTO device_destinations (device_id, kind, value, source, count, first_seen, last_seen)
      SELECT v.id, v.k, v.v, 'learned', v.n, ${MS_EPOCH} + v.f * ${MS}, ${MS_EPOCH} + v.l * ${MS}
        FROM unnest(${intArrayLiteral(c.map((r) => r.id))}::int8[], ${textArrayLiteral(c.map((r) => r.kind))}::text[],
                    ${textArrayLiteral(c.map((r) => r.value))}::text[], ${intArrayLiteral(c.map((r) => r.n))}::int8[],
                    ${intArrayLiteral(c.map((r) => msOf(r.first)))}::int8[],
                    ${intArrayLiteral(c.map((r) => msOf(r.last)))}::int8[]) AS v(id, k, v, n, f, l)
       WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = v.id)
      ON CONFLICT (device_id, kind, value) DO UPDATE SET
        count = device_destinations.count + EXCLUDED.count,
        first_seen = LEAST(COALESCE(device_destinations.first_seen, EXCLUDED.first_seen), EXCLUDED.first_seen),
        last_seen = GREATEST(COALESCE(device_destinations.last_seen, EXCLUDED.last_seen), EXCLUDED.last_seen)`);
  }
}

/** Counts traffic to known destinations after learning (entries a user deleted meanwhile are not revived). */
async function countUsage(db: Db, rows: readonly UsedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const c = rows.slice(i, i + 5000);
    await db.execute(sql`
      UPDATE device_destinations d
         SET count = d.count + v.n, last_seen = GREATEST(COALESCE(d.last_seen, v.l), v.l),
             first_seen = COALESCE(d.first_seen, v.l)
        FROM (SELECT u.id, u.k, u.v, u.n, ${MS_EPOCH} + u.l * ${MS} AS l
                FROM unnest(${intArrayLiteral(c.map((r) => r.id))}::int8[], ${textArrayLiteral(c.map((r) => r.kind))}::text[],
                            ${textArrayLiteral(c.map((r) => r.value))}::text[], ${intArrayLiteral(c.map((r) => r.n))}::int8[],
                            ${intArrayLiteral(c.map((r) => msOf(r.last)))}::int8[]) AS u(id, k, v, n, l)) AS v
       WHERE d.device_id = v.id AND d.kind = v.k AND d.value = v.v`);
  }
}

/**
 * Violations whose exact entry another process learned meanwhile are dropped (and the entry added to the
 * cache); one query for the whole batch.
 */
async function stillUnknown<T extends { id: number; v: Violation; p: CachedProfile }>(
  db: Db,
  found: readonly T[],
): Promise<T[]> {
  if (found.length === 0) return [];
  const rows = await queryRows<{ device_id: number | string; kind: DestinationKind; value: string }>(
    db,
    sql`SELECT d.device_id, d.kind, d.value FROM device_destinations d
          JOIN unnest(${intArrayLiteral(found.map((x) => x.id))}::int8[], ${textArrayLiteral(found.map((x) => x.v.kind))}::text[],
                      ${textArrayLiteral(found.map((x) => x.v.value))}::text[]) AS v(id, k, v)
            ON d.device_id = v.id AND d.kind = v.k AND d.value = v.v`,
  );
  if (rows.length === 0) return [...found];
  const known = new Set(rows.map((r) => `${Number(r.device_id)}\u0000${r.kind}\u0000${r.value}`));
  return found.filter((x) => {
    const k = `${x.id}\u0000${x.v.kind}\u0000${x.v.value}`;
    if (!known.has(k)) return true;
    if (!x.p.matcher.has(x.v.kind, x.v.value)) x.p.matcher.add(x.v.kind, x.v.value);
    return false;
  });
}

// ---------------------------------------------------------------------------------------------------------
// API side

export type DestinationRow = typeof deviceDestinations.$inferSelect;

export function presentDestination(e: DestinationRow) {
  return {
    id: e.id,
    kind: e.kind,
    value: e.value,
    source: e.source,
    count: e.count,
    first_seen: e.firstSeen?.toISOString() ?? null,
    last_seen: e.lastSeen?.toISOString() ?? null,
  };
}

export interface PresentedProfile {
  device_id: number;
  status: 'learning' | 'enforcing';
  learning_hours: number;
  learning_started: string | null;
  learning_until: string | null;
  entries: ReturnType<typeof presentDestination>[];
}

async function assertDevice(db: Db | Tx, id: number): Promise<void> {
  const [d] = await db.select({ id: devices.id }).from(devices).where(eq(devices.id, id));
  if (!d) throw new AppError('DEVICE_NOT_FOUND');
}

export async function getDestinationProfile(db: Db, deviceId: number): Promise<PresentedProfile> {
  await assertDevice(db, deviceId);
  const [p] = await db
    .select()
    .from(deviceDestinationProfiles)
    .where(eq(deviceDestinationProfiles.deviceId, deviceId));
  const entries = await db
    .select()
    .from(deviceDestinations)
    .where(eq(deviceDestinations.deviceId, deviceId))
    .orderBy(asc(deviceDestinations.kind), asc(deviceDestinations.value));
  return {
    device_id: deviceId,
    status: p?.status ?? 'learning',
    learning_hours: p?.learningHours ?? settings.learningHours,
    learning_started: p?.learningStarted?.toISOString() ?? null,
    learning_until: p?.learningUntil?.toISOString() ?? null,
    entries: entries.map(presentDestination),
  };
}

/** Makes sure the profile row exists and moves its version on (caches everywhere reload). */
async function touchProfile(tx: Tx, deviceId: number): Promise<void> {
  await tx.execute(sql`
    INSERT INTO device_destination_profiles (device_id, learning_hours)
    VALUES (${deviceId}, ${settings.learningHours})
    ON CONFLICT (device_id) DO UPDATE SET version = device_destination_profiles.version + 1, updated_at = now()`);
}

export async function addDestination(
  services: Pick<Services, 'store' | 'audit'>,
  actor: Actor,
  deviceId: number,
  input: { kind: DestinationKind; value: string },
): Promise<DestinationRow> {
  const n = normaliseEntry(input.kind, input.value);
  if (!n.ok) throw new AppError('VALIDATION_FAILED', n.error);
  return services.store.db.transaction(async (tx) => {
    await assertDevice(tx, deviceId);
    await touchProfile(tx, deviceId);
    const [row] = await tx
      .insert(deviceDestinations)
      .values({ deviceId, kind: input.kind, value: n.value, source: 'user', count: 0, createdBy: actor.id })
      .onConflictDoUpdate({
        target: [deviceDestinations.deviceId, deviceDestinations.kind, deviceDestinations.value],
        set: { source: 'user', createdBy: actor.id },
      })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    await services.audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'device.destination.add',
        target: `device:${deviceId}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: { entry_id: row.id, kind: row.kind, value: row.value },
      },
      tx,
    );
    return row;
  });
}

export async function deleteDestination(
  services: Pick<Services, 'store' | 'audit'>,
  actor: Actor,
  deviceId: number,
  entryId: number,
): Promise<void> {
  await services.store.db.transaction(async (tx) => {
    await assertDevice(tx, deviceId);
    const [row] = await tx
      .delete(deviceDestinations)
      .where(and(eq(deviceDestinations.id, entryId), eq(deviceDestinations.deviceId, deviceId)))
      .returning();
    if (!row) throw new AppError('DESTINATION_NOT_FOUND');
    await touchProfile(tx, deviceId);
    await services.audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'device.destination.delete',
        target: `device:${deviceId}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: { entry_id: row.id, kind: row.kind, value: row.value, source: row.source, count: row.count },
      },
      tx,
    );
  });
}

/** Forgets the learned entries (user entries stay) and learns again from the device's next flow. */
export async function resetDestinationProfile(
  services: Pick<Services, 'store' | 'audit'>,
  actor: Actor,
  deviceId: number,
  learningHours?: number,
): Promise<void> {
  const hours = learningHours ?? settings.learningHours;
  await services.store.db.transaction(async (tx) => {
    await assertDevice(tx, deviceId);
    const removed = await tx
      .delete(deviceDestinations)
      .where(and(eq(deviceDestinations.deviceId, deviceId), eq(deviceDestinations.source, 'learned')))
      .returning({ id: deviceDestinations.id });
    await tx.execute(sql`
      INSERT INTO device_destination_profiles (device_id, learning_hours)
      VALUES (${deviceId}, ${hours})
      ON CONFLICT (device_id) DO UPDATE SET status = 'learning', learning_hours = EXCLUDED.learning_hours,
        learning_started = NULL, learning_until = NULL,
        version = device_destination_profiles.version + 1, updated_at = now()`);
    await services.audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'device.destinations.reset',
        target: `device:${deviceId}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: { learned_entries_removed: removed.length, learning_hours: hours },
      },
      tx,
    );
  });
}
