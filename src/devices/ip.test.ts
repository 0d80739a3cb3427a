import { describe, expect, it } from 'vitest';
import { isDeviceIp, isLocalIp, isPublicIp, isSpecialIp } from './ip.js';

describe('local and special addresses', () => {
  it.each([
    ['10.42.0.7', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.10', true],
    ['100.64.3.3', true],
    ['169.254.1.1', true],
    ['8.8.8.8', false],
    ['203.0.113.5', false],
    ['fe80::1', true],
    ['fd00::5', true],
    ['2001:db8::1', false],
    ['not an ip', false],
  ])('%s local: %s', (ip, local) => expect(isLocalIp(ip)).toBe(local));

  it('knows broadcast, multicast and unspecified', () => {
    expect(isSpecialIp('255.255.255.255')).toBe(true);
    expect(isSpecialIp('224.0.0.251')).toBe(true);
    expect(isSpecialIp('10.42.0.255')).toBe(true);
    expect(isSpecialIp('0.0.0.0')).toBe(true);
    expect(isSpecialIp('ff02::fb')).toBe(true);
    expect(isSpecialIp('10.42.0.7')).toBe(false);
  });

  it('a device address is local and not special; an internet peer is neither', () => {
    expect(isDeviceIp('192.168.1.20')).toBe(true);
    expect(isDeviceIp('192.168.1.255')).toBe(false); // local broadcast
    expect(isDeviceIp('8.8.8.8')).toBe(false);
    expect(isPublicIp('8.8.8.8')).toBe(true);
    expect(isPublicIp('239.255.255.250')).toBe(false);
    expect(isPublicIp('10.0.0.1')).toBe(false);
  });
});
