import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../api/client';
import type { AffectedDevice, Vulnerability, VulnerabilityDetail as Detail } from '../../api/types';
import { json, loggedInClient, type Call } from '../../test/fake-api';
import { renderAt } from '../../test/render';
import Vulnerabilities from './Vulnerabilities';
import VulnerabilityDetail from './VulnerabilityDetail';

afterEach(cleanup);

const XSS = '<img src=x onerror=alert(1)>';

const vuln = (id: string, over: Partial<Vulnerability> = {}): Vulnerability => ({
  cve_id: id,
  description: `test ${id}`,
  severity: 'CRITICAL',
  cvss_score: 9.8,
  cvss_v3_score: 9.8,
  cvss_v3_vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  cvss_v2_score: null,
  cvss_v2_vector: null,
  published: '2021-09-22T00:00:00.000Z',
  modified: null,
  kev: false,
  kev_date_added: null,
  kev_due_date: null,
  kev_ransomware: null,
  epss: 0.9731,
  epss_percentile: 0.9991,
  affected_devices: 2,
  ...over,
});

const affected = (deviceId: number, hostname: string | null): AffectedDevice => ({
  device_id: deviceId,
  mac: `00:11:22:00:00:0${deviceId}`,
  hostname,
  vendor: 'Hikvision',
  model: null,
  matched_cpe: 'cpe:2.3:o:hikvision:firmware:5.4:*:*:*:*:*:*:*',
  possible: false,
  status: 'open',
  status_note: null,
  status_changed_by: null,
  status_changed_at: null,
  still_matches: true,
  explanation: null,
  first_seen: '2026-11-20T10:00:00.000Z',
  updated_at: '2026-11-20T10:00:00.000Z',
});

describe('Vulnerabilities list', () => {
  it('passes the URL filters and sort to the API, shows KEV, EPSS and device counts; descriptions as text', async () => {
    const { client, calls } = await loggedInClient('viewer', (c) =>
      c.path.startsWith('/vulnerabilities?')
        ? json(200, {
            items: [
              vuln('CVE-2021-36260', { kev: true, kev_ransomware: true }),
              vuln('CVE-2017-7921', { description: XSS, kev: false, affected_devices: 0 }),
            ],
            next_cursor: 'n1',
          })
        : undefined,
    );
    renderAt(
      client,
      '/vulnerabilities?severity=critical&kev=true&q=hik',
      '/vulnerabilities',
      <Vulnerabilities />,
    );
    await screen.findByText(XSS);
    expect(document.querySelector('img')).toBeNull();
    expect(calls.map((c) => c.path)).toContain(
      '/vulnerabilities?severity=critical&kev=true&q=hik&sort=cvss&order=desc&limit=50',
    );
    const rows = screen.getAllByRole('row');
    expect(within(rows[1]!).getByTestId('kev-badge').textContent).toContain('ransomware');
    expect(within(rows[1]!).getByText('97.3%')).toBeTruthy();
    expect(within(rows[1]!).getByRole('link', { name: '2' }).getAttribute('href')).toBe(
      '/vulnerabilities/CVE-2021-36260#affected-title',
    );
    expect(within(rows[2]!).queryByTestId('kev-badge')).toBeNull();
    expect((screen.getByLabelText('Known exploited (KEV) only') as HTMLInputElement).checked).toBe(true);

    // Filters and sorting go into the URL (a new sort drops the cursor).
    fireEvent.click(screen.getByLabelText('Known exploited (KEV) only'));
    await waitFor(() =>
      expect(screen.getByTestId('location').textContent).toBe('/vulnerabilities?severity=critical&q=hik'),
    );
    fireEvent.click(screen.getByRole('button', { name: /EPSS/ }));
    await waitFor(() =>
      expect(calls.map((c) => c.path)).toContain(
        '/vulnerabilities?severity=critical&q=hik&sort=epss&order=desc&limit=50',
      ),
    );
  });

  it('shows an empty state that says how to import data', async () => {
    const { client } = await loggedInClient('viewer', () => json(200, { items: [], next_cursor: null }));
    renderAt(client, '/vulnerabilities', '/vulnerabilities', <Vulnerabilities />);
    await screen.findByText('No vulnerabilities imported yet');
  });
});

describe('Vulnerability detail', () => {
  const detail: Detail = {
    ...vuln('CVE-2021-36260', { kev: true, kev_date_added: '2022-01-10', kev_due_date: '2022-01-24' }),
    configurations: [],
    references: ['https://nvd.nist.gov/vuln/detail/CVE-2021-36260', 'javascript:alert(1)'],
    affected: [affected(1, 'cam-lobby'), affected(2, XSS)],
  };

  async function renderAs(role: Role, handler?: (c: Call) => { status: number; body?: unknown } | undefined) {
    const r = await loggedInClient(role, (c) => {
      if (c.method === 'GET' && c.path === '/vulnerabilities/CVE-2021-36260') return json(200, detail);
      return handler?.(c);
    });
    renderAt(r.client, '/vulnerabilities/CVE-2021-36260', '/vulnerabilities/:cve', <VulnerabilityDetail />);
    await screen.findByRole('heading', { name: 'Affected devices (2)' });
    return r.calls;
  }

  it('lets an analyst change the status of one device; the change shows at once', async () => {
    const calls = await renderAs('analyst', (c) =>
      c.method === 'PATCH' && c.path === '/devices/1/vulnerabilities/CVE-2021-36260'
        ? json(200, {
            ...affected(1, 'cam-lobby'),
            status: 'mitigated',
            status_note: 'firmware 5.5 installed',
            status_changed_by: 'a-analyst',
            status_changed_at: '2026-11-21T10:00:00.000Z',
          })
        : undefined,
    );
    expect(screen.getByText(XSS)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    // A reference with another scheme is text, not a link.
    expect(
      screen.getByRole('link', { name: 'https://nvd.nist.gov/vuln/detail/CVE-2021-36260' }),
    ).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'javascript:alert(1)' })).toBeNull();

    const form = screen.getByRole('form', { name: 'Status of CVE-2021-36260 on cam-lobby' });
    fireEvent.change(within(form).getByLabelText('Status on cam-lobby'), { target: { value: 'mitigated' } });
    fireEvent.change(within(form).getByLabelText('Note for cam-lobby'), {
      target: { value: 'firmware 5.5 installed' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved: cam-lobby: Mitigated.');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      status: 'mitigated',
      note: 'firmware 5.5 installed',
    });
    const statuses = screen.getAllByTestId('vuln-status').map((s) => s.textContent);
    expect(statuses).toEqual(['Mitigated', 'Open']);
    expect(screen.getByText('firmware 5.5 installed')).toBeTruthy();
  });

  it('gives a viewer no status controls', async () => {
    await renderAs('viewer');
    expect(screen.queryAllByRole('combobox')).toHaveLength(0);
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
    expect(screen.getAllByTestId('vuln-status').map((s) => s.textContent)).toEqual(['Open', 'Open']);
  });

  it('shows the error of an unknown CVE', async () => {
    const { client } = await loggedInClient('viewer', () =>
      json(404, { error: { code: 'VULNERABILITY_NOT_FOUND', message: 'No vulnerability CVE-2000-0001.' } }),
    );
    renderAt(client, '/vulnerabilities/CVE-2000-0001', '/vulnerabilities/:cve', <VulnerabilityDetail />);
    await screen.findByText(/No vulnerability CVE-2000-0001/);
    expect(screen.getByRole('alert')).toBeTruthy();
  });
});
