import { pipelineFalseAlerts } from './detect-pipeline.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { benignRate, scoreSim, simulateAndDetect } from '../src/detect/evaluate.js';
import { detectFile } from '../src/detect/offline.js';
import { loadScenario, type LabelledScenario, type SourceSpec } from '../src/detect/threat/dataset.js';
import { buildDataset, evaluateByScenario, scenarioSplits } from '../src/detect/threat/model.js';
import { compare, type BenchResult, type Group } from './harness.js';

/**
 * Detection quality (issue 7): infected hosts alerted on IoT-23 42-1 and on the simulator's incidents, false
 * alerts per benign device per day on benign captures (goal ≤ 1) and on a benign simulated day. The
 * detectors are rules; the threat classifier (gradient boosting, src/detect/threat) is reported as macro-F1
 * by leave-one-scenario-out with its per-class table. Kitsune (Mirsky et al., NDSS 2018) is the anchor in the
 * text only: it scores packets of one Mirai capture with an autoencoder ensemble and reports per-packet
 * detection rates, not per-host alerts, so no number of ours divides by one of theirs.
 */
export const detectGroup: Group = {
  name: 'detect',
  description:
    'Rule detectors (src/detect) on IoT-23 42-1 (infected host), the simulator incidents, and benign captures ' +
    '(IoT-23 4-1, Yi camera, IoT Sentinel); quality per host and false alerts per benign device per day. ' +
    'Kitsune (Mirsky et al., NDSS 2018) detects its Mirai capture with an unsupervised autoencoder ensemble ' +
    'scoring every packet after a benign training period, reported as per-packet detection rates on that one ' +
    'capture; ours are explicit rules judged per infected host and per benign device-day, without training, ' +
    'so the figures are not divided into a ratio. Per flow, the rules disagree with IoT-23 42-1 labels: they ' +
    'flag the 4975/tcp C&C re-dialling (labelled benign there) and miss the 6 HTTP downloads labelled ' +
    'malicious. The threat classifier (gradient-boosted trees on flow features) is scored by ' +
    'leave-one-scenario-out macro-F1 over simulator runs, IoT-23 conn logs, Zeek attack traces and benign captures. ' +
    'The 36 h simulator line runs the whole product path (ingest writer on embedded PGlite, rules, per-device ' +
    'isolation-forest baselines, per-type LSTM, destination profiles, the worker job every hour); the learning ' +
    'periods are inside the measured time, as in a real deployment.',
  async run(ctx) {
    const out: BenchResult[] = [];
    const emit = (r: BenchResult) => {
      out.push(r);
      ctx.emit(r);
    };
    const iot23 = join(ctx.sharedData, 'iot23-dev');
    for (const [name, file] of [
      [
        'IoT-23 42-1 pcap',
        join(iot23, 'CTU-IoT-Malware-Capture-42-1', '2019-01-10-14-34-38-192.168.1.197.pcap'),
      ],
      ['IoT-23 42-1 conn.log', join(iot23, 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled')],
    ] as const) {
      const r = await detectFile(file);
      const hosts = new Set(r.findings.filter((f) => f.threat).map((f) => f.device?.ip));
      const hit = hosts.has('192.168.1.197') ? 1 : 0;
      // Per flow against IoT-23's labels (its 6 malicious flows are HTTP downloads; the 4975/tcp C&C
      // re-dialling we flag is labelled benign in this file).
      let tp = 0;
      let fp = 0;
      let fn = 0;
      r.flows.forEach((f, i) => {
        const mal = /malicious/i.test(f.label ?? '');
        const flagged = (r.labels[i]?.label ?? 'benign') !== 'benign';
        if (mal && flagged) tp++;
        else if (!mal && flagged) fp++;
        else if (mal) fn++;
      });
      emit(
        compare(
          {
            group: 'detect',
            name: `${name}: infected hosts alerted`,
            ours: hit,
            anchor: 'every infected host (1)',
            anchor_value: 1,
            unit: 'share of infected hosts',
            goal: '= 1',
            quality: {
              findings: r.findings.length,
              kinds: [...new Set(r.findings.map((f) => f.kind))],
              false_hosts: [...hosts].filter((h) => h !== '192.168.1.197').length,
              per_flow_vs_iot23_labels: r.format === 'zeek' ? { tp, fp, fn } : 'pcap has no labels',
            },
          },
          'higher',
          (_r, ours) => ours === 1,
        ),
      );
    }

    const sim = await simulateAndDetect({
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
    const s = scoreSim(sim);
    const found = Object.values(s.detected).filter(Boolean).length;
    emit(
      compare(
        {
          group: 'detect',
          name: 'simulator incidents alerted (6 kinds)',
          ours: found / Math.max(1, Object.keys(s.detected).length),
          anchor: 'every incident',
          anchor_value: 1,
          unit: 'share of incidents',
          goal: '= 1',
          quality: { detected: s.detected, false_alerts: s.falseAlerts, flows: sim.flows.length },
        },
        'higher',
        (_r, ours) => ours === 1,
      ),
    );

    const benignSim = await simulateAndDetect({ seed: 5, hours: 12, incidents: [] });
    const bs = scoreSim(benignSim);
    emit(
      compare(
        {
          group: 'detect',
          name: 'simulator, 12 h without incidents: false alerts per device per day',
          ours: bs.falsePerDeviceDay,
          anchor: 'budget',
          anchor_value: 1,
          unit: 'alerts/device/day',
          goal: '<= 1',
          quality: {
            devices: benignSim.devices,
            false_alerts: bs.falseAlerts,
            flows: benignSim.flows.length,
          },
        },
        'lower',
        (_r, ours) => ours <= 1,
      ),
    );

    // The whole product path (rules, per-device baselines, per-type LSTM, destination profiles) over a day
    // and a half of the demo network without incidents, through the ingest writer and the worker's job.
    const pipeline = await pipelineFalseAlerts({ seed: 5, hours: 36 });
    emit(
      compare(
        {
          group: 'detect',
          name: 'simulator, 36 h without incidents, full pipeline with baselines and destination profiles: false alerts per device per day',
          ours: pipeline.per_device_day,
          anchor: 'budget',
          anchor_value: 1,
          unit: 'alerts/device/day',
          goal: '<= 1',
          quality: { ...pipeline },
        },
        'lower',
        (_r, ours) => ours <= 1,
      ),
    );

    const files: [string, string][] = [
      ['IoT-23 4-1 conn.log', join(iot23, 'CTU-Honeypot-Capture-4-1', 'bro', 'conn.log.labeled')],
      [
        'IoT-23 4-1 Hue pcap',
        join(iot23, 'CTU-Honeypot-Capture-4-1', '2018-09-14-13-40-25-Philips-Hue-Bridge.pcap'),
      ],
      ['Yi camera', join(ctx.sharedData, 'moniotr-sample', 'yi_camera_sample.pcap')],
    ];
    const sentinel = join(ctx.sharedData, 'iot-sentinel-train');
    for (const d of readdirSync(sentinel, { withFileTypes: true }))
      if (d.isDirectory())
        for (const f of readdirSync(join(sentinel, d.name)))
          if (f.endsWith('.pcap')) files.push([`IoT Sentinel ${d.name}`, join(sentinel, d.name, f)]);
    let worst = 0;
    let alerts = 0;
    const noisy: string[] = [];
    for (const [name, file] of files) {
      const r = await detectFile(file);
      const b = benignRate(r.flows, r.findings);
      alerts += b.alerts;
      worst = Math.max(worst, b.perDeviceDay);
      if (b.alerts) noisy.push(`${name} ${file.split('/').pop() ?? ''}: ${b.alerts}`);
    }
    emit(
      compare(
        {
          group: 'detect',
          name: `benign captures (${files.length}): worst false alerts per device per day`,
          ours: worst,
          anchor: 'budget',
          anchor_value: 1,
          unit: 'alerts/device/day',
          goal: '<= 1',
          quality: { captures: files.length, alerts, noisy },
        },
        'lower',
        (_r, ours) => ours <= 1,
      ),
    );
    // Threat classifier: every scenario held out once (trained on all the others).
    const zt = join(ctx.sharedData, 'zeek-btest-traces', 'Traces');
    const specs: SourceSpec[] = [
      { kind: 'sim:1', path: '' },
      { kind: 'sim:2', path: '' },
      { kind: 'sim:3', path: '' },
      { kind: 'iot23', path: join(iot23, 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled') },
      { kind: 'iot23', path: join(iot23, 'CTU-Honeypot-Capture-4-1', 'bro', 'conn.log.labeled') },
      { kind: 'btest:bruteforce', path: join(zt, 'ftp', 'bruteforce.pcap') },
      { kind: 'btest:bruteforce', path: join(zt, 'ssh', 'sshguess.pcap') },
      { kind: 'btest:scan', path: join(zt, 'rfb', 'vnc-scanner.pcap') },
      ...files
        .filter(([n]) => n.startsWith('IoT Sentinel'))
        .filter((_, i) => i % 40 === 0)
        .slice(0, 4)
        .map(([, path]): SourceSpec => ({ kind: 'pcap-benign', path })),
    ];
    const scenarios: LabelledScenario[] = [];
    for (const sp of specs) scenarios.push(await loadScenario(sp));
    const ds = buildDataset(scenarios);
    const m = evaluateByScenario(ds, scenarioSplits(ds.groups, 'loso'));
    emit(
      compare(
        {
          group: 'detect',
          name: 'threat classifier: macro-F1 by held-out scenario (leave-one-scenario-out)',
          ours: m.macro_f1,
          anchor: 'target',
          anchor_value: 0.8,
          unit: 'macro-F1',
          goal: '>= 0.8',
          quality: {
            evaluation: m.evaluation,
            scenarios: m.scenarios,
            rows: m.rows,
            accuracy: m.accuracy,
            per_class: m.per_class,
          },
        },
        'higher',
        (_r, ours) => ours >= 0.8,
      ),
    );
    ctx.log(`detect: ${out.filter((r) => r.ok).length}/${out.length} ok`);
    return out;
  },
};
