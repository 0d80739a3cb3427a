import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import { answered, BoundedMap, isExternal, isLocal, MIN, sample, SEC } from '../util.js';

const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * Cleartext logins: a telnet or FTP session (by application protocol, or by port 23/2323/21 when the
 * protocol is unknown) that carried data both ways: user name and password cross the network in clear.
 * HTTP Basic authentication would belong here too, but the flow records carry no Authorization
 * observation yet. Reported once per (device, peer, service) per `repeatUs`.
 */
export class CleartextDetector implements Detector {
  readonly name = 'cleartext';
  private readonly seen = new BoundedMap<string, number>(50_000);
  constructor(private readonly repeatUs = HOUR) {}

  observe(f: IngestFlow, emit: Emit): void {
    if (f.proto !== 6) return;
    const service =
      f.appProto === 'telnet' || f.appProto === 'ftp'
        ? f.appProto
        : f.appProto === null && (f.dstPort === 23 || f.dstPort === 2323)
          ? 'telnet'
          : f.appProto === null && f.dstPort === 21
            ? 'ftp'
            : null;
    if (!service || f.payloadBytesOut === 0 || f.payloadBytesIn === 0) return;
    const device = isLocal(f.dstIp)
      ? { ip: f.dstIp, mac: f.dstMac }
      : isLocal(f.srcIp)
        ? { ip: f.srcIp, mac: f.srcMac }
        : null;
    if (!device) return;
    const peer = device.ip === f.dstIp ? f.srcIp : f.dstIp;
    const key = `${device.ip}|${peer}|${service}`;
    const last = this.seen.get(key);
    if (last !== undefined && f.tsStart - last < this.repeatUs) return;
    this.seen.set(key, f.tsStart);
    emit({
      detector: this.name,
      kind: 'cleartext_credentials',
      threat: null,
      severity: 'medium',
      confidence: 0.6,
      device,
      peer,
      title: `Cleartext ${service} login between ${f.srcIp} and ${f.dstIp}`,
      description:
        `A ${service} session from ${f.srcIp} to ${f.dstIp}:${String(f.dstPort)} exchanged data: credentials ` +
        `travel unencrypted and can be captured by anyone on the path.`,
      firstUs: f.tsStart,
      lastUs: f.tsEnd,
      flows: [f.communityId],
      evidence: {
        service,
        port: f.dstPort,
        client: f.srcIp,
        server: f.dstIp,
        bytes_to_server: f.payloadBytesOut,
        bytes_to_client: f.payloadBytesIn,
        community_ids: [f.communityId],
      },
    });
  }
}

/**
 * A new listening service: after a learning period (`learnUs` of flow time from the first flow the engine
 * saw the device answer), the first time a local device completes a TCP handshake as responder on a port it
 * had never answered on (ports below 49152). The learned ports live in memory: a restart learns again.
 */
export class NewServiceDetector implements Detector {
  readonly name = 'new_service';
  private readonly devices = new BoundedMap<string, { since: number; ports: Set<number> }>(50_000);
  constructor(private readonly learnUs = DAY) {}

  observe(f: IngestFlow, emit: Emit): void {
    if (f.proto !== 6 || f.dstPort === null || f.dstPort >= 49152 || !isLocal(f.dstIp) || !answered(f))
      return;
    let d = this.devices.get(f.dstIp);
    if (!d) this.devices.set(f.dstIp, (d = { since: f.tsStart, ports: new Set() }));
    if (d.ports.has(f.dstPort)) return;
    d.ports.add(f.dstPort);
    if (f.tsStart - d.since < this.learnUs) return;
    emit({
      detector: this.name,
      kind: 'new_service',
      threat: null,
      severity: isExternal(f.srcIp) ? 'high' : 'low',
      confidence: 0.5,
      device: { ip: f.dstIp, mac: f.dstMac },
      peer: `tcp/${f.dstPort}`,
      title: `${f.dstIp} answers on a new port TCP ${f.dstPort}`,
      description:
        `${f.dstIp} accepted a TCP connection on port ${f.dstPort} from ${f.srcIp}, a port it had not answered on ` +
        `during ${Math.round((f.tsStart - d.since) / HOUR)} h of observation (known: ` +
        `${
          [...d.ports]
            .filter((p) => p !== f.dstPort)
            .slice(0, 20)
            .join(', ') || 'none'
        }).`,
      firstUs: f.tsStart,
      lastUs: f.tsEnd,
      flows: [f.communityId],
      evidence: {
        port: f.dstPort,
        client: f.srcIp,
        known_ports: [...d.ports].filter((p) => p !== f.dstPort).slice(0, 100),
        learning_period_s: this.learnUs / SEC,
        community_ids: [f.communityId],
      },
    });
  }
}

/** Where a device has open KEV-listed vulnerabilities: by local IP. */
export interface KevExposure {
  deviceId: number;
  cves: string[];
}
export type KevLookup = (ip: string) => KevExposure | undefined;

/**
 * Traffic to a KEV-listed exposure: a device with an open, known-exploited CVE (CISA KEV, matched in
 * device_vulnerabilities) accepts a connection from the internet: someone reaches the vulnerable device
 * from outside, which is how those CVEs get exploited. Once per (device, internet peer) per `repeatUs`.
 */
export class KevExposureDetector implements Detector {
  readonly name = 'kev_exposure';
  private readonly seen = new BoundedMap<string, number>(50_000);
  constructor(
    private readonly lookup: KevLookup,
    private readonly repeatUs = HOUR,
  ) {}

  observe(f: IngestFlow, emit: Emit): void {
    if (!isExternal(f.srcIp) || !isLocal(f.dstIp)) return;
    const inboundAnswered = f.proto === 6 ? answered(f) : f.packetsIn > 0;
    if (!inboundAnswered) return;
    const exp = this.lookup(f.dstIp);
    if (!exp || exp.cves.length === 0) return;
    const key = `${f.dstIp}|${f.srcIp}`;
    const last = this.seen.get(key);
    if (last !== undefined && f.tsStart - last < this.repeatUs) return;
    this.seen.set(key, f.tsStart);
    const finding: Finding = {
      detector: this.name,
      kind: 'kev_exposure',
      threat: 'exploit',
      severity: 'critical',
      confidence: 0.5,
      device: { ip: f.dstIp, mac: f.dstMac },
      peer: f.srcIp,
      title: `Internet traffic reaches ${f.dstIp}, which has known-exploited vulnerabilities`,
      description:
        `${f.srcIp} connected to ${f.dstIp}:${String(f.dstPort)} from the internet; the device has ` +
        `${exp.cves.length} open CVE(s) on the CISA KEV list (${exp.cves.slice(0, 5).join(', ')}).`,
      firstUs: f.tsStart,
      lastUs: f.tsEnd,
      flows: [f.communityId],
      evidence: {
        cves: exp.cves.slice(0, 50),
        port: f.dstPort,
        proto: f.proto,
        client: f.srcIp,
        community_ids: sample([f.communityId]),
      },
    };
    emit(finding);
  }
}
