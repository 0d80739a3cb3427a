import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../bus/events.js';
import { MemoryBus, MemoryKv } from '../../bus/memory.js';
import type { PresentedAlert } from '../service.js';
import { cef, cefValue, rfc5424 } from './format.js';
import { startAlertExporters } from './index.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;

const HOSTILE =
  'evil\nhost|x=y\\z]"\r\n<13>1 2024-01-01T00:00:00Z injected - - - fake\u0000nul' + 'A'.repeat(20_000);

function alert(o: Partial<PresentedAlert> = {}): PresentedAlert {
  return {
    id: 7,
    device_id: 3,
    kind: 'dns_tunnel',
    severity: 'high',
    status: 'new',
    title: `DNS tunnelling through ${HOSTILE}`,
    description: `queried ${HOSTILE}`,
    peer: HOSTILE,
    evidence: {},
    dedup_key: 'k',
    count: 1,
    first_seen: '2024-01-01T00:00:00.000Z',
    last_seen: '2024-01-01T00:01:00.000Z',
    model_version: null,
    source_id: null,
    created_at: '2024-01-01T00:01:00.000Z',
    updated_at: '2024-01-01T00:01:00.000Z',
    ...o,
  };
}

/** Splits an octet-counted stream (RFC 6587) into messages; throws on a broken frame. */
function deframe(buf: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    const len = Number(buf.subarray(i, sp).toString());
    if (!Number.isInteger(len) || len <= 0) throw new Error(`bad frame at ${i}`);
    out.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    i = sp + 1 + len;
  }
  return out;
}

/** One RFC 5424 message: exactly one line, the SD element intact, no injected header. */
function checkSyslog(m: string): void {
  expect(m).not.toMatch(CONTROL);
  expect(m).toMatch(/^<131>1 \S+ \S+ iotsec - new_alert /);
  expect(Buffer.byteLength(m)).toBeLessThanOrEqual(8192);
}

describe('alert formats', () => {
  it('RFC 5424: escapes SD-PARAM values and strips control characters', () => {
    const m = rfc5424(alert(), { hostname: 'h\nost name', msgId: 'new_alert' });
    checkSyslog(m);
    const sd = m.slice(m.indexOf('[iotsec@32473'), m.indexOf('] ', m.indexOf('peer="')) + 1);
    // Every `"` and `]` inside a value is escaped: the element parses to the expected params.
    const params = [...sd.matchAll(/(\w+)="((?:[^"\\\]]|\\.)*)"/g)].map((x) => x[1]);
    expect(params).toEqual([
      'id',
      'kind',
      'severity',
      'status',
      'device_id',
      'peer',
      'count',
      'first_seen',
      'last_seen',
    ]);
    expect(m).toContain(' hostname ');
  });

  it('CEF: header escapes | and \\, extension escapes = and \\ and encodes newlines; NUL dropped', () => {
    expect(cefValue('a=b\\c\nd\re\u0000f')).toBe('a\\=b\\\\c\\nd\\re' + 'f');
    const line = cef(alert({ title: 'x|y\\z\nw' }));
    expect(line).not.toMatch(CONTROL);
    expect(line.startsWith('CEF:0|IoTSec|IoTSec|0.1.0|dns_tunnel|x\\|y\\\\z w|8|')).toBe(true);
    // The header: 7 unescaped pipes, walking escapes; the extension is the rest.
    const header: string[] = [];
    let cur = '';
    let i = 0;
    for (; i < line.length && header.length < 7; i++) {
      const c = line[i]!;
      if (c === '\\') {
        cur += c + (line[i + 1] ?? '');
        i++;
      } else if (c === '|') {
        header.push(cur);
        cur = '';
      } else cur += c;
    }
    expect(header).toEqual(['CEF:0', 'IoTSec', 'IoTSec', '0.1.0', 'dns_tunnel', 'x\\|y\\\\z w', '8']);
    const ext = line.slice(i);
    const keys = [...ext.matchAll(/(?:^| )(\w+)=/g)].map((x) => x[1]);
    expect(keys).toEqual([
      'rt',
      'start',
      'end',
      'cnt',
      'externalId',
      'cat',
      'act',
      'cs1Label',
      'cs1',
      'cs2Label',
      'cs2',
      'msg',
    ]);
  });
});

describe('exporters to real local receivers', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  async function exportOne(cfg: Parameters<typeof startAlertExporters>[1], a = alert()) {
    const bus = new MemoryBus();
    const kv = new MemoryKv();
    const ex = await startAlertExporters({ bus, kv }, cfg);
    const ev = makeEvent('new_alert', a);
    await bus.publish('events', ev);
    await bus.publish('events', makeEvent('alert_update', a)); // not exported
    await new Promise((r) => setTimeout(r, 20));
    await ex.idle();
    await ex.stop();
    await bus.close();
    return ev;
  }

  it('syslog over UDP: one datagram, one intact message', async () => {
    const sock = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => sock.close(() => r())));
    await exportOne({ syslogUrl: `udp://127.0.0.1:${(sock.address() as AddressInfo).port}` });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toHaveLength(1);
    checkSyslog(got[0]!);
  });

  it('syslog over TCP (octet counting) in CEF: frames parse, nothing injected', async () => {
    const chunks: Buffer[] = [];
    const srv = createTcpServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as AddressInfo).port;
    await exportOne({ syslogUrl: `tcp://127.0.0.1:${port}`, syslogFormat: 'cef' });
    for (let i = 0; i < 50 && chunks.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const msgs = deframe(Buffer.concat(chunks));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^<131>1 \S+ \S+ iotsec - new_alert - CEF:0\|IoTSec\|IoTSec\|/);
    expect(msgs[0]).not.toMatch(CONTROL);
  });

  it('syslog over TLS with octet counting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'c.pem'));
    const chunks: Buffer[] = [];
    const srv = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert }, (s) =>
      s.on('data', (d: Buffer) => chunks.push(d)),
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as AddressInfo).port;
    await exportOne({ syslogUrl: `tls://localhost:${port}`, tls: { ca: cert } });
    for (let i = 0; i < 100 && chunks.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const msgs = deframe(Buffer.concat(chunks));
    expect(msgs).toHaveLength(1);
    checkSyslog(msgs[0]!);
  });

  it('webhook: signed JSON, retried after 503, not after 400; hostile strings survive as data', async () => {
    const secret = 'a-very-secret-webhook-key';
    const hits: { status: number; body: string; sig: string; ts: string }[] = [];
    let plan = [503, 200];
    const srv = createHttpServer((req: IncomingMessage, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const status = plan.shift() ?? 200;
        hits.push({
          status,
          body: Buffer.concat(parts).toString('utf8'),
          sig: String(req.headers['x-iotsec-signature']),
          ts: String(req.headers['x-iotsec-timestamp']),
        });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    const ev = await exportOne({ webhookUrl: url, webhookSecret: secret, webhookBackoffMs: 20 });
    expect(hits.map((h) => h.status)).toEqual([503, 200]);
    const last = hits[1]!;
    expect(last.sig).toBe(
      `sha256=${createHmac('sha256', secret).update(`${last.ts}.${last.body}`).digest('hex')}`,
    );
    const body = JSON.parse(last.body) as { type: string; id: string; alert: PresentedAlert };
    expect(body).toMatchObject({ type: 'new_alert', id: ev.id });
    expect(body.alert.peer).toBe(HOSTILE);
    hits.length = 0;
    plan = [400, 200];
    await exportOne({ webhookUrl: url, webhookSecret: secret, webhookBackoffMs: 20 });
    expect(hits.map((h) => h.status)).toEqual([400]);
  });
});
