import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../wire/packet/types.js';
import { randomChunks } from '../../wire/test-support/data.js';
import type { SourceItem } from '../types.js';
import { readSuricataEve } from './eve.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-fixtures', 'eve.jsonl');

async function collect(input: Parameters<typeof readSuricataEve>[0], opts = {}) {
  const reader = readSuricataEve(input, opts);
  const items: SourceItem[] = [];
  for await (const it of reader) items.push(it);
  return { items, reader };
}

describe('Suricata EVE', () => {
  it('flows, alerts and observations from the fixture; bad lines counted with line numbers', async () => {
    const { items, reader } = await collect(FIXTURE);
    const flows = items.flatMap((i) => (i.kind === 'flow' ? [i.flow] : []));
    const alerts = items.flatMap((i) => (i.kind === 'alert' ? [i.alert] : []));
    const obs = items.flatMap((i) => (i.kind === 'observation' ? [i.observation] : []));
    expect(flows).toHaveLength(4);
    expect(flows[0]).toEqual({
      tsStart: Date.UTC(2024, 2, 1, 10, 0, 0) * 1000 + 100,
      tsEnd: Date.UTC(2024, 2, 1, 10, 0, 4) * 1000 + 500_200,
      srcIp: '192.168.1.50',
      dstIp: '93.184.216.34',
      srcPort: 49152,
      dstPort: 443,
      proto: 6,
      appProto: 'tls',
      bytesOut: 1800,
      bytesIn: 9000,
      packetsOut: 12,
      packetsIn: 10,
      payloadBytesOut: 0,
      payloadBytesIn: 0,
      tcpFlagsOut: 0x1b,
      tcpFlagsIn: 0x1b,
      connState: 'SF',
      communityId: '1:F7vheghEO2DpEoDgsqpK9p6NtTA=',
      srcMac: 'aa:bb:cc:00:00:50',
      dstMac: 'aa:bb:cc:00:00:01',
      vlan: null,
      sni: null,
      httpHost: null,
      dnsNames: [],
      closeReason: 'fin',
      uid: null,
      label: null,
    });
    expect(flows[1]).toMatchObject({ proto: 17, appProto: 'dns', connState: 'SF', closeReason: 'idle' });
    expect(flows[2]).toMatchObject({ proto: 1, srcPort: 8, dstPort: 0, appProto: null, packetsOut: 3 });
    expect(flows[3]).toMatchObject({
      srcIp: '2001:db8::50',
      dstIp: '2001:db8::1',
      vlan: 10,
      connState: 'REJ',
      closeReason: 'rst',
      tcpFlagsOut: TcpFlag.SYN,
      tcpFlagsIn: TcpFlag.RST | TcpFlag.ACK,
      appProto: 'telnet',
    });
    expect(alerts).toEqual([
      {
        tsMicros: Date.UTC(2024, 2, 1, 10, 0, 9) * 1000 + 500_000,
        engine: 'suricata',
        signatureId: 2023452,
        signature: 'ET SCAN Possible Mirai Telnet Scan',
        category: 'Attempted Information Leak',
        severity: 2,
        srcIp: '192.168.1.66',
        srcPort: 40000,
        dstIp: '203.0.113.9',
        dstPort: 23,
        proto: 6,
        communityId: '1:Fp5HfPTQoAmGjO97q3y6qUTI1cU=',
      },
    ]);
    expect(obs.map((o) => `${o.kind}=${o.value}@${o.ip}/${o.mac}`)).toEqual([
      'dns_query=iot.example.com@192.168.1.50/aa:bb:cc:00:00:50',
      'dns_query=time.vendor.example@192.168.1.51/null',
      'tls_sni=cloud.vendor.example@192.168.1.50/null',
      'tls_ja3=e7d705a3286e19ea42f587b344ee6865@192.168.1.50/null',
      'tls_ja4=t12d0204h2_0b5ca7e1b6e0_4cd8a2ad0f4b@192.168.1.50/null',
      'http_user_agent=IPCam/1.2 (Linux)@192.168.1.52/null',
      'dhcp_hostname=smart-plug-53@null/aa:bb:cc:00:00:53',
      'dhcp_vendor=udhcp 1.24.1@null/aa:bb:cc:00:00:53',
      'dhcp_requested_ip=192.168.1.53@null/aa:bb:cc:00:00:53',
    ]);
    expect(reader.state.skipped).toBe(2); // stats, anomaly
    expect(reader.state.stats).toMatchObject({ records: 14, flows: 4, errors: { malformed: 2 } });
    expect(reader.state.lineErrors.map((e) => e.line)).toEqual([15, 16]);
    expect(reader.state.lineErrors[0]?.message).toContain('eve.jsonl:15 (byte ');
    expect(reader.state.offset).toBe(readFileSync(FIXTURE).length);
  });

  it('same items however the stream is chunked; resume from a checkpoint', async () => {
    const bytes = new Uint8Array(readFileSync(FIXTURE));
    const whole = (await collect(FIXTURE)).items;
    const chunked = (await collect(Readable.from(randomChunks(bytes, 9, 64)))).items;
    expect(chunked).toEqual(whole);
    const reader = readSuricataEve(FIXTURE);
    let seen = 0;
    let checkpoint = 0;
    for await (const _ of reader) {
      seen++;
      checkpoint = reader.state.offset;
      if (seen === 5) break;
    }
    const rest = (await collect(FIXTURE, { startOffset: checkpoint })).items;
    expect([...whole.slice(0, 5), ...rest]).toEqual(whole);
  });

  it('fuzz: mutated fixture lines and random text never throw', async () => {
    const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.nat(),
        fc.string({ maxLength: 8 }),
        fc.array(fc.string({ maxLength: 100 }), { maxLength: 5 }),
        async (li, at, ins, extra) => {
          const l = lines[li] ?? '';
          const p = at % (l.length + 1);
          const text = [l.slice(0, p) + ins + l.slice(p + ins.length), ...extra].join('\n');
          const { reader } = await collect(Readable.from([Buffer.from(text)]));
          expect(reader.state.lines).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
    // Type confusion on every field of a real event.
    const flow = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    for (const k of Object.keys(flow)) {
      for (const v of [null, 1e308, -1, 'x', [], {}, true]) {
        const { reader } = await collect(Readable.from([Buffer.from(JSON.stringify({ ...flow, [k]: v }))]));
        expect(reader.state.lines).toBe(1);
      }
    }
  });
});
