import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit } from '../../ingest/after-commit.js';
import { IngestWriter } from '../../ingest/writer.js';
import type { GroundTruth } from '../../sim/network.js';
import { queryRows } from '../../store/db.js';
import { alerts, auditLog, sources } from '../../store/schema.js';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../../test-support/api.js';
import { simulateTraffic } from '../../test-support/sim-traffic.js';
import { ingestFlow } from '../../test-support/flows.js';
import type { SourceItem } from '../../sources/types.js';
import { GENERALISE_HOSTS } from './profile.js';
import { configureDestinationProfiles, destinationStats } from './service.js';

/**
 * The learned destination profile end to end: a simulated smart plug's traffic through the real decoders,
 * flow table, ingest writer and after-commit step (as every source runs it); the profile learns for an hour
 * of flow time, then a C&C beacon (the simulator's c2_beacon incident) raises `new_destination`; entries
 * added through the API stop it; a reset learns again. Plus the routes' role checks.
 */
const T0 = Date.UTC(2026, 2, 9, 8, 0, 0);
const H = 3_600_000;
let beacon: GroundTruth | undefined;
const sim = simulateTraffic({
  seed: 5,
  startMs: T0,
  hours: 3.25,
  batchMinutes: 5,
  keep: ['plug-kasa'],
  setup: (net) => {
    beacon = net.inject('c2_beacon', T0 + 1.6 * H, { deviceId: 'plug-kasa', durationMs: 100 * 60_000 });
  },
});
const plugMac = sim.net.devices().find((d) => d.id === 'plug-kasa')?.mac ?? '';

interface Profile {
  device_id: number;
  status: 'learning' | 'enforcing';
  learning_hours: number;
  learning_started: string | null;
  learning_until: string | null;
  entries: {
    id: number;
    kind: string;
    value: string;
    source: string;
    count: number;
    first_seen: string | null;
    last_seen: string | null;
  }[];
}

const kinds = await stackKinds();

describe.each(kinds)('destination profiles on the %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let analyst: string;
  let viewer: string;
  let sourceId: string;
  let plug: number;
  let ingestedUntil = T0;

  beforeAll(async () => {
    configureDestinationProfiles({ enabled: true, learningHours: 1 });
    s = await makeStack(kind, { API_RATE_LIMIT: '100000' });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    const actor = { id: null, name: 'test' };
    for (const role of ['analyst', 'viewer'] as const)
      await s.services.users.create(actor, { username: `d-${role}`, password: 'profile-password-1', role });
    analyst = (await login(s.app, 'd-analyst', 'profile-password-1')).access_token;
    viewer = (await login(s.app, 'd-viewer', 'profile-password-1')).access_token;
    const [src] = await s.services.store.db
      .insert(sources)
      .values({ kind: 'demo', name: 'simulated plug', status: 'running' })
      .returning({ id: sources.id });
    sourceId = src!.id;
  });
  afterAll(async () => s?.close());

  /** Ingests the simulated batches up to `hours` after T0, each followed by the after-commit step. */
  async function ingestUntil(hours: number): Promise<void> {
    const writer = new IngestWriter(s.services.store);
    const until = T0 + hours * H;
    for (const b of sim.batches) {
      if (b.untilMs <= ingestedUntil || b.untilMs > until) continue;
      const res = await writer.write(b.items);
      await afterCommit(s.services, b.items, res, { sourceId });
    }
    ingestedUntil = until;
  }

  const profile = async (token = viewer) => {
    const res = await s.app.inject({
      method: 'GET',
      url: `/api/v1/devices/${plug}/destinations`,
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(200);
    return res.json() as Profile;
  };

  const newDestinationAlerts = () =>
    s.services.store.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.kind, 'new_destination'), eq(alerts.deviceId, plug)));

  it('learns the destinations of the first hour of flow time', async () => {
    await ingestUntil(1);
    const [row] = await queryRows<{ id: number }>(
      s.services.store.db,
      sql`SELECT id FROM devices WHERE mac = ${plugMac}`,
    );
    plug = Number(row?.id);
    const p = await profile();
    expect(p.status).toBe('learning');
    expect(p.learning_hours).toBe(1);
    const started = new Date(p.learning_started ?? 0).getTime();
    expect(started).toBeGreaterThanOrEqual(T0);
    expect(started).toBeLessThan(T0 + 5 * 60_000);
    expect(new Date(p.learning_until ?? 0).getTime()).toBe(started + H);
    const values = p.entries.map((e) => `${e.kind}:${e.value}`);
    expect(values).toEqual(
      expect.arrayContaining([
        'domain:devs.tplinkcloud.com',
        'domain:time.google.com',
        'protocol:dns',
        'protocol:tls',
        expect.stringMatching(/^endpoint:\d+\.\d+\.\d+\.\d+:50443\/tcp$/),
      ]),
    );
    const cloud = p.entries.find((e) => e.value === 'devs.tplinkcloud.com');
    expect(cloud).toMatchObject({ source: 'learned', first_seen: expect.any(String) });
    expect(cloud!.count).toBeGreaterThan(10);
    expect(await newDestinationAlerts()).toEqual([]);
  });

  it('enforces after learning: ordinary traffic is quiet, a C&C beacon raises new_destination', async () => {
    await ingestUntil(1.55);
    expect((await profile()).status).toBe('enforcing');
    expect(await newDestinationAlerts()).toEqual([]);

    await ingestUntil(2.5);
    const raised = await newDestinationAlerts();
    const c2 = beacon?.peer ?? '';
    const endpoint = raised.find((a) => a.peer === c2);
    expect(endpoint).toBeDefined();
    const ev = endpoint!.evidence as {
      destination: { kind: string; value: string };
      profile: { status: string; learning_until: string };
      flow: { community_id: string; dst: string; dport: number };
      community_ids: string[];
    };
    expect(ev.destination.kind).toBe('endpoint');
    expect(ev.destination.value).toMatch(new RegExp(`^${c2.replace(/\./g, '\\.')}:\\d+/tcp$`));
    expect(ev.profile.status).toBe('enforcing');
    expect(ev.flow.dst).toBe(c2);
    expect(ev.flow.community_id).toMatch(/^1:/);
    expect(ev.community_ids).toContain(ev.flow.community_id);
    expect(endpoint!.severity).toBe([443, 8080].includes(ev.flow.dport) ? 'low' : 'medium');
    expect(endpoint!.count).toBeGreaterThan(1); // repeats fold into the open alert
    // Its DNS lookups: the C&C name (and the failed DGA names) are unknown domains.
    const domains = raised.filter((a) => (a.evidence['destination'] as { kind: string }).kind === 'domain');
    expect(domains.map((a) => a.peer)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\.c2-relay\.example$/)]),
    );
    expect(domains.every((a) => a.severity === 'low')).toBe(true);
    expect(destinationStats.failures).toBe(0);
  });

  it('stops alerting once an analyst adds the destinations to the profile', async () => {
    const c2 = beacon?.peer ?? '';
    for (const body of [
      { kind: 'endpoint', value: c2 },
      { kind: 'domain', value: '*.c2-relay.example' },
    ]) {
      const res = await s.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${plug}/destinations`,
        headers: bearer(analyst),
        payload: body,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ kind: body.kind, value: body.value, source: 'user', count: 0 });
    }
    await s.services.store.db
      .update(alerts)
      .set({ status: 'resolved' })
      .where(and(eq(alerts.kind, 'new_destination'), eq(alerts.deviceId, plug)));
    const counts = new Map((await newDestinationAlerts()).map((a) => [a.id, a.count]));
    await ingestUntil(3);
    const after = await newDestinationAlerts();
    // No new alert, and the resolved ones did not grow.
    expect(after.filter((a) => !counts.has(a.id))).toEqual([]);
    for (const a of after) expect(a.count).toBe(counts.get(a.id));
    const p = await profile();
    const user = p.entries.filter((e) => e.source === 'user');
    expect(user.map((e) => e.value).sort()).toEqual(['*.c2-relay.example', c2].sort());
    expect(user.find((e) => e.value === c2)?.count).toBe(0); // patterns match; usage is counted on exact entries
  });

  it('reset forgets the learned entries, keeps the user ones and learns again from the next flow', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: `/api/v1/devices/${plug}/destinations/reset`,
      headers: bearer(analyst),
      payload: { learning_hours: 0.5 },
    });
    expect(res.statusCode).toBe(200);
    const p = res.json() as Profile;
    expect(p).toMatchObject({
      status: 'learning',
      learning_hours: 0.5,
      learning_started: null,
      learning_until: null,
    });
    expect(p.entries.every((e) => e.source === 'user')).toBe(true);
    expect(p.entries).toHaveLength(2);

    const before = (await newDestinationAlerts()).length;
    await ingestUntil(3.25);
    const again = await profile();
    expect(again.status).toBe('learning');
    const started = new Date(again.learning_started ?? 0).getTime();
    expect(started).toBeGreaterThanOrEqual(T0 + 3 * H);
    expect(new Date(again.learning_until ?? 0).getTime()).toBe(started + 0.5 * H);
    expect(again.entries.some((e) => e.source === 'learned' && e.value === 'devs.tplinkcloud.com')).toBe(
      true,
    );
    expect((await newDestinationAlerts()).length).toBe(before);

    const audit = await s.services.store.db
      .select({ action: auditLog.action, target: auditLog.target })
      .from(auditLog)
      .where(eq(auditLog.target, `device:${plug}`));
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['device.destination.add', 'device.destinations.reset']),
    );
  });

  it('lets a viewer read but not change a profile; analysts change it; errors have their codes', async () => {
    const url = `/api/v1/devices/${plug}/destinations`;
    const entryId = (await profile()).entries[0]!.id;
    const asViewer = [
      await s.app.inject({
        method: 'POST',
        url,
        headers: bearer(viewer),
        payload: { kind: 'protocol', value: 'ssh' },
      }),
      await s.app.inject({ method: 'DELETE', url: `${url}/${entryId}`, headers: bearer(viewer) }),
      await s.app.inject({ method: 'POST', url: `${url}/reset`, headers: bearer(viewer), payload: {} }),
    ];
    for (const r of asViewer) {
      expect(r.statusCode).toBe(403);
      expect(errorCode(r)).toBe('FORBIDDEN');
    }
    const anon = await s.app.inject({ method: 'GET', url });
    expect(anon.statusCode).toBe(401);

    const bad = await s.app.inject({
      method: 'POST',
      url,
      headers: bearer(analyst),
      payload: { kind: 'endpoint', value: '1.2.3.4:99999' },
    });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('VALIDATION_FAILED');
    const wrongKind = await s.app.inject({
      method: 'POST',
      url,
      headers: bearer(analyst),
      payload: { kind: 'port', value: '22' },
    });
    expect(errorCode(wrongKind)).toBe('VALIDATION_FAILED');

    const del = await s.app.inject({ method: 'DELETE', url: `${url}/${entryId}`, headers: bearer(admin) });
    expect(del.statusCode).toBe(204);
    const again = await s.app.inject({
      method: 'DELETE',
      url: `${url}/${entryId}`,
      headers: bearer(analyst),
    });
    expect(again.statusCode).toBe(404);
    expect(errorCode(again)).toBe('DESTINATION_NOT_FOUND');
    const missing = await s.app.inject({
      method: 'GET',
      url: '/api/v1/devices/999999/destinations',
      headers: bearer(viewer),
    });
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('DEVICE_NOT_FOUND');
    expect((await profile()).entries.some((e) => e.id === entryId)).toBe(false);
  });
  it('moves the profile along when a device is merged into another', async () => {
    const [other] = await queryRows<{ id: number }>(
      s.services.store.db,
      sql`INSERT INTO devices (primary_ip) VALUES ('10.42.0.250') RETURNING id`,
    );
    const from = Number(other?.id);
    const add = await s.app.inject({
      method: 'POST',
      url: `/api/v1/devices/${from}/destinations`,
      headers: bearer(analyst),
      payload: { kind: 'domain', value: 'merged.example' },
    });
    expect(add.statusCode).toBe(201);
    const merge = await s.app.inject({
      method: 'POST',
      url: '/api/v1/devices/merge',
      headers: bearer(analyst),
      payload: { from_id: from, into_id: plug },
    });
    expect(merge.statusCode).toBe(200);
    const p = await profile();
    expect(p.entries.find((e) => e.value === 'merged.example')).toMatchObject({
      kind: 'domain',
      source: 'user',
    });
  });
});

/**
 * A device that reaches many peers on one service (as a router's NetFlow export shows a general-purpose
 * client): past GENERALISE_HOSTS peers on 443/tcp the profile learns `*:443/tcp` and stores no row per
 * further peer; after learning, a new peer on 443 is quiet and one on another service still alerts.
 */
describe.each(kinds)('a destination profile generalised to a service on the %s stack', (kind) => {
  let s: Stack;
  const t0 = Date.UTC(2026, 3, 1, 9) * 1000;
  const mac = '94:10:3e:00:00:42';
  const flowTo = (i: number, dstPort: number, atUs: number): SourceItem => ({
    kind: 'flow',
    flow: ingestFlow({
      tsStart: atUs,
      tsEnd: atUs + 1000,
      srcMac: mac,
      dstMac: '00:11:22:33:44:55',
      srcIp: '10.0.0.42',
      dstIp: `93.184.${i >> 8}.${i & 255}`,
      srcPort: 40000 + (i % 20000),
      dstPort,
      appProto: null,
      communityId: `1:gen-${i}-${dstPort}=`,
    }),
  });

  let sourceId: string;

  beforeAll(async () => {
    configureDestinationProfiles({ enabled: true, learningHours: 1 });
    s = await makeStack(kind);
    const [src] = await s.services.store.db
      .insert(sources)
      .values({ kind: 'netflow', name: 'router export', status: 'running' })
      .returning({ id: sources.id });
    sourceId = src!.id;
  });
  afterAll(async () => s?.close());

  async function ingest(items: SourceItem[]): Promise<void> {
    const res = await new IngestWriter(s.services.store).write(items);
    await afterCommit(s.services, items, res, { sourceId });
  }

  const entries = () =>
    queryRows<{ kind: string; value: string; count: string | number }>(
      s.services.store.db,
      sql`SELECT e.kind, e.value, e.count FROM device_destinations e JOIN devices d ON d.id = e.device_id
           WHERE d.mac = ${mac} ORDER BY e.id`,
    );

  it('learns *:443/tcp after GENERALISE_HOSTS peers and stores no row per further peer', async () => {
    const peers = GENERALISE_HOSTS * 4;
    // Two batches, as two commits: the second one finds the service already generalised.
    const flows = Array.from({ length: peers }, (_, i) => flowTo(i, 443, t0 + i * 1_000_000));
    await ingest(flows.slice(0, peers / 2));
    await ingest(flows.slice(peers / 2));
    const rows = await entries();
    const endpoints = rows.filter((r) => r.kind === 'endpoint');
    expect(endpoints).toHaveLength(GENERALISE_HOSTS + 1);
    const service = endpoints.find((r) => r.value === '*:443/tcp');
    // It counts the flow that completed it and every flow to a peer learned after it.
    expect(Number(service?.count)).toBe(peers - GENERALISE_HOSTS + 1);
  });

  it('after learning, a new peer on the service is quiet and a new service still alerts', async () => {
    const later = t0 + 2 * 3_600_000_000;
    await ingest([flowTo(4000, 443, later), flowTo(4001, 6667, later + 1_000_000)]);
    const raised = await queryRows<{ peer: string; evidence: { destination: { value: string } } }>(
      s.services.store.db,
      sql`SELECT a.peer, a.evidence FROM alerts a JOIN devices d ON d.id = a.device_id
           WHERE d.mac = ${mac} AND a.kind = 'new_destination'`,
    );
    expect(raised.map((a) => a.evidence.destination.value)).toEqual([`93.184.15.161:6667/tcp`]);
    const service = (await entries()).find((r) => r.value === '*:443/tcp');
    expect(Number(service?.count)).toBe(GENERALISE_HOSTS * 3 + 2); // usage after learning counts on it
  });
});
