import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from './db.js';

/**
 * Every flow query goes through here (ARCHITECTURE section 8: a columnar engine can be swapped in behind
 * this module). Reads use the read replica when DATABASE_READ_URL is set. Filters are parameterised; sort
 * orders come from a whitelist; time ranges are required so partition pruning applies.
 */

export interface FlowFilter {
  from: Date;
  to: Date;
  deviceId?: number | undefined;
  ip?: string | undefined;
  port?: number | undefined;
  proto?: number | undefined;
  app?: string | undefined;
  communityId?: string | undefined;
}

export interface FlowRow {
  id: number;
  ts_start: string;
  ts_end: string;
  device_id: number | null;
  peer_device_id: number | null;
  community_id: string | null;
  src_ip: string;
  src_port: number | null;
  dst_ip: string;
  dst_port: number | null;
  proto: number;
  app_proto: string | null;
  bytes_out: number;
  bytes_in: number;
  packets_out: number;
  packets_in: number;
  tcp_flags_out: number;
  tcp_flags_in: number;
  conn_state: string | null;
  src_mac: string | null;
  dst_mac: string | null;
  vlan: number | null;
  sni: string | null;
  http_host: string | null;
  dns_query: string | null;
  uid: string | null;
  label: string | null;
}

function where(f: FlowFilter): SQL {
  const parts: SQL[] = [
    sql`ts_start >= ${f.from.toISOString()}::timestamptz`,
    sql`ts_start < ${f.to.toISOString()}::timestamptz`,
  ];
  if (f.deviceId !== undefined)
    parts.push(sql`(device_id = ${f.deviceId} OR peer_device_id = ${f.deviceId})`);
  if (f.ip !== undefined) parts.push(sql`(src_ip = ${f.ip}::inet OR dst_ip = ${f.ip}::inet)`);
  if (f.port !== undefined) parts.push(sql`(src_port = ${f.port} OR dst_port = ${f.port})`);
  if (f.proto !== undefined) parts.push(sql`proto = ${f.proto}`);
  if (f.app !== undefined) parts.push(sql`app_proto = ${f.app}`);
  if (f.communityId !== undefined) parts.push(sql`community_id = ${f.communityId}`);
  return sql.join(parts, sql` AND `);
}

const FLOW_COLUMNS =
  sql.raw(`id::int8 AS id, to_char(ts_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_start,
  to_char(ts_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_end, device_id::int8 AS device_id,
  peer_device_id::int8 AS peer_device_id, community_id, host(src_ip) AS src_ip, src_port, host(dst_ip) AS dst_ip,
  dst_port, proto::int AS proto, app_proto, bytes_out::int8 AS bytes_out, bytes_in::int8 AS bytes_in,
  packets_out::int8 AS packets_out, packets_in::int8 AS packets_in, tcp_flags_out::int AS tcp_flags_out,
  tcp_flags_in::int AS tcp_flags_in, conn_state, src_mac, dst_mac, vlan, sni, http_host, dns_query, uid, label`);

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function normalise(r: FlowRow): FlowRow {
  return {
    ...r,
    id: Number(r.id),
    device_id: num(r.device_id),
    peer_device_id: num(r.peer_device_id),
    bytes_out: Number(r.bytes_out),
    bytes_in: Number(r.bytes_in),
    packets_out: Number(r.packets_out),
    packets_in: Number(r.packets_in),
  };
}

export interface FlowCursor {
  ts: string;
  id: number;
}

/** Newest first; keyset pagination on (ts_start, id). */
export async function listFlows(
  db: Db,
  f: FlowFilter,
  limit: number,
  after?: FlowCursor,
): Promise<FlowRow[]> {
  const cursor = after ? sql` AND (ts_start, id) < (${after.ts}::timestamptz, ${after.id})` : sql``;
  const rows = await queryRows<FlowRow>(
    db,
    sql`SELECT ${FLOW_COLUMNS} FROM network_traffic WHERE ${where(f)}${cursor} ORDER BY ts_start DESC, id DESC LIMIT ${limit}`,
  );
  return rows.map(normalise);
}

export interface TopTalker {
  device_id: number | null;
  ip: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** The addresses (and their device) that moved the most bytes in the range. */
export async function topTalkers(db: Db, f: FlowFilter, limit: number): Promise<TopTalker[]> {
  const rows = await queryRows<TopTalker>(
    db,
    sql`SELECT device_id::int8 AS device_id, host(src_ip) AS ip, sum(bytes_out + bytes_in)::float8 AS bytes,
          sum(packets_out + packets_in)::float8 AS packets, count(*)::int AS flows
        FROM network_traffic WHERE ${where(f)}
        GROUP BY device_id, src_ip ORDER BY bytes DESC LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    ...r,
    device_id: num(r.device_id),
    bytes: Number(r.bytes),
    packets: Number(r.packets),
    flows: Number(r.flows),
  }));
}

export interface Bucket {
  t: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** Bytes, packets and flows per time bucket (by flow start). */
export async function timeSeries(db: Db, f: FlowFilter, bucketSeconds: number): Promise<Bucket[]> {
  const rows = await queryRows<Bucket>(
    db,
    sql`SELECT to_char(date_bin(${`${bucketSeconds} seconds`}::interval, ts_start, '2000-01-01T00:00:00Z'::timestamptz) AT TIME ZONE 'UTC',
          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t,
          sum(bytes_out + bytes_in)::float8 AS bytes, sum(packets_out + packets_in)::float8 AS packets, count(*)::int AS flows
        FROM network_traffic WHERE ${where(f)} GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((r) => ({
    t: r.t,
    bytes: Number(r.bytes),
    packets: Number(r.packets),
    flows: Number(r.flows),
  }));
}
