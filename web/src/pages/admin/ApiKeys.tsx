import { useState, type FormEvent } from 'react';
import { asApiError, type Page, type Role } from '../../api/client';
import { KEY_ROLES, type ApiKey, type CreatedApiKey } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable, type Column } from '../../components/DataTable';
import { Field, FormError, InputField, Options } from '../../components/Form';
import { pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useGet } from '../../hooks/useGet';

function NewKey({ created, onDismiss }: { created: CreatedApiKey; onDismiss(): void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className={pageStyles.notice} role="region" aria-labelledby="new-key-title">
      <h3 id="new-key-title">Key “{created.api_key.name}” created</h3>
      <p>Copy it now: it is shown only this once and stored only as a hash.</p>
      <code className={pageStyles.secret} data-testid="new-api-key">
        {created.key}
      </code>
      <div className={pageStyles.actions}>
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(created.key).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? 'Copied' : 'Copy key'}
        </button>
        <button type="button" onClick={onDismiss}>
          I have saved it
        </button>
      </div>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated(k: CreatedApiKey): void }) {
  const client = useApi();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('sensor');
  const [days, setDays] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { name, role };
      if (days.trim() !== '') body.expires_in_days = Number(days);
      onCreated(await client.post<CreatedApiKey>('/api-keys', body));
      setName('');
      setDays('');
    } catch (err) {
      setError(asApiError(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className={pageStyles.form} onSubmit={submit} aria-labelledby="create-key-title">
      <h3 id="create-key-title" className="visually-hidden">
        Create an API key
      </h3>
      <InputField
        id="key-name"
        label="Name"
        required
        maxLength={128}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <Field id="key-role" label="Role">
        <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <Options values={KEY_ROLES} text={String} />
        </select>
      </Field>
      <InputField
        id="key-days"
        label="Expires in days (optional)"
        type="number"
        min={1}
        max={3650}
        inputMode="numeric"
        value={days}
        onChange={(e) => setDays(e.target.value)}
      />
      <button type="submit" className="primary" disabled={busy}>
        Create key
      </button>
      <FormError error={error} />
    </form>
  );
}

export default function ApiKeys() {
  const client = useApi();
  const { user } = useAuth();
  const isAdmin = hasRole(user, 'admin');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const res = useGet<Page<ApiKey>>('/api-keys');

  const columns: Column<ApiKey>[] = [
    { key: 'name', header: 'Name' },
    { key: 'prefix', header: 'Prefix', render: (k) => <code>{k.prefix}</code> },
    { key: 'role', header: 'Role' },
    { key: 'created_at', header: 'Created', render: (k) => formatDateTime(k.created_at) },
    { key: 'expires_at', header: 'Expires', render: (k) => formatDateTime(k.expires_at) },
    { key: 'last_used_at', header: 'Last used', render: (k) => formatDateTime(k.last_used_at) },
    {
      key: 'revoked_at',
      header: 'Status',
      render: (k) => (
        <span className={`${pageStyles.badge} ${k.revoked_at ? pageStyles.bad : pageStyles.ok}`}>
          {k.revoked_at ? 'revoked' : 'active'}
        </span>
      ),
    },
  ];
  if (isAdmin)
    columns.push({
      key: 'actions',
      header: 'Actions',
      render: (k) =>
        k.revoked_at ? null : (
          <ConfirmButton
            label="Revoke"
            ariaLabel={`Revoke key ${k.name}`}
            danger
            onConfirm={async () => {
              try {
                await client.delete(`/api-keys/${encodeURIComponent(k.id)}`);
                setMessage(`Key ${k.name} revoked.`);
                res.reload();
              } catch (err) {
                setMessage(asApiError(err).message);
              }
            }}
          />
        ),
    });

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {isAdmin ? (
        <>
          {created ? <NewKey created={created} onDismiss={() => setCreated(null)} /> : null}
          <CreateKeyForm
            onCreated={(k) => {
              setCreated(k);
              res.reload();
            }}
          />
        </>
      ) : null}
      <p role="status" aria-live="polite">
        {message}
      </p>
      {res.state === 'loading' ? (
        <Loading label="Loading API keys…" />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={res.reload} />
      ) : res.data.items.length === 0 ? (
        <Empty title="No API keys">
          <p>Sensors push data with a key of role sensor.</p>
        </Empty>
      ) : (
        <DataTable
          rows={res.data.items}
          columns={columns}
          caption="API keys"
          hideCaption
          rowKey={(k) => k.id}
        />
      )}
    </section>
  );
}
