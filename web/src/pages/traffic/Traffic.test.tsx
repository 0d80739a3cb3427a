import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Flow } from '../../api/types';
import { json, loggedInClient, type Call } from '../../test/fake-api';
import { renderAt } from '../../test/render';
import { fillBuckets, resolveQuery, tickFlowsIn } from './query';
import Traffic from './Traffic';

vi.mock('./TrafficSeriesChart', () => ({
  default: ({ label, items }: { label: string; items: unknown[] }) => (
    <div role="img" aria-label={label} data-testid="traffic-chart" data-points={items.length} />
  ),
}));

afterEach(cleanup);

const XSS = '<img src=x onerror=alert(1)>';

const flow = (id: number, over: Partial<Flow> = {}): Flow => ({
  id,
  ts_start: '2026-11-20T10:00:00.000Z',
  ts_end: '2026-11-20T10:00:05.000Z',
  device_id: 3,
  community_id: '1:abc',
  src_ip: '10.0.0.5',
  src_port: 51000 + id,
  dst_ip: '203.0.113.7',
  dst_port: 443,
  proto: 6,
  app_proto: 'tls',
  bytes_out: 1200,
  bytes_in: 5400,
  packets_out: 10,
  packets_in: 12,
  conn_state: 'SF',
  sni: null,
  http_host: null,
  dns_query: null,
  ...over,
});

const query = (c: Call) => new URLSearchParams(c.path.split('?')[1] ?? '');

describe('traffic explorer', () => {
  it('sends the URL filters and range to the three queries; shows flows as text, the chart and top talkers', async () => {
    const { client, calls } = await loggedInClient('viewer', (c) => {
      if (c.path.startsWith('/network-traffic/timeseries?'))
        return json(200, {
          bucket_seconds: 720,
          items: [
            { t: '2026-11-20T09:36:00Z', bytes: 5000, packets: 20, flows: 2 },
            { t: '2026-11-20T10:00:00Z', bytes: 1000, packets: 5, flows: 1 },
          ],
        });
      if (c.path.startsWith('/network-traffic/top-talkers?'))
        return json(200, {
          items: [{ device_id: 3, ip: '10.0.0.5', bytes: 6000, packets: 25, flows: 3 }],
          next_cursor: null,
        });
      if (c.path.startsWith('/network-traffic?')) {
        if (query(c).get('cursor') === 'c1') return json(200, { items: [flow(3)], next_cursor: null });
        return json(200, { items: [flow(1, { sni: XSS }), flow(2)], next_cursor: 'c1' });
      }
      return undefined;
    });
    renderAt(client, '/traffic?range=24h&port=443&app=tls&proto=6', '/traffic', <Traffic />);
    await screen.findByText(XSS);
    expect(document.querySelector('main img, img')).toBeNull();

    const flowCall = calls.find((c) => c.path.startsWith('/network-traffic?'));
    const q = query(flowCall!);
    expect(q.get('port')).toBe('443');
    expect(q.get('app')).toBe('tls');
    expect(q.get('proto')).toBe('6');
    expect(q.get('limit')).toBe('50');
    const span = Date.parse(q.get('to')!) - Date.parse(q.get('from')!);
    expect(span).toBe(86_400_000);
    // All three panels query the same range and filters.
    for (const p of ['/network-traffic/timeseries?', '/network-traffic/top-talkers?']) {
      const c = calls.find((x) => x.path.startsWith(p));
      expect(query(c!).get('from')).toBe(q.get('from'));
      expect(query(c!).get('port')).toBe('443');
    }

    const chart = await screen.findByTestId('traffic-chart');
    expect(chart.getAttribute('aria-label')).toMatch(/6\.0 KB in 3 flows/);
    expect(Number(chart.getAttribute('data-points'))).toBeGreaterThan(2); // empty buckets filled in
    expect(screen.getByRole('link', { name: 'Show flows of 10.0.0.5' }).getAttribute('href')).toContain(
      'ip=10.0.0.5',
    );
    expect(screen.getByRole('button', { name: 'Last 24 h' }).getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByLabelText('Port') as HTMLInputElement).value).toBe('443');
    expect((screen.getByLabelText('Protocol') as HTMLSelectElement).value).toBe('6');

    // Cursor paging appends.
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByText('Showing 3 flows');
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(
      calls.filter((c) => c.path.startsWith('/network-traffic?') && query(c).get('cursor') === 'c1'),
    ).toHaveLength(1);
  });

  it('puts filters and presets into the URL', async () => {
    const { client, calls } = await loggedInClient('viewer', (c) =>
      c.path.startsWith('/network-traffic/timeseries?')
        ? json(200, { bucket_seconds: 30, items: [] })
        : c.path.startsWith('/network-traffic')
          ? json(200, { items: [], next_cursor: null })
          : undefined,
    );
    renderAt(client, '/traffic', '/traffic', <Traffic />);
    await screen.findByText('No flows in this range');
    fireEvent.change(screen.getByLabelText('IP address'), { target: { value: '10.0.0.9' } });
    fireEvent.change(screen.getByLabelText('Application'), { target: { value: 'DNS' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() =>
      expect(screen.getByTestId('location').textContent).toBe('/traffic?ip=10.0.0.9&app=dns'),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Last 7 d' }));
    await waitFor(() =>
      expect(screen.getByTestId('location').textContent).toBe('/traffic?ip=10.0.0.9&app=dns&range=7d'),
    );
    await waitFor(() =>
      expect(
        calls.some(
          (c) =>
            c.path.startsWith('/network-traffic?') &&
            query(c).get('ip') === '10.0.0.9' &&
            query(c).get('app') === 'dns',
        ),
      ).toBe(true),
    );
  });

  it('when the range is empty, finds the newest flow and jumps to a custom range around it', async () => {
    const { client } = await loggedInClient('viewer', (c) => {
      if (c.path.startsWith('/network-traffic/timeseries?'))
        return json(200, { bucket_seconds: 30, items: [] });
      if (c.path.startsWith('/network-traffic/top-talkers?'))
        return json(200, { items: [], next_cursor: null });
      if (c.path.startsWith('/network-traffic?'))
        return query(c).get('from')?.startsWith('1970')
          ? json(200, { items: [flow(9, { ts_start: '2016-09-07T14:47:00.000Z' })], next_cursor: null })
          : json(200, { items: [], next_cursor: null });
      return undefined;
    });
    renderAt(client, '/traffic?range=15m', '/traffic', <Traffic />);
    fireEvent.click(await screen.findByRole('button', { name: 'Show the 15 minutes up to it' }));
    await waitFor(() =>
      expect(screen.getByTestId('location').textContent).toBe(
        `/traffic?from=${encodeURIComponent('2016-09-07T14:33:00.000Z')}&to=${encodeURIComponent('2016-09-07T14:48:00.000Z')}`,
      ),
    );
    expect(screen.getByRole('button', { name: 'Custom' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByLabelText('From')).toBeTruthy();
  });

  it('shows the API error of an invalid filter', async () => {
    const { client } = await loggedInClient('viewer', () =>
      json(400, { error: { code: 'VALIDATION_FAILED', message: 'ip: Invalid IPv4 address' } }),
    );
    renderAt(client, '/traffic?ip=999.1.1.1', '/traffic', <Traffic />);
    await waitFor(() => expect(screen.getAllByRole('alert').length).toBe(3));
    expect(screen.getAllByText(/Invalid IPv4 address/).length).toBe(3);
  });
});

describe('traffic query helpers', () => {
  it('resolves presets against now, custom ranges as given, and keeps only known filters', () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    expect(resolveQuery('range=15m&ip=10.0.0.1&bogus=1', now)).toEqual({
      preset: '15m',
      from: '2026-11-20T11:45:00.000Z',
      to: '2026-11-20T12:00:00.000Z',
      filters: { ip: '10.0.0.1' },
    });
    expect(resolveQuery('', now).preset).toBe('1h');
    const custom = resolveQuery('from=2016-09-07T14:00:00Z', now);
    expect(custom).toMatchObject({
      preset: null,
      from: '2016-09-07T14:00:00.000Z',
      to: '2026-11-20T12:00:00.000Z',
    });
  });

  it('fills the empty buckets between from and to on the server grid', () => {
    const filled = fillBuckets(
      [{ t: '2026-11-20T10:01:00Z', v: 1 }],
      60,
      '2026-11-20T10:00:30Z',
      '2026-11-20T10:04:00Z',
      (t) => ({ t, v: 0 }),
    );
    expect(filled.map((b) => [b.t.slice(11, 19), b.v])).toEqual([
      ['10:00:00', 0],
      ['10:01:00', 1],
      ['10:02:00', 0],
      ['10:03:00', 0],
    ]);
  });

  it("counts a live tick's flows only when their flow time overlaps the range (a preset runs on to now)", () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    const tick = (first: string, last: string) => ({
      source_id: 's',
      flows: 7,
      packets: 1,
      bytes: 1,
      first_seen: first,
      last_seen: last,
    });
    const lastHour = resolveQuery('range=1h', now);
    expect(tickFlowsIn(tick('2026-11-20T12:00:01Z', '2026-11-20T12:00:02Z'), lastHour)).toBe(7);
    expect(tickFlowsIn(tick('2026-11-20T10:00:00Z', '2026-11-20T10:30:00Z'), lastHour)).toBe(0);
    const old = resolveQuery('from=2016-09-07T14:00:00Z&to=2016-09-07T14:15:00Z', now);
    expect(tickFlowsIn(tick('2016-09-07T13:59:00Z', '2016-09-07T14:01:00Z'), old)).toBe(7);
    expect(tickFlowsIn(tick('2026-11-20T12:00:01Z', '2026-11-20T12:00:02Z'), old)).toBe(0);
    expect(tickFlowsIn({ flows: 'x' }, lastHour)).toBe(0);
    expect(tickFlowsIn(null, lastHour)).toBe(0);
  });
});
