import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import type { Page } from '../../api/client';
import { ALERT_STATUSES, SEVERITIES, type Alert, type SettableAlertStatus } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import type { Column } from '../../components/DataTable';
import { Field, FilterForm, InputField, Options } from '../../components/Form';
import { PageHeader } from '../../components/Page';
import { PagedTable } from '../../components/PagedTable';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt, humanize } from '../../format';
import { useAction } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import { useSearchUpdate, type ParamChange } from '../../hooks/useSearchUpdate';
import { useLiveEvents, useLiveStatus } from '../../live';
import styles from '../Inventory.module.css';
import { SeverityBadge, StatusMessage } from '../Section';

const PAGE_SIZE = 50;
const HIGHLIGHT_MS = 4_000;

export const STATUS_ACTIONS: { status: SettableAlertStatus; label: string }[] = [
  { status: 'acknowledged', label: 'Acknowledge' },
  { status: 'resolved', label: 'Resolve' },
  { status: 'false_positive', label: 'False positive' },
];

const eventAlertId = (data: unknown): number | null => {
  if (typeof data !== 'object' || data === null) return null;
  const id = (data as { id?: unknown }).id;
  return typeof id === 'number' ? id : null;
};

export default function Alerts() {
  const client = useApi();
  const { user } = useAuth();
  const canAct = hasRole(user, 'analyst');
  const live = useLiveStatus();
  const search = useSearchUpdate();
  const { params } = search;
  const status = params.get('status') ?? '';
  const severity = params.get('severity') ?? '';
  const kind = params.get('kind') ?? '';
  const cursor = params.get('cursor') ?? '';
  const res = useGet<Page<Alert>>('/alerts', { status, severity, kind, cursor, limit: PAGE_SIZE });
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const { busy, message, run } = useAction();

  // Live: new and changed alerts reload the first page at once and are highlighted for a few seconds.
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const t = timers.current;
    return () => {
      for (const x of t) clearTimeout(x);
    };
  }, []);
  const { reload } = res;
  useLiveEvents(['new_alert', 'alert_update', 'resync'], (e) => {
    if (cursor !== '') return; // a later page stays still; the first page shows what is new
    reload();
    const id = e.type === 'resync' ? null : eventAlertId(e.data);
    if (id === null) return;
    setFresh((f) => new Set(f).add(id));
    const t = setTimeout(() => {
      timers.current.delete(t);
      setFresh((f) => {
        const n = new Set(f);
        n.delete(id);
        return n;
      });
    }, HIGHLIGHT_MS);
    timers.current.add(t);
  });

  const update = (change: ParamChange) => {
    search.update(change);
    setSelected(new Set());
  };

  const applyKind = (f: FormData) => update({ kind: String(f.get('kind') ?? '').trim() || null });

  const items = res.state === 'ready' ? res.data.items : [];
  const visibleSelected = items.filter((a) => selected.has(a.id)).map((a) => a.id);
  const allSelected = items.length > 0 && visibleSelected.length === items.length;

  const bulk = (to: SettableAlertStatus, label: string) =>
    run(async () => {
      const r = await client.post<Page<Alert>>('/alerts/bulk', { ids: visibleSelected, status: to });
      setSelected(new Set());
      reload();
      return `${label}: ${r.items.length} alert${r.items.length === 1 ? '' : 's'}.`;
    });

  const toggle = (id: number) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const columns: Column<Alert>[] = [
    ...(canAct
      ? [
          {
            key: 'select',
            header: 'Select',
            headerNode: (
              <input
                type="checkbox"
                aria-label="Select all alerts on this page"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((a) => a.id)))}
              />
            ),
            render: (a: Alert) => (
              <input
                type="checkbox"
                aria-label={`Select alert ${a.id}: ${a.title}`}
                checked={selected.has(a.id)}
                onChange={() => toggle(a.id)}
              />
            ),
          },
        ]
      : []),
    { key: 'severity', header: 'Severity', render: (a) => <SeverityBadge severity={a.severity} /> },
    { key: 'title', header: 'Alert', render: (a) => <Link to={`/alerts/${a.id}`}>{a.title}</Link> },
    { key: 'kind', header: 'Kind', render: (a) => <span className={styles.mono}>{a.kind}</span> },
    {
      key: 'device',
      header: 'Device',
      render: (a) =>
        a.device_id === null ? '—' : <Link to={`/devices/${a.device_id}`}>{`device ${a.device_id}`}</Link>,
    },
    {
      key: 'peer',
      header: 'Peer',
      render: (a) => <span className={`${styles.mono} ${styles.nowrap}`}>{a.peer ?? '—'}</span>,
    },
    {
      key: 'status',
      header: 'Status',
      render: (a) => <span data-testid="alert-status">{humanize(a.status)}</span>,
    },
    { key: 'count', header: 'Count', numeric: true, render: (a) => formatInt(a.count) },
    { key: 'last_seen', header: 'Last seen', render: (a) => formatDateTime(a.last_seen) },
  ];

  let body;
  if (res.state === 'loading') body = <Loading label="Loading alerts…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (items.length === 0)
    body = <Empty title={status || severity || kind ? 'No alerts match these filters' : 'No alerts yet'} />;
  else
    body = (
      <>
        {canAct ? (
          <div className={styles.bulk} role="group" aria-label="Change the selected alerts">
            <span>{`${visibleSelected.length} selected`}</span>
            {STATUS_ACTIONS.map((a) => (
              <button
                key={a.status}
                type="button"
                disabled={busy || visibleSelected.length === 0}
                onClick={() => void bulk(a.status, a.label)}
              >
                {a.label}
              </button>
            ))}
          </div>
        ) : null}
        <PagedTable
          rows={items}
          columns={columns}
          caption="Alerts, most recent first"
          rowKey={(a) => String(a.id)}
          rowClassName={(a) => (fresh.has(a.id) ? styles.fresh : undefined)}
          cursor={cursor}
          nextCursor={res.data.next_cursor}
          onCursor={(c) => update({ cursor: c })}
        />
      </>
    );

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle={live === 'live' ? 'Live: new alerts appear as they are raised' : 'Live feed offline'}
      />
      <FilterForm
        key={kind}
        label="Filter alerts"
        onApply={applyKind}
        onClear={() => update({ status: null, severity: null, kind: null })}
      >
        <Field id="alert-status" label="Status">
          <select
            id="alert-status"
            value={status}
            onChange={(e) => update({ status: e.target.value || null })}
          >
            <Options values={ALERT_STATUSES} any="Any" />
          </select>
        </Field>
        <Field id="alert-severity" label="Severity">
          <select
            id="alert-severity"
            value={severity}
            onChange={(e) => update({ severity: e.target.value || null })}
          >
            <Options values={SEVERITIES} any="Any" />
          </select>
        </Field>
        <InputField
          id="alert-kind"
          label="Kind"
          name="kind"
          maxLength={64}
          placeholder="e.g. port_scan"
          defaultValue={kind}
        />
      </FilterForm>
      <StatusMessage message={message} />
      {body}
    </>
  );
}
