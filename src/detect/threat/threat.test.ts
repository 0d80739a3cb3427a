import { describe, expect, it } from 'vitest';
import type { IngestFlow } from '../../sources/types.js';
import { incidentFlow, labelSimFlows, parseKind, topOriginator } from './dataset.js';
import { flowContexts, THREAT_FEATURES, THREAT_SIGNATURE, threatMatrix } from './features.js';
import { iot23Class, simIncidentClass } from './labels.js';
import { balancedRows, combineVerdicts, scenarioSplits } from './model.js';

function flow(i: number, o: Partial<IngestFlow> = {}): IngestFlow {
  return {
    tsStart: 1_700_000_000_000_000 + i * 1_000_000,
    tsEnd: 1_700_000_000_000_000 + i * 1_000_000 + 500_000,
    srcIp: '10.0.0.5',
    dstIp: `10.0.0.${10 + (i % 7)}`,
    srcPort: 40_000 + i,
    dstPort: [22, 23, 80, 443, 8080][i % 5] ?? 80,
    proto: 6,
    appProto: null,
    bytesOut: 60 + i,
    bytesIn: i % 3 ? 40 : 0,
    packetsOut: 1,
    packetsIn: i % 3 ? 1 : 0,
    payloadBytesOut: 0,
    payloadBytesIn: 0,
    tcpFlagsOut: 0x02,
    tcpFlagsIn: i % 3 ? 0x14 : 0,
    connState: i % 3 ? 'REJ' : 'S0',
    communityId: `1:${i}`,
    srcMac: null,
    dstMac: null,
    vlan: null,
    sni: null,
    httpHost: null,
    dnsNames: [],
    closeReason: 'idle',
    ...o,
  } as IngestFlow;
}

describe('threat labels', () => {
  it('maps IoT-23 detailed labels to the classes', () => {
    expect(iot23Class('benign')).toBe('benign');
    expect(iot23Class('benign -')).toBe('benign');
    expect(iot23Class('Malicious PartOfAHorizontalPortScan')).toBe('scan');
    expect(iot23Class('Malicious C&C')).toBe('c2');
    expect(iot23Class('Malicious C&C-HeartBeat')).toBe('c2');
    expect(iot23Class('Malicious C&C-FileDownload')).toBe('c2');
    expect(iot23Class('Malicious DDoS')).toBe('ddos');
    expect(iot23Class('Malicious Attack')).toBe('exploit');
    expect(iot23Class('Malicious FileDownload')).toBe('download');
    expect(iot23Class('Malicious Okiru')).toBe('other');
    expect(iot23Class('Malicious Mirai')).toBe('other');
    expect(iot23Class('Malicious Torii')).toBe('other');
    expect(iot23Class(null)).toBeNull();
    expect(simIncidentClass('port_scan')).toBe('scan');
    expect(simIncidentClass('mirai_scan')).toBe('scan');
    expect(simIncidentClass('telnet_bruteforce')).toBe('bruteforce');
    expect(simIncidentClass('c2_beacon')).toBe('c2');
    expect(simIncidentClass('ddos')).toBe('ddos');
    expect(simIncidentClass('dns_tunnel')).toBe('other');
    expect(simIncidentClass('new_device')).toBeNull();
    expect(parseKind('btest:bruteforce', 'x')).toBe('btest:bruteforce');
    expect(parseKind('sim:12', 'x')).toBe('sim:12');
    expect(() => parseKind('btest:benign', 'x')).toThrow();
    expect(() => parseKind('nope', 'x')).toThrow();
  });

  it('labels simulator flows from ground truth and finds the attacker of a trace', () => {
    const t0 = 1_700_000_000_000;
    const g = {
      kind: 'c2_beacon' as const,
      deviceId: 'd',
      mac: '',
      ip: '10.0.0.5',
      startMs: t0,
      endMs: t0 + 60_000,
      peer: '10.0.0.11',
      detail: '',
    };
    const flows = [flow(1), flow(2), flow(200)];
    expect(flows.map((f) => incidentFlow(g, f))).toEqual([true, false, false]);
    expect(labelSimFlows(flows, [g])).toEqual(['c2', 'benign', 'benign']);
    expect(topOriginator([flow(1), flow(2, { srcIp: '10.0.0.9' }), flow(3)])).toBe('10.0.0.5');
  });
});

describe('threat features', () => {
  it('are deterministic and independent of input order', () => {
    const flows = Array.from({ length: 50 }, (_, i) => flow(i));
    const a = threatMatrix(flows);
    expect(Array.from(threatMatrix(flows).data)).toEqual(Array.from(a.data));
    expect(a.nCols).toBe(THREAT_FEATURES.features.length);
    expect(THREAT_SIGNATURE.featureNames.length).toBe(a.nCols);
    const rev = [...flows].reverse();
    const b = threatMatrix(rev);
    for (let r = 0; r < flows.length; r++)
      expect(Array.from(b.data.subarray((49 - r) * b.nCols, (50 - r) * b.nCols))).toEqual(
        Array.from(a.data.subarray(r * a.nCols, (r + 1) * a.nCols)),
      );
  });

  it('counts the 60 s per-source context from the past only', () => {
    const flows = Array.from({ length: 100 }, (_, i) => flow(i));
    const ctx = flowContexts(flows);
    expect(ctx[0]).toMatchObject({ srcFlows: 1, srcDistinctDst: 1, srcDistinctDport: 1, pairFlows: 1 });
    expect(ctx[5]?.srcFlows).toBe(6);
    expect(ctx[99]?.srcFlows).toBe(61); // flows 39..99 started within 60 s of flow 99
    expect(ctx[99]?.srcDistinctDst).toBe(7);
    expect(ctx[99]?.srcDistinctDport).toBe(5);
  });
});

describe('threat training helpers', () => {
  it('never puts a scenario on both sides of a split', () => {
    const groups = Array.from({ length: 300 }, (_, i) => `g${i % 7}`);
    for (const folds of [3, 'loso'] as const) {
      const splits = scenarioSplits(groups, folds);
      expect(splits.length).toBe(folds === 'loso' ? 7 : 3);
      for (const s of splits) {
        const tr = new Set(Array.from(s.train, (r) => groups[r]));
        for (const r of s.test) expect(tr.has(groups[r])).toBe(false);
      }
    }
  });

  it('replicates minority classes and keeps rule verdicts on model-benign flows', () => {
    const y = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const rows = balancedRows(y, Int32Array.from(y.keys()));
    expect(rows.filter((r) => r === 12).length).toBe(3);
    const v = combineVerdicts(
      'm1',
      [
        { label: 'benign', score: 0.9 },
        { label: 'scan', score: 0.8 },
        { label: 'benign', score: 0.7 },
      ],
      [
        { label: 'c2', score: 0.6 },
        { label: 'benign', score: 0 },
        { label: 'benign', score: 0 },
      ],
    );
    expect(v).toEqual([
      { label: 'c2', score: 0.6, model: 'rules+m1' },
      { label: 'scan', score: 0.8, model: 'm1' },
      { label: 'benign', score: 0.7, model: 'm1' },
    ]);
  });
});
