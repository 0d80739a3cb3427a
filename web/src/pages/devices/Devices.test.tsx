import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import type { Device } from '../../api/types';
import { AuthProvider } from '../../auth';
import { json, loggedInClient } from '../../test/fake-api';
import Devices from './Devices';

afterEach(cleanup);

const device = (id: number, hostname: string | null): Device => ({
  id,
  mac: '00:11:22:33:44:55',
  mac_randomized: false,
  ip: '10.0.0.5',
  vendor: 'Acme',
  device_type: 'camera',
  type_source: 'rule',
  confidence: 0.9,
  model: null,
  firmware: null,
  os: null,
  hostname,
  cpe23: [],
  tags: [],
  notes: null,
  user_fields: [],
  risk_score: 40,
  first_seen: '2026-11-20T10:00:00.000Z',
  last_seen: '2026-11-20T10:00:00.000Z',
  online: true,
  status: 'online',
});

describe('Devices page', () => {
  it('pages on the server with the filters and sort of the URL; sorting drops the cursor', async () => {
    const { client, calls } = await loggedInClient('viewer', (c) =>
      c.path.startsWith('/devices?')
        ? json(200, { items: [device(1, '<b>cam</b>')], next_cursor: 'abc' })
        : undefined,
    );
    render(
      <MemoryRouter
        initialEntries={['/devices?type=camera&online=true&cursor=xyz']}
        future={{ v7_startTransition: true, v7_relativeSplatPath: true }}
      >
        <AuthProvider client={client}>
          <Devices />
        </AuthProvider>
      </MemoryRouter>,
    );
    await screen.findByText('<b>cam</b>');
    expect(document.querySelector('b')).toBeNull();
    expect(calls.map((c) => c.path)).toContain(
      '/devices?type=camera&online=true&sort=last_seen&order=desc&cursor=xyz&limit=50',
    );
    fireEvent.click(screen.getByRole('button', { name: /Risk/ }));
    await waitFor(() =>
      expect(calls.map((c) => c.path)).toContain(
        '/devices?type=camera&online=true&sort=risk_score&order=desc&limit=50',
      ),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() =>
      expect(calls.map((c) => c.path)).toContain(
        '/devices?type=camera&online=true&sort=risk_score&order=desc&cursor=abc&limit=50',
      ),
    );
  });
});
