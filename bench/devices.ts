import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadLabelledSamples, readLabels } from '../src/devices/labels.js';
import { trainDeviceType } from '../src/devices/model.js';
import { FINGERPRINT_PACKETS, SENTINEL_FEATURES } from '../src/devices/sentinel.js';
import { compare, timed, type BenchResult, type Group } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const PYTHON = '/usr/bin/python3';
const FOLDS = 10;

/**
 * Device-type identification on the IoT Sentinel captures (330 setup captures, 27 types): our Random Forest
 * on the shared device-type feature set, cross-validated grouped by capture, against a plain scikit-learn
 * Random Forest on the IoT Sentinel 23-feature packet fingerprint evaluated the same way.
 */
export const devicesGroup: Group = {
  name: 'devices',
  description:
    'Device-type accuracy per setup capture on the IoT Sentinel captures (27 types), out-of-fold over ' +
    `${FOLDS}-fold StratifiedGroupKFold by capture. Anchor: scikit-learn RandomForest (Debian python3-sklearn) ` +
    'on the 23-feature IoT Sentinel fingerprint of the first 12 packets. Paper figures: 0.815 (IoT Sentinel), ' +
    '~0.93 (plain RF on fingerprint + DHCP/DNS/mDNS/SSDP).',
  async run(ctx) {
    const results: BenchResult[] = [];
    const labels = join(ctx.sharedData, 'iot-sentinel-train', 'labels.csv');
    if (!existsSync(labels)) {
      ctx.log(`no ${labels}; skipped`);
      return results;
    }
    const rows = await readLabels(labels);
    const samples = await loadLabelledSamples(labels, rows);
    ctx.log(`${samples.length} labelled captures profiled`);
    const { seconds, value: trained } = await timed(() =>
      trainDeviceType(
        samples.map((s) => ({ profile: s.profile, label: s.row.deviceType, group: s.row.path })),
        { cvFolds: FOLDS, onFold: (f, t) => ctx.log(`fold ${f}/${t}`) },
      ),
    );
    const m = trained.metrics;
    if (!m) throw new Error('cross-validation did not run');
    ctx.log(`ours: accuracy ${m.accuracy.toFixed(4)} (${seconds.toFixed(1)} s)`);

    // The anchor's input: the same captures, the IoT Sentinel fingerprint only.
    const csv = join(ctx.outDir, 'devices-sentinel-fingerprint.csv');
    const width = FINGERPRINT_PACKETS * SENTINEL_FEATURES.length;
    const lines = [['label', 'group', ...Array.from({ length: width }, (_, i) => `f${i}`)].join(',')];
    for (const s of samples) {
      const v: number[] = [];
      for (let i = 0; i < FINGERPRINT_PACKETS; i++) {
        const p = s.profile.packets[i];
        for (let j = 0; j < SENTINEL_FEATURES.length; j++) v.push(p ? (p[j] ?? -1) : -1);
      }
      lines.push([s.row.deviceType, s.row.pcap, ...v].join(','));
    }
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const py = spawnSync(PYTHON, [join(ROOT, 'bench', 'anchors', 'sentinel_rf.py'), csv, String(FOLDS)], {
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    let anchor: { accuracy: number; top_confusions: string[] } | null = null;
    if (py.status === 0)
      anchor = JSON.parse(py.stdout.trim()) as { accuracy: number; top_confusions: string[] };
    else ctx.log(`anchor failed (install python3-sklearn): ${py.stderr.slice(0, 300)}`);
    const round = (x: number) => Math.round(x * 10_000) / 10_000;
    const r = compare(
      {
        group: 'devices',
        name: 'device-type accuracy, IoT Sentinel 27 types, CV grouped by capture',
        ours: round(m.accuracy),
        anchor: 'scikit-learn RandomForest on the IoT Sentinel fingerprint',
        anchor_value: anchor ? round(anchor.accuracy) : null,
        unit: 'accuracy',
        goal: 'ours >= 0.95',
        quality: {
          ours_accuracy: round(m.accuracy),
          ours_accuracy_without_packet_features: round(m.accuracy_without_packets),
          ours_macro_f1: round(m.macro_f1),
          ours_fold_accuracy: m.fold_accuracy.map(round),
          ours_top_confusions: m.top_confusions,
          anchor_accuracy: anchor ? round(anchor.accuracy) : null,
          anchor_top_confusions: anchor?.top_confusions ?? null,
          paper_iot_sentinel: 0.815,
          paper_plain_rf_fingerprint_dhcp_dns_mdns_ssdp: 0.93,
          samples: samples.length,
          types: m.confusion.labels.length,
          cv_seconds: Math.round(seconds),
          confusion_matrix: m.confusion,
        },
      },
      'higher',
      (_ratio, ours) => ours >= 0.95,
    );
    ctx.emit(r);
    results.push(r);
    return results;
  },
};
