import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Source } from '../../api/types';
import { FakeXhr, fakeXhrFactory, jobPolls, json, loggedInClient, type Call } from '../../test/fake-api';
import { renderAt } from '../../test/render';
import Sources from './Sources';

afterEach(cleanup);
beforeEach(() => {
  FakeXhr.sent = [];
});

const XSS = '<img src=x onerror=alert(1)>';

const source = (id: string, over: Partial<Source> = {}): Source => ({
  id,
  kind: 'netflow',
  name: 'core-switch',
  config: { port: 2055 },
  status: 'running',
  last_error: null,
  stats: { packets: 1200, flows: 30 },
  created_at: '2026-11-20T10:00:00.000Z',
  updated_at: '2026-11-20T10:00:00.000Z',
  ...over,
});

const LIST = {
  items: [
    source('aaaaaaaa-0000-4000-8000-000000000001'),
    source('aaaaaaaa-0000-4000-8000-000000000002', {
      kind: 'live',
      name: 'lab-span',
      config: { interface: 'eth1' },
      status: 'error',
      last_error: `tcpdump: ${XSS}`,
    }),
  ],
  next_cursor: null,
};

describe('Sources page', () => {
  it('uploads a capture with upload progress, then follows the ingest job to its summary', async () => {
    const ingestJob = jobPolls(
      { id: '42', queue: 'ingest', name: 'upload' },
      { progress: 60 },
      { result: { file: 'hue.pcap', packets: 1500, flows: 80, new_devices: 3, error: null } },
    );
    const { client, calls } = await loggedInClient(
      'analyst',
      (c: Call) => {
        if (c.method === 'GET' && c.path.startsWith('/sources?')) return json(200, LIST);
        if (c.method === 'GET' && c.path === '/jobs/ingest/42') return ingestJob();
        return undefined;
      },
      { createXhr: fakeXhrFactory },
    );
    renderAt(client, '/sources', '/sources', <Sources />);
    await screen.findByText(`tcpdump: ${XSS}`);
    expect(document.querySelector('img')).toBeNull();

    const file = new File([new Uint8Array(1000)], 'hue.pcap', { type: 'application/vnd.tcpdump.pcap' });
    fireEvent.change(screen.getByLabelText(/Capture file/), { target: { files: [file] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(FakeXhr.sent).toHaveLength(1));
    const xhr = FakeXhr.sent[0]!;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/v1/sources/upload?name=hue.pcap');
    expect(xhr.headers.authorization).toBe('Bearer access-1');
    expect(xhr.headers['content-type']).toBe('application/octet-stream');
    expect(xhr.body).toBe(file);

    act(() => xhr.progress(250, 1000));
    const uploading = screen.getByRole('progressbar', { name: 'Uploading hue.pcap' });
    expect(uploading.getAttribute('aria-valuenow')).toBe('25');
    act(() => xhr.progress(1000, 1000));
    expect(uploading.getAttribute('aria-valuenow')).toBe('100');
    act(() =>
      xhr.respond(202, { job_id: '42', queue: 'ingest', name: 'hue.pcap', bytes: 1000, format: 'pcap' }),
    );

    const processing = await screen.findByRole('progressbar', { name: 'Processing hue.pcap' });
    await waitFor(() => expect(processing.getAttribute('aria-valuenow')).toBe('60'));
    await screen.findByText('Ingested hue.pcap: 1,500 packets, 80 flows, 3 new devices.', undefined, {
      timeout: 4_000,
    });
    expect(screen.getByTestId('upload-result').getAttribute('data-status')).toBe('completed');
    // The list is reloaded once the job is done.
    await waitFor(() => expect(calls.filter((c) => c.path.startsWith('/sources?')).length).toBe(2));
  });

  it('explains a refused upload', async () => {
    const { client } = await loggedInClient(
      'analyst',
      (c) => (c.path.startsWith('/sources?') ? json(200, { items: [], next_cursor: null }) : undefined),
      { createXhr: fakeXhrFactory },
    );
    renderAt(client, '/sources', '/sources', <Sources />);
    await screen.findByText('No sources yet');
    const file = new File(['not a capture'], 'notes.txt');
    fireEvent.change(screen.getByLabelText(/Capture file/), { target: { files: [file] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(FakeXhr.sent).toHaveLength(1));
    act(() =>
      FakeXhr.sent[0]!.respond(422, {
        error: { code: 'INVALID_CAPTURE', message: 'The file is not a capture.' },
      }),
    );
    await screen.findByText(/notes.txt: Not a capture IoTSec can read/);
  });

  it('creates and deletes sources for an analyst; the kind filter lives in the URL', async () => {
    const { client, calls } = await loggedInClient('analyst', (c) => {
      if (c.method === 'GET' && c.path.startsWith('/sources?')) return json(200, LIST);
      if (c.method === 'POST' && c.path === '/sources')
        return json(201, source('aaaaaaaa-0000-4000-8000-000000000003', { kind: 'watch', name: 'pcaps' }));
      if (c.method === 'DELETE') return json(204);
      return undefined;
    });
    renderAt(client, '/sources', '/sources', <Sources />);
    const form = await screen.findByRole('form', { name: 'Add a source' });
    fireEvent.change(within(form).getByLabelText('Kind'), { target: { value: 'watch' } });
    fireEvent.change(within(form).getByLabelText('Name'), { target: { value: 'pcaps' } });
    fireEvent.change(within(form).getByLabelText('Directory on the collector'), {
      target: { value: '/captures' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Add source' }));
    await screen.findByText('Source pcaps added; a collector picks it up.');
    expect(calls.find((c) => c.method === 'POST' && c.path === '/sources')?.body).toEqual({
      kind: 'watch',
      name: 'pcaps',
      config: { directory: '/captures' },
    });

    fireEvent.click(screen.getByRole('button', { name: 'Delete source lab-span' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, delete' }));
    await screen.findByText('Source lab-span deleted (its flows stay).');
    expect(
      calls.some((c) => c.method === 'DELETE' && c.path === '/sources/aaaaaaaa-0000-4000-8000-000000000002'),
    ).toBe(true);

    fireEvent.change(screen.getByLabelText('Kind', { selector: '#sources-kind' }), {
      target: { value: 'live' },
    });
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/sources?kind=live'));
    await waitFor(() => expect(calls.map((c) => c.path)).toContain('/sources?kind=live&limit=200'));
  });

  it('shows a viewer the list only: no upload, no create, no delete', async () => {
    const { client } = await loggedInClient('viewer', (c) =>
      c.path.startsWith('/sources?') ? json(200, LIST) : undefined,
    );
    renderAt(client, '/sources', '/sources', <Sources />);
    await screen.findByText('lab-span');
    expect(screen.queryByRole('form', { name: 'Upload a capture' })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Add a source' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
    expect(screen.getAllByTestId('source-status').map((s) => s.textContent)).toEqual(['running', 'error']);
  });
});
