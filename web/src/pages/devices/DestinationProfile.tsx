import { useState, type FormEvent } from 'react';
import {
  DESTINATION_KINDS,
  type DestinationEntry,
  type DestinationKind,
  type DestinationProfile as Profile,
} from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable, type Column } from '../../components/DataTable';
import { Field, InputField, Options } from '../../components/Form';
import { pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt, humanize } from '../../format';
import { useAction } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import styles from '../Inventory.module.css';
import { Panel, StatusMessage } from '../Section';

const PLACEHOLDER: Record<DestinationKind, string> = {
  domain: 'e.g. time.example.com or *.example.com',
  endpoint: 'e.g. 203.0.113.7:443/tcp',
  protocol: 'e.g. ntp',
};

/**
 * What the device is expected to talk to (GET /devices/:id/destinations): learned during its learning period,
 * then enforced (a new destination raises an alert). Analysts add, remove and reset entries. A server
 * without the route answers the catalogue's 404: shown as "not available" rather than an error.
 */
export function DestinationProfile({ deviceId }: { deviceId: number }) {
  const client = useApi();
  const { user } = useAuth();
  const canEdit = hasRole(user, 'analyst');
  const base = `/devices/${deviceId}/destinations`;
  const res = useGet<Profile>(base);
  const { busy, message, run } = useAction(res.reload);
  const [kind, setKind] = useState<DestinationKind>('domain');

  const add = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const value = String(new FormData(form).get('value') ?? '').trim();
    if (!value) return;
    void run(async () => {
      await client.post(base, { kind, value });
      form.reset();
      return `Added ${kind} ${value}.`;
    });
  };

  const columns: Column<DestinationEntry>[] = [
    { key: 'kind', header: 'Kind', render: (d) => humanize(d.kind) },
    { key: 'value', header: 'Destination', render: (d) => <span className={styles.mono}>{d.value}</span> },
    { key: 'source', header: 'Source', render: (d) => (d.source === 'user' ? 'added by hand' : 'learned') },
    { key: 'count', header: 'Seen', numeric: true, render: (d) => formatInt(d.count) },
    { key: 'last_seen', header: 'Last seen', render: (d) => formatDateTime(d.last_seen) },
    ...(canEdit
      ? [
          {
            key: 'remove',
            header: 'Remove',
            render: (d: DestinationEntry) => (
              <ConfirmButton
                label="Remove"
                ariaLabel={`Remove ${d.kind} ${d.value} from the profile`}
                onConfirm={() =>
                  run(async () => {
                    await client.delete(`${base}/${encodeURIComponent(String(d.id))}`);
                    return `Removed ${d.kind} ${d.value}.`;
                  })
                }
              />
            ),
          },
        ]
      : []),
  ];

  let body;
  if (res.state === 'loading') body = <Loading label="Loading the destination profile…" />;
  else if (res.state === 'error' && res.error.status === 404 && res.error.code === 'NOT_FOUND')
    body = (
      <Empty title="Destination profiles are not available on this server">
        <p>This server does not learn destination profiles yet.</p>
      </Empty>
    );
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else {
    const p = res.data;
    body = (
      <>
        <p data-testid="destination-status">
          <span className={`${styles.badge} ${p.status === 'enforcing' ? styles.ok : styles.medium}`}>
            {p.status}
          </span>{' '}
          {p.status === 'learning'
            ? `Learning what this device talks to${p.learning_until ? ` until ${formatDateTime(p.learning_until)}` : ''}; new destinations are added, not alerted on.`
            : 'Enforcing: a destination outside this profile raises an alert.'}
        </p>
        <StatusMessage message={message} />
        {p.entries.length === 0 ? (
          <Empty title="No destinations in the profile yet" />
        ) : (
          <DataTable
            rows={p.entries}
            columns={columns}
            caption="Expected destinations"
            hideCaption
            rowKey={(d) => String(d.id)}
          />
        )}
        {canEdit ? (
          <>
            <form
              className={pageStyles.form}
              aria-label="Add an expected destination"
              onSubmit={add}
              style={{ marginTop: '0.75rem' }}
            >
              <Field id="dest-kind" label="Kind">
                <select
                  id="dest-kind"
                  value={kind}
                  onChange={(e) => setKind(e.target.value as DestinationKind)}
                >
                  <Options values={DESTINATION_KINDS} />
                </select>
              </Field>
              <InputField
                id="dest-value"
                label="Destination"
                name="value"
                required
                maxLength={255}
                placeholder={PLACEHOLDER[kind]}
              />
              <button type="submit" className="primary" disabled={busy}>
                Add destination
              </button>
            </form>
            <ConfirmButton
              label="Reset the profile"
              confirmLabel="Yes, forget and learn again"
              ariaLabel="Reset the destination profile and learn again"
              danger
              onConfirm={() =>
                run(async () => {
                  await client.post(`${base}/reset`);
                  return 'Profile reset: learned entries forgotten (those added by hand stay); learning again.';
                })
              }
            />
          </>
        ) : null}
      </>
    );
  }
  return (
    <Panel id="destinations-title" title="Destination profile">
      {body}
    </Panel>
  );
}
