import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import {
  BoundedMap,
  coefficientOfVariation,
  Episodes,
  isExternal,
  isLocal,
  mean,
  MIN,
  namedPeer,
  pushBounded,
  sample,
  SEC,
} from '../util.js';

/**
 * Command-and-control from a local device to one internet peer (IP, port) that it reaches without naming it
 * (no TLS SNI, no HTTP Host name: malware talks to hard-coded addresses and custom protocols):
 * - periodic: ≥ `minEvents` connections whose inter-arrival times have a coefficient of variation
 *   ≤ `maxCv` and a mean between `minPeriodUs` and `maxPeriodUs` (bursts closer than 1 s count once);
 * - persistent: ≥ `persistentAttempts` connection attempts within `persistentWindowUs`, most of them
 *   failed (the bot keeps re-dialling a C&C server that is down or filtered), or ≥ `chattyConnections`
 *   separate TCP connections of an unknown protocol (a bot polling its C&C with one connection per command).
 * Infrastructure ports (DNS, NTP, DHCP, mDNS, SSDP, NetBIOS) never count. Periodic web and MQTT traffic
 * (HTTP, TLS, MQTT by protocol or port) is every IoT cloud heartbeat: it counts as periodic beaconing only
 * when the flow comes from a payload-inspected capture (layer 2 visible, not a Zeek/NetFlow record) and
 * still names no host; records without payload inspection cannot tell a heartbeat from a beacon.
 */
export interface BeaconOptions {
  minEvents: number;
  maxCv: number;
  minPeriodUs: number;
  maxPeriodUs: number;
  persistentAttempts: number;
  persistentWindowUs: number;
  persistentFailedShare: number;
  /** Short TCP connections of an unknown protocol within the window that count whatever their outcome. */
  chattyConnections: number;
}

export const BEACON_DEFAULTS: BeaconOptions = {
  minEvents: 8,
  maxCv: 0.15,
  minPeriodUs: 5 * SEC,
  maxPeriodUs: 20 * MIN,
  persistentAttempts: 40,
  persistentWindowUs: 30 * MIN,
  persistentFailedShare: 0.5,
  chattyConnections: 100,
};

const INFRA_PORTS = new Set([53, 67, 68, 123, 137, 138, 1900, 5353, 5355]);
const HISTORY = 33;
const NO_GAPS: readonly number[] = Object.freeze([]);
const STANDARD_APPS = new Set(['http', 'tls', 'mqtt', 'mqtt-tls', 'quic', 'ssl', 'ssh']);

/** Payload inspection happened (a capture read by our decoders): names would have been seen. */
const inspected = (f: IngestFlow): boolean => f.srcMac !== null && !f.uid;

interface PeerState {
  starts: number[];
  attempts: { ts: number; failed: boolean; cid: string }[];
  cids: string[];
  named: boolean;
}

export class BeaconDetector implements Detector {
  readonly name = 'beacon';
  private readonly o: BeaconOptions;
  private readonly peers = new BoundedMap<string, PeerState>(50_000);
  private readonly episodes = new Episodes(30 * MIN, 100, 2 * 60 * MIN);

  constructor(opts: Partial<BeaconOptions> = {}) {
    this.o = { ...BEACON_DEFAULTS, ...opts };
  }

  observe(f: IngestFlow, emit: Emit): void {
    if (f.dstPort === null || (f.proto !== 6 && f.proto !== 17)) return;
    if (INFRA_PORTS.has(f.dstPort) || !isLocal(f.srcIp) || !isExternal(f.dstIp)) return;
    const key = `${f.srcIp}|${f.dstIp}|${f.dstPort}|${f.proto}`;
    const ts = f.tsStart;
    let s = this.peers.get(key);
    if (namedPeer(f)) {
      if (s) s.named = true;
      else this.peers.set(key, { starts: [], attempts: [], cids: [], named: true });
      return;
    }
    if (s?.named) return;
    if (this.episodes.isActive(key, ts)) {
      if (!s) this.peers.set(key, { starts: [], attempts: [], cids: [], named: false });
      const more = this.episodes.add(key, ts, f.communityId);
      if (more) emit(more);
      return;
    }
    const failed = f.proto === 6 ? f.payloadBytesIn === 0 : f.packetsIn === 0;
    const attempt = { ts, failed, cid: f.communityId };
    if (!s) {
      // A new peer's lists start at their size: most peers of a NetFlow export are seen once (then evicted
      // unused), and a push onto an empty array reserves 17 slots.
      this.peers.set(key, (s = { starts: [ts], attempts: [attempt], cids: [f.communityId], named: false }));
    } else {
      if (s.cids.length === 0) s.cids = [f.communityId];
      else {
        pushBounded(s.cids, f.communityId, 200);
        if (s.cids.length >= 200) s.cids.splice(0, 100);
      }
      const last = s.starts[s.starts.length - 1];
      if (last === undefined) s.starts = [ts];
      else if (ts - last >= SEC) {
        s.starts.push(ts);
        if (s.starts.length > HISTORY) s.starts.shift();
      }
      if (s.attempts.length === 0) s.attempts = [attempt];
      else s.attempts.push(attempt);
    }
    const from = ts - this.o.persistentWindowUs;
    if ((s.attempts[0]?.ts ?? ts) < from || s.attempts.length > 1000)
      s.attempts = s.attempts.filter((a) => a.ts >= from).slice(-1000);

    // The gaps need minEvents + 1 starts: most peers never get there, and sorting a copy of their starts
    // for every flow was most of this detector's time on a NetFlow export.
    const periodicEligible =
      s.starts.length > this.o.minEvents && (!STANDARD_APPS.has(f.appProto ?? '') || inspected(f));
    const sorted = periodicEligible ? [...s.starts].sort((a, b) => a - b) : s.starts;
    const gaps = periodicEligible ? sorted.slice(1).map((t, i) => t - (sorted[i] ?? t)) : NO_GAPS;
    if (periodicEligible && gaps.length >= this.o.minEvents) {
      const cv = coefficientOfVariation(gaps);
      const period = mean(gaps);
      if (cv <= this.o.maxCv && period >= this.o.minPeriodUs && period <= this.o.maxPeriodUs) {
        this.fire(
          emit,
          key,
          f,
          s.cids,
          sorted[0] ?? ts,
          {
            mode: 'periodic',
            events: sorted.length,
            period_s: Math.round(period / 1000) / 1000,
            cv: Math.round(cv * 1000) / 1000,
            max_cv: this.o.maxCv,
            min_events: this.o.minEvents,
          },
          1 - cv,
        );
        return;
      }
    }
    if (s.attempts.length >= this.o.persistentAttempts) {
      const nFailed = s.attempts.filter((a) => a.failed).length;
      const first = s.attempts[0]?.ts ?? ts;
      const spanUs = ts - first;
      // A re-dialling bot spreads its attempts over time; thousands in seconds are a flood (flood detector).
      const spread = spanUs >= this.o.persistentWindowUs / 6 && s.attempts.length / (spanUs / SEC) <= 2;
      const chatty = f.proto === 6 && f.appProto === null && s.attempts.length >= this.o.chattyConnections;
      if (spread && (chatty || nFailed / s.attempts.length >= this.o.persistentFailedShare)) {
        this.fire(
          emit,
          key,
          f,
          s.attempts.map((a) => a.cid),
          s.attempts[0]?.ts ?? ts,
          {
            mode: 'persistent',
            attempts: s.attempts.length,
            failed: nFailed,
            threshold: this.o.persistentAttempts,
            chatty_threshold: this.o.chattyConnections,
            window_s: this.o.persistentWindowUs / SEC,
          },
          0.7,
        );
      }
    }
  }

  private fire(
    emit: Emit,
    key: string,
    f: IngestFlow,
    cids: readonly string[],
    firstUs: number,
    ev: Record<string, unknown>,
    confidence: number,
  ): void {
    const flows = [...cids];
    const periodic = ev['mode'] === 'periodic';
    const finding: Finding = {
      detector: this.name,
      kind: 'c2_beacon',
      threat: 'c2',
      severity: 'high',
      confidence: Math.max(0.5, Math.min(1, confidence)),
      device: { ip: f.srcIp, mac: f.srcMac },
      peer: f.dstIp,
      title: periodic
        ? `Periodic beaconing from ${f.srcIp} to ${f.dstIp}:${f.dstPort}`
        : `Persistent connection attempts from ${f.srcIp} to ${f.dstIp}:${f.dstPort}`,
      description: periodic
        ? `${f.srcIp} connects to the unnamed internet host ${f.dstIp}:${f.dstPort} every ` +
          `${String(ev['period_s'])} s with little jitter (CV ${String(ev['cv'])}): command-and-control beaconing.`
        : `${f.srcIp} tried ${String(ev['attempts'])} times within ${String(ev['window_s'])} s to reach the unnamed ` +
          `internet host ${f.dstIp}:${f.dstPort}, mostly failing: a bot re-dialling its C&C server.`,
      firstUs,
      lastUs: f.tsStart,
      flows,
      evidence: {
        ...ev,
        peer_port: f.dstPort,
        proto: f.proto,
        flows: flows.length,
        community_ids: sample(flows),
      },
    };
    emit(finding);
    this.episodes.start(key, finding);
  }

  flush(emit: Emit): void {
    for (const f of this.episodes.drain()) emit(f);
  }
}
