import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isLocallyAdministered, normalizeMac, vendorOf } from './mac.js';

describe('MAC facts', () => {
  it('normalises the usual spellings', () => {
    expect(normalizeMac('00-17-88-AA-BB-CC')).toBe('00:17:88:aa:bb:cc');
    expect(normalizeMac('0017.88aa.bbcc')).toBe('00:17:88:aa:bb:cc');
    expect(normalizeMac('001788aabbcc')).toBe('00:17:88:aa:bb:cc');
    expect(normalizeMac('00:17:88:aa:bb')).toBeNull();
  });

  it('finds the registered vendor, longest prefix first', () => {
    expect(vendorOf('00:17:88:01:02:03')).toBe('Philips Lighting BV');
    // An MA-S block inside IEEE's own 70:B3:D5 MA-L: the MA-S owner wins over the MA-L owner.
    const mal = vendorOf('70:b3:d5:00:00:00');
    const mas = vendorOf('70:b3:d5:01:f0:00');
    expect(mas).not.toBeNull();
    expect(mas).not.toBe(mal);
  });

  it('gives every registry entry the first line of its record in the oui-data package', () => {
    const registry = createRequire(import.meta.url)('oui-data') as Record<string, string>;
    const expected = (hex: string) => {
      const e = registry[hex.slice(0, 9)] ?? registry[hex.slice(0, 7)] ?? registry[hex.slice(0, 6)];
      return e?.split('\n')[0]?.trim() || null;
    };
    let checked = 0;
    for (const prefix of Object.keys(registry)) {
      const hex = `${prefix}000000000000`.slice(0, 12);
      const mac = (hex.match(/../g) ?? []).join(':').toLowerCase();
      if (isLocallyAdministered(mac)) continue;
      checked++;
      if (vendorOf(mac) !== expected(hex)) expect(vendorOf(mac), mac).toBe(expected(hex));
    }
    expect(checked).toBeGreaterThan(40_000);
  });

  it('recognises randomized (locally administered) addresses and gives them no vendor', () => {
    expect(isLocallyAdministered('da:a1:19:00:00:01')).toBe(true);
    expect(isLocallyAdministered('00:17:88:01:02:03')).toBe(false);
    expect(vendorOf('da:a1:19:00:00:01')).toBeNull();
  });
});
