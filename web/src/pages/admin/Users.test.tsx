import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../api/client';
import type { User } from '../../api/types';
import { AuthProvider } from '../../auth';
import { json, loggedInClient, type Call } from '../../test/fake-api';
import Users from './Users';

afterEach(cleanup);

const user = (username: string, role: User['role'], disabled = false): User => ({
  id: `00000000-0000-4000-8000-${String(username.length).padStart(12, '0')}${username}`.slice(0, 36),
  username,
  role,
  disabled,
  created_at: '2026-11-20T10:00:00.000Z',
  updated_at: '2026-11-20T10:00:00.000Z',
  last_login_at: null,
});

async function renderAs(role: Role, handler: (c: Call) => { status: number; body?: unknown } | undefined) {
  const { client, calls } = await loggedInClient(role, handler);
  render(
    <MemoryRouter
      initialEntries={['/admin/users']}
      future={{ v7_startTransition: true, v7_relativeSplatPath: true }}
    >
      <AuthProvider client={client}>
        <Users />
      </AuthProvider>
    </MemoryRouter>,
  );
  return calls;
}

const list = { items: [user('admin', 'admin'), user('vera', 'viewer')], next_cursor: null };

describe('Users page: role-aware actions', () => {
  it('gives an admin the create form, role selects and disable buttons', async () => {
    const calls = await renderAs('admin', (c) => {
      if (c.method === 'GET' && c.path.startsWith('/users')) return json(200, list);
      if (c.method === 'PATCH') return json(200, { ...user('vera', 'viewer'), disabled: true });
    });
    await screen.findByText('vera');
    expect(screen.getByRole('button', { name: 'Create user' })).toBeTruthy();
    expect(screen.getByRole('combobox', { name: 'Role of vera' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Disable vera' }));
    const confirm = screen.getByRole('group', { name: 'Confirm: Disable vera' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Yes, disable' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ disabled: true });
  });

  it('shows a viewer no action button at all, and the server refusal as a message', async () => {
    await renderAs('viewer', (c) =>
      c.path.startsWith('/users')
        ? json(403, {
            error: { code: 'FORBIDDEN', message: 'This action needs the admin role; you are viewer.' },
          })
        : undefined,
    );
    expect(await screen.findByRole('alert')).toHaveProperty(
      'textContent',
      expect.stringContaining('This action needs the admin role'),
    );
    expect(screen.queryAllByRole('button')).toEqual([]);
    expect(screen.queryByRole('combobox')).toBeNull();
  });

  it('shows a viewer the list without controls if the server ever lets one read it', async () => {
    await renderAs('viewer', (c) => (c.path.startsWith('/users') ? json(200, list) : undefined));
    await screen.findByText('vera');
    expect(screen.queryAllByRole('button')).toEqual([]);
    expect(screen.queryByRole('combobox')).toBeNull();
  });
});
