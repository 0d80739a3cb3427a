import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataPath, hasData, missingMessage, randomChunks } from '../../wire/test-support/data.js';
import { TcpFlag } from '../../wire/packet/types.js';
import type { IngestFlow, SourceItem } from '../types.js';
import { historyFlags, readZeekLog, zeekKindFromName, type ZeekReadOptions } from './read.js';

async function collect(
  input: Parameters<typeof readZeekLog>[0],
  opts: ZeekReadOptions = {},
): Promise<{ items: SourceItem[]; reader: ReturnType<typeof readZeekLog> }> {
  const reader = readZeekLog(input, opts);
  const items: SourceItem[] = [];
  for await (const it of reader) items.push(it);
  return { items, reader };
}

const flows = (items: SourceItem[]): IngestFlow[] =>
  items.flatMap((i) => (i.kind === 'flow' ? [i.flow] : []));

const fromText = (s: string): Readable => Readable.from([Buffer.from(s)]);

const HEADER = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tconn',
  '#open\t2019-01-11-05-34-44',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents   label   detailed-label',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]   string   string',
];

describe('Zeek TSV (synthetic)', () => {
  const rows = [
    '1547127288.026074\tCXY5uG2sSmjJ0grfY2\t192.168.1.197\t58312\t104.24.96.120\t80\ttcp\thttp\t3.909013\t83\t67212\tSF\t-\t-\t4380\tShADadttFf\t54\t3371\t50\t69224\t-   Malicious   PartOfAHorizontalPortScan',
    '1547157330.030005\tCb4VXV3tOHGjcsI0cf\t192.168.1.197\t123\t82.113.53.40\t123\tudp\t-\t-\t-\t-\tS0\t-\t-\t0\tD\t1\t76\t0\t0\t-   Benign   -',
    '1547157331\tCicmp\t192.168.1.1\t8\t192.168.1.2\t0\ticmp\t-\t0.5\t56\t56\tOTH\t-\t-\t0\t-\t1\t84\t1\t84\t-   Benign   -',
    'garbage line',
    '1547157332.1\tCv6\tfe80:0000::0001\t5353\tFF02::FB\t5353\tudp\tdns\t-\t10\t-\tS0\t-\t-\t0\tD\t1\t-\t0\t0\t-   Benign   -',
    '1547157333.1\tCbad\t300.1.1.1\t1\t1.1.1.1\t2\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t40\t0\t0\t-   Benign   -',
  ];
  const text = [...HEADER, ...rows, '#close\t2019-01-11-05-34-45   benign   -'].join('\r\n') + '\r\n';

  it('parses the IoT-23 layout (space-separated label columns, CRLF), counts bad lines, never throws', async () => {
    const { items, reader } = await collect(fromText(text), { source: 'mem' });
    const fs = flows(items);
    expect(fs).toHaveLength(4);
    expect(fs[0]).toMatchObject({
      tsStart: 1547127288026074,
      tsEnd: 1547127288026074 + 3909013,
      srcIp: '192.168.1.197',
      srcPort: 58312,
      dstIp: '104.24.96.120',
      dstPort: 80,
      proto: 6,
      appProto: 'http',
      bytesOut: 3371,
      bytesIn: 69224,
      packetsOut: 54,
      packetsIn: 50,
      payloadBytesOut: 83,
      payloadBytesIn: 67212,
      connState: 'SF',
      closeReason: 'fin',
      uid: 'CXY5uG2sSmjJ0grfY2',
      label: 'Malicious PartOfAHorizontalPortScan',
      tcpFlagsOut: TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN,
      tcpFlagsIn: TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN,
    });
    expect(fs[0]?.communityId).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
    expect(fs[1]).toMatchObject({
      label: 'Benign',
      appProto: 'ntp',
      payloadBytesOut: 0,
      tsEnd: fs[1]?.tsStart,
    });
    expect(fs[2]).toMatchObject({ proto: 1, srcPort: 8, dstPort: 0, tcpFlagsOut: 0 });
    // IPv6 normalised to RFC 5952; orig_ip_bytes unset → falls back to orig_bytes.
    expect(fs[3]).toMatchObject({
      srcIp: 'fe80::1',
      dstIp: 'ff02::fb',
      proto: 17,
      bytesOut: 10,
      appProto: 'dns',
    });
    expect(reader.state.stats).toMatchObject({
      records: 4,
      flows: 4,
      errors: { field_count: 1, malformed: 1 },
    });
    expect(reader.state.lineErrors.map((e) => [e.line, e.kind])).toEqual([
      [12, 'field_count'],
      [14, 'malformed'],
    ]);
    expect(reader.state.lineErrors[1]?.message).toMatch(/^mem:14 \(byte \d+\): id\.orig_h: not an address/);
    expect(reader.state.offset).toBe(Buffer.byteLength(text));
  });

  it('gives the same result however the stream is chunked', async () => {
    const bytes = new Uint8Array(Buffer.from(text));
    const whole = (await collect(fromText(text))).items;
    for (const seed of [1, 2, 3]) {
      const { items } = await collect(Readable.from(randomChunks(bytes, seed, 17)));
      expect(items).toEqual(whole);
    }
  });

  it('checkpoints: the offset after a line is safe to resume from (file path re-reads the header)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zeek-'));
    try {
      const file = path.join(dir, 'conn.log');
      writeFileSync(file, text);
      const all = flows((await collect(file)).items);
      const reader = readZeekLog(file);
      let checkpoint = -1;
      for await (const it of reader) {
        if (it.kind === 'flow') {
          checkpoint = reader.state.offset;
          break;
        }
      }
      await reader.return();
      expect(checkpoint).toBe(text.indexOf('\n', text.indexOf('CXY5uG2')) + 1);
      const rest = flows((await collect(file, { startOffset: checkpoint })).items);
      expect(rest).toEqual(all.slice(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes, empty and unset values, community_id column, MACs and a new header block mid-stream', async () => {
    const t = [
      '#separator \\x09',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tcommunity_id\torig_l2_addr\tresp_l2_addr\thistory',
      '1.5\tC\\x09x\t10.0.0.1\t1\t10.0.0.2\t443\ttcp\tssl,http\t1:LQU9qZlK+B5F3KDmev6m5PMibrg=\tAA:BB:CC:DD:EE:FF\tbogus\tShR',
      '#separator ,',
      '#fields,ts,id.orig_h,id.resp_h,proto',
      '2,10.0.0.3,10.0.0.4,unknown_transport',
    ].join('\n');
    const fs = flows((await collect(fromText(t), { path: 'conn' })).items);
    expect(fs[0]).toMatchObject({
      tsStart: 1_500_000,
      uid: 'C\tx',
      appProto: 'tls',
      communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      srcMac: 'aa:bb:cc:dd:ee:ff',
      dstMac: null,
      tcpFlagsOut: TcpFlag.SYN | TcpFlag.RST,
      tcpFlagsIn: TcpFlag.SYN | TcpFlag.ACK,
      payloadBytesOut: 0,
    });
    expect(fs[1]).toMatchObject({ proto: 0, srcPort: null, dstPort: null, appProto: null, label: null });
    expect(fs[1]?.communityId).toMatch(/^1:/);
  });

  it('lines over the cap are skipped and counted, the next line still parses', async () => {
    const long = '1.0\t' + 'x'.repeat(5000);
    const t = [...HEADER, long, ...(rows.slice(0, 1) as string[])].join('\n');
    const { items, reader } = await collect(
      Readable.from(randomChunks(new Uint8Array(Buffer.from(t)), 5, 700)),
      {
        maxLineBytes: 1024,
      },
    );
    expect(flows(items)).toHaveLength(1);
    expect(reader.state.stats.errors).toEqual({ line_too_long: 1 });
  });

  it('history → TCP flags', () => {
    expect(historyFlags('ShADadFf')).toEqual({
      out: TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN,
      in: TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN,
    });
    expect(historyFlags('Sr')).toEqual({ out: TcpFlag.SYN, in: TcpFlag.RST });
    expect(zeekKindFromName('/x/manager.dhcp.log')).toBe('dhcp');
    expect(zeekKindFromName('conn.log.labeled')).toBe('conn');
    expect(zeekKindFromName('weird.log')).toBeNull();
  });
});

describe('Zeek JSON lines (synthetic)', () => {
  it('conn with float ts and with ISO ts, nested id, other logs to observations, bad JSON counted', async () => {
    const lines = [
      JSON.stringify({
        _path: 'conn',
        ts: 1547127288.026074,
        uid: 'C1',
        'id.orig_h': '192.168.1.2',
        'id.orig_p': 5000,
        'id.resp_h': '8.8.8.8',
        'id.resp_p': 53,
        proto: 'udp',
        service: 'dns',
        duration: 0.25,
        orig_bytes: 40,
        resp_bytes: 80,
        conn_state: 'SF',
        history: 'Dd',
        orig_pkts: 1,
        orig_ip_bytes: 68,
        resp_pkts: 1,
        resp_ip_bytes: 108,
        community_id: '1:not-a-community-id',
      }),
      JSON.stringify({
        ts: '2019-01-10T14:34:38.500000Z',
        uid: 'C2',
        id: { orig_h: '10.0.0.1', orig_p: 1, resp_h: '10.0.0.2', resp_p: 22 },
        proto: 'tcp',
        conn_state: 'S0',
        history: 'S',
      }),
      JSON.stringify({ _path: 'dns', ts: 5, 'id.orig_h': '10.0.0.9', 'id.resp_p': 53, query: 'example.com' }),
      JSON.stringify({ _path: 'ssl', ts: 5, 'id.orig_h': '10.0.0.9', server_name: 'a.example', ja3: 'abc' }),
      JSON.stringify({ ts: 5, 'id.orig_h': '10.0.0.9', method: 'GET', uri: '/', user_agent: 'curl/8' }),
      JSON.stringify({
        _path: 'dhcp',
        ts: 5,
        mac: '00:11:22:33:44:55',
        host_name: 'cam',
        client_addr: '10.0.0.7',
      }),
      JSON.stringify({ _path: 'weird', ts: 5, name: 'x' }),
      '{"ts": 1, "broken"',
      '[1,2]',
    ];
    const { items, reader } = await collect(fromText(lines.join('\n')));
    const fs = flows(items);
    expect(fs[0]).toMatchObject({
      tsStart: 1547127288026074,
      tsEnd: 1547127288276074,
      bytesOut: 68,
      bytesIn: 108,
      payloadBytesIn: 80,
      appProto: 'dns',
    });
    // An invalid community_id in the log is recomputed.
    expect(fs[0]?.communityId).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
    expect(fs[0]?.communityId).not.toBe('1:not-a-community-id');
    expect(fs[1]).toMatchObject({
      tsStart: Date.UTC(2019, 0, 10, 14, 34, 38) * 1000 + 500_000,
      dstPort: 22,
      appProto: 'ssh',
    });
    const o = items.flatMap((i) => (i.kind === 'observation' ? [i.observation] : []));
    expect(o.map((x) => `${x.kind}=${x.value}@${x.ip}/${x.mac}`)).toEqual([
      'dns_query=example.com@10.0.0.9/null',
      'tls_sni=a.example@10.0.0.9/null',
      'tls_ja3=abc@10.0.0.9/null',
      'http_user_agent=curl/8@10.0.0.9/null',
      'dhcp_hostname=cam@10.0.0.7/00:11:22:33:44:55',
    ]);
    expect(reader.state.skipped).toBe(1);
    expect(reader.state.stats.errors).toEqual({ malformed: 1, no_header: 1 });
  });

  it('fuzz: random and mutated lines never throw and are counted', async () => {
    const base = [
      ...HEADER,
      '1547157330.030005\tCb4\t192.168.1.197\t123\t82.113.53.40\t123\tudp\t-\t-\t-\t-\tS0\t-\t-\t0\tD\t1\t76\t0\t0\t-   Benign   -',
    ].join('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.constantFrom('{', '{"ts":"x"}', '#fields\tts', '\t\t\t'),
          ),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 0, max: base.length - 1 }),
        fc.string({ maxLength: 5 }),
        async (extra, at, ins) => {
          const t = base.slice(0, at) + ins + base.slice(at) + '\n' + extra.join('\n');
          const { reader } = await collect(fromText(t));
          const errs = Object.values(reader.state.stats.errors).reduce((a, b) => a + b, 0);
          expect(errs).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real data.
// ---------------------------------------------------------------------------------------------------------

describe.skipIf(!hasData('iot23-dev'))(`IoT-23 labelled conn logs (${dataPath('iot23-dev')})`, () => {
  it('42-1: 4,426 flows, no errors, the 6 malicious flows labelled', async () => {
    const file = dataPath('iot23-dev', 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled');
    const { items, reader } = await collect(file);
    const fs = flows(items);
    expect(reader.state.stats.errors).toEqual({});
    expect(fs).toHaveLength(4426);
    const byLabel: Record<string, number> = {};
    for (const f of fs) byLabel[f.label ?? 'null'] = (byLabel[f.label ?? 'null'] ?? 0) + 1;
    expect(byLabel).toEqual({ Benign: 4420, 'Malicious FileDownload': 3, 'Malicious C&C-FileDownload': 3 });
    const mal = fs.filter((f) => f.label?.startsWith('Malicious'));
    expect(mal.map((f) => f.uid).sort()).toEqual(
      [
        'C4MiXH1zgITMIRNvr5',
        'CNrgcz1X2eZ1zV2nAd',
        'CRm4BX1Auzsk2XLo6i',
        'CXY5uG2sSmjJ0grfY2',
        'Ce3AJzwzXwM3Z1XBg',
        'CiWG9z3qijWU45UDZ2',
      ].sort(),
    );
    expect(mal.find((f) => f.uid === 'Ce3AJzwzXwM3Z1XBg')).toMatchObject({
      tsStart: 1547127288018828,
      tsEnd: 1547127288018828 + 4767024,
      srcIp: '192.168.1.197',
      srcPort: 45082,
      dstIp: '104.24.97.120',
      dstPort: 80,
      proto: 6,
      appProto: 'http',
      payloadBytesOut: 150,
      payloadBytesIn: 67212,
      packetsOut: 54,
      bytesOut: 2938,
      packetsIn: 50,
      bytesIn: 69224,
      connState: 'SF',
      label: 'Malicious C&C-FileDownload',
    });
    expect(reader.state.offset).toBe(reader.state.stats.bytes);
  });

  it('4-1: 452 benign flows', async () => {
    const file = dataPath('iot23-dev', 'CTU-Honeypot-Capture-4-1', 'bro', 'conn.log.labeled');
    const { items, reader } = await collect(file);
    expect(reader.state.stats.errors).toEqual({});
    const fs = flows(items);
    expect(fs).toHaveLength(452);
    expect(fs.every((f) => f.label === 'benign')).toBe(true);
    expect(fs[0]).toMatchObject({
      uid: 'CGm6jB4dXK71ZDWUDh',
      srcIp: '192.168.1.132',
      dstPort: 123,
      bytesOut: 76,
    });
  });
});

const BTEST = dataPath('zeek-btest-traces');
interface Manifest {
  entries: { trace: string; tests: { baseline_dir: string; baseline_files: string[]; exec: string[] }[] }[];
}

/**
 * btest baselines mask timestamps as "XXXXXXXXXX.XXXXXX" (SOURCE.md): our parser rightly rejects that, so the
 * test substitutes a fixed time before parsing. Plain `zeek-cut` output has neither header nor ts: its columns
 * come from the manifest's zeek-cut command line and a ts column is prepended.
 */
function baselineText(file: string, exec: string[]): { text: string; fields?: string[] } {
  const raw = readFileSync(file, 'utf8').replace(/XXXXXXXXXX\.XXXXXX/g, '1000000000.000000');
  const base = path.basename(file);
  const cut = exec.find((e) => e.includes('zeek-cut') && e.includes(`> ${base}`));
  if (cut && !cut.includes('zeek-cut -m')) {
    const cols = (/zeek-cut ([^<]+)</.exec(cut)?.[1] ?? '').trim().split(/\s+/);
    const body = raw
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => `1000000000.0\t${l}`)
      .join('\n');
    return { text: body, fields: ['ts', ...cols] };
  }
  return { text: raw };
}

describe.skipIf(!hasData('zeek-btest-traces'))(`Zeek btest baselines (${BTEST})`, () => {
  const manifest = hasData('zeek-btest-traces', 'manifest.json')
    ? (JSON.parse(readFileSync(path.join(BTEST, 'manifest.json'), 'utf8')) as Manifest)
    : { entries: [] };
  const logs: { file: string; exec: string[] }[] = [];
  for (const e of manifest.entries)
    for (const t of e.tests)
      for (const f of t.baseline_files) {
        const file = path.join(BTEST, 'Baseline', path.basename(t.baseline_dir), f);
        if (zeekKindFromName(f) && !logs.some((l) => l.file === file)) logs.push({ file, exec: t.exec });
      }

  it('finds the conn/dns/dhcp/ssl/http logs of the manifest', () => {
    expect(logs.filter((l) => zeekKindFromName(l.file) === 'conn').length).toBeGreaterThanOrEqual(6);
  });

  it('every conn/dns/dhcp/ssl/http/mqtt log parses without errors', async () => {
    const counts: Record<string, number> = {};
    for (const { file, exec } of logs) {
      const { text, fields } = baselineText(file, exec);
      const { items, reader } = await collect(fromText(text), {
        source: file,
        path: zeekKindFromName(file) ?? undefined,
        fields,
      });
      expect(reader.state.stats.errors, file).toEqual({});
      counts[path.relative(path.join(BTEST, 'Baseline'), file)] = items.length;
    }
    expect(counts).toMatchObject({
      'scripts.base.protocols.dhcp.dhcp-all-msg-types/conn.log': 4,
      'scripts.base.protocols.modbus.events/conn-first.log': 9,
      'scripts.base.protocols.modbus.events/conn-second.log': 2,
      'scripts.base.protocols.ftp.ftp-ipv4/conn.log': 5,
      'core.conn-size-flip/conn.log.one-sided': 2,
      'core.conn-size-flip/conn.log.ctu': 1,
      'scripts.policy.protocols.conn.community-id-logging/conn.log.cut': 1,
    });
  });

  it("exact rows: modbus, conn-size-flip (zeek-cut -m), community ID (ours equals Zeek's)", async () => {
    const modbus = path.join(BTEST, 'Baseline', 'scripts.base.protocols.modbus.events', 'conn-first.log');
    const m = flows((await collect(fromText(baselineText(modbus, []).text))).items);
    expect(m.find((f) => f.uid === 'C4J4Th3PJpwUYZZ6gc')).toMatchObject({
      srcIp: '10.0.0.57',
      srcPort: 2579,
      dstIp: '10.0.0.8',
      dstPort: 502,
      proto: 6,
      appProto: 'modbus',
      tsEnd: 1_000_000_000_000_000 + 23_256_631,
      payloadBytesOut: 24,
      payloadBytesIn: 0,
      connState: 'SF',
      packetsOut: 6,
      bytesOut: 272,
      packetsIn: 5,
      bytesIn: 208,
    });
    const ctuFile = path.join(BTEST, 'Baseline', 'core.conn-size-flip', 'conn.log.ctu');
    const ctu = flows((await collect(fromText(baselineText(ctuFile, []).text), { path: 'conn' })).items);
    expect(ctu).toEqual([
      expect.objectContaining({
        uid: 'CHhAvVGS1DHFjwGM9',
        srcIp: '192.168.1.108',
        srcPort: 64702,
        dstIp: '185.33.86.224',
        dstPort: 888,
        packetsOut: 8,
        bytesOut: 320,
        packetsIn: 8,
        bytesIn: 370,
        proto: 0, // zeek-cut dropped the proto column
      }) as IngestFlow,
    ]);
    const cidFile = path.join(
      BTEST,
      'Baseline',
      'scripts.policy.protocols.conn.community-id-logging',
      'conn.log.cut',
    );
    const exec =
      manifest.entries.flatMap((e) => e.tests).find((t) => t.baseline_dir.endsWith('community-id-logging'))
        ?.exec ?? [];
    const { text, fields } = baselineText(cidFile, exec);
    const withCid = flows((await collect(fromText(text), { fields, path: 'conn' })).items);
    expect(withCid[0]).toMatchObject({
      srcIp: '141.142.228.5',
      dstPort: 80,
      communityId: '1:yvyB8h+3dnggTZW0UEITWCst97w=',
    });
    // Drop the community_id column: our own computation must give Zeek's value.
    const noCid = text.replace(/\t1:\S+/g, '');
    const computed = flows(
      (await collect(fromText(noCid), { fields: fields?.slice(0, -1), path: 'conn' })).items,
    );
    expect(computed[0]?.communityId).toBe('1:yvyB8h+3dnggTZW0UEITWCst97w=');
  });

  it('observations from dhcp.log, dns.log (incl. mDNS), ssl.log, http.log (zeek-cut -m), mqtt_connect.log', async () => {
    const obsOf = async (rel: string): Promise<string[]> => {
      const file = path.join(BTEST, 'Baseline', rel);
      const { items } = await collect(fromText(baselineText(file, []).text), { source: file });
      return items.flatMap((i) =>
        i.kind === 'observation'
          ? [`${i.observation.kind}=${i.observation.value}@${i.observation.ip}/${i.observation.mac}`]
          : [],
      );
    };
    expect(await obsOf('scripts.base.protocols.dhcp.dhcp-all-msg-types/dhcp.log')).toEqual([
      'dhcp_hostname=btest.is.cool@128.2.6.97/90:b1:1c:99:49:29',
      'dhcp_requested_ip=128.2.6.189@128.2.6.97/90:b1:1c:99:49:29',
      'dhcp_hostname=btest.is.cool@null/90:b1:1c:99:49:29',
      'dhcp_requested_ip=128.2.6.189@null/90:b1:1c:99:49:29',
    ]);
    expect(await obsOf('scripts.base.protocols.dns.binds/dns.log')).toEqual([
      'dns_query=example.net@10.87.3.74/null',
    ]);
    expect(await obsOf('scripts.base.protocols.dns.mdns-no-assoc/dns.log')).toEqual([
      'mdns_hostname=unrelated-reply-a.local@192.168.0.2/null',
      'mdns_hostname=unrelated-reply-aaaa.local@192.168.0.2/null',
      'mdns_hostname=v6-unrelated.local@fe80::200:deff:fead:beef/null',
    ]);
    expect(await obsOf('scripts.base.protocols.ssl.basic/ssl.log')).toEqual([
      'tls_sni=ssl.gstatic.com@192.168.1.105/null',
    ]);
    expect(await obsOf('scripts.base.protocols.http.ctu-agent-tesla/http.log.cut')).toEqual([
      'http_user_agent=TeslaBrowser/5.5@192.168.1.108/null',
    ]);
    expect(await obsOf('scripts.base.protocols.mqtt.mqtt/mqtt_connect.log')).toEqual([
      'mqtt_client_id=paho/34AAE54A75D839566E@10.0.1.4/null',
      'mqtt_client_id=paho/DDE4DDAF4108D3E363@10.0.1.4/null',
    ]);
  });
});

describe.skipIf(hasData('iot23-dev') && hasData('zeek-btest-traces'))('real data', () => {
  it('skipped', () => {
    console.warn(
      `skipping real-data Zeek tests: ${missingMessage('iot23-dev')} / ${missingMessage('zeek-btest-traces')}`,
    );
  });
});
