import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeEvent } from '../../bus/events.js';
import { ingestFile } from '../../ingest/file-ingest.js';
import type { TrafficTickData } from '../../ingest/traffic-tick.js';
import { hasSharedData, SHARED_DATA } from '../../test-support/services.js';
import { ADMIN_PASSWORD, login, makeStack, stackKinds, type Stack } from '../../test-support/api.js';
import { WS_CLOSE } from './hub.js';

const kinds = await stackKinds();

type Ws = Awaited<ReturnType<Stack['app']['injectWS']>>;

function collect(ws: Ws) {
  const messages: { type: string; id?: string; data?: unknown }[] = [];
  ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as { type: string }));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() })),
  );
  return { messages, closed };
}

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

describe.each(kinds)('WebSocket feed on %s stack', (kind) => {
  let s: Stack;
  let token: string;
  beforeAll(async () => {
    s = await makeStack(kind);
    token = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
  });
  afterAll(async () => s?.close());

  it('authenticates in-band and delivers events published on the bus, then resumes from the last id', async () => {
    const ws = await s.app.injectWS('/ws');
    const a = collect(ws);
    ws.send(JSON.stringify({ type: 'auth', token }));
    await until(() => a.messages.find((m) => m.type === 'hello'));
    const first = makeEvent('new_alert', { id: 1, title: 'port scan' });
    await s.services.bus.publish('events', first);
    await until(() => a.messages.find((m) => m.id === first.id));
    ws.terminate();
    // Missed while disconnected:
    const missed = [makeEvent('alert_update', { id: 1 }), makeEvent('new_device', { device_id: 7 })];
    for (const e of missed) await s.services.bus.publish('events', e);
    await new Promise((r) => setTimeout(r, 100));
    const ws2 = await s.app.injectWS('/ws');
    const b = collect(ws2);
    ws2.send(JSON.stringify({ type: 'auth', token, last_event_id: first.id }));
    await until(() => (b.messages.filter((m) => m.id).length === 2 ? true : undefined));
    expect(b.messages.filter((m) => m.id).map((m) => m.id)).toEqual(missed.map((e) => e.id));
    ws2.send(JSON.stringify({ type: 'auth', token: 'ignored after auth' }));
    const ws3 = await s.app.injectWS('/ws');
    const c = collect(ws3);
    ws3.send(JSON.stringify({ type: 'auth', token, last_event_id: 'unknown-old-id' }));
    await until(() => c.messages.find((m) => m.type === 'resync'));
    ws2.terminate();
    ws3.terminate();
  });

  it.skipIf(kind !== 'servers')(
    'resumes from the replay stream in Redis, for events this process never saw',
    async () => {
      // Written to the shared replay stream by "another process" before this one was listening: this
      // process never received them through pub/sub, so only the Redis stream can replay them.
      const { Redis } = await import('ioredis');
      const prefix = (s.services.bus as unknown as { opts: { prefix: string } }).opts.prefix;
      const raw = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
      const before = makeEvent('new_device', { device_id: 1 });
      const after = [makeEvent('new_alert', { id: 2 }), makeEvent('alert_update', { id: 2 })];
      for (const e of [before, ...after])
        await raw.xadd(`${prefix}:ev:events:replay`, '*', 'e', JSON.stringify(e));
      await raw.quit();
      expect((await s.services.bus.recent?.('events', 100))?.map((e) => e.id)).toEqual(
        expect.arrayContaining([before.id, ...after.map((e) => e.id)]),
      );
      const ws = await s.app.injectWS('/ws');
      const c = collect(ws);
      ws.send(JSON.stringify({ type: 'auth', token, last_event_id: before.id }));
      await until(() => (after.every((e) => c.messages.some((m) => m.id === e.id)) ? true : undefined));
      ws.terminate();
    },
  );

  it('an event broadcast while a resuming client is sent what it missed follows the replay, once', async () => {
    // The shared window (Redis) is read asynchronously; an event broadcast meanwhile used to reach neither
    // the replay (read before it) nor the client (not yet in the feed).
    const bus = s.services.bus;
    const recent = bus.recent;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const before = makeEvent('new_device', { device_id: 1 });
    const missed = makeEvent('new_alert', { id: 3 });
    bus.recent = async () => {
      await gate;
      return [before, missed];
    };
    const ws = await s.app.injectWS('/ws');
    try {
      const c = collect(ws);
      // An id this process's own window does not hold: the shared one is read.
      ws.send(JSON.stringify({ type: 'auth', token, last_event_id: before.id }));
      await until(() => c.messages.find((m) => m.type === 'hello'));
      const live = makeEvent('alert_update', { id: 3 });
      await bus.publish('events', live);
      await new Promise((r) => setTimeout(r, 50)); // broadcast while the replay is still being read
      open();
      await until(() => (c.messages.some((m) => m.id === live.id) ? true : undefined));
      const next = makeEvent('alert_update', { id: 4 });
      await bus.publish('events', next);
      await until(() => (c.messages.some((m) => m.id === next.id) ? true : undefined));
      expect(c.messages.filter((m) => m.id).map((m) => m.id)).toEqual([missed.id, live.id, next.id]);
    } finally {
      ws.terminate();
      if (recent) bus.recent = recent;
      else delete bus.recent;
    }
  });

  it.skipIf(!hasSharedData)(
    'sends traffic_tick with what a source committed: its flows, packets, bytes and flow time',
    async () => {
      const ws = await s.app.injectWS('/ws');
      const a = collect(ws);
      ws.send(JSON.stringify({ type: 'auth', token }));
      await until(() => a.messages.find((m) => m.type === 'hello'));
      const pcap = join(SHARED_DATA, 'iot-sentinel-train', 'TP-LinkPlugHS110', 'Setup-A-1-STA.pcap');
      const summary = await ingestFile(s.services, pcap, { force: true });
      expect(summary.flows).toBeGreaterThan(0);
      const ticks = () =>
        a.messages
          .filter((m) => m.type === 'traffic_tick')
          .map((m) => m.data as TrafficTickData)
          .filter((d) => d.source_id === summary.source_id);
      await until(() => (ticks().reduce((n, t) => n + t.flows, 0) === summary.flows ? true : undefined));
      const [tick] = ticks();
      expect(tick).toMatchObject({ source_id: summary.source_id, flows: summary.flows });
      expect(tick?.packets).toBeGreaterThan(0);
      expect(tick?.bytes).toBeGreaterThan(0);
      // The capture's own time (2016), not the time it was ingested.
      expect(tick?.first_seen.slice(0, 4)).toBe('2016');
      expect(Date.parse(tick?.last_seen ?? '')).toBeGreaterThanOrEqual(Date.parse(tick?.first_seen ?? ''));
      ws.terminate();
    },
  );

  it('refuses a bad token, a missing auth message and a foreign Origin', async () => {
    const bad = await s.app.injectWS('/ws');
    const r = collect(bad);
    bad.send(JSON.stringify({ type: 'auth', token: 'nope' }));
    expect((await r.closed).code).toBe(WS_CLOSE.auth);
    const junk = await s.app.injectWS('/ws');
    const j = collect(junk);
    junk.send('not json');
    expect((await j.closed).code).toBe(WS_CLOSE.auth);
    await expect(s.app.injectWS('/ws', { headers: { origin: 'https://evil.example' } })).rejects.toThrow();
    const same = await s.app.injectWS('/ws', {
      headers: { origin: 'http://localhost:8080', host: 'localhost:8080' },
    });
    same.terminate();
  });

  it('refuses sensor keys and caps connections per user', async () => {
    const { key } = await s.services.apiKeys.create({ id: null, name: 't' }, { name: 'ws-sensor' });
    const ws = await s.app.injectWS('/ws');
    const r = collect(ws);
    ws.send(JSON.stringify({ type: 'auth', token: key }));
    expect((await r.closed).code).toBe(WS_CLOSE.forbidden);
    const open: Ws[] = [];
    for (let i = 0; i < 20; i++) {
      const w = await s.app.injectWS('/ws');
      const m = collect(w);
      w.send(JSON.stringify({ type: 'auth', token }));
      await until(() => m.messages.find((x) => x.type === 'hello'));
      open.push(w);
    }
    const extra = await s.app.injectWS('/ws');
    const e = collect(extra);
    extra.send(JSON.stringify({ type: 'auth', token }));
    expect((await e.closed).code).toBe(WS_CLOSE.tooMany);
    for (const w of open) w.terminate();
  });
});
