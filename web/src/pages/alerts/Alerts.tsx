import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { asApiError, type Page } from '../../api/client';
import { ALERT_STATUSES, SEVERITIES, type Alert, type SettableAlertStatus } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { DataTable, type Column } from '../../components/DataTable';
import { Pager, PageHeader, pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt, humanize } from '../../format';
import { useResource } from '../../hooks/useResource';
import { useLiveEvents, useLiveStatus } from '../../live';
import styles from '../Inventory.module.css';
import { errorText, SeverityBadge } from '../Section';

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
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const severity = params.get('severity') ?? '';
  const kind = params.get('kind') ?? '';
  const cursor = params.get('cursor') ?? '';
  const load = useCallback(
    (signal: AbortSignal) =>
      client.get<Page<Alert>>('/alerts', { status, severity, kind, cursor, limit: PAGE_SIZE }, signal),
    [client, status, severity, kind, cursor],
  );
  const res = useResource(load);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

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

  const update = (change: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(change)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('cursor' in change)) next.delete('cursor');
    setParams(next);
    setSelected(new Set());
  };

  const applyKind = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    update({ kind: String(new FormData(e.currentTarget).get('kind') ?? '').trim() || null });
  };

  const items = res.state === 'ready' ? res.data.items : [];
  const visibleSelected = items.filter((a) => selected.has(a.id)).map((a) => a.id);
  const allSelected = items.length > 0 && visibleSelected.length === items.length;

  const bulk = async (to: SettableAlertStatus, label: string) => {
    setBusy(true);
    try {
      const r = await client.post<Page<Alert>>('/alerts/bulk', { ids: visibleSelected, status: to });
      setMessage({ ok: true, text: `${label}: ${r.items.length} alert${r.items.length === 1 ? '' : 's'}.` });
      setSelected(new Set());
      reload();
    } catch (err) {
      setMessage({ ok: false, text: errorText(asApiError(err)) });
    } finally {
      setBusy(false);
    }
  };

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
        <DataTable
          rows={items}
          columns={columns}
          caption="Alerts, most recent first"
          hideCaption
          rowKey={(a) => String(a.id)}
          rowClassName={(a) => (fresh.has(a.id) ? styles.fresh : undefined)}
        />
        <Pager
          hasCursor={cursor !== ''}
          nextCursor={res.data.next_cursor}
          onFirst={() => update({ cursor: null })}
          onNext={(c) => update({ cursor: c })}
        />
      </>
    );

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle={live === 'live' ? 'Live: new alerts appear as they are raised' : 'Live feed offline'}
      />
      <form
        key={kind}
        className={pageStyles.form}
        role="search"
        aria-label="Filter alerts"
        onSubmit={applyKind}
      >
        <div className={pageStyles.field}>
          <label htmlFor="alert-status">Status</label>
          <select
            id="alert-status"
            value={status}
            onChange={(e) => update({ status: e.target.value || null })}
          >
            <option value="">Any</option>
            {ALERT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </div>
        <div className={pageStyles.field}>
          <label htmlFor="alert-severity">Severity</label>
          <select
            id="alert-severity"
            value={severity}
            onChange={(e) => update({ severity: e.target.value || null })}
          >
            <option value="">Any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </div>
        <div className={pageStyles.field}>
          <label htmlFor="alert-kind">Kind</label>
          <input
            id="alert-kind"
            name="kind"
            maxLength={64}
            placeholder="e.g. port_scan"
            defaultValue={kind}
          />
        </div>
        <button type="submit" className="primary">
          Apply filters
        </button>
        <button type="button" onClick={() => update({ status: null, severity: null, kind: null })}>
          Clear
        </button>
      </form>
      {message ? (
        <p role="status" className={`${styles.message} ${message.ok ? styles.ok : styles.bad}`}>
          {message.text}
        </p>
      ) : null}
      {body}
    </>
  );
}
