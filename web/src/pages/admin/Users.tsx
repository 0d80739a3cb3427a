import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { asApiError, type Page } from '../../api/client';
import { USER_ROLES, type User, type UserRole } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import type { Column } from '../../components/DataTable';
import { Field, FormError, InputField, Options } from '../../components/Form';
import { pageStyles } from '../../components/Page';
import { PagedTable } from '../../components/PagedTable';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useGet } from '../../hooks/useGet';

function CreateUserForm({ onCreated }: { onCreated(u: User): void }) {
  const client = useApi();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<UserRole>('viewer');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const u = await client.post<User>('/users', { username, password, role });
      setUsername('');
      setPassword('');
      onCreated(u);
    } catch (err) {
      setError(asApiError(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className={pageStyles.form} onSubmit={submit} aria-labelledby="create-user-title">
      <h2 id="create-user-title" className="visually-hidden">
        Create a user
      </h2>
      <InputField
        id="new-username"
        label="Username"
        required
        maxLength={64}
        autoComplete="off"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
      />
      <InputField
        id="new-password"
        label="Password (12+ characters)"
        type="password"
        required
        minLength={12}
        maxLength={1024}
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <Field id="new-role" label="Role">
        <select id="new-role" value={role} onChange={(e) => setRole(e.target.value as UserRole)}>
          <Options values={USER_ROLES} text={String} />
        </select>
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        Create user
      </button>
      <FormError error={error} />
    </form>
  );
}

export default function Users() {
  const client = useApi();
  const { user: me } = useAuth();
  const isAdmin = hasRole(me, 'admin');
  const [params, setParams] = useSearchParams();
  const cursor = params.get('cursor') ?? '';
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const res = useGet<Page<User>>('/users', { limit: 100, cursor });

  const change = async (u: User, patch: Partial<Pick<User, 'role' | 'disabled'>>, done: string) => {
    try {
      await client.patch<User>(`/users/${encodeURIComponent(u.id)}`, patch);
      setMessage({ text: done, error: false });
      res.reload();
    } catch (err) {
      setMessage({ text: asApiError(err).message, error: true });
    }
  };

  const columns: Column<User>[] = [
    { key: 'username', header: 'Username' },
    {
      key: 'role',
      header: 'Role',
      render: (u) =>
        isAdmin && u.id !== me?.id ? (
          <select
            aria-label={`Role of ${u.username}`}
            value={u.role}
            onChange={(e) =>
              void change(u, { role: e.target.value as UserRole }, `${u.username} is now ${e.target.value}.`)
            }
          >
            <Options values={USER_ROLES} text={String} />
          </select>
        ) : (
          `${u.role}${u.id === me?.id ? ' (you)' : ''}`
        ),
    },
    {
      key: 'disabled',
      header: 'Status',
      render: (u) => (
        <span className={`${pageStyles.badge} ${u.disabled ? pageStyles.bad : pageStyles.ok}`}>
          {u.disabled ? 'disabled' : 'active'}
        </span>
      ),
    },
    { key: 'created_at', header: 'Created', render: (u) => formatDateTime(u.created_at) },
    { key: 'last_login_at', header: 'Last login', render: (u) => formatDateTime(u.last_login_at) },
  ];
  if (isAdmin)
    columns.push({
      key: 'actions',
      header: 'Actions',
      // No actions on your own account here: the server refuses to disable or demote the last admin anyway.
      render: (u) =>
        u.id === me?.id ? null : u.disabled ? (
          <button
            type="button"
            aria-label={`Enable ${u.username}`}
            onClick={() => void change(u, { disabled: false }, `${u.username} is enabled.`)}
          >
            Enable
          </button>
        ) : (
          <ConfirmButton
            label="Disable"
            ariaLabel={`Disable ${u.username}`}
            danger
            onConfirm={() =>
              change(u, { disabled: true }, `${u.username} is disabled; their sessions ended.`)
            }
          />
        ),
    });

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {isAdmin ? (
        <CreateUserForm
          onCreated={(u) => {
            setMessage({ text: `Created ${u.username} (${u.role}).`, error: false });
            res.reload();
          }}
        />
      ) : null}
      <p role="status" aria-live="polite" className={message?.error ? pageStyles.bad : undefined}>
        {message?.text}
      </p>
      {res.state === 'loading' ? (
        <Loading label="Loading users…" />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={res.reload} />
      ) : res.data.items.length === 0 ? (
        <Empty title="No users" />
      ) : (
        <PagedTable
          rows={res.data.items}
          columns={columns}
          caption="Users"
          rowKey={(u) => u.id}
          cursor={cursor}
          nextCursor={res.data.next_cursor}
          onCursor={(c) => setParams(c ? { cursor: c } : {})}
        />
      )}
    </section>
  );
}
