/**
 * A device profile: everything identification looks at for one device, in one shape whether it comes from a
 * capture read in memory (`iotsec classify`, training) or from the database (identification after ingest).
 * The device-type feature set (./features.ts) and the rules engine (./rules.ts) both read only this.
 *
 * - `packets`: the IoT Sentinel per-packet vectors of the first packets the device sent (consecutive
 *   duplicates dropped, see ./sentinel.ts). Only a capture has them; from the database the list is empty and
 *   `packetsKnown` is false, and the feature set marks those columns as missing.
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
