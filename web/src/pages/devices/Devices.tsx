import { useRef } from 'react';
import { Link } from 'react-router-dom';
import type { Page } from '../../api/client';
import { DEVICE_SORTS, type Device, type DeviceSort } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { Field, FilterForm, InputField } from '../../components/Form';
import { PageHeader } from '../../components/Page';
import { PagedTable } from '../../components/PagedTable';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useGet } from '../../hooks/useGet';
import { useSearchUpdate } from '../../hooks/useSearchUpdate';
import { useLiveEvents } from '../../live';
import styles from '../Inventory.module.css';

const PAGE_SIZE = 50;
const FILTERS = ['q', 'type', 'vendor', 'online', 'risk_min'] as const;

const isSort = (s: string | null): s is DeviceSort =>
  (DEVICE_SORTS as readonly (string | null)[]).includes(s);

/** Text ascending is the natural first click; times and scores start with the largest. */
const TEXT_SORTS: readonly DeviceSort[] = ['hostname', 'vendor', 'device_type'];

export const formatRisk = (r: number): string => (Math.round(r * 10) / 10).toFixed(1);

export const deviceName = (d: Pick<Device, 'hostname' | 'mac' | 'ip' | 'id'>): string =>
  d.hostname ?? d.mac ?? d.ip ?? `device ${d.id}`;

const columns: Column<Device>[] = [
  {
    key: 'hostname',
    header: 'Device',
    sortKey: 'hostname',
    render: (d) => <Link to={`/devices/${d.id}`}>{deviceName(d)}</Link>,
  },
  {
    key: 'ip',
    header: 'IP',
    render: (d) => <span className={`${styles.mono} ${styles.nowrap}`}>{d.ip ?? '—'}</span>,
  },
  {
    key: 'mac',
    header: 'MAC',
    render: (d) => <span className={`${styles.mono} ${styles.nowrap}`}>{d.mac ?? '—'}</span>,
  },
  { key: 'vendor', header: 'Vendor', sortKey: 'vendor' },
  { key: 'device_type', header: 'Type', sortKey: 'device_type' },
  {
    key: 'confidence',
    header: 'Confidence',
    sortKey: 'confidence',
    numeric: true,
    render: (d) => `${Math.round(d.confidence * 100)}%`,
  },
  {
    key: 'risk_score',
    header: 'Risk',
    sortKey: 'risk_score',
    numeric: true,
    render: (d) => formatRisk(d.risk_score),
  },
  {
    key: 'status',
    header: 'Status',
    render: (d) => <span className={`${styles.badge} ${styles[d.status]}`}>{d.status}</span>,
  },
  { key: 'last_seen', header: 'Last seen', sortKey: 'last_seen', render: (d) => formatDateTime(d.last_seen) },
];

export default function Devices() {
  const { params, setParams, update } = useSearchUpdate();
  const sortParam = params.get('sort');
  const sort: DeviceSort = isSort(sortParam) ? sortParam : 'last_seen';
  const order = params.get('order') === 'asc' ? 'asc' : 'desc';
  const cursor = params.get('cursor') ?? '';
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
  const res = useGet<Page<Device>>('/devices', { ...filters, sort, order, cursor, limit: PAGE_SIZE });

  // New or changed devices refresh the first page (at most every 2 s: an ingest announces many at once).
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const { reload } = res;
  useLiveEvents(['new_device', 'device_update', 'resync'], () => {
    if (cursor !== '' || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      reload();
    }, 2_000);
  });

  const apply = (form: FormData) => {
    const change: Record<string, string | null> = {};
    for (const f of FILTERS) change[f] = String(form.get(f) ?? '').trim() || null;
    update(change);
  };

  const onSort = (k: string) => {
    if (k === sort) update({ order: order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: k, order: TEXT_SORTS.includes(k as DeviceSort) ? 'asc' : 'desc' });
  };

  const filterKey = FILTERS.map((f) => params.get(f) ?? '').join('|');
  let body;
  if (res.state === 'loading') body = <Loading label="Loading devices…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0)
    body = (
      <Empty title={filterKey.replace(/\|/g, '') ? 'No devices match these filters' : 'No devices yet'}>
        <p>Devices appear as traffic is ingested (Sources: upload a capture or start a collector).</p>
      </Empty>
    );
  else
    body = (
      <PagedTable
        rows={res.data.items}
        columns={columns}
        caption="Devices"
        rowKey={(d) => String(d.id)}
        sort={{ key: sort, order, onSort }}
        cursor={cursor}
        nextCursor={res.data.next_cursor}
        onCursor={(c) => update({ cursor: c })}
      />
    );

  return (
    <>
      <PageHeader title="Devices" subtitle="Everything seen on the network, identified" />
      <FilterForm
        key={filterKey}
        label="Filter devices"
        onApply={apply}
        onClear={() => setParams(new URLSearchParams())}
      >
        <InputField
          id="dev-q"
          label="Search"
          name="q"
          type="search"
          maxLength={128}
          placeholder="host name, MAC, IP, vendor, model"
          defaultValue={params.get('q') ?? ''}
        />
        <InputField
          id="dev-type"
          label="Type"
          name="type"
          maxLength={128}
          placeholder="e.g. camera"
          defaultValue={params.get('type') ?? ''}
        />
        <InputField
          id="dev-vendor"
          label="Vendor"
          name="vendor"
          maxLength={128}
          defaultValue={params.get('vendor') ?? ''}
        />
        <Field id="dev-online" label="Status">
          <select id="dev-online" name="online" defaultValue={params.get('online') ?? ''}>
            <option value="">Any</option>
            <option value="true">Online</option>
            <option value="false">Offline</option>
          </select>
        </Field>
        <InputField
          id="dev-risk"
          label="Minimum risk"
          name="risk_min"
          type="number"
          min={0}
          max={100}
          defaultValue={params.get('risk_min') ?? ''}
        />
      </FilterForm>
      {body}
    </>
  );
}
