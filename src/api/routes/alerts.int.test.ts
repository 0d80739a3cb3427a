import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert, type AlertCandidate } from '../../alerts/service.js';
import type { BusEvent } from '../../bus/types.js';
import { ADMIN_PASSWORD, bearer, errorCode, login, makeStack, type Stack } from '../../test-support/api.js';
import { auditLog, devices, networkTraffic } from '../../store/schema.js';
import { eq, sql } from 'drizzle-orm';
import { PartitionManager } from '../../store/partitions.js';

describe('alert service and /api/v1/alerts, /api/v1/suppressions', () => {
  let s: Stack;
  let admin: string;
  let viewer: string;
  let analyst: string;
  const events: BusEvent[] = [];
  let deviceId: number;
  const t0 = new Date('2024-03-01T10:00:00Z');
  const at = (min: number) => new Date(t0.getTime() + min * 60_000);
  const cand = (o: Partial<AlertCandidate> = {}): AlertCandidate => ({
    deviceId,
    kind: 'port_scan',
    severity: 'high',
    title: 'scan',
    peer: null,
    evidence: { community_ids: ['1:aaa'] },
    firstSeen: at(0),
    lastSeen: at(1),
    ...o,
  });

  beforeAll(async () => {
    s = await makeStack('embedded', { API_RATE_LIMIT: '100000' });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    for (const role of ['viewer', 'analyst'] as const) {
      await s.services.users.create(
        { id: null, name: 't' },
        { username: role, password: 'pw-123456789', role },
      );
    }
    viewer = (await login(s.app, 'viewer', 'pw-123456789')).access_token;
    analyst = (await login(s.app, 'analyst', 'pw-123456789')).access_token;
    const [d] = await s.services.store.db
      .insert(devices)
      .values({ mac: '02:00:00:00:00:01' })
      .returning({ id: devices.id });
    deviceId = d!.id;
    await s.services.bus.subscribe('events', (e) => events.push(e));
  });
  afterAll(async () => s?.close());

  it('dedups within the window, opens a new alert after it, publishes new_alert then alert_update', async () => {
    const a = await raiseAlert(s.services, cand());
    expect(a.outcome).toBe('created');
    const b = await raiseAlert(
      s.services,
      cand({ firstSeen: at(30), lastSeen: at(31), evidence: { community_ids: ['1:bbb'], n: 2 } }),
    );
    expect(b.outcome).toBe('updated');
    if (b.outcome === 'suppressed' || a.outcome === 'suppressed') throw new Error('unexpected');
    expect(b.alert.id).toBe(a.alert.id);
    expect(b.alert.count).toBe(2);
    expect(b.alert.lastSeen.toISOString()).toBe(at(31).toISOString());
    expect(b.alert.evidence).toMatchObject({ community_ids: ['1:aaa', '1:bbb'], n: 2 });
    // Another peer is another alert; more than an hour later is another alert.
    const c = await raiseAlert(s.services, cand({ peer: '203.0.113.9' }));
    expect(c.outcome).toBe('created');
    const d = await raiseAlert(s.services, cand({ firstSeen: at(200), lastSeen: at(201) }));
    expect(d.outcome).toBe('created');
    await new Promise((r) => setTimeout(r, 20));
    const mine = events.filter((e) => (e.data as { id: number }).id === a.alert.id);
    expect(mine.map((e) => e.type)).toEqual(['new_alert', 'alert_update']);
    expect(mine[1]?.data).toMatchObject({ count: 2, kind: 'port_scan', device_id: deviceId });
  });

  it('lists with filters, sort and cursor; shows detail with the flows behind an alert', async () => {
    await new PartitionManager(s.services.store.db).ensureFor([at(0).getTime()]);
    await s.services.store.db.insert(networkTraffic).values({
      tsStart: at(0),
      tsEnd: at(0),
      deviceId,
      communityId: '1:aaa',
      srcIp: '10.0.0.5',
      dstIp: '10.0.0.6',
      srcPort: 40000,
      dstPort: 22,
      proto: 6,
    });
    const all = await s.app.inject({ url: '/api/v1/alerts?limit=2&sort=last_seen', headers: bearer(viewer) });
    expect(all.statusCode).toBe(200);
    const p1 = all.json<{ items: { id: number; last_seen: string }[]; next_cursor: string | null }>();
    expect(p1.items).toHaveLength(2);
    expect(p1.next_cursor).not.toBeNull();
    const p2 = (
      await s.app.inject({ url: `/api/v1/alerts?limit=2&cursor=${p1.next_cursor}`, headers: bearer(viewer) })
    ).json<{ items: { id: number }[]; next_cursor: string | null }>();
    expect(p2.items).toHaveLength(1);
    expect(p2.next_cursor).toBeNull();
    expect(new Set([...p1.items, ...p2.items].map((x) => x.id)).size).toBe(3);
    expect(p1.items[0]!.last_seen >= p1.items[1]!.last_seen).toBe(true);

    const filtered = await s.app.inject({
      url: `/api/v1/alerts?kind=port_scan&severity=high&status=new&device_id=${deviceId}&since=${at(100).toISOString()}`,
      headers: bearer(viewer),
    });
    expect(filtered.json<{ items: unknown[] }>().items).toHaveLength(1);
    const bySev = await s.app.inject({
      url: '/api/v1/alerts?sort=severity&order=asc',
      headers: bearer(viewer),
    });
    expect(bySev.statusCode).toBe(200);

    const firstId = Math.min(...[...p1.items, ...p2.items].map((y) => y.id));
    const detail = await s.app.inject({ url: `/api/v1/alerts/${firstId}`, headers: bearer(viewer) });
    expect(detail.statusCode).toBe(200);
    const body = detail.json<{ count: number; flows: { community_id: string; dst_port: number }[] }>();
    expect(body.count).toBe(2);
    expect(body.flows).toHaveLength(1);
    expect(body.flows[0]).toMatchObject({ community_id: '1:aaa', dst_port: 22 });
    const missing = await s.app.inject({ url: '/api/v1/alerts/999999', headers: bearer(viewer) });
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('ALERT_NOT_FOUND');
  });

  it('changes status (analyst only, audited, alert_update) and in bulk, all or nothing', async () => {
    const list = (await s.app.inject({ url: '/api/v1/alerts', headers: bearer(viewer) })).json<{
      items: { id: number }[];
    }>();
    const [x, y, z] = list.items.map((i) => i.id);
    const denied = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${x}`,
      headers: bearer(viewer),
      payload: { status: 'acknowledged' },
    });
    expect(denied.statusCode).toBe(403);
    const ok = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${x}`,
      headers: bearer(analyst),
      payload: { status: 'acknowledged' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'acknowledged' });
    const back = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${x}`,
      headers: bearer(analyst),
      payload: { status: 'new' },
    });
    expect(back.statusCode).toBe(400);
    const bulkMissing = await s.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/bulk',
      headers: bearer(analyst),
      payload: { ids: [y, 424242], status: 'resolved' },
    });
    expect(bulkMissing.statusCode).toBe(404);
    const stillNew = (await s.app.inject({ url: `/api/v1/alerts/${y}`, headers: bearer(viewer) })).json<{
      status: string;
    }>();
    expect(stillNew.status).toBe('new');
    const bulk = await s.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/bulk',
      headers: bearer(analyst),
      payload: { ids: [y, z], status: 'false_positive' },
    });
    expect(bulk.statusCode).toBe(200);
    expect(bulk.json<{ items: { status: string }[] }>().items.map((i) => i.status)).toEqual([
      'false_positive',
      'false_positive',
    ]);
    const audits = await s.services.store.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'alert.status'));
    expect(audits).toHaveLength(3);
    expect(audits[0]?.details).toMatchObject({ from: 'new', to: 'acknowledged' });
    await new Promise((r) => setTimeout(r, 20));
    expect(
      events.filter(
        (e) => e.type === 'alert_update' && (e.data as { status: string }).status === 'false_positive',
      ),
    ).toHaveLength(2);
  });

  it('suppressions: create from an alert, swallow matching candidates (hits), list, delete', async () => {
    const created = await raiseAlert(
      s.services,
      cand({ kind: 'c2_beacon', peer: '198.51.100.7', firstSeen: at(500), lastSeen: at(500) }),
    );
    if (created.outcome === 'suppressed') throw new Error('unexpected');
    const noRole = await s.app.inject({
      method: 'POST',
      url: '/api/v1/suppressions',
      headers: bearer(viewer),
      payload: { alert_id: created.alert.id, reason: 'known backup server' },
    });
    expect(noRole.statusCode).toBe(403);
    const empty = await s.app.inject({
      method: 'POST',
      url: '/api/v1/suppressions',
      headers: bearer(analyst),
      payload: { reason: 'everything' },
    });
    expect(empty.statusCode).toBe(400);
    const past = await s.app.inject({
      method: 'POST',
      url: '/api/v1/suppressions',
      headers: bearer(analyst),
      payload: { kind: 'dga', reason: 'x', expires_at: '2001-01-01T00:00:00Z' },
    });
    expect(past.statusCode).toBe(400);
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/suppressions',
      headers: bearer(analyst),
      payload: {
        alert_id: created.alert.id,
        reason: 'known backup server',
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(201);
    const sup = res.json<{ id: number; device_id: number; kind: string; peer: string; active: boolean }>();
    expect(sup).toMatchObject({ device_id: deviceId, kind: 'c2_beacon', peer: '198.51.100.7', active: true });

    const before = events.length;
    const r = await raiseAlert(
      s.services,
      cand({ kind: 'c2_beacon', peer: '198.51.100.7', firstSeen: at(900), lastSeen: at(900) }),
    );
    expect(r.outcome).toBe('suppressed');
    // Another peer is not suppressed; an expired rule suppresses nothing.
    expect((await raiseAlert(s.services, cand({ kind: 'c2_beacon', peer: '198.51.100.8' }))).outcome).toBe(
      'created',
    );
    expect(
      (
        await raiseAlert(s.services, cand({ kind: 'c2_beacon', peer: '198.51.100.7' }), {
          now: new Date(Date.now() + 2 * 86_400_000),
        })
      ).outcome,
    ).not.toBe('suppressed');
    await new Promise((r2) => setTimeout(r2, 20));
    expect(events.length - before).toBe(2);

    const list = await s.app.inject({ url: '/api/v1/suppressions', headers: bearer(viewer) });
    expect(list.json<{ items: { id: number; hits: number }[] }>().items[0]).toMatchObject({
      id: sup.id,
      hits: 1,
    });
    const one = await s.app.inject({ url: `/api/v1/suppressions/${sup.id}`, headers: bearer(viewer) });
    expect(one.statusCode).toBe(200);
    const del = await s.app.inject({
      method: 'DELETE',
      url: `/api/v1/suppressions/${sup.id}`,
      headers: bearer(analyst),
    });
    expect(del.statusCode).toBe(204);
    const gone = await s.app.inject({
      method: 'DELETE',
      url: `/api/v1/suppressions/${sup.id}`,
      headers: bearer(admin),
    });
    expect(errorCode(gone)).toBe('SUPPRESSION_NOT_FOUND');
    const audits = await s.services.store.db.select().from(auditLog);
    expect(audits.map((a) => a.action)).toEqual(
      expect.arrayContaining(['suppression.create', 'suppression.delete']),
    );
  });

  it('pages through alerts that share a millisecond, each once', async () => {
    // 25 alerts a few microseconds apart: a millisecond cursor would skip some of them.
    await s.services.store.db.execute(sql`
      INSERT INTO alerts (device_id, kind, severity, title, evidence, dedup_key, first_seen, last_seen)
      SELECT ${deviceId}, 'us_test', 'low', 'µs ' || g, '{}'::jsonb, 'us_test:' || g,
             '2026-11-25T09:00:00Z'::timestamptz + make_interval(secs => (g % 9) * 0.000131),
             '2026-11-25T09:00:00Z'::timestamptz + make_interval(secs => (g % 9) * 0.000131)
      FROM generate_series(1, 25) g`);
    for (const sort of ['last_seen', 'first_seen']) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res: { json<T>(): T } = await s.app.inject({
          url: `/api/v1/alerts?kind=us_test&limit=4&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`,
          headers: bearer(viewer),
        });
        const body: { items: { id: number }[]; next_cursor: string | null } = res.json();
        seen.push(...body.items.map((a) => a.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(25);
      expect(new Set(seen).size).toBe(25);
    }
  });

  it('concurrent raises of one key make one alert', async () => {
    const k = cand({ kind: 'ddos', peer: '203.0.113.50', firstSeen: at(2000), lastSeen: at(2000) });
    const rs = await Promise.all(Array.from({ length: 5 }, () => raiseAlert(s.services, k)));
    expect(rs.filter((r) => r.outcome === 'created')).toHaveLength(1);
    const last = await raiseAlert(s.services, k);
    if (last.outcome === 'suppressed') throw new Error('unexpected');
    expect(last.alert.count).toBe(6);
  });
});
