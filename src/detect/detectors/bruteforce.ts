import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import { BoundedMap, Episodes, isLocal, MIN, pushBounded, sample, SEC } from '../util.js';

/**
 * Login brute force: many separate sessions from one source to one host's login service (SSH 22, telnet
 * 23/2323, FTP 21, RDP 3389, VNC 5900) within a window, each of them small (a login exchange, not a
 * file transfer or an interactive session). Bulk sessions and single long ones never count.
 */
export interface BruteforceOptions {
  windowUs: number;
  /** Sessions from one source to one service within the window. */
  minSessions: number;
  /** A session carrying more payload than this (both ways) is not a login attempt. */
  maxSessionBytes: number;
  ports: ReadonlyMap<number, string>;
}

export const BRUTEFORCE_DEFAULTS: BruteforceOptions = {
  windowUs: 10 * MIN,
  minSessions: 10,
  maxSessionBytes: 20_000,
  ports: new Map([
    [21, 'ftp'],
    [22, 'ssh'],
    [23, 'telnet'],
    [2323, 'telnet'],
    [3389, 'rdp'],
    [5900, 'vnc'],
  ]),
};

export class BruteforceDetector implements Detector {
  readonly name = 'bruteforce';
  private readonly o: BruteforceOptions;
  private readonly sessions = new BoundedMap<string, { ts: number; cid: string }[]>(20_000);
  private readonly episodes = new Episodes(5 * MIN, 200, 30 * MIN);

  constructor(opts: Partial<BruteforceOptions> = {}) {
    this.o = { ...BRUTEFORCE_DEFAULTS, ...opts };
  }

  observe(f: IngestFlow, emit: Emit): void {
    if (f.proto !== 6 || f.dstPort === null) return;
    const service = this.o.ports.get(f.dstPort);
    if (!service) return;
    if (f.payloadBytesOut + f.payloadBytesIn > this.o.maxSessionBytes) return;
    if (f.payloadBytesOut === 0 && f.payloadBytesIn === 0) return; // a probe, not a login attempt (scan)
    const key = `${f.srcIp}|${f.dstIp}|${f.dstPort}`;
    const ts = f.tsStart;
    if (this.episodes.isActive(key, ts)) {
      const more = this.episodes.add(key, ts, f.communityId);
      if (more) emit(more);
      return;
    }
    let list = this.sessions.get(key);
    if (!list) this.sessions.set(key, (list = []));
    list.push({ ts, cid: f.communityId });
    const from = ts - this.o.windowUs;
    if ((list[0]?.ts ?? ts) < from) this.sessions.set(key, (list = list.filter((s) => s.ts >= from)));
    if (list.length < this.o.minSessions) return;

    const inbound = isLocal(f.dstIp);
    const device = inbound
      ? { ip: f.dstIp, mac: f.dstMac }
      : isLocal(f.srcIp)
        ? { ip: f.srcIp, mac: f.srcMac }
        : null;
    const flows: string[] = [];
    for (const s of list) pushBounded(flows, s.cid);
    const finding: Finding = {
      detector: this.name,
      kind: 'bruteforce',
      threat: 'bruteforce',
      severity: inbound ? 'high' : 'critical',
      confidence: Math.min(1, 0.6 + list.length / (5 * this.o.minSessions)),
      device,
      peer: inbound ? f.srcIp : f.dstIp,
      title: inbound
        ? `${service.toUpperCase()} brute force against ${f.dstIp} from ${f.srcIp}`
        : `${f.srcIp} is brute-forcing ${service.toUpperCase()} on ${f.dstIp}`,
      description:
        `${list.length} separate ${service} sessions from ${f.srcIp} to ${f.dstIp}:${f.dstPort} within ` +
        `${this.o.windowUs / SEC / 60} min, each under ${this.o.maxSessionBytes} bytes: repeated login attempts.`,
      firstUs: list[0]?.ts ?? ts,
      lastUs: ts,
      flows,
      evidence: {
        service,
        port: f.dstPort,
        attacker: f.srcIp,
        target: f.dstIp,
        sessions: list.length,
        threshold: this.o.minSessions,
        window_s: this.o.windowUs / SEC,
        max_session_bytes: this.o.maxSessionBytes,
        flows: flows.length,
        community_ids: sample(flows),
      },
    };
    emit(finding);
    this.episodes.start(key, finding);
    this.sessions.delete(key);
  }

  flush(emit: Emit): void {
    for (const f of this.episodes.drain()) emit(f);
  }
}
