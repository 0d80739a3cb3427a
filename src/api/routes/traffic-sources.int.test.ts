import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { BusEvent, Unsubscribe } from '../../bus/types.js';
import { startIngestJobs } from '../../worker/ingest-jobs.js';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../../test-support/api.js';
import { hasSharedData, SHARED_DATA } from '../../test-support/services.js';

const kinds = await stackKinds();
const PCAP = join(SHARED_DATA, 'iot-sentinel-train', 'TP-LinkPlugHS110', 'Setup-A-1-STA.pcap');

describe.skipIf(!hasSharedData).each(kinds)('traffic and sources API on %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let stopWorker: Unsubscribe;
  const events: BusEvent[] = [];

  beforeAll(async () => {
    s = await makeStack(kind, { UPLOAD_MAX_BYTES: String(4 * 1024 * 1024) });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    stopWorker = await startIngestJobs(s.services, pino({ level: 'silent' }));
    await s.services.bus.subscribe('events', (e) => events.push(e));
  });
  afterAll(async () => {
    await stopWorker?.();
    await s?.close();
  });

  async function waitJob(id: string) {
    for (let i = 0; i < 400; i++) {
      const info = await s.services.bus.getJob('ingest', id);
      if (info?.status === 'completed' || info?.status === 'failed') return info;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  }

  it('ingests an uploaded capture through a job with progress events, then serves its flows', async () => {
    const body = readFileSync(PCAP);
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload?name=plug.pcap',
      headers: { ...bearer(admin), 'content-type': 'application/vnd.tcpdump.pcap' },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(202);
    const { job_id, format, bytes } = res.json() as { job_id: string; format: string; bytes: number };
    expect(format).toBe('pcap');
    expect(bytes).toBe(body.length);
    const info = await waitJob(job_id);
    expect(info.status, info.error ?? '').toBe('completed');
    const flowsStored = (info.result as { flows: number }).flows;
    expect(flowsStored).toBeGreaterThan(0);
    const updates = events.filter(
      (e) => e.type === 'job_update' && (e.data as { job_id: string }).job_id === job_id,
    );
    expect(updates.map((e) => (e.data as { status: string }).status)).toContain('completed');
    expect(events.some((e) => e.type === 'new_device')).toBe(true);

    const range = 'from=2015-01-01T00:00:00Z&to=2026-12-31T00:00:00Z';
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/network-traffic?${range}&limit=50${cursor ? `&cursor=${cursor}` : ''}`;
      const raw = await s.app.inject({ url, headers: bearer(admin) });
      if (raw.statusCode !== 200) throw new Error(raw.body);
      const page = raw.json() as {
        items: { id: number; ts_start: string; community_id: string }[];
        next_cursor: string | null;
      };
      seen.push(...page.items.map((f) => f.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.length).toBe(flowsStored);
    expect(new Set(seen).size).toBe(seen.length);

    const dns = (
      await s.app.inject({ url: `/api/v1/network-traffic?${range}&port=53`, headers: bearer(admin) })
    ).json() as {
      items: { src_port: number; dst_port: number }[];
    };
    expect(dns.items.length).toBeGreaterThan(0);
    expect(dns.items.every((f) => f.src_port === 53 || f.dst_port === 53)).toBe(true);

    const top = (
      await s.app.inject({
        url: `/api/v1/network-traffic/top-talkers?${range}&limit=3`,
        headers: bearer(admin),
      })
    ).json() as {
      items: { bytes: number }[];
    };
    expect(top.items.length).toBeGreaterThan(0);
    expect(top.items[0]?.bytes).toBeGreaterThanOrEqual(top.items[top.items.length - 1]?.bytes ?? 0);

    const ts = (
      await s.app.inject({ url: `/api/v1/network-traffic/timeseries?${range}`, headers: bearer(admin) })
    ).json() as {
      bucket_seconds: number;
      items: { flows: number }[];
    };
    expect(ts.items.reduce((a, b) => a + b.flows, 0)).toBe(flowsStored);

    const sources = (await s.app.inject({ url: '/api/v1/sources', headers: bearer(admin) })).json() as {
      items: { kind: string; status: string }[];
    };
    expect(sources.items.some((x) => x.kind === 'file' && x.status === 'done')).toBe(true);
  });

  it('refuses oversized uploads before reading them, and content that is not a capture', async () => {
    const big = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload',
      headers: {
        ...bearer(admin),
        'content-type': 'application/octet-stream',
        'content-length': String(10 * 1024 ** 3),
      },
      payload: Buffer.alloc(16),
    });
    expect(big.statusCode).toBe(413);
    expect(errorCode(big)).toBe('PAYLOAD_TOO_LARGE');
    const chunked = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload',
      headers: { ...bearer(admin), 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(5 * 1024 * 1024, 1),
    });
    expect(chunked.statusCode).toBe(413);
    const junk = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload',
      headers: { ...bearer(admin), 'content-type': 'application/octet-stream' },
      payload: Buffer.from('hello, definitely not a pcap'),
    });
    expect(errorCode(junk)).toBe('INVALID_CAPTURE');
  });

  it('fails an uploaded gzip bomb in its job, without ingesting it', async () => {
    const { gzipSync } = await import('node:zlib');
    const header = readFileSync(PCAP).subarray(0, 24);
    // 200 MB of zeros after a valid pcap header compresses to about 200 KB: a 1000× ratio.
    const bomb = gzipSync(Buffer.concat([header, Buffer.alloc(200 * 1024 * 1024)]), { level: 9 });
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload?name=bomb.pcap.gz',
      headers: { ...bearer(admin), 'content-type': 'application/gzip' },
      payload: bomb,
    });
    expect(res.statusCode, res.body).toBe(202);
    const info = await waitJob((res.json() as { job_id: string }).job_id);
    expect(info.status).toBe('failed');
    expect(info.error).toMatch(/gzip bomb|inflates/);
  });

  it('lets sensor keys upload but not read; validates filters', async () => {
    const { key } = await s.services.apiKeys.create({ id: null, name: 'test' }, { name: 'sensor-upload' });
    const up = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources/upload?name=aria.pcap',
      headers: { ...bearer(key), 'content-type': 'application/octet-stream' },
      payload: readFileSync(join(SHARED_DATA, 'iot-sentinel-train', 'Aria', 'Setup-A-1-STA.pcap')),
    });
    expect(up.statusCode).toBe(202);
    await waitJob((up.json() as { job_id: string }).job_id);
    expect((await s.app.inject({ url: '/api/v1/network-traffic', headers: bearer(key) })).statusCode).toBe(
      403,
    );
    for (const q of [
      'ip=999.1.1.1',
      'port=70000',
      "app=x'%20OR%201=1--",
      'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      'device_id=-1',
    ]) {
      const r = await s.app.inject({ url: `/api/v1/network-traffic?${q}`, headers: bearer(admin) });
      expect(r.statusCode, q).toBe(400);
    }
  });

  it('configures collectors and watched folders (audited)', async () => {
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources',
      headers: bearer(admin),
      payload: { kind: 'netflow', name: 'core router', config: { port: 2055 } },
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const bad = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sources',
      headers: bearer(admin),
      payload: { kind: 'live', name: 'x', config: { interface: 'eth0; rm -rf /' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      (await s.app.inject({ method: 'DELETE', url: `/api/v1/sources/${id}`, headers: bearer(admin) }))
        .statusCode,
    ).toBe(204);
    const audit = await s.services.audit.list({ action: 'source.create', limit: 10 });
    expect(audit.length).toBe(1);
  });
});
