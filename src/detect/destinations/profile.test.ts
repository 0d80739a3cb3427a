import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  destinationsOf,
  endpointValue,
  eachEntry,
  GENERALISE_HOSTS,
  judge,
  normaliseDomain,
  normaliseEntry,
  parseEndpoint,
  ProfileMatcher,
  serviceKey,
  serviceOf,
  type DestinationKind,
  type FlowDestinations,
} from './profile.js';
import { ingestFlow } from '../../test-support/flows.js';

const flow = ingestFlow;

/** What eachEntry hands out, as a list. */
function entriesOf(d: FlowDestinations): { kind: DestinationKind; value: string }[] {
  const out: { kind: DestinationKind; value: string }[] = [];
  eachEntry(d, (kind, value) => out.push({ kind, value }));
  return out;
}

describe('destination values', () => {
  it('normalises DNS names and drops link-local and reverse names', () => {
    expect(normaliseDomain('Devs.TPLinkCloud.com.')).toBe('devs.tplinkcloud.com');
    expect(normaliseDomain('printer.local')).toBeNull();
    expect(normaliseDomain('7.0.42.10.in-addr.arpa')).toBeNull();
    expect(normaliseDomain('bad name')).toBeNull();
    expect(normaliseDomain('')).toBeNull();
  });

  it('writes endpoints as ip:port/proto, [v6]:port/proto and ip/proto without ports', () => {
    expect(endpointValue('198.51.100.7', 443, 6)).toBe('198.51.100.7:443/tcp');
    expect(endpointValue('2001:db8:0:0::1', 123, 17)).toBe('[2001:db8::1]:123/udp');
    expect(endpointValue('198.51.100.7', 8, 1)).toBe('198.51.100.7/icmp');
    expect(endpointValue('not-an-ip', 1, 6)).toBeNull();
  });

  it('parses user endpoint patterns with parts left out or *', () => {
    expect(parseEndpoint('203.0.113.5')).toEqual({ host: '203.0.113.5', port: null, proto: null });
    expect(parseEndpoint('*:8883/tcp')).toEqual({ host: null, port: 8883, proto: 6 });
    expect(parseEndpoint('[2001:DB8::1]:443/TCP')).toEqual({ host: '[2001:db8::1]', port: 443, proto: 6 });
    expect(parseEndpoint('2001:db8::1')).toEqual({ host: '[2001:db8::1]', port: null, proto: null });
    expect(parseEndpoint('1.2.3.4:99999')).toBeNull();
    expect(parseEndpoint('1.2.3.4/bogus')).toBeNull();
  });

  it('validates and normalises entries by kind', () => {
    expect(normaliseEntry('domain', '*.Example.COM')).toEqual({ ok: true, value: '*.example.com' });
    expect(normaliseEntry('endpoint', '203.0.113.5:23/tcp')).toEqual({
      ok: true,
      value: '203.0.113.5:23/tcp',
    });
    expect(normaliseEntry('endpoint', '*')).toMatchObject({ ok: false });
    expect(normaliseEntry('protocol', 'MQTT')).toEqual({ ok: true, value: 'mqtt' });
    expect(normaliseEntry('domain', 'no spaces allowed')).toMatchObject({ ok: false });
  });
});

describe('destinationsOf', () => {
  it('takes DNS query names from a lookup to the LAN resolver (protocol, no endpoint)', () => {
    const d = destinationsOf(
      flow({ dstIp: '10.42.0.1', dstPort: 53, proto: 17, appProto: 'dns', dnsNames: ['Pool.NTP.org'] }),
    );
    expect(d).toMatchObject({ queried: ['pool.ntp.org'], endpoint: null, protocol: 'dns', external: false });
  });

  it('takes the SNI and the internet endpoint of a TLS connection', () => {
    const d = destinationsOf(flow({ sni: 'devs.tplinkcloud.com', dstPort: 50443 }));
    expect(d).toMatchObject({
      named: ['devs.tplinkcloud.com'],
      endpoint: '198.51.100.7:50443/tcp',
      external: true,
      device: { mac: '50:c7:bf:00:00:01', ip: '10.42.0.100' },
    });
    expect(entriesOf(d!)).toEqual([
      { kind: 'domain', value: 'devs.tplinkcloud.com' },
      { kind: 'endpoint', value: '198.51.100.7:50443/tcp' },
      { kind: 'protocol', value: 'tls' },
    ]);
  });

  it('ignores flows opened from the internet and mDNS names', () => {
    expect(destinationsOf(flow({ srcIp: '203.0.113.9', dstIp: '10.42.0.100' }))).toBeNull();
    const m = destinationsOf(
      flow({
        dstIp: '224.0.0.251',
        dstPort: 5353,
        proto: 17,
        appProto: 'mdns',
        dnsNames: ['_hue._tcp.local', 'x.example'],
      }),
    );
    expect(m).toMatchObject({ queried: [], endpoint: null, protocol: 'mdns' });
  });

  it('skips an address literal in the Host header', () => {
    const d = destinationsOf(flow({ appProto: 'http', dstPort: 80, httpHost: '198.51.100.7:80' }));
    expect(d?.named).toEqual([]);
  });
});

describe('judge', () => {
  const learned = new ProfileMatcher([
    { kind: 'domain', value: 'devs.tplinkcloud.com' },
    { kind: 'domain', value: 'time.google.com' },
    { kind: 'endpoint', value: '198.51.100.7:50443/tcp' },
    { kind: 'protocol', value: 'tls' },
    { kind: 'protocol', value: 'dns' },
  ]);

  it('allows a known name even on a new address', () => {
    const d = destinationsOf(flow({ dstIp: '192.0.2.77', sni: 'devs.tplinkcloud.com', dstPort: 50443 }))!;
    expect(judge(learned, d)).toEqual([]);
  });

  it('reports an unknown queried name (low) and an unknown SNI', () => {
    const q = destinationsOf(
      flow({ dstIp: '10.42.0.1', dstPort: 53, proto: 17, appProto: 'dns', dnsNames: ['evil.example'] }),
    )!;
    expect(judge(learned, q)).toEqual([
      { kind: 'domain', value: 'evil.example', peer: 'evil.example', severity: 'low' },
    ]);
    const s = destinationsOf(flow({ sni: 'other.example', dstPort: 443 }))!;
    expect(judge(learned, s)).toEqual([
      { kind: 'domain', value: 'other.example', peer: 'other.example', severity: 'low' },
    ]);
  });

  it('reports a nameless connection to a new internet endpoint, medium on an unusual port', () => {
    const d = destinationsOf(flow({ dstIp: '203.0.113.50', dstPort: 6667, appProto: null }))!;
    expect(judge(learned, d)).toEqual([
      { kind: 'endpoint', value: '203.0.113.50:6667/tcp', peer: '203.0.113.50', severity: 'medium' },
    ]);
    const web = destinationsOf(flow({ dstIp: '203.0.113.50', dstPort: 443, appProto: 'tls' }))!;
    expect(judge(learned, web)).toEqual([
      { kind: 'endpoint', value: '203.0.113.50:443/tcp', peer: '203.0.113.50', severity: 'low' },
    ]);
  });

  it('reports a new application protocol, even to a LAN peer', () => {
    const d = destinationsOf(flow({ dstIp: '10.42.0.7', dstPort: 23, appProto: 'telnet' }))!;
    expect(judge(learned, d)).toEqual([
      { kind: 'protocol', value: 'telnet', peer: 'proto:telnet', severity: 'low' },
    ]);
  });

  it('allows a whole registered domain once the profile holds several of its names', () => {
    const m = new ProfileMatcher([
      { kind: 'domain', value: 'rr1---sn-a.googlevideo.com' },
      { kind: 'domain', value: 'rr2---sn-b.googlevideo.com' },
    ]);
    expect(m.allowsDomain('rr3---sn-c.googlevideo.com')).toBe(false);
    m.add('domain', 'rr4---sn-d.googlevideo.com');
    expect(m.allowsDomain('rr3---sn-c.googlevideo.com')).toBe(true);
    expect(m.allowsDomain('googlevideo.com.evil.example')).toBe(false);
  });

  it('honours user zones and endpoint patterns', () => {
    const m = new ProfileMatcher([
      { kind: 'domain', value: '*.example.com' },
      { kind: 'endpoint', value: '*:6667/tcp' },
      { kind: 'protocol', value: 'tls' },
    ]);
    expect(m.allowsDomain('a.b.example.com')).toBe(true);
    expect(m.allowsDomain('example.com')).toBe(true);
    expect(m.allowsDomain('badexample.com')).toBe(false);
    const d = destinationsOf(flow({ dstIp: '203.0.113.50', dstPort: 6667, appProto: null }))!;
    expect(judge(m, d)).toEqual([]);
  });
});

describe('ProfileMatcher.learn', () => {
  it('learns what a flow teaches exactly as adding its entries would, once', () => {
    const flows = [
      flow({ dstIp: '198.51.100.7', dstPort: 443, sni: 'a.example.com', appProto: 'tls' }),
      flow({ dstIp: '2001:db8::7', dstPort: 123, proto: 17, appProto: 'ntp' }),
      flow({ dstIp: '198.51.100.8', dstPort: 8, proto: 1, appProto: null }),
      flow({ dstIp: '198.51.100.9', dstPort: null, proto: 6, appProto: null }), // no port: a pattern
    ];
    const learned = new ProfileMatcher();
    const added = new ProfileMatcher();
    for (const f of flows) {
      const d = destinationsOf(f)!;
      for (const e of entriesOf(d)) added.add(e.kind, e.value);
      let fresh = 0;
      for (const e of entriesOf(d))
        if (learned.learn(e.kind, e.value, e.kind === 'endpoint' && d.endpointExact)) fresh++;
      expect(fresh).toBe(entriesOf(d).length);
      for (const e of entriesOf(d)) expect(learned.learn(e.kind, e.value, d.endpointExact)).toBe(false);
    }
    expect(learned.size).toBe(added.size);
    for (const probe of flows.concat(flow({ dstIp: '198.51.100.9', dstPort: 8443, appProto: null }))) {
      const d = destinationsOf(probe)!;
      expect(judge(learned, d)).toEqual(judge(added, d));
    }
  });
});

describe('a service reached on many peers', () => {
  const peer = (i: number) => `198.51.${100 + (i >> 8)}.${i & 255}`;
  const endpoint = (i: number, port = 443) =>
    destinationsOf(flow({ dstIp: peer(i), dstPort: port, appProto: null }))!.endpoint!;

  it('is learned for any peer once GENERALISE_HOSTS peers used it, and judged so', () => {
    const m = new ProfileMatcher();
    for (let i = 0; i < GENERALISE_HOSTS - 1; i++) expect(m.learn('endpoint', endpoint(i), true)).toBe(true);
    expect(m.has('endpoint', endpoint(GENERALISE_HOSTS))).toBe(false);
    expect(m.learn('endpoint', endpoint(GENERALISE_HOSTS - 1), true)).toBe('*:443/tcp');
    expect(m.size).toBe(GENERALISE_HOSTS + 1);
    // Any further peer on 443/tcp is known and counts towards the service entry.
    expect(m.learn('endpoint', endpoint(500), true)).toBe(false);
    expect(m.entryFor('endpoint', endpoint(500))).toBe('*:443/tcp');
    expect(m.entryFor('endpoint', endpoint(3))).toBe('*:443/tcp'); // its exact peers count there too
    expect(judge(m, destinationsOf(flow({ dstIp: peer(900), dstPort: 443, appProto: null }))!)).toEqual([]);
    // Other services of the same peers are not covered.
    expect(m.entryFor('endpoint', endpoint(3, 8443))).toBeNull();
    expect(judge(m, destinationsOf(flow({ dstIp: peer(3), dstPort: 8443, appProto: null }))!)).toEqual([
      { kind: 'endpoint', value: endpoint(3, 8443), peer: peer(3), severity: 'low' },
    ]);
  });

  it("keeps counting after a reload from stored entries, and matches a user's *:port/proto the same way", () => {
    const stored = Array.from({ length: GENERALISE_HOSTS - 1 }, (_, i) => ({
      kind: 'endpoint' as const,
      value: endpoint(i, 123).replace('/tcp', '/udp'),
    }));
    const m = new ProfileMatcher(stored);
    expect(m.learn('endpoint', '203.0.113.9:123/udp', true)).toBe('*:123/udp');
    const user = new ProfileMatcher([{ kind: 'endpoint', value: '*:8883/tcp' }]);
    expect(user.has('endpoint', '203.0.113.9:8883/tcp')).toBe(true);
    expect(user.entryFor('endpoint', '203.0.113.9:8883/tcp')).toBe('*:8883/tcp');
    expect(user.has('endpoint', '203.0.113.9:8883/udp')).toBe(false);
  });

  it('never generalises portless peers, and reads the service of IPv6 endpoints', () => {
    expect(serviceOf('[2001:db8::7]:443/tcp')).toBe(serviceKey(443, 6));
    expect(serviceOf('198.51.100.8:53/udp')).toBe(serviceKey(53, 17));
    expect(serviceOf('[2001:db8::7]/icmpv6')).toBe(-1);
    expect(serviceOf('198.51.100.8/icmp')).toBe(-1);
    expect(serviceOf('198.51.100.8:99999/tcp')).toBe(-1);
    const m = new ProfileMatcher();
    for (let i = 0; i < GENERALISE_HOSTS * 2; i++)
      expect(m.learn('endpoint', `${peer(i)}/icmp`, true)).toBe(true);
  });
});

describe('serviceKey of a flow', () => {
  it('is the service read back from its endpoint value, and matching by it equals matching by the value', () => {
    const m = new ProfileMatcher([
      { kind: 'endpoint', value: '*:443/tcp' },
      { kind: 'endpoint', value: '*:123/udp' },
      { kind: 'endpoint', value: '203.0.113.9:8883/tcp' },
      { kind: 'endpoint', value: '203.0.113.10' },
    ]);
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.ipV6(),
        fc.boolean(),
        fc.constantFrom(443, 123, 8883, 0, 65535, 6667),
        fc.constantFrom(6, 17, 1, 58, 132),
        (v4, v6, useV6, dstPort, proto) => {
          const d = destinationsOf(flow({ dstIp: useV6 ? v6 : v4, dstPort, proto, appProto: null }))!;
          if (!d.endpoint) return;
          expect(d.service).toBe(serviceOf(d.endpoint));
          expect(m.entryFor('endpoint', d.endpoint, d.service)).toBe(m.entryFor('endpoint', d.endpoint));
        },
      ),
    );
  });
});
