import { lazy, Suspense, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { asApiError, type Page } from '../../api/client';
import type {
  Alert,
  DeviceDetail as Detail,
  DeviceSignal,
  DeviceTraffic,
  DeviceVulnerability,
  Flow,
} from '../../api/types';
import { useApi, useAuth, hasRole } from '../../auth';
import { DataTable, type Column } from '../../components/DataTable';
import { Field, InputField } from '../../components/Form';
import { PageHeader } from '../../components/Page';
import { ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt } from '../../format';
import type { Message } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import styles from '../Inventory.module.css';
import { errorText, Panel, Section, SeverityBadge, StatusMessage } from '../Section';
import { flowColumns } from '../traffic/flows';
import { DestinationProfile } from './DestinationProfile';
import { deviceName, formatRisk } from './Devices';

const TrafficChart = lazy(() => import('./TrafficChart'));

const WEEK_MS = 7 * 86_400_000;

/** The time range of a device's own activity (captures may be years old): its last week, at most. */
function activityRange(d: Detail): { from: string; to: string } {
  const last = Date.parse(d.last_seen) + 60_000;
  const first = Math.max(Date.parse(d.first_seen) - 60_000, last - WEEK_MS);
  return { from: new Date(first).toISOString(), to: new Date(last).toISOString() };
}

const deviceFlowColumns = flowColumns();

export const alertColumns: Column<Alert>[] = [
  { key: 'severity', header: 'Severity', render: (a) => <SeverityBadge severity={a.severity} /> },
  { key: 'title', header: 'Alert', render: (a) => <Link to={`/alerts/${a.id}`}>{a.title}</Link> },
  { key: 'kind', header: 'Kind' },
  { key: 'status', header: 'Status' },
  { key: 'last_seen', header: 'Last seen', render: (a) => formatDateTime(a.last_seen) },
];

const vulnColumns: Column<DeviceVulnerability>[] = [
  { key: 'cve_id', header: 'CVE', render: (v) => <span className={styles.mono}>{v.cve_id}</span> },
  {
    key: 'severity',
    header: 'Severity',
    render: (v) => (v.severity ? <SeverityBadge severity={v.severity.toLowerCase()} /> : '—'),
  },
  { key: 'cvss_score', header: 'CVSS', numeric: true },
  { key: 'kev', header: 'KEV', render: (v) => (v.kev ? 'yes' : 'no') },
  { key: 'status', header: 'Status', render: (v) => (v.possible ? `${v.status} (possible)` : v.status) },
  {
    key: 'matched_cpe',
    header: 'Matched CPE',
    render: (v) => <span className={styles.mono}>{v.matched_cpe}</span>,
  },
];

const signalColumns: Column<DeviceSignal>[] = [
  { key: 'kind', header: 'Kind' },
  { key: 'value', header: 'Value', render: (s) => <span className={styles.mono}>{s.value}</span> },
  { key: 'count', header: 'Count', numeric: true, render: (s) => formatInt(s.count) },
  { key: 'last_seen', header: 'Last seen', render: (s) => formatDateTime(s.last_seen) },
];

const lines = (s: string, sep: RegExp): string[] =>
  s
    .split(sep)
    .map((x) => x.trim())
    .filter(Boolean);

function EditForm({
  device,
  onSaved,
  saved,
}: {
  device: Detail;
  onSaved(d: Detail, message: string): void;
  /** What the last save changed (the form is re-created with the saved values). */
  saved: string | null;
}) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(saved ? { ok: true, text: saved } : null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const str = (k: string) => String(f.get(k) ?? '').trim();
    const body: Record<string, unknown> = {};
    const type = str('device_type');
    if (type && type !== device.device_type) body.device_type = type;
    for (const k of ['vendor', 'model'] as const) {
      const v = str(k) || null;
      if (v !== device[k]) body[k] = v;
    }
    const cpe = lines(str('cpe23'), /\n/);
    if (cpe.join('\n') !== device.cpe23.join('\n')) body.cpe23 = cpe;
    const tags = lines(str('tags'), /,/);
    if (tags.join(',') !== device.tags.join(',')) body.tags = tags;
    if (Object.keys(body).length === 0) {
      setMessage({ ok: true, text: 'Nothing to change.' });
      return;
    }
    setBusy(true);
    try {
      const saved = await client.patch<Detail>(`/devices/${device.id}`, body);
      onSaved(saved, `Saved: ${Object.keys(body).join(', ')}.`);
    } catch (err) {
      setMessage({ ok: false, text: errorText(asApiError(err)) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel id="edit-title" title="Correct this device">
      <form className={styles.editForm} onSubmit={(e) => void submit(e)} aria-label="Correct this device">
        <InputField
          id="edit-type"
          label="Type"
          name="device_type"
          maxLength={128}
          defaultValue={device.device_type}
        />
        <InputField
          id="edit-vendor"
          label="Vendor"
          name="vendor"
          maxLength={128}
          defaultValue={device.vendor ?? ''}
        />
        <InputField
          id="edit-model"
          label="Model"
          name="model"
          maxLength={128}
          defaultValue={device.model ?? ''}
        />
        <Field id="edit-cpe" label="CPE 2.3 names (one per line)">
          <textarea id="edit-cpe" name="cpe23" defaultValue={device.cpe23.join('\n')} />
        </Field>
        <InputField
          id="edit-tags"
          label="Tags (comma separated)"
          name="tags"
          defaultValue={device.tags.join(', ')}
        />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Save changes
          </button>
        </div>
        <StatusMessage message={message} plain />
      </form>
    </Panel>
  );
}

export default function DeviceDetail() {
  const { id = '' } = useParams();
  const res = useGet<Detail>(`/devices/${encodeURIComponent(id)}`);
  const [edited, setEdited] = useState<{ device: Detail; at: number; message: string | null } | null>(null);

  if (res.state === 'loading') return <Loading label="Loading the device…" />;
  if (res.state === 'error')
    return (
      <>
        <PageHeader title="Device" />
        <ErrorState error={res.error} onRetry={res.reload} />
      </>
    );
  const shown =
    edited && edited.device.id === res.data.id ? edited : { device: res.data, at: 0, message: null };
  return (
    <DeviceView
      d={shown.device}
      formKey={shown.at}
      saved={shown.message}
      onSaved={(device, message) => setEdited({ device, at: Date.now(), message })}
    />
  );
}

function DeviceView({
  d,
  formKey,
  saved,
  onSaved,
}: {
  d: Detail;
  formKey: number;
  saved: string | null;
  onSaved(d: Detail, message: string): void;
}) {
  const { user } = useAuth();
  const { from, to } = activityRange(d);
  return (
    <>
      <PageHeader title={deviceName(d)} subtitle={`Device ${d.id} · ${d.device_type}`}>
        <Link to="/devices">All devices</Link>
      </PageHeader>
      <div className={styles.grid}>
        <Panel id="identity-title" title="Identity">
          <dl className={styles.facts}>
            <dt>Type</dt>
            <dd data-testid="device-type">{d.device_type}</dd>
            <dt>Confidence</dt>
            <dd>{`${Math.round(d.confidence * 100)}%`}</dd>
            <dt>Type source</dt>
            <dd>{d.type_source}</dd>
            <dt>Vendor</dt>
            <dd>{d.vendor ?? '—'}</dd>
            <dt>Model</dt>
            <dd>{d.model ?? '—'}</dd>
            <dt>Host name</dt>
            <dd data-testid="device-hostname">{d.hostname ?? '—'}</dd>
            <dt>MAC</dt>
            <dd className={styles.mono}>
              {d.mac ? `${d.mac}${d.mac_randomized ? ' (randomized)' : ''}` : '—'}
            </dd>
            <dt>IP</dt>
            <dd className={styles.mono}>{d.ip ?? '—'}</dd>
            <dt>OS / firmware</dt>
            <dd>{[d.os, d.firmware].filter(Boolean).join(' / ') || '—'}</dd>
            <dt>CPE</dt>
            <dd className={styles.mono}>{d.cpe23.length ? d.cpe23.join(', ') : '—'}</dd>
            <dt>Tags</dt>
            <dd>{d.tags.length ? d.tags.join(', ') : '—'}</dd>
            <dt>Risk</dt>
            <dd>{formatRisk(d.risk_score)}</dd>
            <dt>Status</dt>
            <dd>
              <span className={`${styles.badge} ${styles[d.status]}`}>{d.status}</span>
            </dd>
            <dt>First / last seen</dt>
            <dd>{`${formatDateTime(d.first_seen)} – ${formatDateTime(d.last_seen)}`}</dd>
            <dt>Set by hand</dt>
            <dd>{d.user_fields.length ? d.user_fields.join(', ') : '—'}</dd>
          </dl>
        </Panel>
        <Panel id="evidence-title" title="Evidence">
          {d.evidence.length === 0 ? (
            <p className={styles.muted}>No evidence recorded.</p>
          ) : (
            <ul className={styles.list}>
              {d.evidence.map((e, i) => (
                <li key={i}>
                  <strong>{e.source}</strong>
                  {e.confidence !== undefined ? ` (${Math.round(e.confidence * 100)}%)` : ''}
                  {e.used === false ? ' · not used' : ''}: {e.text}
                  {e.ref ? <span className={styles.muted}>{` · ${e.ref}`}</span> : null}
                </li>
              ))}
            </ul>
          )}
          <h2>Addresses</h2>
          {d.addresses.length === 0 ? (
            <p className={styles.muted}>No addresses recorded.</p>
          ) : (
            <ul className={styles.list}>
              {d.addresses.map((a) => (
                <li key={a.ip}>
                  <span className={styles.mono}>{a.ip}</span>{' '}
                  <span
                    className={styles.muted}
                  >{`${formatDateTime(a.first_seen)} – ${formatDateTime(a.last_seen)}`}</span>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        {hasRole(user, 'analyst') ? (
          <EditForm key={formKey} device={d} saved={saved} onSaved={onSaved} />
        ) : null}
      </div>
      <Section<DeviceTraffic>
        id="traffic-title"
        title="Traffic"
        empty="No traffic in this device's last week of activity"
        path={`/devices/${d.id}/traffic`}
        query={{ from, to }}
      >
        {(t) => (
          <Suspense fallback={<Loading label="Drawing the chart…" />}>
            <TrafficChart data={t} />
          </Suspense>
        )}
      </Section>
      <Section<Page<Flow>>
        id="flows-title"
        title="Recent flows"
        empty="No flows stored for this device"
        path="/network-traffic"
        query={{ device_id: d.id, from, to, limit: 25 }}
      >
        {(p) => (
          <DataTable
            rows={p.items}
            columns={deviceFlowColumns}
            caption="Recent flows"
            hideCaption
            rowKey={(f) => String(f.id)}
          />
        )}
      </Section>
      <DestinationProfile deviceId={d.id} />
      <Section<Page<Alert>>
        id="alerts-title"
        title="Alerts"
        empty="No alerts for this device"
        path="/alerts"
        query={{ device_id: d.id, limit: 25 }}
      >
        {(p) => (
          <DataTable
            rows={p.items}
            columns={alertColumns}
            caption="Alerts for this device"
            hideCaption
            rowKey={(a) => String(a.id)}
          />
        )}
      </Section>
      <Section<Page<DeviceVulnerability>>
        key={d.cpe23.join('\n') /* the CPE names decide the matches: reload after an edit */}
        id="vulns-title"
        title="Vulnerabilities"
        empty="No known vulnerabilities match this device"
        path={`/devices/${d.id}/vulnerabilities`}
        query={{ limit: 50 }}
      >
        {(p) => (
          <DataTable
            rows={p.items}
            columns={vulnColumns}
            caption="Vulnerabilities"
            hideCaption
            rowKey={(v) => v.cve_id}
          />
        )}
      </Section>
      <Section<Page<DeviceSignal>>
        id="signals-title"
        title="Signals"
        empty="No identifying signals recorded"
        path={`/devices/${d.id}/signals`}
        query={{ limit: 100 }}
      >
        {(p) => (
          <DataTable
            rows={p.items}
            columns={signalColumns}
            caption="Signals"
            hideCaption
            rowKey={(s) => String(s.id)}
          />
        )}
      </Section>
    </>
  );
}
