import type { IngestFlow } from '../../sources/types.js';
import type { Detector, Emit, Finding } from '../types.js';
import { BoundedMap, entropy, Episodes, isLocal, MIN, pushBounded, sample, SEC } from '../util.js';

/**
 * DNS abuse from the query names a device sends (mDNS, reverse lookups and single-label names ignored):
 * - tunnelling: ≥ `tunnelNames` distinct long, high-entropy sub-domains (total ≥ `tunnelSubLen` characters,
 *   or a label ≥ `tunnelLabelLen` characters with entropy ≥ `minEntropy` bits/char) under one zone within
 *   the window: data carried in the names;
 * - DGA-like: ≥ `dgaDomains` distinct registrable names whose second-level label is long (≥ `dgaLabelLen`)
 *   and random-looking (entropy ≥ `dgaMinEntropy` and fewer than `dgaMaxVowelShare` vowels, or many
 *   digits: words and brand names are vowel-rich, generated names are not) within the window. Response codes (NXDOMAIN rate) are not
 *   part of a flow record, so they do not count here.
 */
export interface DnsOptions {
  windowUs: number;
  tunnelNames: number;
  tunnelSubLen: number;
  tunnelLabelLen: number;
  minEntropy: number;
  dgaDomains: number;
  dgaLabelLen: number;
  dgaMinEntropy: number;
  dgaMaxVowelShare: number;
}

export const DNS_DEFAULTS: DnsOptions = {
  windowUs: 10 * MIN,
  tunnelNames: 15,
  tunnelSubLen: 40,
  tunnelLabelLen: 25,
  minEntropy: 3.5,
  dgaDomains: 10,
  dgaLabelLen: 10,
  dgaMinEntropy: 3.0,
  dgaMaxVowelShare: 0.3,
};

/** A second-level label that looks generated rather than chosen. */
export function isDgaLike(
  sld: string,
  o: Pick<DnsOptions, 'dgaLabelLen' | 'dgaMinEntropy' | 'dgaMaxVowelShare'>,
): boolean {
  if (sld.length < o.dgaLabelLen || entropy(sld) < o.dgaMinEntropy) return false;
  const vowels = (sld.match(/[aeiouy]/g) ?? []).length / sld.length;
  const digits = (sld.match(/[0-9]/g) ?? []).length / sld.length;
  return vowels < o.dgaMaxVowelShare || digits >= 0.25;
}

const TWO_LEVEL_SUFFIX = /^(co|com|net|org|gov|edu|ac|ne|or)\.[a-z]{2}$/;

/** Zone (registrable domain, approximated) and the labels under it. */
export function splitName(name: string): { zone: string; sub: string; sld: string } | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  const labels = n.split('.').filter((l) => l.length > 0);
  if (labels.length < 2) return null;
  const tail2 = labels.slice(-2).join('.');
  const k = TWO_LEVEL_SUFFIX.test(tail2) && labels.length >= 3 ? 3 : 2;
  const zone = labels.slice(-k).join('.');
  const sld = labels[labels.length - k] ?? '';
  return { zone, sub: labels.slice(0, -k).join('.'), sld };
}

export function isTunnelLike(
  sub: string,
  o: Pick<DnsOptions, 'tunnelSubLen' | 'tunnelLabelLen' | 'minEntropy'>,
): boolean {
  if (sub.length === 0) return false;
  const letters = sub.replace(/\./g, '');
  if (sub.length >= o.tunnelSubLen && entropy(letters) >= o.minEntropy) return true;
  return sub.split('.').some((l) => l.length >= o.tunnelLabelLen && entropy(l) >= o.minEntropy);
}

interface DevState {
  tunnel: Map<string, { ts: number; name: string; cid: string }[]>;
  dga: { ts: number; zone: string; cid: string }[];
}

export class DnsDetector implements Detector {
  readonly name = 'dns';
  private readonly o: DnsOptions;
  private readonly devices = new BoundedMap<string, DevState>(20_000);
  private readonly episodes = new Episodes(5 * MIN, 500, 30 * MIN);

  constructor(opts: Partial<DnsOptions> = {}) {
    this.o = { ...DNS_DEFAULTS, ...opts };
  }

  observe(f: IngestFlow, emit: Emit): void {
    if (f.dnsNames.length === 0 || f.appProto === 'mdns' || f.dstPort === 5353) return;
    if (!isLocal(f.srcIp)) return;
    const ts = f.tsStart;
    let st = this.devices.get(f.srcIp);
    for (const name of f.dnsNames) {
      if (name.endsWith('.local') || name.endsWith('.arpa')) continue;
      const parts = splitName(name);
      if (!parts) continue;
      const tKey = `tunnel|${f.srcIp}|${parts.zone}`;
      const dKey = `dga|${f.srcIp}`;
      const tunnel = isTunnelLike(parts.sub, this.o);
      const dga = isDgaLike(parts.sld, this.o);
      if (tunnel && this.episodes.isActive(tKey, ts)) {
        const more = this.episodes.add(tKey, ts, f.communityId);
        if (more) emit(more);
        continue;
      }
      if (dga && !tunnel && this.episodes.isActive(dKey, ts)) {
        const more = this.episodes.add(dKey, ts, f.communityId);
        if (more) emit(more);
        continue;
      }
      if (!tunnel && !dga) continue;
      if (!st) this.devices.set(f.srcIp, (st = { tunnel: new Map(), dga: [] }));
      const from = ts - this.o.windowUs;
      if (tunnel) {
        let list = st.tunnel.get(parts.zone);
        if (!list) {
          if (st.tunnel.size > 200) st.tunnel.clear();
          st.tunnel.set(parts.zone, (list = []));
        }
        list.push({ ts, name, cid: f.communityId });
        if ((list[0]?.ts ?? ts) < from || list.length > 2000)
          st.tunnel.set(parts.zone, (list = list.filter((x) => x.ts >= from).slice(-2000)));
        const distinct = new Set(list.map((x) => x.name));
        if (distinct.size >= this.o.tunnelNames) {
          const flows: string[] = [];
          for (const x of list) pushBounded(flows, x.cid);
          const finding: Finding = {
            detector: this.name,
            kind: 'dns_tunnel',
            threat: 'c2',
            severity: 'high',
            confidence: Math.min(1, 0.6 + distinct.size / (5 * this.o.tunnelNames)),
            device: { ip: f.srcIp, mac: f.srcMac },
            peer: parts.zone,
            title: `DNS tunnelling from ${f.srcIp} through ${parts.zone}`,
            description:
              `${f.srcIp} queried ${distinct.size} distinct long random names under ${parts.zone} within ` +
              `${this.o.windowUs / MIN} min (e.g. ${[...distinct][0]?.slice(0, 80) ?? ''}): data hidden in DNS queries.`,
            firstUs: list[0]?.ts ?? ts,
            lastUs: ts,
            flows,
            evidence: {
              zone: parts.zone,
              distinct_names: distinct.size,
              examples: [...distinct].slice(0, 5),
              threshold: this.o.tunnelNames,
              min_entropy: this.o.minEntropy,
              window_s: this.o.windowUs / SEC,
              flows: flows.length,
              community_ids: sample(flows),
            },
          };
          emit(finding);
          this.episodes.start(tKey, finding);
          st.tunnel.delete(parts.zone);
        }
      } else {
        st.dga.push({ ts, zone: parts.zone, cid: f.communityId });
        if ((st.dga[0]?.ts ?? ts) < from || st.dga.length > 2000)
          st.dga = st.dga.filter((x) => x.ts >= from).slice(-2000);
        const zones = new Set(st.dga.map((x) => x.zone));
        if (zones.size >= this.o.dgaDomains) {
          const flows: string[] = [];
          for (const x of st.dga) pushBounded(flows, x.cid);
          const finding: Finding = {
            detector: this.name,
            kind: 'dga',
            threat: 'c2',
            severity: 'high',
            confidence: Math.min(1, 0.5 + zones.size / (5 * this.o.dgaDomains)),
            device: { ip: f.srcIp, mac: f.srcMac },
            peer: null,
            title: `DGA-like DNS lookups from ${f.srcIp}`,
            description:
              `${f.srcIp} looked up ${zones.size} distinct random-looking domains within ` +
              `${this.o.windowUs / MIN} min: typical of malware searching for its C&C server.`,
            firstUs: st.dga[0]?.ts ?? ts,
            lastUs: ts,
            flows,
            evidence: {
              distinct_domains: zones.size,
              examples: [...zones].slice(0, 10),
              threshold: this.o.dgaDomains,
              min_label_length: this.o.dgaLabelLen,
              min_entropy: this.o.dgaMinEntropy,
              max_vowel_share: this.o.dgaMaxVowelShare,
              window_s: this.o.windowUs / SEC,
              flows: flows.length,
              community_ids: sample(flows),
            },
          };
          emit(finding);
          this.episodes.start(dKey, finding);
          st.dga = [];
        }
      }
    }
  }

  flush(emit: Emit): void {
    for (const f of this.episodes.drain()) emit(f);
  }
}
