import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../api/client';
import type { DestinationProfile as Profile } from '../../api/types';
import { json, loggedInClient, type Call } from '../../test/fake-api';
import { renderAt } from '../../test/render';
import { DestinationProfile } from './DestinationProfile';

afterEach(cleanup);

const XSS = '<img src=x onerror=alert(1)>';

const profile: Profile = {
  device_id: 7,
  status: 'learning',
  learning_until: '2026-11-27T10:00:00.000Z',
  entries: [
    {
      id: 1,
      kind: 'domain',
      value: 'time.example.com',
      source: 'learned',
      count: 40,
      first_seen: '2026-11-20T10:00:00.000Z',
      last_seen: '2026-11-20T11:00:00.000Z',
    },
    {
      id: 2,
      kind: 'domain',
      value: XSS,
      source: 'user',
      count: 0,
      first_seen: null,
      last_seen: null,
    },
  ],
};

async function renderAs(role: Role, handler: (c: Call) => { status: number; body?: unknown } | undefined) {
  const r = await loggedInClient(role, handler);
  renderAt(r.client, '/devices/7', '/devices/:id', <DestinationProfile deviceId={7} />);
  return r.calls;
}

describe('Destination profile', () => {
  it('is an empty state, not an error, on a server without the route', async () => {
    await renderAs('analyst', () => undefined); // the fake answers the API's 404 NOT_FOUND
    await screen.findByText('Destination profiles are not available on this server');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('shows the status and entries as text; a viewer gets no controls', async () => {
    await renderAs('viewer', (c) => (c.path === '/devices/7/destinations' ? json(200, profile) : undefined));
    await screen.findByText('time.example.com');
    expect(screen.getByText(XSS)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByTestId('destination-status').textContent).toMatch(
      /^learning Learning what this device talks to/,
    );
    expect(screen.queryByRole('button')).toBeNull();
    expect(screen.queryByRole('form')).toBeNull();
  });

  it('lets an analyst add, remove and reset entries', async () => {
    const calls = await renderAs('analyst', (c) => {
      if (c.method === 'GET' && c.path === '/devices/7/destinations') return json(200, profile);
      if (c.method === 'POST' && c.path === '/devices/7/destinations') return json(201, { id: 3 });
      if (c.method === 'DELETE' && c.path === '/devices/7/destinations/1') return json(204);
      if (c.method === 'POST' && c.path === '/devices/7/destinations/reset') return json(200, profile);
      return undefined;
    });
    await screen.findByText('time.example.com');
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'endpoint' } });
    fireEvent.change(screen.getByLabelText('Destination'), { target: { value: '203.0.113.7:443' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    await screen.findByText('Added endpoint 203.0.113.7:443.');
    expect(calls.find((c) => c.method === 'POST' && c.path === '/devices/7/destinations')?.body).toEqual({
      kind: 'endpoint',
      value: '203.0.113.7:443',
    });

    fireEvent.click(screen.getByRole('button', { name: 'Remove domain time.example.com from the profile' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, remove' }));
    await screen.findByText('Removed domain time.example.com.');

    fireEvent.click(screen.getByRole('button', { name: 'Reset the destination profile and learn again' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, forget and learn again' }));
    await screen.findByText(
      'Profile reset: learned entries forgotten (those added by hand stay); learning again.',
    );
    await waitFor(() =>
      expect(calls.filter((c) => c.method === 'GET' && c.path === '/devices/7/destinations').length).toBe(4),
    );
  });
});
