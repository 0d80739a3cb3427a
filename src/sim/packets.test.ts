import { describe, expect, it } from 'vitest';
import { FlowTable } from '../flows/flow-table.js';
import { extractObservations } from '../flows/observations.js';
import type { FlowRecord } from '../flows/types.js';
import { decodeDhcp } from '../wire/dhcp/decode.js';
import { decodeDns } from '../wire/dns/decode.js';
import { decodeHttp } from '../wire/http/decode.js';
import { decodeMqttConnect } from '../wire/mqtt/decode.js';
import { decodeNtp } from '../wire/ntp/decode.js';
import { PacketInfo, decodeArp, decodePacket } from '../wire/packet/decode.js';
import { decodeSsdp } from '../wire/ssdp/decode.js';
import { decodeTlsClientHello, decodeTlsServerHello, ja3, ja4 } from '../wire/tls/decode.js';
import {
  DhcpType,
  RR,
  TLS_STACKS,
  TcpConversation,
  arpFrame,
  dhcpClientPayload,
  dhcpServerPayload,
  dnsPayload,
  dnsQuery,
  dnsResponse,
  httpRequest,
  httpResponse,
  icmpFrame,
  ip4,
  mdnsAnnouncement,
  modbusReadHoldingRequest,
  mqttConnect,
  ntpPayload,
  ssdpMSearch,
  ssdpNotify,
  ssdpResponse,
  tcpFrame,
  tlsClientHello,
  tlsServerFlight,
  udpFrame,
  upnpDescriptionXml,
  verifyChecksums,
} from './packets.js';
import type { TlsStack } from './packets.js';

const MAC_A = 0x4419b6a00583;
const MAC_B = 0x7483c2000001;
const A = ip4('10.42.0.100');
const B = ip4('10.42.0.1');
const hdr = { srcMac: MAC_A, dstMac: MAC_B, srcIp: A, dstIp: B };

function decode(frame: Uint8Array): PacketInfo {
  const info = new PacketInfo();
  decodePacket(1, frame, info);
  expect(info.decodeError).toBeNull();
  return info;
}

describe('frame builders', () => {
  it('UDP, TCP and ICMP frames decode with correct IPv4, UDP, TCP and ICMP checksums', () => {
    const u = udpFrame({ ...hdr, ttl: 255, id: 7 }, 5353, 5353, Uint8Array.of(1, 2, 3));
    const t = tcpFrame(hdr, {
      srcPort: 40000,
      dstPort: 443,
      seq: 0xfffffff0,
      ack: 5,
      flags: 0x18,
      payload: Uint8Array.of(9, 9, 9, 9, 9),
    });
    const i = icmpFrame(hdr, 8, 0, 0x00010002, Uint8Array.of(1, 2, 3, 4, 5));
    for (const f of [u, t, i]) {
      expect(f.length).toBeGreaterThanOrEqual(60);
      expect(verifyChecksums(f)).toBe(true);
    }
    const ui = decode(u);
    expect([ui.srcPort, ui.dstPort, ui.ttl, ui.ipId, ui.payloadLength]).toEqual([5353, 5353, 255, 7, 3]);
    const ti = decode(t);
    expect([ti.tcpSeq, ti.tcpAck, ti.tcpFlags, ti.payloadLength]).toEqual([0xfffffff0, 5, 0x18, 5]);
    expect(decode(i).icmpType).toBe(8);
    // A flipped payload bit breaks the checksum.
    const bad = t.slice();
    bad[14 + 40 + 2] = (bad[14 + 40 + 2] ?? 0) ^ 1;
    expect(verifyChecksums(bad)).toBe(false);
  });

  it('ARP request and reply', () => {
    const req = arpFrame(1, MAC_A, A, 0, B);
    const info = decode(req);
    expect(info.dstMac).toBe(0xffffffffffff);
    expect(decodeArp(req, info.arpOffset)).toEqual({
      htype: 1,
      op: 1,
      senderMac: MAC_A,
      senderIp: A,
      targetMac: 0,
      targetIp: B,
    });
    const rep = arpFrame(2, MAC_B, B, MAC_A, A);
    expect(decode(rep).dstMac).toBe(MAC_A);
  });
});

describe('application payloads', () => {
  it('DHCP DISCOVER/REQUEST carry options 12, 50, 53, 55, 60, 61, 81 in the profile order; replies decode', () => {
    const p = dhcpClientPayload({
      type: DhcpType.REQUEST,
      xid: 0x1234,
      mac: MAC_A,
      prl: [1, 3, 6, 12, 15, 28, 42],
      hostname: 'HIKVISION-A00583',
      vendorClass: 'udhcp 1.19.4',
      fqdn: 'hik.lan',
      requestedIp: A,
      serverId: B,
      maxMessageSize: 576,
    });
    const m = decodeDhcp(p);
    expect(m).toMatchObject({
      op: 1,
      xid: 0x1234,
      messageType: 3,
      chaddr: '44:19:b6:a0:05:83',
      hostname: 'HIKVISION-A00583',
      vendorClass: 'udhcp 1.19.4',
      fingerprint: '1,3,6,12,15,28,42',
      requestedIp: '10.42.0.100',
      serverId: '10.42.0.1',
      clientId: { type: 1, value: '44:19:b6:a0:05:83' },
      fqdn: { flags: 0, name: 'hik.lan' },
    });
    expect(m.optionCodes).toEqual([53, 61, 50, 54, 57, 12, 81, 60, 55]);
    expect(p.length).toBeGreaterThanOrEqual(300);
    const ack = decodeDhcp(
      dhcpServerPayload({
        type: DhcpType.ACK,
        xid: 0x1234,
        mac: MAC_A,
        yiaddr: A,
        serverIp: B,
        leaseSeconds: 3600,
        subnetMask: ip4('255.255.255.0'),
        router: B,
        dns: [B],
      }),
    );
    expect(ack).toMatchObject({
      op: 2,
      messageType: 5,
      yiaddr: '10.42.0.100',
      leaseTime: 3600,
      serverId: '10.42.0.1',
    });
  });

  it('DNS A, AAAA, PTR, SRV, TXT and NXDOMAIN, over UDP and TCP, with name compression', () => {
    expect(decodeDns(dnsQuery(7, 'devs.tplinkcloud.com', RR.A)).questions).toEqual([
      { name: 'devs.tplinkcloud.com', type: 1, class: 1, unicastResponse: false },
    ]);
    const aaaa = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]);
    const r = decodeDns(
      dnsPayload({
        id: 9,
        flags: 0x8180,
        questions: [{ name: 'x.example.com', type: RR.A }],
        answers: [
          { name: 'x.example.com', type: RR.A, ttl: 300, data: { a: ip4('192.0.2.7') } },
          { name: 'x.example.com', type: RR.AAAA, ttl: 300, data: { aaaa } },
          { name: '7.2.0.192.in-addr.arpa', type: RR.PTR, ttl: 60, data: { name: 'x.example.com' } },
          {
            name: '_mqtt._tcp.example.com',
            type: RR.SRV,
            ttl: 60,
            data: { srv: { priority: 1, weight: 2, port: 1883, target: 'x.example.com' } },
          },
          { name: 'x.example.com', type: RR.TXT, ttl: 60, data: { txt: ['v=1', 'k=abc'] } },
        ],
      }),
    );
    expect(r.records.map((x) => x.data)).toEqual([
      { kind: 'a', address: '192.0.2.7' },
      { kind: 'aaaa', address: '2001:db8::1' },
      { kind: 'name', name: 'x.example.com' },
      { kind: 'srv', priority: 1, weight: 2, port: 1883, target: 'x.example.com' },
      { kind: 'txt', strings: ['v=1', 'k=abc'] },
    ]);
    const nx = decodeDns(dnsResponse(3, 'nothere.example', RR.A, null));
    expect([nx.isResponse, nx.rcode, nx.records.length]).toEqual([true, 3, 0]);
    const tcp = dnsPayload({ id: 1, flags: 0x0100, questions: [{ name: 'a.b', type: RR.TXT }], tcp: true });
    expect(decodeDns(tcp, 0, tcp.length, { tcp: true }).questions[0]?.name).toBe('a.b');
  });

  it('mDNS announcements yield service, instance and host name observations', () => {
    const payload = mdnsAnnouncement({
      hostname: 'Philips-hue',
      ip: A,
      instance: 'Philips Hue - A00583',
      services: [
        { type: '_hue._tcp', port: 443, txt: ['bridgeid=001788fffea00583'] },
        { type: '_hap._tcp', port: 8080 },
      ],
    });
    const f = udpFrame(
      { srcMac: MAC_A, dstMac: 0x01005e0000fb, srcIp: A, dstIp: ip4('224.0.0.251'), ttl: 255 },
      5353,
      5353,
      payload,
    );
    const obs = extractObservations(decode(f), f);
    const kinds = (k: string): string[] => obs.filter((o) => o.kind === k).map((o) => o.value);
    expect(kinds('mdns_service')).toEqual(expect.arrayContaining(['_hue._tcp.local', '_hap._tcp.local']));
    expect(kinds('mdns_instance')).toContain('philips\\x20hue\\x20-\\x20a00583._hue._tcp.local');
    expect(kinds('mdns_hostname')).toContain('philips-hue.local');
    expect(new Set(obs.map((o) => o.mac))).toEqual(new Set(['44:19:b6:a0:05:83']));
  });

  it('SSDP NOTIFY, M-SEARCH and 200 OK; UPnP description over HTTP', () => {
    const n = decodeSsdp(
      ssdpNotify({
        location: 'http://10.42.0.100:1400/xml/device_description.xml',
        nt: 'upnp:rootdevice',
        usn: 'uuid:1::upnp:rootdevice',
        server: 'Linux UPnP/1.0 Sonos/70.3-35220 (ZPS18)',
      }),
    );
    expect(n).toMatchObject({
      kind: 'notify',
      nt: 'upnp:rootdevice',
      nts: 'ssdp:alive',
      usn: 'uuid:1::upnp:rootdevice',
      server: 'Linux UPnP/1.0 Sonos/70.3-35220 (ZPS18)',
    });
    expect(decodeSsdp(ssdpMSearch('ssdp:all', 2, 'iOS/17 UPnP/1.1')).kind).toBe('msearch');
    const r = decodeSsdp(
      ssdpResponse({
        st: 'roku:ecp',
        usn: 'uuid:2::roku:ecp',
        location: 'http://10.42.0.9:8060/',
        server: 'Roku/12.5.0 UPnP/1.0 Roku/12.5.0',
        date: 'Wed, 01 May 2024 12:00:00 GMT',
      }),
    );
    expect(r).toMatchObject({
      kind: 'response',
      status: 200,
      st: 'roku:ecp',
      location: 'http://10.42.0.9:8060/',
    });
    const req = decodeHttp(httpRequest('10.42.0.9:8060', '/', 'HomeAssistant/2024.5.0'));
    expect(req).toMatchObject({
      kind: 'request',
      method: 'GET',
      host: '10.42.0.9:8060',
      userAgent: 'HomeAssistant/2024.5.0',
    });
    const xml = upnpDescriptionXml({
      deviceType: 'urn:schemas-upnp-org:device:ZonePlayer:1',
      friendlyName: 'Living Room',
      manufacturer: 'Sonos',
      manufacturerUrl: 'http://www.sonos.com',
      modelName: 'Sonos One',
      modelNumber: 'S18',
      serialNumber: 'X',
      udn: 'uuid:RINCON_1',
      firmware: '70.3-35220',
    });
    const res = httpResponse(200, 'OK', [['CONTENT-TYPE', 'text/xml']], xml);
    expect(decodeHttp(res)).toMatchObject({ kind: 'response', status: 200 });
    const body = new TextDecoder().decode(res);
    for (const s of [
      '<manufacturer>Sonos</manufacturer>',
      '<modelName>Sonos One</modelName>',
      '<modelNumber>S18</modelNumber>',
      '<softwareVersion>70.3-35220</softwareVersion>',
    ])
      expect(body).toContain(s);
  });

  it('TLS ClientHello per stack: SNI, ALPN, stable JA3/JA4 per stack, different across stacks', () => {
    const stacks = Object.keys(TLS_STACKS) as TlsStack[];
    const seen = new Map<string, string>();
    const seen4 = new Set<string>();
    for (const s of stacks) {
      const h1 = decodeTlsClientHello(tlsClientHello({ stack: s, sni: 'devs.tplinkcloud.com', salt: 1 }));
      const h2 = decodeTlsClientHello(tlsClientHello({ stack: s, sni: 'other.example.com', salt: 99999 }));
      expect(h1.sni).toBe('devs.tplinkcloud.com');
      expect(h1.alpn).toEqual([...TLS_STACKS[s].alpn]);
      expect(ja3(h1).hash).toBe(ja3(h2).hash); // GREASE and SNI do not change JA3
      expect(seen.has(ja3(h1).hash)).toBe(false);
      seen.set(ja3(h1).hash, s);
      seen4.add(ja4(h1).fingerprint);
    }
    expect(seen4.size).toBe(stacks.length);
    expect(
      ja4(decodeTlsClientHello(tlsClientHello({ stack: 'chromium', sni: 'a.b', salt: 3 }))).fingerprint,
    ).toMatch(/^t13d1516h2_/);
    const sh = decodeTlsServerHello(tlsServerFlight(0x1301, true, null, 5, 3000));
    expect([sh.cipherSuite, sh.selectedVersion]).toEqual([0x1301, 0x0304]);
  });

  it('MQTT CONNECT, NTP and Modbus payloads', () => {
    const c = decodeMqttConnect(
      mqttConnect({
        clientId: 'shellyplug-s-A00583',
        keepAlive: 60,
        username: 'shelly',
        password: 'x',
        will: { topic: 't', message: 'false' },
      }),
    );
    expect(c).toMatchObject({
      clientId: 'shellyplug-s-A00583',
      protocolVersion: '3.1.1',
      keepAlive: 60,
      usernamePresent: true,
      passwordPresent: true,
      willTopic: 't',
    });
    const now = Date.UTC(2024, 4, 1) * 1000 + 123456;
    const q = decodeNtp(ntpPayload({ mode: 3, transmitMicros: now }));
    expect([q.mode, q.version]).toEqual([3, 4]);
    expect(Math.abs((q.transmitUnixMicros ?? 0) - now)).toBeLessThanOrEqual(1);
    const r = decodeNtp(
      ntpPayload({
        mode: 4,
        stratum: 2,
        refId: ip4('192.0.2.1'),
        originMicros: now,
        receiveMicros: now + 10,
        transmitMicros: now + 20,
      }),
    );
    expect([r.mode, r.stratum, r.referenceId]).toEqual([4, 2, '192.0.2.1']);
    expect(Array.from(modbusReadHoldingRequest(1, 1, 0, 6))).toEqual([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 6]);
  });
});

describe('TcpConversation', () => {
  it('produces consistent TCP that the flow table sees as SF, REJ and RSTO', () => {
    const frames: { ts: number; f: Uint8Array }[] = [];
    const sink = (ts: number, f: Uint8Array): void => void frames.push({ ts, f });
    const cli = { mac: MAC_A, ip: A, port: 40001, ttl: 64 };
    const srv = { mac: MAC_B, ip: ip4('198.51.100.7'), port: 443, ttl: 50 };
    const t0 = 1_714_560_000_000_000;
    new TcpConversation(sink, cli, srv, t0, 30_000, 1)
      .handshake()
      .exchange(new Uint8Array(3000), new Uint8Array(9000))
      .close();
    new TcpConversation(sink, { ...cli, port: 40002 }, { ...srv, port: 23 }, t0 + 1e6, 30_000, 2).refused();
    new TcpConversation(sink, { ...cli, port: 40003 }, srv, t0 + 2e6, 30_000, 3).handshake().reset(true);
    const flows: FlowRecord[] = [];
    const ft = new FlowTable({ onFlow: (r) => flows.push(r) });
    const info = new PacketInfo();
    let last = 0;
    for (const { ts, f } of frames) {
      expect(ts).toBeGreaterThanOrEqual(last);
      last = ts;
      expect(verifyChecksums(f)).toBe(true);
      decodePacket(1, f, info);
      info.tsMicros = ts;
      ft.add(info, f);
    }
    ft.flushAll();
    const byPort = new Map(flows.map((r) => [r.srcPort, r]));
    expect(byPort.get(40001)).toMatchObject({ connState: 'SF', payloadBytesOut: 3000, payloadBytesIn: 9000 });
    expect(byPort.get(40002)?.connState).toBe('REJ');
    expect(byPort.get(40003)?.connState).toBe('RSTO');
  });
});
