import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { Alert, AlertDetail as Detail, Suppression } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { DataTable } from '../../components/DataTable';
import { InputField } from '../../components/Form';
import { PageHeader, pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt, humanize } from '../../format';
import { useAction } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import { useLiveEvents } from '../../live';
import styles from '../Inventory.module.css';
import { FactList, Panel, SeverityBadge, StatusMessage } from '../Section';
import { flowColumns } from '../traffic/flows';
import { STATUS_ACTIONS } from './Alerts';

const alertFlowColumns = flowColumns({ state: true, communityId: true });

/** An evidence value as text: scalars as they are, lists and objects as indented JSON. */
function evidenceText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** datetime-local value → ISO, or null when empty or invalid. */
function isoOf(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function Actions({ alert, onChanged }: { alert: Alert; onChanged(a: Alert): void }) {
  const client = useApi();
  const { busy, message, setMessage, run } = useAction();

  const suppress = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const reason = String(f.get('reason') ?? '').trim();
    const expires = isoOf(String(f.get('expires_at') ?? ''));
    if (!reason) {
      setMessage({ ok: false, text: 'Give a reason for the suppression.' });
      return;
    }
    void run(async () => {
      const s = await client.post<Suppression>('/suppressions', {
        alert_id: alert.id,
        reason,
        expires_at: expires,
      });
      return `Suppression ${s.id} created${s.expires_at ? `, until ${formatDateTime(s.expires_at)}` : ''}: alerts like this one are no longer raised.`;
    });
  };

  return (
    <Panel id="actions-title" title="Actions">
      <div className={styles.bulk} role="group" aria-label="Change this alert's status">
        {STATUS_ACTIONS.map((a) => (
          <button
            key={a.status}
            type="button"
            disabled={busy || alert.status === a.status}
            onClick={() =>
              void run(async () => {
                const r = await client.patch<Alert>(`/alerts/${alert.id}`, { status: a.status });
                onChanged(r);
                return `Status: ${humanize(r.status)}.`;
              })
            }
          >
            {a.label}
          </button>
        ))}
      </div>
      <form className={pageStyles.form} onSubmit={suppress} aria-label="Suppress alerts like this one">
        <InputField id="sup-reason" label="Suppression reason" name="reason" maxLength={1000} required />
        <InputField id="sup-expires" label="Expires (empty: never)" name="expires_at" type="datetime-local" />
        <button type="submit" disabled={busy}>
          Suppress
        </button>
      </form>
      <StatusMessage message={message} plain />
    </Panel>
  );
}

export default function AlertDetail() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const res = useGet<Detail>(`/alerts/${encodeURIComponent(id)}`);
  const [changed, setChanged] = useState<Alert | null>(null);
  const { reload } = res;
  useLiveEvents(['alert_update'], (e) => {
    const d = e.type === 'resync' ? null : (e.data as { id?: unknown } | null);
    if (d && d.id === Number(id)) {
      setChanged(null);
      reload();
    }
  });

  if (res.state === 'loading') return <Loading label="Loading the alert…" />;
  if (res.state === 'error')
    return (
      <>
        <PageHeader title="Alert" />
        <ErrorState error={res.error} onRetry={res.reload} />
      </>
    );
  const a: Detail = changed && changed.id === res.data.id ? { ...res.data, ...changed } : res.data;
  const evidence = Object.entries(a.evidence);
  return (
    <>
      <PageHeader title={a.title} subtitle={`Alert ${a.id} · ${a.kind}`}>
        <Link to="/alerts">All alerts</Link>
      </PageHeader>
      <div className={styles.grid}>
        <Panel id="summary-title" title="Summary">
          <dl className={styles.facts}>
            <dt>Severity</dt>
            <dd>
              <SeverityBadge severity={a.severity} />
            </dd>
            <dt>Status</dt>
            <dd data-testid="alert-status">{humanize(a.status)}</dd>
            <dt>Kind</dt>
            <dd className={styles.mono}>{a.kind}</dd>
            <dt>Device</dt>
            <dd>
              {a.device_id === null ? (
                '—'
              ) : (
                <Link to={`/devices/${a.device_id}`}>{`device ${a.device_id}`}</Link>
              )}
            </dd>
            <dt>Peer</dt>
            <dd className={styles.mono}>{a.peer ?? '—'}</dd>
            <dt>Seen</dt>
            <dd>{`${formatInt(a.count)} ${a.count === 1 ? 'time' : 'times'}, ${formatDateTime(a.first_seen)} – ${formatDateTime(a.last_seen)}`}</dd>
            <dt>Model</dt>
            <dd>{a.model_version ?? '—'}</dd>
            <dt>Description</dt>
            <dd>{a.description ?? '—'}</dd>
          </dl>
        </Panel>
        <Panel id="evidence-title" title="Evidence">
          {evidence.length === 0 ? (
            <p className={styles.muted}>No evidence recorded.</p>
          ) : (
            <FactList
              entries={evidence.map(([k, v]) => [k, <pre className={styles.pre}>{evidenceText(v)}</pre>])}
            />
          )}
        </Panel>
      </div>
      {hasRole(user, 'analyst') ? <Actions alert={a} onChanged={setChanged} /> : null}
      <Panel id="flows-title" title="Flows behind this alert">
        {a.flows.length === 0 ? (
          <Empty title="No stored flows for this alert" />
        ) : (
          <DataTable
            rows={a.flows}
            columns={alertFlowColumns}
            caption="Flows behind this alert"
            hideCaption
            rowKey={(f) => String(f.id)}
          />
        )}
      </Panel>
    </>
  );
}
