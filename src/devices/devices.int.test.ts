import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { EVENTS_CHANNEL } from '../bus/events.js';
import type { BusEvent } from '../bus/types.js';
import type { Observation } from '../flows/observations.js';
import { ingestFile } from '../ingest/file-ingest.js';
import { IngestWriter } from '../ingest/writer.js';
import { ModelRegistry } from '../ml/registry/registry.js';
import type { SourceItem } from '../sources/types.js';
import { queryRows, type Store } from '../store/db.js';
import { bearer, makeStack, stackKinds, type Stack } from '../test-support/api.js';
import { dropSchema, hasSharedData, SHARED_DATA, storeEngines } from '../test-support/services.js';
import { simulateTraffic } from '../test-support/sim-traffic.js';
import { classifyCapture } from './classify.js';
import { LabelsError, loadLabelledSamples, readLabels } from './labels.js';
import { loadDeviceTypeModel, registerTrained, trainFromLabels } from './model-store.js';
import { afterIngestBatch, configureIdentification, identifyDevices } from './service.js';

const SENTINEL = join(SHARED_DATA, 'iot-sentinel-train');
const TYPES = ['Aria', 'HueBridge', 'TP-LinkPlugHS110', 'D-LinkCam', 'WeMoLink'];

/** A labels CSV with the first `n` captures of each of TYPES (paths relative to the CSV's folder). */
function subsetLabels(dir: string, n: number, skip = 0): { file: string; rows: string[][] } {
  const all = readFileSync(join(SENTINEL, 'labels.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
  const rows = TYPES.flatMap((t) => all.filter((r) => r[2] === t).slice(skip, skip + n));
  const file = join(dir, `labels-${n}-${skip}.csv`);
  writeFileSync(
    file,
    ['pcap,mac,device_type', ...rows.map((r) => `${join(SENTINEL, r[0] as string)},${r[1]},${r[2]}`)].join(
      '\n',
    ),
  );
  return { file, rows };
}

const obs = (kind: Observation['kind'], mac: string, value: string, tsMicros: number): SourceItem => ({
  kind: 'observation',
  observation: { kind, mac, ip: '192.168.1.50', value, tsMicros },
});

describe.each(await storeEngines())('randomized MAC merging ($name)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    configureIdentification({ useModel: false });
  });
  afterAll(async () => store?.close());

  it('merges a rotated locally administered MAC into the device with the same host name, once', async () => {
    const writer = new IngestWriter(store);
    const bus = { publish: async () => 1 } as unknown as Parameters<typeof afterIngestBatch>[0]['bus'];
    const t0 = Date.parse('2024-05-01T10:00:00Z') * 1000;
    const batch = async (items: SourceItem[]) =>
      afterIngestBatch({ store, bus }, items, await writer.write(items));
    const first = await batch([
      obs('dhcp_hostname', '3a:11:22:33:44:55', 'Johns-Pixel-7', t0),
      obs('dhcp_vendor', '3a:11:22:33:44:55', 'android-dhcp-13', t0),
    ]);
    expect(first).toHaveLength(1);
    // An hour later, a new randomized MAC with the same host name: the same phone.
    const second = await batch([obs('dhcp_hostname', '6e:aa:bb:cc:dd:ee', 'Johns-Pixel-7', t0 + 3600e6)]);
    expect(second).toEqual([]);
    // An unrelated device with a generic name is not merged.
    const third = await batch([obs('dhcp_hostname', '7a:00:00:00:00:01', 'android', t0 + 3601e6)]);
    expect(third).toHaveLength(1);
    const devices = await queryRows<{ id: number; mac: string; device_type: string }>(
      store.db,
      sql`SELECT id::int8 AS id, mac, device_type FROM devices ORDER BY id`,
    );
    expect(devices.map((d) => d.mac)).toEqual(['6e:aa:bb:cc:dd:ee', '7a:00:00:00:00:01']);
    expect(devices[0]?.device_type).toBe('phone');
    const alerts = await queryRows<{ dedup_key: string }>(
      store.db,
      sql`SELECT dedup_key FROM alerts WHERE kind = 'new_device' ORDER BY id`,
    );
    expect(alerts.map((a) => a.dedup_key)).toEqual([
      `new_device:${devices[0]?.id}`,
      `new_device:${devices[1]?.id}`,
    ]);
    const alias = await queryRows<{ value: string }>(
      store.db,
      sql`SELECT value FROM device_signals WHERE kind = 'mac_alias'`,
    );
    expect(alias.map((a) => a.value)).toEqual(['3a:11:22:33:44:55']);
    // Later traffic from the current MAC lands on the same device.
    expect(await batch([obs('dhcp_hostname', '6e:aa:bb:cc:dd:ee', 'Johns-Pixel-7', t0 + 7200e6)])).toEqual(
      [],
    );
    expect((await queryRows(store.db, sql`SELECT id FROM devices`)).length).toBe(2);
  });

  it('keeps a simulated phone rotating its MAC every ~35 minutes for 14 hours as one device', async () => {
    // The demo network's phone through the real decoders and flow table: connections opened before a
    // rotation outlive it, and answers to the old MAC arrive after the new one appeared.
    const { net, batches } = simulateTraffic({
      seed: 5,
      startMs: Date.parse('2026-03-02T00:00:00Z'),
      hours: 14,
      batchMinutes: 10,
      keep: ['phone-iphone'],
    });
    const phone = net.devices().find((d) => d.id === 'phone-iphone');
    expect(phone?.macs.length).toBeGreaterThan(15);
    const writer = new IngestWriter(store);
    const bus = { publish: async () => 1 } as unknown as Parameters<typeof afterIngestBatch>[0]['bus'];
    const fresh: string[] = [];
    for (const b of batches) {
      const res = await afterIngestBatch({ store, bus }, b.items, await writer.write(b.items));
      fresh.push(...res.map((d) => d.mac ?? ''));
    }
    const macs = new Set(phone?.macs);
    expect(fresh.filter((m) => macs.has(m))).toHaveLength(1);
    const rows = await queryRows<{ id: number; aliases: number }>(
      store.db,
      sql`SELECT d.id::int8 AS id, (SELECT count(*)::int8 FROM device_signals s
            WHERE s.device_id = d.id AND s.kind = 'mac_alias') AS aliases
          FROM devices d WHERE d.mac = ANY(${sql.param([...macs])}::text[])`,
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.aliases)).toBe((phone?.macs.length ?? 0) - 1);
  });
});

describe.each(await storeEngines())('UPnP device descriptions ($name)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    configureIdentification({ useModel: false });
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  it('takes maker, model and firmware from a served description, and infers the CPEs from them', async () => {
    // Two simulated hours of the demo camera: its description (upnpdevicedesc.xml) is fetched over HTTP by
    // the home server, decoded from the packets, and stored as signals of the camera.
    const { batches } = simulateTraffic({
      seed: 5,
      startMs: Date.parse('2026-11-20T10:00:00Z'),
      hours: 2,
      batchMinutes: 30,
      keep: ['cam-hikvision'],
    });
    const writer = new IngestWriter(store);
    const bus = { publish: async () => 1 } as unknown as Parameters<typeof afterIngestBatch>[0]['bus'];
    for (const b of batches) await afterIngestBatch({ store, bus }, b.items, await writer.write(b.items));
    const [cam] = await queryRows<{ id: number }>(
      store.db,
      sql`SELECT d.id::int8 AS id FROM devices d JOIN device_signals s ON s.device_id = d.id
          WHERE s.kind = 'upnp_model' LIMIT 1`,
    );
    expect(cam).toBeDefined();
    const id = Number(cam?.id);
    await identifyDevices({ store, bus: null }, [id]);
    const [d] = await queryRows<{
      vendor: string;
      model: string;
      firmware: string;
      cpe23: string[];
      evidence: { text: string }[];
    }>(store.db, sql`SELECT vendor, model, firmware, cpe23, evidence FROM devices WHERE id = ${id}`);
    expect(d).toMatchObject({ model: 'DS-2CD2143G0-I', firmware: 'V5.5.82' });
    expect(d?.cpe23).toContain('cpe:2.3:o:hikvision:ds-2cd2143g0-i_firmware:5.5.82:*:*:*:*:*:*:*');
    expect(d?.evidence.map((e) => e.text)).toContainEqual(
      expect.stringContaining(
        "Device description (UPnP/HNAP): manufacturer 'Hikvision', model 'DS-2CD2143G0-I'",
      ),
    );
  });
});

describe.runIf(hasSharedData)('device-type training and classification on IoT Sentinel captures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotsec-devtype-'));

  it('fails on bad labels naming the line, before training', async () => {
    const bad = join(dir, 'bad.csv');
    const { rows } = subsetLabels(dir, 1);
    const good = rows.map((r) => `${join(SENTINEL, r[0] as string)},${r[1]},${r[2]}`);
    const expectLine = async (lines: string[], line: number, msg: RegExp) => {
      writeFileSync(bad, ['pcap,mac,device_type', ...lines].join('\n'));
      const err = await readLabels(bad)
        .then((r) => loadLabelledSamples(bad, r))
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(LabelsError);
      expect((err as LabelsError).line).toBe(line);
      expect((err as Error).message).toMatch(msg);
    };
    await expectLine(
      [good[0] as string, 'missing.pcap,00:11:22:33:44:55,X'],
      3,
      /no such capture file: missing\.pcap/,
    );
    await expectLine(
      [good[0] as string, good[1] as string, `${join(SENTINEL, rows[0]?.[0] as string)},00:11:22:33:44:55,X`],
      4,
      /MAC 00:11:22:33:44:55 does not appear/,
    );
    await expectLine(['a.pcap,not-a-mac'], 2, /expected 3 fields/);
    await expectLine([`${join(SENTINEL, rows[0]?.[0] as string)},zz:zz,X`], 2, /not a MAC address/);
  });

  it('trains on a subset grouped by capture and classifies held-out captures in memory', async () => {
    const { file } = subsetLabels(dir, 6);
    const out = await trainFromLabels(file, { cvFolds: 3, nEstimators: 40 });
    const m = out.metrics as { accuracy: number; folds: number; confusion: { labels: string[] } };
    expect(m.folds).toBe(3);
    expect(m.confusion.labels).toEqual([...TYPES].sort());
    expect(m.accuracy).toBeGreaterThanOrEqual(0.9);
    const { RandomForestClassifier } = await import('../ml/random-forest.js');
    const model = {
      id: 'test-model',
      version: 1,
      model: RandomForestClassifier.fromJSON(out.envelope),
      classes: out.trainingSummary['class_names'] as string[],
    };
    const held = subsetLabels(dir, 2, 10).rows;
    let right = 0;
    for (const [pcap, mac, type] of held) {
      const { lines } = await classifyCapture(join(SENTINEL, pcap as string), { model });
      const line = lines.find((l) => l.mac === mac);
      expect(line).toBeDefined();
      expect(Object.keys(line ?? {})).toEqual([
        'pcap',
        'mac',
        'ip',
        'vendor',
        'device_type',
        'confidence',
        'model',
        'evidence',
      ]);
      expect(line?.evidence.length).toBeGreaterThan(0);
      if (line?.device_type === type) right++;
    }
    expect(right).toBeGreaterThanOrEqual(held.length - 1);
  });
});

describe.runIf(hasSharedData).each(await stackKinds())('devices API (%s)', (kind) => {
  let s: Stack;
  let analyst: string;
  let viewer: string;
  const events: BusEvent[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'iotsec-devapi-'));

  beforeAll(async () => {
    s = await makeStack(kind, { API_RATE_LIMIT: '100000' });
    configureIdentification({ dataDir: s.config.dataDir, useModel: true });
    await s.services.bus.subscribe(EVENTS_CHANNEL, (e) => void events.push(e));
    const actor = { id: null, name: 'test' };
    for (const role of ['analyst', 'viewer'] as const) {
      await s.services.users.create(actor, { username: `d-${role}`, password: 'device-password-1', role });
    }
    const login = async (u: string) =>
      (
        (
          await s.app.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { username: u, password: 'device-password-1' },
          })
        ).json() as { access_token: string }
      ).access_token;
    analyst = await login('d-analyst');
    viewer = await login('d-viewer');
  });
  afterAll(async () => s?.close());

  it('identifies ingested devices with the production model; a hand correction survives re-identification and retraining', async () => {
    const registry = new ModelRegistry({
      db: s.services.store.db,
      audit: new AuditLog(s.services.store.db),
      dataDir: s.config.dataDir,
    });
    const { file } = subsetLabels(dir, 5);
    const v1 = await registerTrained(registry, await trainFromLabels(file, { cvFolds: 0, nEstimators: 30 }), {
      promote: true,
    });
    expect((await loadDeviceTypeModel(registry))?.id).toBe(v1.id);

    const pcap = join(SENTINEL, 'TP-LinkPlugHS110', 'Setup-C-6-STA.pcap');
    const summary = await ingestFile(s.services, pcap);
    expect(summary.new_devices).toBeGreaterThan(0);
    const list = await s.app.inject({
      method: 'GET',
      url: '/api/v1/devices?q=50:c7:bf',
      headers: bearer(viewer),
    });
    expect(list.statusCode).toBe(200);
    const dev = (
      list.json() as {
        items: { id: number; device_type: string; type_source: string; vendor: string; status: string }[];
      }
    ).items[0];
    // The model (1.00) is more confident than the TP-Link rule (0.94); the rule still names the vendor.
    expect(dev).toMatchObject({ type_source: 'model', device_type: 'TP-LinkPlugHS110', vendor: 'TP-Link' });
    const id = dev?.id as number;
    expect(events.some((e) => e.type === 'new_device')).toBe(true);
    const alerts = await queryRows<{ n: number }>(
      s.services.store.db,
      sql`SELECT count(*)::int AS n FROM alerts WHERE dedup_key = ${`new_device:${id}`}`,
    );
    expect(Number(alerts[0]?.n)).toBe(1);

    const detail = await s.app.inject({
      method: 'GET',
      url: `/api/v1/devices/${id}`,
      headers: bearer(viewer),
    });
    const body = detail.json() as {
      evidence: { text: string; source: string }[];
      addresses: unknown[];
      cpe23: string[];
    };
    expect(body.evidence.some((e) => e.source === 'model')).toBe(true);
    expect(body.evidence.some((e) => /tplinkcloud\.com/.test(e.text))).toBe(true);
    expect(body.addresses.length).toBeGreaterThan(0);
    const sig = await s.app.inject({
      method: 'GET',
      url: `/api/v1/devices/${id}/signals?kind=oui`,
      headers: bearer(viewer),
    });
    expect((sig.json() as { items: { value: string }[] }).items[0]?.value).toMatch(/TP-LINK/i);
    const traffic = await s.app.inject({
      method: 'GET',
      url: `/api/v1/devices/${id}/traffic?from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&bucket=86400`,
      headers: bearer(viewer),
    });
    expect(traffic.statusCode).toBe(200);

    // Viewers cannot correct; analysts can, audited, as labelled feedback.
    expect(
      (
        await s.app.inject({
          method: 'PATCH',
          url: `/api/v1/devices/${id}`,
          headers: bearer(viewer),
          payload: { device_type: 'x' },
        })
      ).statusCode,
    ).toBe(403);
    const patched = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/devices/${id}`,
      headers: bearer(analyst),
      payload: {
        device_type: 'energy_meter_plug',
        model: 'HS110 v2',
        tags: ['kitchen'],
        cpe23: ['cpe:2.3:h:tp-link:hs110:2.0:*:*:*:*:*:*:*'],
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      device_type: 'energy_meter_plug',
      type_source: 'user',
      confidence: 1,
      model: 'HS110 v2',
    });
    const bad = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/devices/${id}`,
      headers: bearer(analyst),
      payload: { cpe23: ['nope'] },
    });
    expect(bad.statusCode).toBe(400);

    const v2 = await registerTrained(registry, await trainFromLabels(file, { cvFolds: 0, nEstimators: 31 }), {
      promote: true,
    });
    expect(v2.id).not.toBe(v1.id);
    await identifyDevices({ store: s.services.store, bus: s.services.bus }, [id]);
    await ingestFile(s.services, pcap, { force: true });
    const after = (
      await s.app.inject({ method: 'GET', url: `/api/v1/devices/${id}`, headers: bearer(viewer) })
    ).json() as Record<string, unknown>;
    expect(after).toMatchObject({
      device_type: 'energy_meter_plug',
      type_source: 'user',
      model: 'HS110 v2',
      cpe23: ['cpe:2.3:h:tp-link:hs110:2.0:*:*:*:*:*:*:*'],
    });
    const fb = await s.app.inject({
      method: 'GET',
      url: '/api/v1/devices/feedback',
      headers: bearer(analyst),
    });
    expect((fb.json() as { items: { device_id: number; label: string }[] }).items[0]).toMatchObject({
      device_id: id,
      label: 'energy_meter_plug',
    });
    const audit = await queryRows<{ action: string }>(
      s.services.store.db,
      sql`SELECT action FROM audit_log WHERE target = ${`device:${id}`}`,
    );
    expect(audit.map((a) => a.action)).toContain('device.correct');
  });

  it('filters, sorts and pages the inventory, merges by hand, and manages user rules', async () => {
    await ingestFile(s.services, join(SENTINEL, 'HueBridge', 'Setup-A-1-STA.pcap'));
    const all = (
      await s.app.inject({ method: 'GET', url: '/api/v1/devices?limit=1000', headers: bearer(viewer) })
    ).json() as {
      items: { id: number; mac: string; online: boolean }[];
    };
    expect(all.items.length).toBeGreaterThanOrEqual(3);
    expect(all.items.every((d) => d.online === false)).toBe(true); // captures from 2016
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await s.app.inject({
        method: 'GET',
        url: `/api/v1/devices?limit=1&sort=vendor&order=asc${cursor ? `&cursor=${cursor}` : ''}`,
        headers: bearer(viewer),
      });
      const page = res.json() as { items: { id: number }[]; next_cursor: string | null };
      seen.push(...page.items.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(all.items.length);
    expect(
      (
        await s.app.inject({ method: 'GET', url: '/api/v1/devices?online=true', headers: bearer(viewer) })
      ).json(),
    ).toMatchObject({ items: [] });
    expect(
      (await s.app.inject({ method: 'GET', url: '/api/v1/devices?sort=password', headers: bearer(viewer) }))
        .statusCode,
    ).toBe(400);

    const [a, b] = all.items;
    const merged = await s.app.inject({
      method: 'POST',
      url: '/api/v1/devices/merge',
      headers: bearer(analyst),
      payload: { from_id: b?.id, into_id: a?.id },
    });
    expect(merged.statusCode).toBe(200);
    expect(
      (await s.app.inject({ method: 'GET', url: `/api/v1/devices/${b?.id}`, headers: bearer(viewer) }))
        .statusCode,
    ).toBe(404);

    const rule = {
      id: 'lab-plug',
      when: [{ kind: 'dns_query', suffix: 'tplinkcloud.com' }],
      set: { device_type: 'lab_plug' },
      confidence: 0.99,
    };
    expect(
      (
        await s.app.inject({
          method: 'POST',
          url: '/api/v1/devices/rules',
          headers: bearer(viewer),
          payload: rule,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await s.app.inject({
          method: 'POST',
          url: '/api/v1/devices/rules',
          headers: bearer(analyst),
          payload: rule,
        })
      ).statusCode,
    ).toBe(201);
    const rules = (
      await s.app.inject({ method: 'GET', url: '/api/v1/devices/rules', headers: bearer(viewer) })
    ).json() as { items: { id: string }[] };
    expect(rules.items.map((r) => r.id)).toEqual(['lab-plug']);
    expect(
      (await s.app.inject({ method: 'DELETE', url: '/api/v1/devices/rules/nope', headers: bearer(analyst) }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await s.app.inject({
          method: 'DELETE',
          url: '/api/v1/devices/rules/lab-plug',
          headers: bearer(analyst),
        })
      ).statusCode,
    ).toBe(204);
  });
});
