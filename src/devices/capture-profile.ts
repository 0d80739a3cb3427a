/**
 * Device profiles from one capture, in memory (no database): the same decoders, flow table and observation
 * extractor as ingest (src/ingest/capture-items.ts), plus the IoT Sentinel packet vectors that only a
 * capture has. Devices are keyed like the inventory: by MAC when the capture has layer 2, else by local IP.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { FlowTable } from '../flows/flow-table.js';
import type { FlowRecord } from '../flows/types.js';
import { extractObservations, type ObservationKind } from '../flows/observations.js';
import { flowEndpoints } from '../ingest/writer.js';
import { CaptureReader } from '../wire/capture/decode.js';
import { macOrNull } from '../wire/addr.js';
import { ipv4ToString, ipv6ToString } from '../wire/addr.js';
import { isDecodeError } from '../wire/errors.js';
import { decodePacket } from '../wire/packet/decode.js';
import { PacketInfo } from '../wire/packet/types.js';
import { isDeviceIp, isLocalIp } from './ip.js';
import { isMulticastMac, vendorOf } from './mac.js';
import {
  addSignal,
  deriveOpenPorts,
  emptyProfile,
  isEstablished,
  isReversedMidstream,
  type DeviceProfile,
  type ProfileFlow,
} from './profile.js';
import { FINGERPRINT_PACKETS, packetVector, pushFingerprint } from './sentinel.js';

export interface CaptureProfiles {
  /** Profiles by device key (MAC, or IP when the capture has no layer 2). */
  profiles: Map<string, DeviceProfile>;
  /** False when no packet carried source and destination MACs (raw IP, SLL, NetFlow-like captures). */
  hasL2: boolean;
  packets: number;
  /** A corrupt or truncated capture: what came before was used. */
  error: string | null;
}

const usableMac = (m: string | null): m is string => !!m && m !== '00:00:00:00:00:00' && !isMulticastMac(m);

class Builder {
  readonly profiles = new Map<string, DeviceProfile>();
  private readonly dstIndex = new Map<string, Map<string, number>>();
  private readonly full = new Set<string>();
  /** Time of each device's first packet (µs). */
  private readonly firstTs = new Map<string, number>();
  hasL2 = false;

  profile(mac: string | null, ip: string | null): DeviceProfile | null {
    const key = mac ?? ip;
    if (!key) return null;
    let p = this.profiles.get(key);
    if (!p) {
      p = emptyProfile(mac, ip, mac ? vendorOf(mac) : null);
      p.packetsKnown = true;
      this.profiles.set(key, p);
    }
    if (ip && (!p.ip || (p.ip.includes(':') && !ip.includes(':')))) p.ip = ip;
    return p;
  }

  packet(info: PacketInfo, frame: Uint8Array): void {
    if (info.hasL2) this.hasL2 = true;
    const mac = info.hasL2 ? macOrNull(info.srcMac) : null;
    let ip: string | null = null;
    if (info.ipVersion === 4) ip = ipv4ToString(info.srcIp4 >>> 0);
    else if (info.ipVersion === 6 && info.srcIp6Offset >= 0) ip = ipv6ToString(frame, info.srcIp6Offset);
    const localIp = ip && isDeviceIp(ip) ? ip : null;
    let p: DeviceProfile | null = null;
    if (usableMac(mac)) {
      // A MAC is a device when it sends from a local address or below IP (ARP, EAPoL, LLC).
      if (localIp || info.ipVersion === 0 || ip === '0.0.0.0' || this.profiles.has(mac))
        p = this.profile(mac, localIp);
    } else if (!info.hasL2 && localIp) p = this.profile(null, localIp);
    if (!p) return;
    p.packetCount++;
    const key = p.mac ?? p.ip ?? '';
    if (p.packetOffsets.length < FINGERPRINT_PACKETS - 1) {
      const first = this.firstTs.get(key);
      if (first === undefined) this.firstTs.set(key, info.tsMicros);
      else p.packetOffsets.push(Math.max(0, info.tsMicros - first) / 1e6);
    }
    if (this.full.has(key)) return;
    let idx = this.dstIndex.get(key);
    if (!idx) {
      idx = new Map();
      this.dstIndex.set(key, idx);
    }
    if (!pushFingerprint(p.packets, packetVector(info, frame, idx), FINGERPRINT_PACKETS)) this.full.add(key);
  }

  flow(f: FlowRecord): void {
    const [src, dst] = flowEndpoints(f);
    // A mid-connection TCP flow recorded server → client is seen from the client as the originator.
    const rev = isReversedMidstream(f.proto, f.srcPort, f.dstPort, f.tcpFlagsOut, f.tcpFlagsIn);
    const side = (e: { mac: string | null; ip: string | null } | null, isSrc: boolean): void => {
      if (!e) return;
      const p = this.hasL2 ? (e.mac ? this.profile(e.mac, e.ip) : null) : this.profile(null, e.ip);
      if (!p) return;
      const outbound = isSrc !== rev;
      const peerIp = isSrc ? f.dstIp : f.srcIp;
      const pf: ProfileFlow = {
        outbound,
        proto: f.proto,
        peerIp,
        peerLocal: isLocalIp(peerIp),
        servicePort: rev ? f.srcPort : f.dstPort,
        appProto: f.appProto,
        bytesSent: isSrc ? f.bytesOut : f.bytesIn,
        bytesReceived: isSrc ? f.bytesIn : f.bytesOut,
        packetsSent: isSrc ? f.packetsOut : f.packetsIn,
        packetsReceived: isSrc ? f.packetsIn : f.packetsOut,
        established: isEstablished(f.connState),
      };
      p.flows.push(pf);
    };
    side(src, true);
    if (dst && !(src && (src.mac ?? src.ip) === (dst.mac ?? dst.ip))) side(dst, false);
  }
}

/** Profiles of every device in a capture given as a stream of chunks (pcap or pcapng). */
export async function profileCaptureStream(
  chunks: AsyncIterable<Uint8Array>,
  source = 'capture',
): Promise<CaptureProfiles> {
  const b = new Builder();
  // Device descriptions (UPnP, HNAP) span several packets: the flow table reassembles them.
  const signal = (mac: string | null, ip: string | null, kind: ObservationKind, value: string): void => {
    const m = usableMac(mac) ? mac : null;
    const i = ip && isDeviceIp(ip) ? ip : null;
    const p = b.hasL2 ? (m ? b.profile(m, i) : null) : i ? b.profile(null, i) : null;
    if (p) addSignal(p, kind, value);
  };
  const table = new FlowTable({
    onFlow: (f) => b.flow(f),
    observations: { observe: (kind, mac, ip, value) => signal(mac, ip, kind, value) },
  });
  const reader = new CaptureReader({ source });
  const info = new PacketInfo();
  let packets = 0;
  let error: string | null = null;
  const drain = (): void => {
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      packets++;
      decodePacket(rec.linkType, rec.data, info);
      info.tsMicros = rec.tsMicros;
      info.iface = rec.iface;
      info.wireLen = rec.wireLen;
      info.capLen = rec.data.length;
      b.packet(info, rec.data);
      table.add(info, rec.data);
      for (const o of extractObservations(info, rec.data)) signal(o.mac, o.ip, o.kind, o.value);
    }
  };
  try {
    for await (const chunk of chunks) {
      reader.push(chunk);
      drain();
    }
    reader.end();
    drain();
  } catch (e) {
    if (!isDecodeError(e)) throw e;
    error = e.message;
  }
  table.flushAll();
  for (const p of b.profiles.values()) {
    if (p.ouiVendor) addSignal(p, 'oui', p.ouiVendor);
    deriveOpenPorts(p);
  }
  return { profiles: b.profiles, hasL2: b.hasL2, packets, error };
}

/** Profiles of every device in a capture file (pcap/pcapng, optionally gzipped). */
export async function profileCaptureFile(path: string): Promise<CaptureProfiles> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const head = await new Promise<Buffer>((resolve, reject) => {
    raw.once('readable', () => {
      const c = raw.read(2) as Buffer | null;
      if (c) raw.unshift(c);
      resolve(c ?? Buffer.alloc(0));
    });
    raw.once('error', reject);
  });
  const input: Readable = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  return profileCaptureStream(input as AsyncIterable<Uint8Array>, path);
}
