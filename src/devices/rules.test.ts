import { describe, expect, it } from 'vitest';
import { firmwareVersion, inferCpes } from './cpe.js';
import { DEVICE_TYPE_FEATURES, tokensOfColumns, withoutPackets } from './features.js';
import { identityKey } from './identity.js';
import { decide } from './identify.js';
import { addSignal, emptyProfile, type DeviceProfile } from './profile.js';
import { evaluateRules, ruleSchema, type Rule } from './rules.js';
import { dnsToken, wordTokens } from './tokens.js';
import { upnpDescription } from './upnp.js';

function profile(signals: [string, string][], mac = '50:c7:bf:00:c7:03'): DeviceProfile {
  const p = emptyProfile(mac, '10.0.0.20', null);
  for (const [k, v] of signals) addSignal(p, k as never, v);
  return p;
}

describe('rules engine', () => {
  it('maps an mDNS _hue._tcp service to a Philips Hue bridge and explains it', () => {
    const m = evaluateRules(profile([['mdns_service', '_hue._tcp.local']]));
    const hue = m.find((x) => x.rule.id === 'hue-bridge');
    expect(hue?.rule.set).toMatchObject({ vendor: 'Philips', model: 'Hue Bridge', device_type: 'smart_hub' });
    expect(hue?.explanation).toBe("mDNS service '_hue._tcp.local' → smart_hub (Philips Hue Bridge), 0.95");
  });

  it('needs every condition: udhcp alone is not a TP-Link plug, udhcp + *.tplinkcloud.com is', () => {
    expect(evaluateRules(profile([['dhcp_vendor', 'udhcp 1.19.4']])).map((x) => x.rule.id)).not.toContain(
      'tplink-plug',
    );
    const m = evaluateRules(
      profile([
        ['dhcp_vendor', 'udhcp 1.19.4'],
        ['dns_query', 'devs.tplinkcloud.com'],
      ]),
    );
    const r = m.find((x) => x.rule.id === 'tplink-plug');
    expect(r?.explanation).toBe(
      "DHCP vendor class 'udhcp 1.19.4' + DNS *.tplinkcloud.com → smart_plug (TP-Link), 0.94",
    );
    const id = decide(
      profile([
        ['dhcp_vendor', 'udhcp 1.19.4'],
        ['dns_query', 'devs.tplinkcloud.com'],
      ]),
    );
    expect(id).toMatchObject({
      deviceType: 'smart_plug',
      typeSource: 'rule',
      confidence: 0.94,
      vendor: 'TP-Link',
    });
  });

  it('suffix conditions match the domain and its subdomains only', () => {
    const m = (q: string) =>
      evaluateRules(profile([['dns_query', q]])).some((x) => x.rule.id === 'dlink-cloud');
    expect(m('mydlink.com')).toBe(true);
    expect(m('signal.mydlink.com.')).toBe(true);
    expect(m('notmydlink.com')).toBe(false);
  });

  it('user rules come first and win ties; invalid rules are refused', () => {
    const user: Rule = ruleSchema.parse({
      id: 'my-hue',
      when: [{ kind: 'mdns_service', contains: '_hue' }],
      set: { device_type: 'lighting_bridge' },
      confidence: 0.95,
    });
    const id = decide(profile([['mdns_service', '_hue._tcp.local']]), { userRules: [user] });
    expect(id.deviceType).toBe('lighting_bridge');
    expect(id.evidence[0]?.ref).toBe('my-hue');
    expect(
      ruleSchema.safeParse({
        id: 'x',
        when: [{ kind: 'dns_query', regex: '(' }],
        set: { vendor: 'a' },
        confidence: 1,
      }).success,
    ).toBe(false);
    expect(
      ruleSchema.safeParse({
        id: 'x',
        when: [{ kind: 'dns_query', suffix: 'a.com', contains: 'b' }],
        set: { vendor: 'a' },
        confidence: 1,
      }).success,
    ).toBe(false);
    expect(ruleSchema.safeParse({ id: 'x', when: [], set: { vendor: 'a' }, confidence: 1 }).success).toBe(
      false,
    );
  });

  it('is unknown below the confidence threshold, and the model wins when more confident', () => {
    const p = profile([['oui', 'Espressif Inc.']]);
    expect(decide(p).deviceType).toBe('unknown');
    const pred = {
      deviceType: 'iKettle2',
      confidence: 0.8,
      runnerUp: null,
      evidence: ['DHCP fingerprint 1,3,28'],
    };
    const id = decide(p, { model: { modelId: 'm1', version: 3, prediction: pred } });
    expect(id).toMatchObject({ deviceType: 'iKettle2', typeSource: 'model', confidence: 0.8 });
    expect(id.evidence.find((e) => e.source === 'model')?.text).toBe(
      'model v3: DHCP fingerprint 1,3,28 → iKettle2, 0.80',
    );
    const low = decide(p, {
      model: { modelId: 'm1', version: 3, prediction: { ...pred, confidence: 0.45 } },
    });
    expect(low.deviceType).toBe('unknown');
  });
});

describe('features that identify one unit are not features', () => {
  it('drops names built from the MAC or IP, reverse lookups and .local names', () => {
    const mac = '5c:cf:7f:07:ae:fb';
    expect(dnsToken('esp-07aefb.example.com', mac, null)).toBeNull();
    expect(dnsToken('20.0.0.10.in-addr.arpa', mac, '10.0.0.20')).toBeNull();
    expect(dnsToken('host-10-0-0-20.isp.net', mac, '10.0.0.20')).toBeNull();
    expect(dnsToken('printer.local', mac, null)).toBeNull();
    expect(dnsToken('a.b.tplinkcloud.com', mac, null)).toBe('tplinkcloud.com');
    expect(dnsToken('x.api.amazon.co.uk', mac, null)).toBe('amazon.co.uk');
    expect(wordTokens('ESP_07AEFB', mac, null)).toEqual(['esp']);
    expect(wordTokens('HS110', mac, null)).toEqual(['hs110']);
    expect(wordTokens('cam-1a2b3c4d', mac, null)).toEqual(['cam']);
  });

  it('gives two units of one type the same feature row', () => {
    const a = profile(
      [
        ['dhcp_hostname', 'ESP_07AEFB'],
        ['dns_query', 'esp-07aefb.cloud.com'],
        ['dns_query', 'x.smarter.am'],
      ],
      '5c:cf:7f:07:ae:fb',
    );
    const b = profile(
      [
        ['dhcp_hostname', 'ESP_06D902'],
        ['dns_query', 'esp-06d902.cloud.com'],
        ['dns_query', 'x.smarter.am'],
      ],
      '5c:cf:7f:06:d9:02',
    );
    a.ouiVendor = b.ouiVendor = 'Espressif Inc.';
    a.ip = b.ip = null;
    expect(Array.from(DEVICE_TYPE_FEATURES.extract(a))).toEqual(Array.from(DEVICE_TYPE_FEATURES.extract(b)));
    expect([...tokensOfColumns(a).values()].flat()).toContain('smarter.am');
  });

  it('marks packet columns missing for database profiles', () => {
    const p = profile([]);
    p.packetsKnown = true;
    p.packets = [[1, ...new Array(22).fill(0)]];
    const row = DEVICE_TYPE_FEATURES.extract(withoutPackets(p));
    expect(row[0]).toBe(-1);
    expect(DEVICE_TYPE_FEATURES.extract(p)[0]).toBe(1);
  });
});

describe('identity keys', () => {
  it('ignores generic host names and hardware client ids', () => {
    expect(identityKey('dhcp_hostname', 'android')).toBeNull();
    expect(identityKey('dhcp_hostname', 'localhost')).toBeNull();
    expect(identityKey('mdns_hostname', 'iPhone.local.')).toBeNull();
    expect(identityKey('dhcp_client_id', '1:aa:bb:cc:dd:ee:ff')).toBeNull();
    expect(identityKey('mdns_hostname', 'Johns-MacBook-Pro.local')).toBe('johns-macbook-pro');
    expect(identityKey('dhcp_client_id', '255:00:01:00:01:2a')).toBe('255:00:01:00:01:2a');
  });
});

describe('CPE inference', () => {
  it('builds CPEs only from evidence', () => {
    const signals = new Map([
      ['ssdp_server', new Map([['Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.18', 1]])],
      ['dhcp_vendor', new Map([['udhcp 1.19.4', 1]])],
    ]);
    const cpes = inferCpes({
      vendor: 'TP-Link Technologies Co., Ltd.',
      model: 'HS110',
      firmware: '1.2.5',
      signals,
    }).map((c) => c.cpe);
    expect(cpes).toEqual([
      'cpe:2.3:h:tp-link:hs110:-:*:*:*:*:*:*:*',
      'cpe:2.3:o:tp-link:hs110_firmware:1.2.5:*:*:*:*:*:*:*',
      'cpe:2.3:o:linux:linux_kernel:2.6.36:*:*:*:*:*:*:*',
      'cpe:2.3:a:libupnp_project:libupnp:1.6.18:*:*:*:*:*:*:*',
      'cpe:2.3:a:busybox:busybox:1.19.4:*:*:*:*:*:*:*',
    ]);
    expect(inferCpes({ vendor: 'Acme', model: null, firmware: null, signals: new Map() })).toEqual([]);
  });

  it('reads a version out of firmware strings, and nothing where there is none', () => {
    expect(firmwareVersion('1.2.5')).toBe('1.2.5');
    expect(firmwareVersion('WeMo_WW_2.00.11057.PVT-OWRT-Insight')).toBe('2.00.11057');
    expect(firmwareVersion('v1.04b02')).toBe('1.04b02');
    expect(firmwareVersion('build 20170412')).toBeNull();
    expect(firmwareVersion('')).toBeNull();
  });

  it('takes maker, model and firmware from a UPnP device description when nothing else names them', () => {
    const p = profile([
      ['upnp_manufacturer', 'Belkin International Inc.'],
      ['upnp_model', 'Insight 1.0'],
      ['upnp_firmware', 'WeMo_WW_2.00.11057.PVT-OWRT-Insight'],
      ['upnp_friendly_name', 'Living room plug'],
    ]);
    const d = upnpDescription(p.signals);
    expect(d).toMatchObject({
      manufacturer: 'Belkin International Inc.',
      model: 'Insight 1.0',
      firmware: 'WeMo_WW_2.00.11057.PVT-OWRT-Insight',
    });
    expect(d.text).toBe(
      "Device description (UPnP/HNAP): manufacturer 'Belkin International Inc.', model 'Insight 1.0', firmware 'WeMo_WW_2.00.11057.PVT-OWRT-Insight'",
    );
    const cpes = inferCpes({ vendor: null, model: null, firmware: null, signals: p.signals });
    expect(cpes.map((c) => c.cpe)).toEqual([
      'cpe:2.3:h:belkin:insight_1.0:-:*:*:*:*:*:*:*',
      'cpe:2.3:o:belkin:insight_1.0_firmware:2.00.11057:*:*:*:*:*:*:*',
    ]);
    expect(cpes[1]?.evidence).toContain("UPnP manufacturer 'Belkin International Inc.'");
    expect(upnpDescription(profile([['dhcp_vendor', 'udhcp 1.19.4']]).signals).text).toBeNull();
  });
});
