/**
 * Ground-truth labels for the threat classifier: how each labelled source maps onto the `detect` classes
 * (ARCHITECTURE.md §6: benign, scan, c2, ddos, dos, bruteforce, exploit, download, other).
 *
 * IoT-23 `detailed-label` (Stratosphere Lab, CC BY 4.0) → class:
 *   PartOfAHorizontalPortScan (and …-Attack) → scan
 *   C&C, C&C-HeartBeat, C&C-FileDownload, C&C-Torii, C&C-Mirai, C&C-PartOfAHorizontalPortScan → c2
 *   DDoS → ddos
 *   Attack → exploit
 *   FileDownload → download
 *   Okiru, Okiru-Attack, Mirai, Torii → other
 *   Benign / label `benign` with detailed-label `-` → benign
 * A row labelled Malicious with an unknown detailed label is `other`.
 *
 * Simulator incidents (src/sim groundTruth kinds) → class: port_scan / mirai_scan → scan,
 * telnet_bruteforce → bruteforce, c2_beacon → c2, ddos → ddos, dns_tunnel → other (new_device: none).
 */
import type { IncidentKind } from '../../sim/network.js';
import type { FlowLabel } from '../types.js';

/** Class order of the trained model (index = integer class the classifier predicts). */
export const LABELS: readonly FlowLabel[] = [
  'benign',
  'scan',
  'c2',
  'ddos',
  'dos',
  'bruteforce',
  'exploit',
  'download',
  'other',
];

export function labelIndex(l: FlowLabel): number {
  return LABELS.indexOf(l);
}

export function isFlowLabel(s: string): s is FlowLabel {
  return (LABELS as readonly string[]).includes(s);
}

/**
 * Maps an IoT-23 label as read by readZeekLog (`"<label> <detailed-label>"`, e.g. `"Malicious C&C"`,
 * `"benign"`, `"Malicious PartOfAHorizontalPortScan"`) to a class; null when the flow carries no label.
 */
export function iot23Class(raw: string | null | undefined): FlowLabel | null {
  if (raw === null || raw === undefined) return null;
  const s = raw.trim();
  if (s === '') return null;
  const [label = '', ...rest] = s.split(/\s+/);
  const detailed = rest.join(' ');
  if (/^benign$/i.test(label) && (detailed === '' || detailed === '-' || /^benign$/i.test(detailed)))
    return 'benign';
  const d = detailed.toLowerCase();
  if (d.startsWith('c&c')) return 'c2';
  if (d.startsWith('partofahorizontalportscan')) return 'scan';
  if (d === 'ddos') return 'ddos';
  if (d === 'attack') return 'exploit';
  if (d === 'filedownload') return 'download';
  if (/^(okiru|mirai|torii)/.test(d)) return 'other';
  if (/^benign$/i.test(label)) return 'benign';
  return 'other';
}

/** The class of a simulator incident (null for new_device, which is not a threat). */
export function simIncidentClass(kind: IncidentKind): FlowLabel | null {
  switch (kind) {
    case 'port_scan':
    case 'mirai_scan':
      return 'scan';
    case 'telnet_bruteforce':
      return 'bruteforce';
    case 'c2_beacon':
      return 'c2';
    case 'ddos':
      return 'ddos';
    case 'dns_tunnel':
      return 'other';
    default:
      return null;
  }
}
