import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { DataTable, inferColumns } from './DataTable';

afterEach(cleanup);

const XSS = '<img src=x onerror=alert(1)>';

describe('DataTable', () => {
  it('renders one header per column and one row per item', () => {
    const rows = [
      { id: 1, mac: 'aa:bb:cc:00:00:01', device_type: 'camera', bytes: 1200 },
      { id: 2, mac: 'aa:bb:cc:00:00:02', device_type: 'plug', bytes: 30, tags: ['iot', 'lab'] },
    ];
    render(
      <DataTable rows={rows} columns={inferColumns(rows)} caption="Devices" rowKey={(r) => String(r.id)} />,
    );
    const table = screen.getByRole('table', { name: 'Devices' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['ID', 'MAC', 'Device type', 'Bytes', 'Tags']);
    const cells = within(table).getAllByRole('row')[2]?.querySelectorAll('td');
    expect([...(cells ?? [])].map((c) => c.textContent)).toEqual([
      '2',
      'aa:bb:cc:00:00:02',
      'plug',
      '30',
      'iot, lab',
    ]);
  });

  it('renders values from the network as text, never as HTML', () => {
    const rows = [{ id: 1, name: XSS, details: { note: XSS } }];
    const { container } = render(
      <DataTable rows={rows} columns={inferColumns(rows)} caption="Evil" rowKey={(r) => String(r.id)} />,
    );
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByText(XSS)).toBeTruthy();
    expect(container.textContent).toContain('{"note":"<img src=x onerror=alert(1)>"}');
  });

  it('uses custom renderers and marks numeric columns', () => {
    const rows = [{ id: 'a', n: 5 }];
    render(
      <DataTable
        rows={rows}
        caption="Custom"
        rowKey={(r) => r.id}
        columns={[
          { key: 'id', header: 'Name', render: (r) => <strong>{r.id.toUpperCase()}</strong> },
          { key: 'n', header: 'Count', numeric: true },
        ]}
      />,
    );
    expect(screen.getByText('A').tagName).toBe('STRONG');
    expect(screen.getByRole('columnheader', { name: 'Count' }).className).toMatch(/numeric/);
  });
});
