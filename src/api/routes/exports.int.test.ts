import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../../alerts/service.js';
import { alerts, auditLog, devices, vulnerabilities } from '../../store/schema.js';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../../test-support/api.js';

/**
 * CSV exports (issue 11): hostile network-derived text (formulas, quotes, commas, line breaks) comes out as
 * RFC 4180 CSV that a CSV parser reads back to the very same text, with a single quote in front of cells a
 * spreadsheet would evaluate (OWASP); filters are the list endpoints'; rows stream past one page; every
 * export is audited; viewers may export, sensors and anonymous callers may not.
 */

const kinds = await stackKinds();

/** An RFC 4180 reader written independently of the exporter (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '"' || c === '\r' || c === '\n') {
      throw new Error(`bare ${JSON.stringify(c)} outside quotes at offset ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) throw new Error('last record not terminated by CRLF');
  return rows;
}

function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error('no header');
  for (const r of rows) expect(r).toHaveLength(header.length);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

const hasPython = spawnSync('python3', ['-c', 'import csv'], { encoding: 'utf8' }).status === 0;

/** Python's csv module as a second, real-world reader. */
function pythonCsv(text: string): string[][] {
  const r = spawnSync(
    'python3',
    [
      '-c',
      'import csv,io,json,sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))',
    ],
    { input: text, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

const HOSTILE = [
  '=HYPERLINK("http://evil","x")',
  '@SUM(1+1)',
  "+1+cmd|' /C calc'!A0",
  '-2+3',
  '\tTAB=1+1',
  '\rCR=1+1',
  'two\r\nlines, "quoted", and a comma',
  'plain-host',
];
/** What a cell must read back as: the same text, after a single quote when it starts like a formula. */
const inert = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

describe.each(kinds)('CSV exports on %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    s = await makeStack(kind, { API_RATE_LIMIT: '100000', API_RATE_LIMIT_EXPORT: '1000' });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    await s.services.users.create(
      { id: null, name: 'test' },
      { username: 'exp-viewer', password: 'viewer-password-1', role: 'viewer' },
    );
    viewer = (await login(s.app, 'exp-viewer', 'viewer-password-1')).access_token;
    const db = s.services.store.db;
    const now = Date.now();
    const rows = HOSTILE.map((hostname, i) => ({
      mac: `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`,
      hostname,
      vendor: i === 0 ? 'Acme, "Evil" Inc.' : 'Acme',
      model: i === 1 ? '=1+1' : null,
      deviceType: 'camera',
      tags: i === 0 ? ['=cmd', 'ok'] : [],
      lastSeen: new Date(now - i * 1000),
    }));
    await db.insert(devices).values(rows);
    // Enough plain devices for the export to need several pages.
    await db.execute(sql`INSERT INTO devices (mac, hostname, device_type, last_seen)
      SELECT '0a:00:00:' || lpad(to_hex(g / 65536), 2, '0') || ':' || lpad(to_hex((g / 256) % 256), 2, '0') || ':'
             || lpad(to_hex(g % 256), 2, '0'), 'bulk-' || g, 'plug', now() - interval '1 hour'
      FROM generate_series(1, 1200) g`);
    const [target] = await db
      .select({ id: devices.id })
      .from(devices)
      .where(sql`hostname = ${HOSTILE[0]}`);
    await raiseAlert(s.services, {
      deviceId: target?.id ?? null,
      kind: 'c2',
      severity: 'high',
      title: "=cmd|' /C calc'!A0",
      description: 'beacon to "evil",\nevery 60 s',
      peer: '203.0.113.7',
    });
    await raiseAlert(s.services, { deviceId: null, kind: 'scan', severity: 'low', title: 'port scan' });
    await db.insert(vulnerabilities).values([
      {
        cveId: 'CVE-2099-0001',
        description: '@SUM(1+1) in the "admin" page,\r\nthen =HYPERLINK("http://evil")',
        severity: 'critical',
        cvssV31Score: 9.8,
        kev: true,
      },
      { cveId: 'CVE-2099-0002', description: 'harmless', severity: 'low', cvssV31Score: 2.1 },
    ]);
  });
  afterAll(async () => s?.close());

  const get = (url: string, token = viewer) => s.app.inject({ url, headers: bearer(token) });

  it('exports hostile device text as inert, correctly quoted CSV that reads back to the same text', async () => {
    const res = await get('/api/v1/export/devices.csv?type=camera&order=desc');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="devices-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const recs = records(res.body);
    expect(recs.map((r) => r['hostname']).sort()).toEqual(HOSTILE.map(inert).sort());
    const evil = recs.find((r) => r['hostname'] === `'${HOSTILE[0]}`);
    expect(evil?.['vendor']).toBe('Acme, "Evil" Inc.');
    expect(evil?.['tags']).toBe("'=cmd;ok");
    expect(recs.find((r) => r['hostname'] === `'${HOSTILE[1]}`)?.['model']).toBe("'=1+1");
    // No cell a spreadsheet would evaluate: every field starts with something other than = + - @ TAB CR.
    for (const r of recs) for (const v of Object.values(r)) expect(v).not.toMatch(/^[=+\-@\t\r]/);
    // The raw bytes: quoting per RFC 4180.
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(res.body).toContain(`"two\r\nlines, ""quoted"", and a comma"`);
    expect(res.body).toContain(`,'@SUM(1+1),`);
    if (hasPython) expect(pythonCsv(res.body)).toEqual(parseCsv(res.body));
  });

  it('applies the list filters and streams every row across pages', async () => {
    const all = records((await get('/api/v1/export/devices.csv')).body);
    expect(all).toHaveLength(HOSTILE.length + 1200);
    expect(new Set(all.map((r) => r['id'])).size).toBe(all.length);
    const search = records((await get('/api/v1/export/devices.csv?q=HYPERLINK')).body);
    expect(search.map((r) => r['hostname'])).toEqual([`'${HOSTILE[0]}`]);
    const plugs = records((await get('/api/v1/export/devices.csv?type=plug&order=desc')).body);
    expect(plugs).toHaveLength(1200);
    const ids = plugs.map((r) => Number(r['id']));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const bad = await get('/api/v1/export/devices.csv?order=password_hash');
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('VALIDATION_FAILED');
    expect(errorCode(await get('/api/v1/export/devices.csv?nope=1'))).toBe('VALIDATION_FAILED');
  });

  it('exports alerts and vulnerabilities the same way', async () => {
    const a = records((await get('/api/v1/export/alerts.csv')).body);
    expect(a.map((r) => r['title']).sort()).toEqual([`'=cmd|' /C calc'!A0`, 'port scan']);
    expect(a.find((r) => r['kind'] === 'c2')?.['description']).toBe('beacon to "evil",\nevery 60 s');
    const high = records((await get('/api/v1/export/alerts.csv?severity=high')).body);
    expect(high.map((r) => r['kind'])).toEqual(['c2']);
    const [row] = await s.services.store.db.select({ n: sql<number>`count(*)::int` }).from(alerts);
    expect(row?.n).toBe(2);

    const v = records((await get('/api/v1/export/vulnerabilities.csv?kev=true')).body);
    expect(v).toHaveLength(1);
    expect(v[0]?.['cve_id']).toBe('CVE-2099-0001');
    expect(v[0]?.['description']).toBe(`'@SUM(1+1) in the "admin" page,\r\nthen =HYPERLINK("http://evil")`);
    expect(v[0]?.['cvss_score']).toBe('9.8');
    expect(v[0]?.['kev']).toBe('true');
    const both = records((await get('/api/v1/export/vulnerabilities.csv?sort=cve_id&order=asc')).body);
    expect(both.map((r) => r['cve_id'])).toEqual(['CVE-2099-0001', 'CVE-2099-0002']);
  });

  it('is audited, open to viewers and closed to sensors and anonymous callers', async () => {
    const { key } = await s.services.apiKeys.create({ id: null, name: 't' }, { name: `exp-${randomUUID()}` });
    for (const what of ['devices', 'alerts', 'vulnerabilities']) {
      const url = `/api/v1/export/${what}.csv`;
      expect((await s.app.inject({ url })).statusCode).toBe(401);
      expect((await get(url, key)).statusCode).toBe(403);
      expect((await get(url, viewer)).statusCode).toBe(200);
      expect((await get(url, admin)).statusCode).toBe(200);
    }
    const rows = await s.services.store.db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.action} = 'export.csv' AND ${auditLog.actor} = 'exp-viewer'`);
    expect(rows.map((r) => r.target)).toEqual(
      expect.arrayContaining(['export:devices', 'export:alerts', 'export:vulnerabilities']),
    );
    const filtered = rows.find((r) => JSON.stringify(r.details).includes('HYPERLINK'));
    expect(filtered?.target).toBe('export:devices');
    expect(s.app.routeTable.filter((r) => r.url.startsWith('/api/v1/export/'))).toEqual([
      { method: 'GET', url: '/api/v1/export/devices.csv', access: 'viewer' },
      { method: 'GET', url: '/api/v1/export/alerts.csv', access: 'viewer' },
      { method: 'GET', url: '/api/v1/export/vulnerabilities.csv', access: 'viewer' },
    ]);
  });
});
