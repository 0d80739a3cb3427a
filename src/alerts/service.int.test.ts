import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory.js';
import type { BusEvent } from '../bus/types.js';
import type { Store } from '../store/db.js';
import { alerts, devices, suppressions } from '../store/schema.js';
import { dropSchema, storeEngines } from '../test-support/services.js';
import { raiseAlert, raiseAlerts, type AlertCandidate, type RaiseResult } from './service.js';

/**
 * raiseAlerts (one transaction, a fixed number of statements for a whole detection batch) must leave the
 * table, the suppression hit counts and the events exactly as raising the same candidates one by one would.
 */

const T0 = Date.parse('2026-11-20T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000);

function candidates(deviceId: number): AlertCandidate[] {
  const c = (
    kind: string,
    peer: string | null,
    min: number,
    ids: string[],
    o: Partial<AlertCandidate> = {},
  ) => ({
    deviceId,
    kind,
    severity: 'medium' as const,
    title: `${kind} ${peer ?? ''}`,
    peer,
    evidence: { community_ids: ids, at: min },
    firstSeen: at(min),
    lastSeen: at(min + 1),
    ...o,
  });
  return [
    c('port_scan', '10.0.0.9', 0, ['1:a']),
    c('port_scan', '10.0.0.9', 10, ['1:b'], { severity: 'high' }), // folds into the first
    c('c2_beacon', '203.0.113.5', 5, ['1:c']),
    c('telnet_bruteforce', '198.51.100.7', 3, ['1:d']), // suppressed by kind
    c('port_scan', '10.0.0.9', 200, ['1:e']), // beyond the 1 h window: a new alert, same key
    c('port_scan', '10.0.0.9', 230, ['1:f']), // folds into that new one
    c('c2_beacon', '203.0.113.5', 20, ['1:g']), // folds into the existing (pre-batch) one
    c('telnet_bruteforce', '198.51.100.8', 4, ['1:h']), // suppressed again
  ];
}

describe.each(await storeEngines())('raiseAlerts ($name)', (engine) => {
  let store: Store;
  let deviceId: number;
  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    const [d] = await store.db.insert(devices).values({ mac: '02:00:00:00:00:31' }).returning();
    deviceId = d!.id;
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  /** Fresh alerts and suppressions, one open beacon alert from before the batch, and a rule on telnet. */
  async function reset(): Promise<void> {
    await store.db.delete(alerts);
    await store.db.delete(suppressions);
    await store.db.insert(suppressions).values({ kind: 'telnet_bruteforce', reason: 'lab' });
    const bus = new MemoryBus();
    await raiseAlert(
      { store, bus },
      {
        deviceId,
        kind: 'c2_beacon',
        severity: 'low',
        title: 'beacon',
        peer: '203.0.113.5',
        evidence: { community_ids: ['1:old'] },
        firstSeen: at(-30),
        lastSeen: at(-20),
      },
    );
  }

  async function state() {
    const rows = await store.db.select().from(alerts).orderBy(asc(alerts.dedupKey), asc(alerts.firstSeen));
    const [sup] = await store.db.select().from(suppressions);
    return {
      alerts: rows.map((r) => ({
        key: r.dedupKey,
        count: r.count,
        severity: r.severity,
        first: r.firstSeen.toISOString(),
        last: r.lastSeen.toISOString(),
        evidence: r.evidence,
      })),
      hits: sup?.hits,
    };
  }

  const shape = (rs: RaiseResult[]) =>
    rs.map((r) => (r.outcome === 'suppressed' ? 'suppressed' : `${r.outcome}:${r.alert.dedupKey}`));

  it('gives the same alerts, counts, evidence, hits and events as raising one by one', async () => {
    await reset();
    const oneBus = new MemoryBus();
    const oneEvents: BusEvent[] = [];
    await oneBus.subscribe('events', (e) => oneEvents.push(e));
    const one: RaiseResult[] = [];
    for (const c of candidates(deviceId)) one.push(await raiseAlert({ store, bus: oneBus }, c));
    const expected = await state();

    await reset();
    const bus = new MemoryBus();
    const events: BusEvent[] = [];
    await bus.subscribe('events', (e) => events.push(e));
    const batch = await raiseAlerts({ store, bus }, candidates(deviceId));
    expect(await state()).toEqual(expected);
    expect(shape(batch)).toEqual(shape(one));
    expect(expected.hits).toBe(2);
    expect(expected.alerts.map((a) => [a.key.split('|')[1], a.count])).toEqual([
      ['c2_beacon', 3],
      ['port_scan', 2],
      ['port_scan', 2],
    ]);
    // One event per alert touched, with its final state (one by one sends one per candidate).
    const types = events.map((e) => `${e.type}:${(e.data as { count: number }).count}`).sort();
    expect(types).toEqual(['alert_update:3', 'new_alert:2', 'new_alert:2']);
    expect(oneEvents.length).toBe(6);
    // A folded candidate's result carries the alert's id.
    const ids = batch.map((r) => (r.outcome === 'suppressed' ? null : r.alert.id));
    expect(ids[0]).toBe(ids[1]);
    expect(ids[4]).toBe(ids[5]);
    expect(ids[0]).not.toBe(ids[4]);
  });

  it('concurrent batches over the same keys in opposite orders neither deadlock nor lose a count', async () => {
    await store.db.delete(alerts);
    await store.db.delete(suppressions);
    const bus = new MemoryBus();
    const peers = Array.from({ length: 40 }, (_, i) => `192.0.2.${i}`);
    const batch = (order: string[]) =>
      order.map((peer) => ({
        deviceId,
        kind: 'port_scan',
        severity: 'high' as const,
        title: 'scan',
        peer,
        firstSeen: at(0),
        lastSeen: at(1),
      }));
    await Promise.all([
      raiseAlerts({ store, bus }, batch(peers)),
      raiseAlerts({ store, bus }, batch([...peers].reverse())),
      raiseAlerts({ store, bus }, batch(peers)),
    ]);
    const rows = await store.db.select().from(alerts).where(eq(alerts.deviceId, deviceId));
    expect(rows.length).toBe(40);
    expect(rows.every((r) => r.count === 3)).toBe(true);
  });
});
