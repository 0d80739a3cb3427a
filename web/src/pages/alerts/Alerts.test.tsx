import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../api/client';
import type { Alert } from '../../api/types';
import { AuthProvider } from '../../auth';
import { json, loggedInClient, type Call } from '../../test/fake-api';
import Alerts from './Alerts';

afterEach(cleanup);

const alert = (id: number, title: string): Alert => ({
  id,
  device_id: 3,
  kind: 'port_scan',
  severity: 'high',
  status: 'new',
  title,
  description: null,
  peer: '10.0.0.9',
  evidence: {},
  dedup_key: `k${id}`,
  count: 1,
  first_seen: '2026-11-20T10:00:00.000Z',
  last_seen: '2026-11-20T10:00:00.000Z',
  model_version: null,
  source_id: null,
  created_at: '2026-11-20T10:00:00.000Z',
  updated_at: '2026-11-20T10:00:00.000Z',
});

async function renderAs(role: Role, handler: (c: Call) => { status: number; body?: unknown } | undefined) {
  const { client, calls } = await loggedInClient(role, handler);
  render(
    <MemoryRouter
      initialEntries={['/alerts?severity=high']}
      future={{ v7_startTransition: true, v7_relativeSplatPath: true }}
    >
      <AuthProvider client={client}>
        <Alerts />
      </AuthProvider>
    </MemoryRouter>,
  );
  return calls;
}

const XSS = '<img src=x onerror=alert(1)>';
const list = { items: [alert(1, XSS), alert(2, 'Telnet brute force')], next_cursor: null };

describe('Alerts page', () => {
  it('passes the URL filters to the API and shows titles as text; a viewer gets no selection or actions', async () => {
    const calls = await renderAs('viewer', (c) =>
      c.path.startsWith('/alerts?') ? json(200, list) : undefined,
    );
    await screen.findByText(XSS);
    expect(document.querySelector('main img, img')).toBeNull();
    expect(calls.some((c) => c.path === '/alerts?severity=high&limit=50')).toBe(true);
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
    expect(screen.queryByRole('button', { name: 'Acknowledge' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Resolve' })).toBeNull();
  });

  it('lets an analyst select alerts and change them in bulk', async () => {
    const calls = await renderAs('analyst', (c) => {
      if (c.method === 'GET' && c.path.startsWith('/alerts?')) return json(200, list);
      if (c.method === 'POST' && c.path === '/alerts/bulk')
        return json(200, {
          items: [{ ...alert(2, 'Telnet brute force'), status: 'resolved' }],
          next_cursor: null,
        });
      return undefined;
    });
    const box = await screen.findByRole('checkbox', { name: 'Select alert 2: Telnet brute force' });
    const resolve = screen.getByRole('button', { name: 'Resolve' });
    expect((resolve as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(box);
    fireEvent.click(resolve);
    await screen.findByText('Resolve: 1 alert.');
    const post = calls.find((c) => c.path === '/alerts/bulk');
    expect(post?.body).toEqual({ ids: [2], status: 'resolved' });
    await waitFor(() => expect(calls.filter((c) => c.path.startsWith('/alerts?')).length).toBe(2));
  });
});
