import { createSocket } from 'node:dgram';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../store/db.js';
import { makeStack, type Stack } from '../test-support/api.js';
import { hasSharedData, SHARED_DATA } from '../test-support/services.js';
import { flowExportDatagrams } from '../../bench/netflow-gen.js';
import { Collector, configureNetflowSpool } from './collector.js';

/** A NetFlow v5 datagram with one record: 10.42.0.9:51000 → 203.0.113.7:443/TCP, 12 packets, 3456 bytes. */
function v5(): Buffer {
  const b = Buffer.alloc(24 + 48);
  const now = Math.floor(Date.now() / 1000);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(100_000, 4); // sysUptime ms
  b.writeUInt32BE(now, 8);
  b.writeUInt32BE(1, 16); // sequence
  const r = 24;
  b.writeUInt32BE(0x0a2a0009, r); // 10.42.0.9
  b.writeUInt32BE(0xcb007107, r + 4); // 203.0.113.7
  b.writeUInt32BE(12, r + 16);
  b.writeUInt32BE(3456, r + 20);
  b.writeUInt32BE(90_000, r + 24); // first
  b.writeUInt32BE(99_000, r + 28); // last
  b.writeUInt16BE(51000, r + 32);
  b.writeUInt16BE(443, r + 34);
  b[r + 37] = 0x1b; // tcp flags
  b[r + 38] = 6;
  return b;
}

async function until<T>(f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

describe.skipIf(!hasSharedData)('collector role', () => {
  let s: Stack;
  let collector: Collector;
  const dir = mkdtempSync(join(tmpdir(), 'iotsec-watch-'));
  const port = 30000 + Math.floor(Math.random() * 20000);

  beforeAll(async () => {
    s = await makeStack('embedded');
    configureNetflowSpool({ dir: join(dir, '..', 'spool'), maxBytes: 5 * 1024 * 1024 });
    collector = new Collector(s.services, pino({ level: 'silent' }), 500);
    await collector.start([
      { kind: 'netflow', name: 'test netflow', config: { port, host: '127.0.0.1' } },
      { kind: 'watch', name: 'test folder', config: { directory: dir } },
    ]);
  });
  afterAll(async () => {
    configureNetflowSpool({ dir: '', maxBytes: 0 });
    await collector?.stop();
    await s?.close();
  });

  it('stores NetFlow records received on its UDP port', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.send(v5(), port, '127.0.0.1', () => r()));
    sock.close();
    const row = await until(async () => {
      const rows = await queryRows<{ src: string; dst_port: number; packets_out: number; bytes_out: number }>(
        s.services.store.db,
        sql`SELECT host(src_ip) AS src, dst_port, packets_out::int AS packets_out, bytes_out::int AS bytes_out FROM network_traffic WHERE dst_port = 443`,
      );
      return rows[0];
    });
    expect(row).toEqual({ src: '10.42.0.9', dst_port: 443, packets_out: 12, bytes_out: 3456 });
    const src = await queryRows<{ status: string; stats: Record<string, unknown> }>(
      s.services.store.db,
      sql`SELECT status, stats FROM sources WHERE kind = 'netflow'`,
    );
    expect(src[0]?.status).toBe('running');
    // The configured spool reaches the receiving thread (nothing needed it here).
    expect(src[0]?.stats).toMatchObject({ spoolLimitBytes: 5 * 1024 * 1024, spooled: 0, queueDropped: 0 });
  });

  it('ingests a capture dropped into a watched folder, once', async () => {
    copyFileSync(
      join(SHARED_DATA, 'iot-sentinel-train', 'Aria', 'Setup-A-1-STA.pcap'),
      join(dir, 'aria.pcap'),
    );
    const n = await until(async () => {
      const rows = await queryRows<{ n: number }>(
        s.services.store.db,
        sql`SELECT count(*)::int AS n FROM sources WHERE kind = 'file' AND status = 'done'`,
      );
      return Number(rows[0]?.n) > 0 ? Number(rows[0]?.n) : undefined;
    });
    expect(n).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    const again = await queryRows<{ n: number }>(
      s.services.store.db,
      sql`SELECT count(*)::int AS n FROM sources WHERE kind = 'file'`,
    );
    expect(Number(again[0]?.n)).toBe(1);
  });

  it('starts a source configured through the API without a restart, and stops a deleted one', async () => {
    const other = 30000 + Math.floor(Math.random() * 20000);
    const [row] = await queryRows<{ id: string }>(
      s.services.store.db,
      sql`INSERT INTO sources (kind, name, config, status) VALUES ('netflow', 'added later', ${JSON.stringify({ port: other, host: '127.0.0.1' })}::jsonb, 'configured') RETURNING id`,
    );
    await until(async () => (collector.sources.some((x) => x.id === row?.id) ? true : undefined));
    await s.services.store.db.execute(sql`DELETE FROM sources WHERE id = ${row?.id}`);
    await until(async () => (collector.sources.some((x) => x.id === row?.id) ? undefined : true));
  });
});

describe('NetFlow source: stopping (SIGTERM)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await makeStack('embedded');
  });
  afterAll(async () => s?.close());

  it('stores every record received before the stop, and its counters', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const collector = new Collector(s.services, pino({ level: 'silent' }), 60_000);
    await collector.start([{ kind: 'netflow', name: 'stop test', config: { port, host: '127.0.0.1' } }]);
    const grams = [
      ...flowExportDatagrams({ protocol: 'v9', records: 2400, startMs: Date.now() - 60_000, seed: 4 }),
      ...flowExportDatagrams({ protocol: 'ipfix', records: 2400, startMs: Date.now() - 60_000, seed: 5 }),
    ];
    const sock = createSocket('udp4');
    for (const g of grams) await new Promise<void>((r) => sock.send(g, port, '127.0.0.1', () => r()));
    sock.close();
    await collector.stop(); // right away: most records are still on their way
    const [n] = await queryRows<{ n: number }>(
      s.services.store.db,
      sql`SELECT count(*)::int AS n FROM network_traffic`,
    );
    expect(Number(n?.n)).toBe(4800);
    const [row] = await queryRows<{ status: string; stats: Record<string, unknown> }>(
      s.services.store.db,
      sql`SELECT status, stats FROM sources WHERE kind = 'netflow'`,
    );
    expect(row?.status).toBe('stopped');
    expect(row?.stats).toMatchObject({
      datagrams: grams.length,
      records: 4800,
      flows_written: 4800,
      dropped: 0,
      queueDropped: 0,
    });
  });
});
