import { sql, type SQL } from 'drizzle-orm';
import { Buffer } from 'node:buffer';
import type { IngestFlow } from '../sources/types.js';
import { queryRows, type Db, type Store, type Tx } from './db.js';
import { CopyBinaryWriter, Unrepresentable, uuidBytes } from './copy-binary.js';
import { microsToIso } from './timestamps.js';

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

// ---------------------------------------------------------------------------------------------------------
// Bulk load: COPY, on both engines.

/** The columns a flow fills, in COPY order (id takes its default). */
const COPY_COLUMNS =
  'ts_start, ts_end, device_id, peer_device_id, community_id, src_ip, src_port, dst_ip, dst_port, proto, ' +
  'app_proto, bytes_out, bytes_in, packets_out, packets_in, tcp_flags_out, tcp_flags_in, conn_state, ' +
  'src_mac, dst_mac, vlan, sni, http_host, dns_query, uid, label, source_id';

/** Latest second accepted in COPY text (9999-12-31T23:59:59Z): later (corrupt) times take the INSERT path. */
const MAX_COPY_SECONDS = 253_402_300_799;

/**
 * The minimal node-postgres "submittable" for COPY … FROM STDIN (what pg-copy-streams does, without the
 * dependency): pg calls submit() when the query's turn comes, then the handle* methods for the server's
 * answers; the whole payload is sent at CopyInResponse. Resolves with the row count after ReadyForQuery.
 */
class CopyFromStdin {
  private error: Error | null = null;
  private rows = 0;
  readonly done: Promise<number>;
  private settle!: (err: Error | null, rows: number) => void;

  constructor(
    private readonly text: string,
    private readonly chunks: readonly Buffer[],
  ) {
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = (err, rows) => (err ? reject(err) : resolve(rows));
    });
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    try {
      for (const c of this.chunks) connection.sendCopyFromChunk(c);
      connection.endCopyFrom();
    } catch (e) {
      // The server then answers with an error and ReadyForQuery: the promise rejects, nothing is half-sent.
      connection.sendCopyFail(e instanceof Error ? e.message : String(e));
    }
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    this.rows = m ? Number(m[1]) : 0;
  }

  /** A server error (ReadyForQuery follows) or a dead connection (nothing follows): settle now. */
  handleError(err: Error): void {
    this.error = err;
    this.settle(err, 0);
  }

  handleReadyForQuery(): void {
    this.settle(this.error, this.rows);
  }

  // Not expected during COPY FROM; present because pg may route these to the active query.
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

/** The parts of pg's Connection and Client that COPY needs. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}
interface PgClientLike {
  connection: PgConnection;
  query(q: CopyFromStdin): unknown;
}
interface PgliteTxLike {
  query(text: string, params?: unknown[], opts?: { blob?: Blob }): Promise<{ affectedRows?: number }>;
}

/** The driver client under a drizzle transaction (drizzle keeps it on `session.client`), if recognisable. */
function driverClient(tx: Tx): unknown {
  const session = (tx as unknown as { session?: { client?: unknown } }).session;
  return session?.client;
}

function isPgClient(c: unknown): c is PgClientLike {
  const x = c as Partial<PgClientLike> | null | undefined;
  return (
    typeof x?.query === 'function' &&
    typeof x.connection?.sendCopyFromChunk === 'function' &&
    typeof x.connection.endCopyFrom === 'function'
  );
}

function isPgliteTx(c: unknown): c is PgliteTxLike {
  const x = c as { query?: unknown; connection?: unknown } | null | undefined;
  return typeof x?.query === 'function' && x.connection === undefined;
}

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;

/** A text value in COPY text format (NUL, which PostgreSQL text cannot hold, is dropped). */
function copyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c !== 0) out += s[i];
  }
  return out;
}

const N = '\\N';
const textOrNull = (s: string | null | undefined, max = Infinity): string =>
  s === null || s === undefined ? N : copyText(s.length > max ? s.slice(0, max) : s);
const numOrNull = (v: number | null | undefined): string => (v === null || v === undefined ? N : String(v));

/** Which COPY format copyFlows sends: binary unless a value cannot be (then text, for the whole batch). */
export type CopyFormat = 'auto' | 'text';

/**
 * Appends flows to network_traffic with COPY in the caller's transaction: PostgreSQL gets COPY … FROM STDIN
 * through node-postgres, PGlite COPY … FROM '/dev/blob'. The payload is binary (./copy-binary.ts), or text
 * when a value does not fit the binary encoder (`format: 'text'` asks for text), so the server reads it as
 * it always did. Returns false, having written nothing, when the driver is not one of those two or a
 * timestamp is out of the range COPY text can carry; the caller then inserts the flows another way. Text
 * columns are cut like the INSERT path does (sni, http_host, dns_query to 255 characters).
 */
export async function copyFlows(
  tx: Tx,
  engine: Store['engine'],
  flows: readonly IngestFlow[],
  deviceIds: readonly (number | null)[],
  peerIds: readonly (number | null)[],
  sourceId: string | null,
  format: CopyFormat = 'auto',
): Promise<boolean> {
  if (flows.length === 0) return true;
  const client = driverClient(tx);
  const pgClient = engine === 'postgres' && isPgClient(client) ? client : null;
  const pglite = engine === 'pglite' && isPgliteTx(client) ? client : null;
  if (!pgClient && !pglite) return false;
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i] as IngestFlow;
    const ok =
      f.tsStart >= 0 &&
      f.tsEnd >= 0 &&
      f.tsStart / 1e6 < MAX_COPY_SECONDS &&
      f.tsEnd / 1e6 < MAX_COPY_SECONDS;
    if (!ok) return false;
  }
  const binary = format === 'auto' ? flowsAsCopyBinary(flows, deviceIds, peerIds, sourceId) : null;
  const chunks = binary ?? copyTextChunks(flows, deviceIds, peerIds, sourceId);
  const options = binary ? ' WITH (FORMAT binary)' : '';
  if (pgClient) {
    const q = new CopyFromStdin(`COPY network_traffic (${COPY_COLUMNS}) FROM STDIN${options}`, chunks);
    pgClient.query(q);
    await q.done;
  } else if (pglite) {
    await pglite.query(`COPY network_traffic (${COPY_COLUMNS}) FROM '/dev/blob'${options}`, [], {
      blob: new Blob(chunks),
    });
  }
  return true;
}

/** Fields per row of COPY_COLUMNS. */
const COPY_FIELDS = 27;

/** The flows as COPY binary, in COPY_COLUMNS order, or null when a value does not fit (see copy-binary.ts). */
export function flowsAsCopyBinary(
  flows: readonly IngestFlow[],
  deviceIds: readonly (number | null)[],
  peerIds: readonly (number | null)[],
  sourceId: string | null,
): Buffer[] | null {
  const w = new CopyBinaryWriter();
  const text = (s: string | null | undefined, max = Infinity): void => {
    if (s === null || s === undefined) w.null();
    else w.text(s.length > max ? s.slice(0, max) : s);
  };
  const int8 = (v: number | null | undefined): void => (v === null || v === undefined ? w.null() : w.int8(v));
  const int4 = (v: number | null): void => (v === null ? w.null() : w.int4(v));
  try {
    const source = sourceId === null ? null : uuidBytes(sourceId);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i] as IngestFlow;
      w.row(COPY_FIELDS);
      w.timestamptz(f.tsStart);
      w.timestamptz(f.tsEnd);
      int8(deviceIds[i]);
      int8(peerIds[i]);
      text(f.communityId);
      w.inet(f.srcIp);
      int4(f.srcPort);
      w.inet(f.dstIp);
      int4(f.dstPort);
      w.int2(f.proto);
      text(f.appProto);
      w.int8(f.bytesOut);
      w.int8(f.bytesIn);
      w.int8(f.packetsOut);
      w.int8(f.packetsIn);
      w.int2(f.tcpFlagsOut);
      w.int2(f.tcpFlagsIn);
      text(f.connState);
      text(f.srcMac);
      text(f.dstMac);
      int4(f.vlan);
      text(f.sni, 255);
      text(f.httpHost, 255);
      text(f.dnsNames[0], 255);
      text(f.uid);
      text(f.label);
      if (source === null) w.null();
      else w.uuid(source);
    }
  } catch (e) {
    if (e instanceof Unrepresentable) return null;
    throw e;
  }
  return w.finish();
}

/** The flows as COPY text, in COPY_COLUMNS order. */
function copyTextChunks(
  flows: readonly IngestFlow[],
  deviceIds: readonly (number | null)[],
  peerIds: readonly (number | null)[],
  sourceId: string | null,
): Buffer[] {
  const source = sourceId === null ? N : copyText(sourceId);
  const chunks: Buffer[] = [];
  let text = '';
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i] as IngestFlow;
    text +=
      `${microsToIso(f.tsStart)}\t${microsToIso(f.tsEnd)}\t${numOrNull(deviceIds[i])}\t${numOrNull(peerIds[i])}\t` +
      `${textOrNull(f.communityId)}\t${copyText(f.srcIp)}\t${numOrNull(f.srcPort)}\t${copyText(f.dstIp)}\t` +
      `${numOrNull(f.dstPort)}\t${f.proto}\t${textOrNull(f.appProto)}\t${f.bytesOut}\t${f.bytesIn}\t` +
      `${f.packetsOut}\t${f.packetsIn}\t${f.tcpFlagsOut}\t${f.tcpFlagsIn}\t${textOrNull(f.connState)}\t` +
      `${textOrNull(f.srcMac)}\t${textOrNull(f.dstMac)}\t${numOrNull(f.vlan)}\t${textOrNull(f.sni, 255)}\t` +
      `${textOrNull(f.httpHost, 255)}\t${textOrNull(f.dnsNames[0], 255)}\t${textOrNull(f.uid)}\t` +
      `${textOrNull(f.label)}\t${source}\n`;
    if (text.length >= 1 << 18) {
      chunks.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  }
  if (text.length > 0) chunks.push(Buffer.from(text, 'utf8'));
  return chunks;
}
