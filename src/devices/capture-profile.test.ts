import { describe, expect, it } from 'vitest';
import { framesToPcap } from '../sim/pcap-writer.js';
import { ip4, tcpFrame, text, udpFrame, type Ipv4Header } from '../sim/packets.js';
import { profileCaptureStream } from './capture-profile.js';
import { DEVICE_TYPE_FEATURES, withoutPackets } from './features.js';
import { emptyProfile, isReversedMidstream } from './profile.js';
import { FINGERPRINT_PACKETS } from './sentinel.js';

const DEVICE_MAC = 0x001a2205c42e;
const ROUTER_MAC = 0x00b56d0608ba;
const DEVICE = ip4('10.10.10.89');
const SERVER = ip4('81.14.202.72');
const PSH_ACK = 0x18;
const ACK = 0x10;
const T0 = 1_473_249_853_000_000;

const fromDevice: Ipv4Header = {
  srcMac: DEVICE_MAC,
  dstMac: ROUTER_MAC,
  srcIp: DEVICE,
  dstIp: SERVER,
};
const toDevice: Ipv4Header = {
  srcMac: ROUTER_MAC,
  dstMac: DEVICE_MAC,
  srcIp: SERVER,
  dstIp: DEVICE,
};

async function* chunks(b: Buffer): AsyncIterable<Uint8Array> {
  yield b;
}

describe('isReversedMidstream', () => {
  it('turns round a TCP flow without handshake whose responder port is the ephemeral one', () => {
    expect(isReversedMidstream(6, 9292, 50756, ACK, PSH_ACK)).toBe(true);
    expect(isReversedMidstream(6, 443, 40000, ACK, ACK)).toBe(true);
  });
  it('leaves flows alone when the handshake was seen, the ports do not tell, or it is not TCP', () => {
    expect(isReversedMidstream(6, 9292, 50756, 0x12, ACK)).toBe(false); // SYN-ACK seen
    expect(isReversedMidstream(6, 50756, 9292, ACK, ACK)).toBe(false); // already client → server
    expect(isReversedMidstream(6, 40000, 45000, ACK, ACK)).toBe(false); // same IANA range
    expect(isReversedMidstream(17, 8765, 60919, 0, 0)).toBe(false);
    expect(isReversedMidstream(1, null, null, 0, 0)).toBe(false);
  });
});

describe('profileCaptureStream', () => {
  it('sees a connection caught mid-stream from the client side, and records packet timing', async () => {
    // The capture starts inside a TCP connection, with the server's segment first.
    const frames = [
      {
        tsMicros: T0,
        frame: tcpFrame(toDevice, { srcPort: 9292, dstPort: 50756, seq: 1, ack: 1, flags: ACK }),
      },
      {
        tsMicros: T0 + 16_000,
        frame: tcpFrame(fromDevice, {
          srcPort: 50756,
          dstPort: 9292,
          seq: 1,
          ack: 1,
          flags: PSH_ACK,
          payload: text('hello'),
        }),
      },
      {
        tsMicros: T0 + 266_000,
        frame: udpFrame({ ...fromDevice, dstIp: ip4('10.10.10.1') }, 40000, 7000, text('x')),
      },
      {
        tsMicros: T0 + 1_516_000,
        frame: tcpFrame(fromDevice, { srcPort: 50756, dstPort: 9292, seq: 6, ack: 1, flags: ACK }),
      },
    ];
    const { profiles } = await profileCaptureStream(chunks(framesToPcap(frames)));
    const p = profiles.get('00:1a:22:05:c4:2e');
    expect(p).toBeDefined();
    if (!p) return;
    const tcp = p.flows.filter((f) => f.proto === 6);
    expect(tcp).toHaveLength(1);
    expect(tcp[0]).toMatchObject({ outbound: true, servicePort: 9292, peerIp: '81.14.202.72' });
    expect(tcp[0]?.packetsSent).toBe(2);
    expect(tcp[0]?.packetsReceived).toBe(1);
    // Offsets of the device's 2nd and 3rd packets from its first (the server's packet is not the device's).
    expect(p.packetOffsets).toEqual([0.25, 1.5]);
  });

  it('keeps at most FINGERPRINT_PACKETS - 1 offsets', async () => {
    const frames = Array.from({ length: 20 }, (_, i) => ({
      tsMicros: T0 + i * 100_000,
      frame: udpFrame({ ...fromDevice, dstIp: ip4('10.10.10.1') }, 40000 + i, 7000, text('x')),
    }));
    const { profiles } = await profileCaptureStream(chunks(framesToPcap(frames)));
    const p = profiles.get('00:1a:22:05:c4:2e');
    expect(p?.packetOffsets).toHaveLength(FINGERPRINT_PACKETS - 1);
    expect(p?.packetOffsets[0]).toBeCloseTo(0.1, 9);
  });
});

describe('packet timing features', () => {
  const names = DEVICE_TYPE_FEATURES.features.map((f) => f.name);
  const col = (n: string) => names.indexOf(n);

  it('are the offsets of the first packets, -1 when missing or when the profile has no packets', () => {
    const p = emptyProfile('00:1a:22:05:c4:2e', '10.10.10.89', null);
    p.packetsKnown = true;
    p.packetOffsets = [0.004, 0.242];
    const row = DEVICE_TYPE_FEATURES.extract(p);
    expect(row[col('pkt_t01')]).toBe(0.004);
    expect(row[col('pkt_t02')]).toBe(0.242);
    expect(row[col('pkt_t03')]).toBe(-1);
    const db = DEVICE_TYPE_FEATURES.extract(withoutPackets(p));
    expect(db[col('pkt_t01')]).toBe(-1);
    expect(db[col('pkt_t02')]).toBe(-1);
  });
});
