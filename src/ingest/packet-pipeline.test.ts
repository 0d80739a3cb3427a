import { describe, expect, it } from 'vitest';
import type { Observation } from '../flows/observations.js';
import { DEVICE_CATALOGUE } from '../sim/devices.js';
import { createDemoNetwork } from '../sim/network.js';
import { PacketPipeline } from './packet-pipeline.js';

describe('PacketPipeline', () => {
  it('reports the UPnP descriptions the simulated devices serve over HTTP, for the devices themselves', () => {
    const start = Date.UTC(2024, 4, 1, 11);
    const net = createDemoNetwork({ seed: 7, startMs: start });
    const pipe = new PacketPipeline();
    const obs: Observation[] = [];
    const collect = (items: ReturnType<PacketPipeline['take']>) => {
      for (const it of items)
        if (it.kind === 'observation' && it.observation.kind.startsWith('upnp_')) obs.push(it.observation);
    };
    for (let t = start; t < start + 5 * 60_000; t += 60_000) {
      for (const f of net.nextBatch(t)) pipe.add(1, f.frame, f.tsMicros);
      collect(pipe.take());
    }
    collect(pipe.finish());

    const upnp = DEVICE_CATALOGUE.filter((d) => d.ssdp);
    expect(upnp.length).toBeGreaterThan(3);
    for (const d of upnp) {
      const mine = obs.filter((o) => o.mac?.startsWith(d.oui));
      const value = (kind: string) => mine.find((o) => o.kind === kind)?.value;
      expect(value('upnp_manufacturer'), d.id).toBe(d.vendor);
      expect(value('upnp_firmware'), d.id).toBe(d.firmware);
      expect(value('upnp_model'), d.id).toMatch(
        new RegExp(`^${d.model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
      expect(value('upnp_device_type'), d.id).toBe(d.ssdp?.deviceType);
      expect(value('upnp_friendly_name'), d.id).toBeTruthy();
      expect(new Set(mine.map((o) => o.ip)).size, d.id).toBe(1);
    }
    expect(pipe.stats.errors.http_body_skipped).toBeUndefined();
  });
});
