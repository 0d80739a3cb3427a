/**
 * A device profile: everything identification looks at for one device, in one shape whether it comes from a
 * capture read in memory (`iotsec classify`, training) or from the database (identification after ingest).
 * The device-type feature set (./features.ts) and the rules engine (./rules.ts) both read only this.
 *
 * - `packets`: the IoT Sentinel per-packet vectors of the first packets the device sent (consecutive
 *   duplicates dropped, see ./sentinel.ts), and `packetOffsets`, when it sent its first packets. Only a
 *   capture has them; from the database the lists are empty and `packetsKnown` is false, and the feature
 *   set marks those columns as missing.
 * - `flows`: the device's flows from its own point of view (outbound = the device originated it).
 * - `signals`: identifying observations by kind and value with counts (DHCP, mDNS, SSDP, HTTP, TLS, DNS,
 *   MQTT, plus `oui` and `open_port`).
 */
import type { ObservationKind } from '../flows/observations.js';

export type SignalKind = ObservationKind | 'oui' | 'open_port' | 'mac_alias';

export interface ProfileFlow {
  /** The device originated the flow. */
  outbound: boolean;
  proto: number;
  /** The other side's address and whether it is on a local network. */
  peerIp: string;
  peerLocal: boolean;
  /** The responder's port (the service), null for protocols without ports. */
  servicePort: number | null;
  appProto: string | null;
  /** Bytes and packets sent / received by the device. */
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** TCP handshake completed (SF, S1, S2, S3, RSTO, RSTR). */
  established: boolean;
}

export interface DeviceProfile {
  mac: string | null;
  ip: string | null;
  /** IEEE registry vendor of the MAC (null when randomized or unknown). */
  ouiVendor: string | null;
  packetsKnown: boolean;
  packets: number[][];
  /**
   * When the device sent its 2nd, 3rd, … packet, in seconds after its first one, over its first
   * FINGERPRINT_PACKETS packets (every packet, repeats included): the timers of its boot and network stack
   * (DHCP, ARP probes, retries). Only a capture has them.
   */
  packetOffsets: number[];
  /** Packets the device sent (all of them, not only the fingerprint's). */
  packetCount: number;
  flows: ProfileFlow[];
  signals: Map<SignalKind, Map<string, number>>;
}

export function emptyProfile(mac: string | null, ip: string | null, ouiVendor: string | null): DeviceProfile {
  return {
    mac,
    ip,
    ouiVendor,
    packetsKnown: false,
    packets: [],
    packetOffsets: [],
    packetCount: 0,
    flows: [],
    signals: new Map(),
  };
}

export function addSignal(p: DeviceProfile, kind: SignalKind, value: string, count = 1): void {
  let m = p.signals.get(kind);
  if (!m) {
    m = new Map();
    p.signals.set(kind, m);
  }
  m.set(value, (m.get(value) ?? 0) + count);
}

export function signalValues(p: DeviceProfile, kind: SignalKind): string[] {
  return [...(p.signals.get(kind)?.keys() ?? [])];
}

const ESTABLISHED = new Set(['SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR']);
export const isEstablished = (connState: string | null): boolean =>
  connState !== null && ESTABLISHED.has(connState);

const TCP_SYN = 0x02;

/** IANA port range: 1 system (0–1023), 2 registered (1024–49151), 3 dynamic/ephemeral (49152–65535). */
const portRange = (port: number): number => (port <= 1023 ? 1 : port <= 49151 ? 2 : 3);

/**
 * True when a TCP flow's recorded direction is probably backwards. A flow whose handshake was not seen (the
 * capture or the sensor started mid-connection: no SYN either way) is oriented by its first packet, so
 * half the time the client appears as the responder on its ephemeral port. When the recorded responder's
 * port is in a higher IANA range than the originator's (an ephemeral port "serving" a registered or system
 * port), the originator is the server. Handshakes seen, UDP and portless protocols are left as recorded.
 */
export function isReversedMidstream(
  proto: number,
  srcPort: number | null,
  dstPort: number | null,
  tcpFlagsOut: number,
  tcpFlagsIn: number,
): boolean {
  if (proto !== 6 || srcPort === null || dstPort === null) return false;
  if (((tcpFlagsOut | tcpFlagsIn) & TCP_SYN) !== 0) return false;
  return portRange(dstPort) > portRange(srcPort);
}

/** The `open_port` signal value of a service the device answered: "80/tcp". */
export function openPortValue(proto: number, port: number): string {
  return `${port}/${proto === 6 ? 'tcp' : proto === 17 ? 'udp' : String(proto)}`;
}

/** Adds `open_port` signals for the flows in which the device answered an established TCP connection. */
export function deriveOpenPorts(p: DeviceProfile): void {
  for (const f of p.flows) {
    if (!f.outbound && f.proto === 6 && f.established && f.servicePort !== null)
      addSignal(p, 'open_port', openPortValue(f.proto, f.servicePort));
  }
}
