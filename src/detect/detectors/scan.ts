import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import {
  BoundedMap,
  Episodes,
  isExternal,
  isLocal,
  isTcpProbe,
  MIN,
  pushBounded,
  sample,
  SEC,
} from '../util.js';

/**
 * Port scans from TCP probes (no payload either way, ≤ 3 packets: SYN answered by RST, SYN unanswered,
 * SYN/SYN-ACK/RST half-open), per originator over a sliding window of flow time:
 * - horizontal: one source probes ≥ `hostThreshold` distinct hosts;
 * - vertical: one source probes ≥ `portThreshold` distinct ports of one host (only when no horizontal scan
 *   of that source is under way: a sweep of hosts × ports is one horizontal scan, not one alert per host);
 * - Mirai-style telnet scanning: a local device probes ≥ `telnetThreshold` distinct internet hosts on
 *   TCP 23/2323 (kind telnet_scan, high severity: the device is most likely infected).
 */
export interface ScanOptions {
  windowUs: number;
  hostThreshold: number;
  portThreshold: number;
  telnetThreshold: number;
}

export const SCAN_DEFAULTS: ScanOptions = {
  windowUs: 60 * SEC,
  hostThreshold: 20,
  portThreshold: 15,
  telnetThreshold: 10,
};

const TELNET_PORTS = new Set([23, 2323]);

interface Probe {
  ts: number;
  dst: string;
  port: number;
  cid: string;
}

export class ScanDetector implements Detector {
  readonly name = 'scan';
  private readonly o: ScanOptions;
  private readonly probes = new BoundedMap<string, Probe[]>(20_000);
  private readonly episodes = new Episodes(MIN, 500, 10 * MIN);

  constructor(opts: Partial<ScanOptions> = {}) {
    this.o = { ...SCAN_DEFAULTS, ...opts };
  }

  observe(f: IngestFlow, emit: Emit): void {
    if (!isTcpProbe(f) || f.dstPort === null) return;
    if (!isLocal(f.dstIp) && !isExternal(f.dstIp)) return; // multicast, broadcast
    const ts = f.tsStart;
    const src = f.srcIp;
    const telnet = TELNET_PORTS.has(f.dstPort) && isLocal(src) && isExternal(f.dstIp);
    // Active episodes collect their flows.
    const keys = telnet ? [`t|${src}`, `h|${src}`] : [`h|${src}`, `v|${src}|${f.dstIp}`];
    for (const k of keys) {
      if (this.episodes.isActive(k, ts)) {
        const more = this.episodes.add(k, ts, f.communityId);
        if (more) emit(more);
        return;
      }
    }
    let list = this.probes.get(src);
    if (!list) this.probes.set(src, (list = []));
    list.push({ ts, dst: f.dstIp, port: f.dstPort, cid: f.communityId });
    const from = ts - this.o.windowUs;
    if ((list[0]?.ts ?? ts) < from || list.length > 4000) {
      const keep = list.filter((p) => p.ts >= from).slice(-4000);
      this.probes.set(src, (list = keep));
    }

    if (telnet) {
      const tl = list.filter((p) => TELNET_PORTS.has(p.port) && isExternal(p.dst));
      const hosts = new Set(tl.map((p) => p.dst));
      if (hosts.size >= this.o.telnetThreshold) {
        this.fire(emit, `t|${src}`, f, tl, {
          kind: 'telnet_scan',
          severity: 'high',
          title: `Mirai-style telnet scanning from ${src}`,
          description:
            `${src} sent TCP probes to ${hosts.size} internet hosts on telnet ports (23/2323) within ` +
            `${this.o.windowUs / SEC} s: typical of Mirai-family malware spreading. The device is likely infected.`,
          peer: null,
          evidence: { distinct_hosts: hosts.size, threshold: this.o.telnetThreshold, ports: [23, 2323] },
          confidence: Math.min(1, 0.7 + hosts.size / (10 * this.o.telnetThreshold)),
        });
        return;
      }
    }
    const hosts = new Set(list.map((p) => p.dst));
    if (hosts.size >= this.o.hostThreshold) {
      const ports = new Set(list.map((p) => p.port));
      this.fire(emit, `h|${src}`, f, list, {
        kind: 'port_scan',
        severity: isLocal(src) ? 'high' : 'medium',
        title: `Horizontal port scan from ${src}`,
        description:
          `${src} probed ${hosts.size} hosts (${ports.size} distinct ports) within ${this.o.windowUs / SEC} s ` +
          `without exchanging any data.`,
        peer: isLocal(src) ? null : src,
        evidence: {
          scan: 'horizontal',
          distinct_hosts: hosts.size,
          distinct_ports: ports.size,
          ports: [...ports].sort((a, b) => a - b).slice(0, 50),
          threshold: this.o.hostThreshold,
        },
        confidence: Math.min(1, 0.6 + hosts.size / (5 * this.o.hostThreshold)),
      });
      return;
    }
    const toDst = list.filter((p) => p.dst === f.dstIp);
    const ports = new Set(toDst.map((p) => p.port));
    if (ports.size >= this.o.portThreshold) {
      this.fire(emit, `v|${src}|${f.dstIp}`, f, toDst, {
        kind: 'port_scan',
        severity: isLocal(src) ? 'high' : 'medium',
        title: `Vertical port scan of ${f.dstIp} from ${src}`,
        description: `${src} probed ${ports.size} ports of ${f.dstIp} within ${this.o.windowUs / SEC} s.`,
        peer: isLocal(src) ? f.dstIp : src,
        evidence: {
          scan: 'vertical',
          target: f.dstIp,
          distinct_ports: ports.size,
          ports: [...ports].sort((a, b) => a - b).slice(0, 100),
          threshold: this.o.portThreshold,
        },
        confidence: Math.min(1, 0.6 + ports.size / (5 * this.o.portThreshold)),
      });
    }
  }

  private fire(
    emit: Emit,
    key: string,
    f: IngestFlow,
    probes: readonly Probe[],
    x: Pick<Finding, 'kind' | 'severity' | 'title' | 'description' | 'peer' | 'evidence' | 'confidence'>,
  ): void {
    const flows: string[] = [];
    for (const p of probes) pushBounded(flows, p.cid);
    // The scanner when local, else the scanned device when the scan targets one local host.
    const device = isLocal(f.srcIp)
      ? { ip: f.srcIp, mac: f.srcMac }
      : x.evidence['scan'] === 'vertical' && isLocal(f.dstIp)
        ? { ip: f.dstIp, mac: f.dstMac }
        : null;
    const finding: Finding = {
      detector: this.name,
      threat: 'scan',
      device,
      firstUs: probes[0]?.ts ?? f.tsStart,
      lastUs: f.tsStart,
      flows,
      ...x,
      evidence: {
        ...x.evidence,
        scanner: f.srcIp,
        window_s: this.o.windowUs / SEC,
        flows: flows.length,
        community_ids: sample(flows),
      },
    };
    emit(finding);
    this.episodes.start(key, finding);
    const list = this.probes.get(f.srcIp);
    if (list) this.probes.set(f.srcIp, []);
  }

  flush(emit: Emit): void {
    for (const f of this.episodes.drain()) emit(f);
  }
}
