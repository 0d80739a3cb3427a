import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasSharedData, SHARED_DATA } from '../test-support/services.js';
import { benignRate, scoreSim, simulateAndDetect } from './evaluate.js';
import { DetectionEngine } from './engine.js';
import { inFlowTimeOrder } from './flow-order.js';
import { detectFile, readFlows } from './offline.js';
import type { Finding } from './types.js';

/** Detection against real captures and the simulator: attacks found, benign traffic quiet. */
const IOT23 = join(SHARED_DATA, 'iot23-dev');
const BTEST = join(SHARED_DATA, 'zeek-btest-traces', 'Traces');

describe.skipIf(!hasSharedData)('detection on real captures', () => {
  it('IoT-23 42-1: the infected host is alerted (C&C), from the pcap and from the labelled conn.log', async () => {
    for (const f of [
      join(IOT23, 'CTU-IoT-Malware-Capture-42-1', '2019-01-10-14-34-38-192.168.1.197.pcap'),
      join(IOT23, 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled'),
    ]) {
      const r = await detectFile(f);
      const hosts = new Set(r.findings.filter((x) => x.threat).map((x) => x.device?.ip));
      expect(hosts).toEqual(new Set(['192.168.1.197']));
      expect(r.findings[0]).toMatchObject({ kind: 'c2_beacon', peer: '185.244.25.183' });
    }
  });

  it('benign captures stay quiet: IoT-23 4-1 (conn.log and Hue pcap), Yi camera, every IoT Sentinel capture', async () => {
    const files = [
      join(IOT23, 'CTU-Honeypot-Capture-4-1', 'bro', 'conn.log.labeled'),
      join(IOT23, 'CTU-Honeypot-Capture-4-1', '2018-09-14-13-40-25-Philips-Hue-Bridge.pcap'),
      join(SHARED_DATA, 'moniotr-sample', 'yi_camera_sample.pcap'),
    ];
    const sentinel = join(SHARED_DATA, 'iot-sentinel-train');
    for (const d of readdirSync(sentinel, { withFileTypes: true }))
      if (d.isDirectory())
        for (const f of readdirSync(join(sentinel, d.name)))
          if (f.endsWith('.pcap')) files.push(join(sentinel, d.name, f));
    expect(files.length).toBeGreaterThan(300);
    for (const f of files) {
      const r = await detectFile(f);
      const rate = benignRate(r.flows, r.findings);
      expect({ f, ...rate }).toMatchObject({
        f,
        perDeviceDay: expect.toSatisfy((v: number) => v <= 1) as number,
      });
      expect({ f, alerts: rate.alerts }).toEqual({ f, alerts: 0 });
    }
  });

  it('a batch processed in parts (as ingest does, a turn of the event loop between them) finds the same', async () => {
    const { flows } = await readFlows(
      join(IOT23, 'CTU-IoT-Malware-Capture-42-1', '2019-01-10-14-34-38-192.168.1.197.pcap'),
    );
    const sorted = inFlowTimeOrder(flows);
    const whole = new DetectionEngine();
    const expected = [...whole.processInOrder(sorted), ...whole.flush()];
    expect(expected.length).toBeGreaterThan(0);
    const parts = new DetectionEngine();
    const found: Finding[] = [];
    for (let i = 0; i < sorted.length; i += 97)
      parts.processInOrder(sorted, i, Math.min(sorted.length, i + 97), found);
    expect([...found, ...parts.flush()]).toEqual(expected);
    expect(parts.flowsSeen).toBe(sorted.length);
  });

  it('Zeek btest attack traces: FTP brute force and SSH password guessing', async () => {
    const ftp = await detectFile(join(BTEST, 'ftp', 'bruteforce.pcap'));
    expect(ftp.findings.find((f) => f.kind === 'bruteforce')).toMatchObject({ evidence: { service: 'ftp' } });
    const ssh = await detectFile(join(BTEST, 'ssh', 'sshguess.pcap'));
    expect(ssh.findings.find((f) => f.kind === 'bruteforce')).toMatchObject({ evidence: { service: 'ssh' } });
    // Labels: the brute-force flows are labelled bruteforce.
    expect(ssh.labels.filter((l) => l.label === 'bruteforce').length).toBeGreaterThanOrEqual(10);
  });
});

describe('detection on the simulator', () => {
  it('finds every incident, with few false alerts on the other devices', async () => {
    const run = await simulateAndDetect({
      seed: 11,
      hours: 1.5,
      incidents: [
        { kind: 'port_scan', afterMin: 5 },
        { kind: 'telnet_bruteforce', afterMin: 10, durationMin: 5 },
        { kind: 'mirai_scan', afterMin: 20, durationMin: 3 },
        { kind: 'c2_beacon', afterMin: 30, durationMin: 25 },
        { kind: 'ddos', afterMin: 60, durationMin: 1 },
        { kind: 'dns_tunnel', afterMin: 70, durationMin: 4 },
      ],
    });
    const s = scoreSim(run);
    expect(Object.values(s.detected)).toHaveLength(6);
    expect(s.detected).toEqual(Object.fromEntries(Object.keys(s.detected).map((k) => [k, true])));
    expect(s.falseAlerts).toEqual([]);
  });
});
