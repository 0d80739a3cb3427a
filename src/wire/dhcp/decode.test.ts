import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, onlyDecodeError, randomBytes } from '../../flows/test-support/fuzz.js';
import {
  HAVE_ZEEK_DATA,
  MISSING_DATA_MESSAGE,
  loadTrace,
  payloadOf,
  readZeekLog,
} from '../../flows/test-support/trace.js';
import { DecodeError } from '../errors.js';
import { decodeDhcp } from './decode.js';
import { DHCP_MESSAGE_TYPE_NAMES } from './types.js';

function dhcpPayloads(trace: string): Uint8Array[] {
  return loadTrace(trace)
    .filter((p) => p.ipProto === 17 && (p.dstPort === 67 || p.dstPort === 68))
    .map(payloadOf);
}

/** A minimal BOOTREQUEST with the given options (code, bytes). */
function synthetic(options: [number, number[]][]): Uint8Array {
  const b = new Uint8Array(240);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.set([0x02, 0x11, 0x22, 0x33, 0x44, 0x55], 28);
  b.set([0x63, 0x82, 0x53, 0x63], 236);
  const opts: number[] = [];
  for (const [c, v] of options) opts.push(c, v.length, ...v);
  return Uint8Array.from([...b, ...opts, 255]);
}

describe('decodeDhcp (synthetic)', () => {
  it('decodes the identification options', () => {
    const m = decodeDhcp(
      synthetic([
        [53, [1]],
        [55, [1, 3, 6, 15, 119, 252]],
        [60, [...Buffer.from('android-dhcp-13')]],
        [12, [...Buffer.from('Pixel-7'), 0]],
        [61, [1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        [50, [192, 168, 1, 50]],
        [81, [0x04, 0, 0, 5, ...Buffer.from('pixel'), 4, ...Buffer.from('home'), 0]],
      ]),
    );
    expect(m.op).toBe(1);
    expect(m.chaddr).toBe('02:11:22:33:44:55');
    expect(m.messageType).toBe(1);
    expect(DHCP_MESSAGE_TYPE_NAMES[m.messageType ?? 0]).toBe('DISCOVER');
    expect(m.fingerprint).toBe('1,3,6,15,119,252');
    expect(m.paramRequestList).toEqual([1, 3, 6, 15, 119, 252]);
    expect(m.vendorClass).toBe('android-dhcp-13');
    expect(m.hostname).toBe('Pixel-7');
    expect(m.clientId).toEqual({ type: 1, value: '02:11:22:33:44:55' });
    expect(m.requestedIp).toBe('192.168.1.50');
    expect(m.fqdn).toEqual({ flags: 4, name: 'pixel.home' });
    expect(m.optionCodes).toEqual([53, 55, 60, 12, 61, 50, 81]);
  });

  it('accepts plain BOOTP, rejects a bad op and truncated options', () => {
    const bootp = synthetic([]).slice(0, 236);
    expect(decodeDhcp(bootp).hasOptions).toBe(false);
    const bad = synthetic([]);
    bad[0] = 9;
    expect(() => decodeDhcp(bad)).toThrow(DecodeError);
    const cut = synthetic([[12, [65, 66, 67, 68]]]).slice(0, 243);
    expect(() => decodeDhcp(cut)).toThrow(expect.objectContaining({ kind: 'truncated' }));
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `decodeDhcp vs Zeek dhcp.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('dhcp.pcap: message types, MAC, host name, domain, addresses and lease match dhcp.log', () => {
      const zeek = readZeekLog('scripts.base.protocols.dhcp.dhcp-all-msg-types/dhcp.log');
      const msgs = dhcpPayloads('dhcp/dhcp.pcap').map((b) => decodeDhcp(b));
      const types = msgs.map((m) => DHCP_MESSAGE_TYPE_NAMES[m.messageType ?? 0]);
      // Zeek groups by transaction: the first row holds the first 7 messages, then RELEASE and INFORM.
      expect(types).toEqual([
        ...(zeek[0]?.msg_types ?? '').split(','),
        zeek[1]?.msg_types,
        zeek[2]?.msg_types,
      ]);
      for (const m of msgs) expect(m.chaddr).toBe(zeek[0]?.mac);
      expect(msgs.find((m) => m.op === 1 && m.hostname)?.hostname).toBe(zeek[0]?.host_name);
      expect(msgs.find((m) => m.domainName)?.domainName).toBe(zeek[0]?.domain);
      const ack = msgs.find((m) => m.messageType === 5);
      expect(ack?.yiaddr).toBe(zeek[0]?.assigned_addr);
      expect(ack?.leaseTime?.toFixed(6)).toBe(zeek[0]?.lease_time);
      expect(ack?.serverId).toBe(zeek[0]?.server_addr);
      expect(msgs.find((m) => m.messageType === 6)?.message).toBe(zeek[0]?.server_message);
      expect(msgs.filter((m) => m.messageType === 3).map((m) => m.requestedIp)).toContain(
        zeek[0]?.requested_addr,
      );
      const inform = msgs.find((m) => m.messageType === 8);
      expect(inform?.hostname).toBe(zeek[2]?.host_name);
      expect(inform?.requestedIp).toBe(zeek[2]?.requested_addr);
    });

    it('dhcp_discover_param_req_and_client_id.pcap: parameter list, client id, host name, requested IP', () => {
      const zeek = readZeekLog('scripts.base.protocols.dhcp.dhcp-discover-msg-types/dhcp.log');
      const [m] = dhcpPayloads('dhcp/dhcp_discover_param_req_and_client_id.pcap').map((b) => decodeDhcp(b));
      expect(m?.chaddr).toBe(zeek[0]?.mac);
      expect(m?.hostname).toBe(zeek[0]?.host_name);
      expect(m?.requestedIp).toBe(zeek[0]?.requested_addr);
      expect(DHCP_MESSAGE_TYPE_NAMES[m?.messageType ?? 0]).toBe(zeek[0]?.msg_types);
      expect(m?.fingerprint).toBe('1,3,6,42');
      expect(m?.clientId).toEqual({ type: 1, value: zeek[0]?.mac });
    });

    it('dhcp_inform.pcap: INFORM then ACK with the client address', () => {
      const zeek = readZeekLog('scripts.base.protocols.dhcp.inform/dhcp.log');
      const msgs = dhcpPayloads('dhcp/dhcp_inform.pcap').map((b) => decodeDhcp(b));
      expect(msgs.map((m) => DHCP_MESSAGE_TYPE_NAMES[m.messageType ?? 0]).join(',')).toBe(zeek[0]?.msg_types);
      expect(msgs[0]?.ciaddr).toBe(zeek[0]?.client_addr);
      expect(msgs[0]?.chaddr).toBe(zeek[0]?.mac);
    });

    it('decodes every DHCP trace without error', () => {
      for (const t of [
        'dhcp_ack_subscriber_id_and_agent_remote_id.pcap',
        'dhcp_time_and_nameserver.pcap',
        'hw-type0.pcap',
      ]) {
        const msgs = dhcpPayloads(`dhcp/${t}`).map((b) => decodeDhcp(b));
        expect(msgs.length).toBeGreaterThan(0);
      }
    });
  },
);

describe('decodeDhcp fuzz', () => {
  const seeds = HAVE_ZEEK_DATA ? dhcpPayloads('dhcp/dhcp.pcap') : [synthetic([[53, [1]]])];
  it('random bytes and mutated real messages throw only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([1]), mutated(seeds)), (b) => onlyDecodeError(() => decodeDhcp(b))),
      { numRuns: FUZZ_RUNS },
    );
  });
});
