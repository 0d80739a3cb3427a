import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamSink } from '../ingest/stream-sink.js';
import type { SourceItem } from '../sources/types.js';
import { alerts, sources } from '../store/schema.js';
import { ADMIN_PASSWORD, login, makeStack, type Stack } from '../test-support/api.js';
import { detectionStats } from './live.js';

/** Live path: flows pushed into a stream sink (as the NetFlow collector does) → alert on the WebSocket < 2 s. */
describe('real-time detection', () => {
  let s: Stack;
  let token: string;
  beforeAll(async () => {
    s = await makeStack('embedded');
    token = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
  });
  afterAll(async () => s?.close());

  it('a port scan pushed into the stream sink reaches a WebSocket client as new_alert within 2 s', async () => {
    const ws = await s.app.injectWS('/ws');
    const messages: { type: string; data?: { kind?: string; device_id?: number | null; title?: string } }[] =
      [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as (typeof messages)[number]));
    ws.send(JSON.stringify({ type: 'auth', token }));
    for (let i = 0; i < 200 && !messages.some((m) => m.type === 'hello'); i++)
      await new Promise((r) => setTimeout(r, 10));

    const [src] = await s.services.store.db
      .insert(sources)
      .values({ kind: 'netflow', name: 'test exporter', status: 'running' })
      .returning({ id: sources.id });
    const sink = new StreamSink(s.services, { sourceId: src!.id, flushMs: 1000 });
    const now = Date.now() * 1000;
    const items: SourceItem[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'flow',
      flow: {
        tsStart: now + i * 1000,
        tsEnd: now + i * 1000,
        srcIp: '10.9.0.5',
        dstIp: `10.9.0.${100 + i}`,
        srcPort: 51000,
        dstPort: 23,
        proto: 6,
        appProto: null,
        bytesOut: 44,
        bytesIn: 40,
        packetsOut: 1,
        packetsIn: 1,
        payloadBytesOut: 0,
        payloadBytesIn: 0,
        tcpFlagsOut: 0x02,
        tcpFlagsIn: 0x14,
        connState: 'REJ',
        communityId: `1:live${i}`,
        srcMac: '02:00:00:00:09:05',
        dstMac: null,
        vlan: null,
        sni: null,
        httpHost: null,
        dnsNames: [],
        closeReason: 'rst',
      },
    }));
    const t0 = Date.now();
    sink.push(items);
    let alert: (typeof messages)[number] | undefined;
    while (!alert && Date.now() - t0 < 3000) {
      await new Promise((r) => setTimeout(r, 10));
      alert = messages.find((m) => m.type === 'new_alert' && m.data?.kind === 'port_scan');
    }
    const elapsed = Date.now() - t0;
    expect(alert?.data).toMatchObject({ kind: 'port_scan' });
    expect(elapsed).toBeLessThan(2000);
    // Mapped to the scanning device the writer created from the flows.
    expect(alert?.data?.device_id).toEqual(expect.any(Number));
    await sink.close();
    ws.terminate();
    // One scan alert (other alerts, e.g. new devices, may come from the device inventory).
    const rows = await s.services.store.db.select().from(alerts).where(eq(alerts.kind, 'port_scan'));
    expect(rows).toHaveLength(1);
    expect(detectionStats.failures).toBe(0);
  });
});
