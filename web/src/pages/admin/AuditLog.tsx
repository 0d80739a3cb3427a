import { useCallback, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Page } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { useApi } from '../../auth';
import { DataTable, type Column } from '../../components/DataTable';
import { Pager, pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, toText } from '../../format';
import { useResource } from '../../hooks/useResource';
import styles from './Admin.module.css';

const TEXT_FILTERS = [
  { name: 'action', label: 'Action', placeholder: 'e.g. user.create' },
  { name: 'actor', label: 'Actor', placeholder: 'username' },
  { name: 'target', label: 'Target', placeholder: 'e.g. user:alice' },
] as const;
const TIME_FILTERS = [
  { name: 'since', label: 'From' },
  { name: 'until', label: 'Until' },
] as const;
const FILTERS = [...TEXT_FILTERS.map((f) => f.name), ...TIME_FILTERS.map((f) => f.name)];

/** ISO time → the value of a datetime-local input (local time, minutes). */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const columns: Column<AuditEntry>[] = [
  { key: 'at', header: 'Time', render: (r) => formatDateTime(r.at) },
  { key: 'actor', header: 'Actor' },
  { key: 'action', header: 'Action', render: (r) => <code>{r.action}</code> },
  { key: 'target', header: 'Target' },
  { key: 'outcome', header: 'Outcome' },
  { key: 'ip', header: 'IP' },
  {
    key: 'details',
    header: 'Details',
    render: (r) =>
      Object.keys(r.details).length === 0 ? (
        '—'
      ) : (
        <span className={styles.details}>{toText(r.details, 400)}</span>
      ),
  },
];

export default function AuditLog() {
  const client = useApi();
  const [params, setParams] = useSearchParams();
  const query = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
  const cursor = params.get('cursor') ?? '';
  const queryKey = JSON.stringify(query);
  const load = useCallback(
    (signal: AbortSignal) =>
      client.get<Page<AuditEntry>>(
        '/audit-log',
        { ...(JSON.parse(queryKey) as Record<string, string>), cursor, limit: 50 },
        signal,
      ),
    [client, queryKey, cursor],
  );
  const res = useResource(load);

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const next = new URLSearchParams();
    for (const { name } of TEXT_FILTERS) {
      const v = String(form.get(name) ?? '').trim();
      if (v) next.set(name, v);
    }
    for (const { name } of TIME_FILTERS) {
      const v = String(form.get(name) ?? '');
      const d = v ? new Date(v) : null;
      if (d && !Number.isNaN(d.getTime())) next.set(name, d.toISOString());
    }
    setParams(next);
  };

  const withCursor = (c: string | null) => {
    const next = new URLSearchParams(params);
    if (c) next.set('cursor', c);
    else next.delete('cursor');
    setParams(next);
  };

  const filterKey = FILTERS.map((f) => params.get(f) ?? '').join('|');
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form
        key={filterKey}
        className={pageStyles.form}
        onSubmit={apply}
        role="search"
        aria-label="Filter the audit log"
      >
        {TEXT_FILTERS.map((f) => (
          <div key={f.name} className={pageStyles.field}>
            <label htmlFor={`audit-${f.name}`}>{f.label}</label>
            <input
              id={`audit-${f.name}`}
              name={f.name}
              maxLength={256}
              placeholder={f.placeholder}
              defaultValue={params.get(f.name) ?? ''}
            />
          </div>
        ))}
        {TIME_FILTERS.map((f) => (
          <div key={f.name} className={pageStyles.field}>
            <label htmlFor={`audit-${f.name}`}>{f.label}</label>
            <input
              id={`audit-${f.name}`}
              name={f.name}
              type="datetime-local"
              defaultValue={toLocalInput(params.get(f.name))}
            />
          </div>
        ))}
        <button type="submit" className="primary">
          Apply filters
        </button>
        <button type="button" onClick={() => setParams(new URLSearchParams())}>
          Clear
        </button>
      </form>
      {res.state === 'loading' ? (
        <Loading label="Loading the audit log…" />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={res.reload} />
      ) : res.data.items.length === 0 ? (
        <Empty title="No audit entries match these filters" />
      ) : (
        <>
          <DataTable
            rows={res.data.items}
            columns={columns}
            caption="Audit log, newest first"
            hideCaption
            rowKey={(r) => String(r.id)}
          />
          <Pager
            hasCursor={cursor !== ''}
            nextCursor={res.data.next_cursor}
            onFirst={() => withCursor(null)}
            onNext={(c) => withCursor(c)}
          />
        </>
      )}
    </section>
  );
}
