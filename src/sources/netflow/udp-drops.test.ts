import { describe, expect, it } from 'vitest';
import { udpDropsFromProc, udpSocketDrops } from './udp-drops.js';

const PROC = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:0807 00000000:0000 07 00000000 00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 17
  102: 00000000:0807 00000000:0000 07 00000000 00000000 00:00000000 00000000     0        0 41235 2 0000000000000000 3
  103: 00000000:0035 00000000:0000 07 00000000 00000000 00:00000000 00000000   101        0 11111 2 0000000000000000 99
`;

describe('UDP socket drops from /proc/net/udp', () => {
  it('sums the drops column of the sockets on the port, on the address when one is given', () => {
    expect(udpDropsFromProc(PROC, 2055)).toBe(20);
    expect(udpDropsFromProc(PROC, 2055, '127.0.0.1')).toBe(17);
    expect(udpDropsFromProc(PROC, 2055, '0.0.0.0')).toBe(20); // wildcard: any
    expect(udpDropsFromProc(PROC, 53)).toBe(99);
    expect(udpDropsFromProc(PROC, 9995)).toBeNull();
    expect(udpDropsFromProc('', 2055)).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('reads this machine: a number (or null) without throwing', () => {
    const d = udpSocketDrops(1);
    expect(d === null || Number.isInteger(d)).toBe(true);
  });
});
