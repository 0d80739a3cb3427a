import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import { BoundedMap, Episodes, isLocal, MIN, pushBounded, sample, SEC } from '../util.js';

/**
 * Floods: the packet rate from one source to one target over a sliding window of flow time (each flow's
 * packets spread evenly over its duration), when the traffic is flood-like: hardly answered (responses
 * < `maxResponseShare` of the packets sent), or split into many tiny flows (randomised source ports).
 * A local source flooding anyone is a DDoS participant (kind ddos); anything flooding a local device is a
 * denial of service against it (kind dos). Very high rates count whatever their shape.
 */
export interface FloodOptions {
  windowUs: number;
  minPps: number;
  /** Rate that counts whatever the traffic looks like. */
  hardPps: number;
  maxResponseShare: number;
  minFlows: number;
}

export const FLOOD_DEFAULTS: FloodOptions = {
  windowUs: 10 * SEC,
  minPps: 300,
  hardPps: 5000,
  maxResponseShare: 0.2,
  minFlows: 20,
};

interface Slice {
  start: number;
  end: number;
  out: number;
  in: number;
  bytes: number;
  cid: string;
}

/** A pair's recent flows, with the packets they sent in all: an upper bound of the rate in the window. */
interface Pair {
  slices: Slice[];
  sentPackets: number;
  /** Latest flow end seen: flow time running back by more than a window (another capture) starts afresh. */
  lastEnd: number;
}

/** Slices kept per pair at most; beyond it the older half is dropped at once (amortised O(1) per flow). */
const MAX_SLICES = 20_000;

export class FloodDetector implements Detector {
  readonly name = 'flood';
  private readonly o: FloodOptions;
  private readonly pairs = new BoundedMap<string, Pair>(20_000);
  private readonly episodes = new Episodes(MIN, 2000, 5 * MIN);

  constructor(opts: Partial<FloodOptions> = {}) {
    this.o = { ...FLOOD_DEFAULTS, ...opts };
  }

  observe(f: IngestFlow, emit: Emit): void {
    if (!isLocal(f.srcIp) && !isLocal(f.dstIp)) return;
    const key = `${f.srcIp}|${f.dstIp}`;
    const now = f.tsEnd;
    if (this.episodes.isActive(key, f.tsStart)) {
      const more = this.episodes.add(key, now, f.communityId);
      if (more) emit(more);
      return;
    }
    const slice: Slice = {
      start: f.tsStart,
      end: f.tsEnd,
      out: f.packetsOut,
      in: f.packetsIn,
      bytes: f.bytesOut,
      cid: f.communityId,
    };
    let pair = this.pairs.get(key);
    if (!pair || now < pair.lastEnd - this.o.windowUs)
      // A new pair's list holds its one slice (a push onto an empty array reserves 17 slots, and most pairs of
      // a NetFlow export are seen once).
      this.pairs.set(key, (pair = { slices: [slice], sentPackets: 0, lastEnd: now }));
    else pair.slices.push(slice);
    if (now > pair.lastEnd) pair.lastEnd = now;
    pair.sentPackets += f.packetsOut;
    const from = now - this.o.windowUs;
    if ((pair.slices[0]?.end ?? now) < from || pair.slices.length > MAX_SLICES) {
      let kept = pair.slices.filter((s) => s.end >= from);
      if (kept.length > MAX_SLICES) kept = kept.slice(-MAX_SLICES / 2);
      pair.slices = kept;
      pair.sentPackets = kept.reduce((n, s) => n + s.out, 0);
    }
    const windowS = this.o.windowUs / SEC;
    // Every packet the kept flows sent, all inside the window, is still under the threshold: no flood, and
    // no need to weigh each flow (a busy pair would otherwise cost a scan of its window per flow).
    if (pair.sentPackets / windowS < this.o.minPps) return;
    const list = pair.slices;
    // Rate over the window ending at the latest flow end.
    let out = 0;
    let inn = 0;
    let bytes = 0;
    let n = 0;
    for (const s of list) {
      const dur = Math.max(s.end - s.start, 1);
      const overlap = Math.min(s.end, now) - Math.max(s.start, from);
      const share = s.end === s.start ? (s.end >= from ? 1 : 0) : Math.max(0, overlap) / dur;
      if (share <= 0) continue;
      out += s.out * share;
      inn += s.in * share;
      bytes += s.bytes * share;
      n++;
    }
    const pps = out / windowS;
    if (pps < this.o.minPps) return;
    const responseShare = out > 0 ? inn / out : 1;
    const floodLike = responseShare < this.o.maxResponseShare || n >= this.o.minFlows;
    if (!floodLike && pps < this.o.hardPps) return;

    const outbound = isLocal(f.srcIp);
    const flows: string[] = [];
    for (const s of list) pushBounded(flows, s.cid);
    const finding: Finding = {
      detector: this.name,
      kind: outbound ? 'ddos' : 'dos',
      threat: outbound ? 'ddos' : 'dos',
      severity: outbound ? 'high' : 'high',
      confidence: Math.min(1, 0.6 + pps / (10 * this.o.minPps)),
      device: outbound ? { ip: f.srcIp, mac: f.srcMac } : { ip: f.dstIp, mac: f.dstMac },
      peer: outbound ? f.dstIp : f.srcIp,
      title: outbound
        ? `${f.srcIp} is flooding ${f.dstIp} (${Math.round(pps)} packets/s)`
        : `${f.dstIp} is flooded by ${f.srcIp} (${Math.round(pps)} packets/s)`,
      description:
        `${Math.round(pps)} packets/s (${Math.round((bytes * 8) / windowS / 1000)} kbit/s) from ${f.srcIp} to ` +
        `${f.dstIp} over ${windowS} s in ${n} flows, ${Math.round(responseShare * 100)} % answered.`,
      firstUs: list[0]?.start ?? f.tsStart,
      lastUs: now,
      flows,
      evidence: {
        packets_per_s: Math.round(pps),
        bits_per_s: Math.round((bytes * 8) / windowS),
        flows_in_window: n,
        response_share: Math.round(responseShare * 1000) / 1000,
        threshold_pps: this.o.minPps,
        hard_pps: this.o.hardPps,
        window_s: windowS,
        flows: flows.length,
        community_ids: sample(flows),
      },
    };
    emit(finding);
    this.episodes.start(key, finding);
    this.pairs.delete(key);
  }

  flush(emit: Emit): void {
    for (const f of this.episodes.drain()) emit(f);
  }
}
