import { Link } from 'react-router-dom';
import type { Flow } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { formatBytes, formatDateTimeSeconds } from '../../format';
import styles from '../Inventory.module.css';

/** IANA protocol numbers the explorer names; any other shows as its number. */
export const PROTOCOLS: readonly { n: number; name: string }[] = [
  { n: 6, name: 'TCP' },
  { n: 17, name: 'UDP' },
  { n: 1, name: 'ICMP' },
  { n: 58, name: 'ICMPv6' },
  { n: 2, name: 'IGMP' },
  { n: 47, name: 'GRE' },
  { n: 50, name: 'ESP' },
  { n: 132, name: 'SCTP' },
];

export const protoName = (n: number): string => PROTOCOLS.find((p) => p.n === n)?.name ?? String(n);

const endpoint = (ip: string, port: number | null): string =>
  port === null ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

/**
 * The columns of a flow table (device detail, alert detail, traffic explorer). Every value comes from the
 * network and is rendered as text.
 */
export function flowColumns(
  opts: { device?: boolean; state?: boolean; communityId?: boolean } = {},
): Column<Flow>[] {
  const cols: Column<Flow>[] = [
    {
      key: 'ts_start',
      header: 'Start',
      render: (f) => <span className={styles.nowrap}>{formatDateTimeSeconds(f.ts_start)}</span>,
    },
  ];
  if (opts.device)
    cols.push({
      key: 'device_id',
      header: 'Device',
      render: (f) =>
        f.device_id === null ? (
          '—'
        ) : (
          <Link to={`/devices/${f.device_id}`} className={styles.nowrap}>{`device ${f.device_id}`}</Link>
        ),
    });
  cols.push(
    {
      key: 'src',
      header: 'Source',
      render: (f) => (
        <span className={`${styles.mono} ${styles.nowrap}`}>{endpoint(f.src_ip, f.src_port)}</span>
      ),
    },
    {
      key: 'dst',
      header: 'Destination',
      render: (f) => (
        <span className={`${styles.mono} ${styles.nowrap}`}>{endpoint(f.dst_ip, f.dst_port)}</span>
      ),
    },
    { key: 'proto', header: 'Proto', render: (f) => protoName(f.proto) },
    { key: 'app_proto', header: 'App' },
    { key: 'name', header: 'Name', render: (f) => f.sni ?? f.http_host ?? f.dns_query ?? '—' },
  );
  if (opts.state) cols.push({ key: 'conn_state', header: 'State' });
  cols.push({
    key: 'bytes',
    header: 'Bytes out / in',
    numeric: true,
    render: (f) => (
      <span className={styles.nowrap}>{`${formatBytes(f.bytes_out)} / ${formatBytes(f.bytes_in)}`}</span>
    ),
  });
  if (opts.communityId)
    cols.push({
      key: 'community_id',
      header: 'Community ID',
      render: (f) => <span className={styles.mono}>{f.community_id ?? '—'}</span>,
    });
  return cols;
}
