import { describe, expect, it } from 'vitest';
import { readCapture } from '../wire/capture/decode.js';
import { decodePacket } from '../wire/packet/decode.js';
import { PacketInfo, TcpFlag } from '../wire/packet/types.js';
import { dataPath, hasData, listFiles, missingMessage, readBytes } from '../wire/test-support/data.js';
import { BODY_BUDGET, BODY_CAP, FlowTable } from './flow-table.js';
import type { Observation, ObservationKind, ObservationSink } from './observations.js';

const { SYN, ACK, PSH, FIN } = TcpFlag;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ip4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

const PHONE = { ip: '10.0.0.20', mac: 0x02aabbccdd01 };
const PLUG = { ip: '10.0.0.31', mac: 0x94103e48f2a4 };

/** A TCP/IPv4 packet with a real payload (headers are left zero: only PacketInfo fields matter). */
function tcp(
  ts: number,
  from: typeof PHONE,
  to: typeof PHONE,
  sport: number,
  dport: number,
  flags: number,
  seq: number,
  payload: Uint8Array = new Uint8Array(0),
): PacketInfo {
  const i = new PacketInfo();
  i.tsMicros = ts;
  i.data = new Uint8Array(54 + payload.length);
  i.data.set(payload, 54);
  i.hasL2 = true;
  i.srcMac = from.mac;
  i.dstMac = to.mac;
  i.ipVersion = 4;
  i.l3Offset = 14;
  i.l4Offset = 34;
  i.srcIp4 = ip4(from.ip);
  i.dstIp4 = ip4(to.ip);
  i.ipProto = 6;
  i.ipLen = 40 + payload.length;
  i.srcPort = sport;
  i.dstPort = dport;
  i.tcpFlags = flags;
  i.tcpSeq = seq;
  i.payloadOffset = 54;
  i.payloadLength = payload.length;
  return i;
}

class Sink implements ObservationSink {
  readonly out: Observation[] = [];
  observe(
    kind: ObservationKind,
    mac: string | null,
    ip: string | null,
    value: string,
    tsMicros: number,
  ): void {
    this.out.push({ kind, mac, ip, value, tsMicros });
  }
}

const XML = `<?xml version="1.0"?>
<root xmlns="urn:Belkin:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:Belkin:device:insight:1</deviceType><friendlyName>WeMo Insight</friendlyName>
<manufacturer>Belkin International Inc.</manufacturer><modelDescription>Belkin Insight 1.0</modelDescription>
<modelName>Insight</modelName><modelNumber>1.0</modelNumber><serialNumber>221517K0101769</serialNumber>
<UDN>uuid:Insight-1_0-221517K0101769</UDN><firmwareVersion>WeMo_WW_2.00.11057.PVT-OWRT-Insight</firmwareVersion>
<iconList><icon><mimetype>jpg</mimetype><url>icon.jpg</url></icon></iconList>
<presentationURL>/pluginpres.html</presentationURL></device></root>
`;

const EXPECTED: [string, string][] = [
  ['upnp_model', 'Insight 1.0'],
  ['upnp_manufacturer', 'Belkin International Inc.'],
  ['upnp_device_type', 'urn:Belkin:device:insight:1'],
  ['upnp_firmware', 'WeMo_WW_2.00.11057.PVT-OWRT-Insight'],
  ['upnp_friendly_name', 'WeMo Insight'],
];

const head = (headers: string): string => `HTTP/1.1 200 OK\r\n${headers}\r\n`;

/**
 * The phone fetches /setup.xml from the plug (port 49153, so HTTP is recognised from the request bytes);
 * the plug answers with `segments` (its sequence numbers continue from opts.isn + 1, default 5001).
 */
function fetch(
  segments: (string | Uint8Array | [number, string | Uint8Array])[],
  opts: { close?: boolean; sport?: number; t0?: number; table?: FlowTable; sink?: Sink; isn?: number } = {},
): { sink: Sink; table: FlowTable } {
  const sink = opts.sink ?? new Sink();
  const table = opts.table ?? new FlowTable({ onFlow: () => undefined, observations: sink });
  const sp = opts.sport ?? 40000;
  let ts = opts.t0 ?? 1_000_000;
  table.add(tcp(ts++, PHONE, PLUG, sp, 49153, SYN, 100));
  const isn = opts.isn ?? 5000;
  table.add(tcp(ts++, PLUG, PHONE, 49153, sp, SYN | ACK, isn));
  const req = enc('GET /setup.xml HTTP/1.1\r\nHost: 10.0.0.31:49153\r\nUser-Agent: WeMo/1\r\n\r\n');
  table.add(tcp(ts++, PHONE, PLUG, sp, 49153, ACK | PSH, 101, req));
  let seq = isn + 1;
  for (const s of segments) {
    const [at, data] = Array.isArray(s) ? s : [seq, s];
    const bytes = typeof data === 'string' ? enc(data) : data;
    table.add(tcp(ts++, PLUG, PHONE, 49153, sp, ACK | PSH, at >>> 0, bytes));
    seq = Math.max(seq, at + bytes.length);
  }
  if (opts.close) {
    table.add(tcp(ts++, PLUG, PHONE, 49153, sp, FIN | ACK, seq >>> 0));
    table.add(tcp(ts++, PHONE, PLUG, sp, 49153, FIN | ACK, 101 + req.length));
  }
  return { sink, table };
}

const pairs = (s: Sink): [string, string][] => s.out.map((o) => [o.kind, o.value]);

describe('FlowTable: device descriptions in HTTP responses', () => {
  it('one segment: reported for the device that served it, at that packet’s time', () => {
    const body = enc(XML);
    const { sink } = fetch([`${head(`Content-Type: text/xml\r\nContent-Length: ${body.length}\r\n`)}${XML}`]);
    expect(pairs(sink)).toEqual(EXPECTED);
    expect(sink.out.every((o) => o.mac === '94:10:3e:48:f2:a4' && o.ip === PLUG.ip)).toBe(true);
    expect(sink.out[0]?.tsMicros).toBe(1_000_003);
  });

  it('several segments with retransmissions and overlaps', () => {
    const body = enc(XML);
    const h = head(`CONTENT-TYPE: text/xml; charset="utf-8"\r\nCONTENT-LENGTH: ${body.length}\r\n`);
    const hl = enc(h).length;
    const s0 = 5001 + hl;
    const { sink } = fetch([
      h,
      body.subarray(0, 200),
      [s0, body.subarray(0, 200)], // retransmission
      [s0 + 150, body.subarray(150, 500)], // overlap
      body.subarray(500),
    ]);
    expect(pairs(sink)).toEqual(EXPECTED);
  });

  it('sequence numbers past 2^31 and across the 2^32 wrap', () => {
    const body = enc(XML);
    const h = head(`Content-Type: text/xml\r\nContent-Length: ${body.length}\r\n`);
    const s0 = enc(h).length;
    for (const isn of [0x7ffffff0, 2 ** 32 - s0 - 300]) {
      const at = isn + 1 + s0;
      const { sink } = fetch(
        [
          h,
          body.subarray(0, 200),
          [at, body.subarray(0, 200)],
          [at + 150, body.subarray(150, 500)],
          body.subarray(500),
        ],
        { isn },
      );
      expect(pairs(sink)).toEqual(EXPECTED);
    }
  });

  it('chunked bodies, and bodies recognised by their first bytes without a Content-Type', () => {
    const body = enc(XML);
    const chunked = (b: Uint8Array, n: number): string => {
      let s = '';
      for (let i = 0; i < b.length; i += n) {
        const c = b.subarray(i, i + n);
        s += `${c.length.toString(16)}\r\n${Buffer.from(c).toString('latin1')}\r\n`;
      }
      return `${s}0\r\n\r\n`;
    };
    const wire = enc(chunked(body, 100));
    const { sink } = fetch([
      head('Content-Type: text/xml\r\nTransfer-Encoding: chunked\r\n'),
      wire.subarray(0, 333),
      wire.subarray(333),
    ]);
    expect(pairs(sink)).toEqual(EXPECTED);

    const { sink: s2 } = fetch([head(`Content-Length: ${body.length}\r\n`), body]);
    expect(pairs(s2)).toEqual(EXPECTED);
  });

  it('a body without length ends with the connection; a gap ends it with what it has', () => {
    const { sink } = fetch([head('Content-Type: text/xml\r\nConnection: close\r\n'), XML], { close: true });
    expect(sink.out).toHaveLength(0); // until the flow ends
    const { sink: s2, table } = fetch([head('Content-Type: text/xml\r\n'), XML], { close: true });
    table.flushAll();
    expect(pairs(s2)).toEqual(EXPECTED);
    expect(s2.out[0]?.tsMicros).toBe(1_000_006); // the flow's last packet
    expect(sink.out).toHaveLength(0);

    const body = enc(XML);
    const cut = XML.indexOf('<serialNumber>');
    const h = head(`Content-Type: text/xml\r\nContent-Length: ${body.length}\r\n`);
    const s0 = 5001 + enc(h).length;
    const { sink: s3 } = fetch([h, body.subarray(0, cut), [s0 + cut + 10, body.subarray(cut + 10)]]);
    expect(pairs(s3)).toEqual([
      ['upnp_model', 'Insight 1.0'],
      ['upnp_manufacturer', 'Belkin International Inc.'],
      ['upnp_device_type', 'urn:Belkin:device:insight:1'],
      ['upnp_friendly_name', 'WeMo Insight'],
    ]);
  });

  it('never buffers other bodies', () => {
    const body = enc(XML);
    for (const h of [
      head(`Content-Type: text/html\r\nContent-Length: ${body.length + 10}\r\n`),
      head(`Content-Type: text/xml\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n`),
      `HTTP/1.1 404 Not Found\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`,
    ]) {
      const { sink, table } = fetch([h, `<!-- -->${XML}`]);
      table.flushAll();
      expect(sink.out).toHaveLength(0);
    }
    const { sink, table } = fetch([head(`Content-Length: ${body.length + 7}\r\n`), `{"a":1}`, XML]);
    table.flushAll();
    expect(sink.out).toHaveLength(0);
  });

  it('caps the bytes buffered across flows and counts what it skipped', () => {
    const sink = new Sink();
    const table = new FlowTable({ onFlow: () => undefined, observations: sink });
    const n = BODY_BUDGET / BODY_CAP + 5;
    for (let i = 0; i < n; i++)
      fetch([head(`Content-Type: text/xml\r\nContent-Length: ${BODY_CAP * 4}\r\n`)], {
        table,
        sink,
        sport: 30000 + i,
        t0: 1_000_000 + i * 100,
      });
    expect(table.stats.bodiesSkipped).toBe(5);
    table.flushAll();
    const again = fetch([head('Content-Type: text/xml\r\n'), XML], {
      table,
      sink,
      sport: 20000,
      t0: 9_000_000,
    });
    again.table.flushAll();
    expect(table.stats.bodiesSkipped).toBe(5); // the budget was given back
    expect(pairs(sink)).toEqual(EXPECTED);
  });

  it('without an observations sink nothing is reassembled', () => {
    const table = new FlowTable({ onFlow: () => undefined });
    fetch([head('Content-Type: text/xml\r\n'), XML], { table, sink: new Sink() });
    table.flushAll();
    expect(table.stats.decodeErrors).toBe(0);
  });
});

const DLINK = dataPath('iot-sentinel-train', 'D-LinkHomeHub');

describe.skipIf(!hasData('iot-sentinel-train', 'D-LinkHomeHub'))(
  `device descriptions in real captures ${hasData('iot-sentinel-train', 'D-LinkHomeHub') ? '' : missingMessage('iot-sentinel-train')}`,
  () => {
    it('IoT Sentinel D-Link hub setup: the HNAP GetDeviceSettings answer names the hub', () => {
      const sink = new Sink();
      const table = new FlowTable({ onFlow: () => undefined, observations: sink });
      const info = new PacketInfo();
      for (const f of listFiles(DLINK, '.pcap').slice(0, 3)) {
        for (const rec of readCapture(readBytes(f))) {
          decodePacket(rec.linkType, rec.data, info);
          info.tsMicros = rec.tsMicros;
          table.add(info, rec.data);
        }
      }
      table.flushAll();
      const got = new Set(sink.out.map((o) => `${o.mac} ${o.ip} ${o.kind} ${o.value}`));
      expect([...got].sort()).toEqual(
        [
          'upnp_device_type ConnectedHomeClient',
          'upnp_firmware 1.22',
          'upnp_friendly_name DCH-G020',
          'upnp_manufacturer D-Link',
          'upnp_model DCH-G020',
        ].map((s) => `1c:5f:2b:aa:fd:4e 10.10.10.87 ${s}`),
      );
    });
  },
);
