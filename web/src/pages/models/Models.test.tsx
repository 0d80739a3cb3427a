import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Role } from '../../api/client';
import type { MlModel, MlModelDetail, MlModelListItem, ModelWindow } from '../../api/types';
import { jobPolls, json, loggedInClient, type Call } from '../../test/fake-api';
import { renderAt } from '../../test/render';
import { confusionOf, perClassOf } from './metrics';
import ModelDetail from './ModelDetail';
import Models from './Models';

vi.mock('./DriftChart', () => ({
  default: ({ label }: { label: string }) => <div role="img" aria-label={label} data-testid="drift-chart" />,
}));

afterEach(cleanup);
beforeEach(() => sessionStorage.clear());

const ID1 = '11111111-1111-4111-8111-111111111111';
const ID2 = '22222222-2222-4222-8222-222222222222';
const ID3 = '33333333-3333-4333-8333-333333333333';

const model = (id: string, over: Partial<MlModel>): MlModel => ({
  id,
  task: 'device_type',
  algorithm: 'random_forest',
  version: 1,
  status: 'candidate',
  traffic_share: 0,
  shadow: false,
  feature_set: { name: 'device_type', version: 3 },
  checksum: 'abcdef0123456789abcdef',
  created_at: '2026-11-20T10:00:00.000Z',
  promoted_at: null,
  ...over,
});

const deviceTypeMetrics = {
  accuracy: 0.9485,
  macro_f1: 0.9312,
  folds: 5,
  per_class: [
    { label: 'camera', precision: 0.95, recall: 0.9, f1: 0.924, support: 20 },
    { label: 'plug', precision: 0.9, recall: 0.95, f1: 0.924, support: 20 },
  ],
  confusion: {
    labels: ['camera', 'plug'],
    counts: [
      [18, 2],
      [1, 19],
    ],
  },
  top_confusions: ['camera → plug: 2', 'plug → camera: 1'],
};

const detail = (m: MlModel, metrics: Record<string, unknown>): MlModelDetail => ({
  ...m,
  params: { n_estimators: 200 },
  metrics,
  training_summary: { rows: 400 },
  artifact_path: `models/${m.task}/${m.id}.json`,
});

const models = [
  model(ID1, { version: 2, status: 'production', traffic_share: 0.7 }),
  model(ID2, { version: 1, status: 'candidate', traffic_share: 0.3 }),
  model(ID3, { task: 'threat', algorithm: 'gradient_boosting', version: 1, status: 'candidate' }),
];
const details: Record<string, MlModelDetail> = {
  [ID1]: detail(models[0]!, deviceTypeMetrics),
  [ID2]: detail(models[1]!, { accuracy: 0.91, macro_f1: 0.88 }),
  [ID3]: detail(models[2]!, {
    evaluation: 'leave-one-scenario-out',
    accuracy: 0.8,
    macro_f1: 0.5,
    per_class: {
      benign: { precision: 0.9, recall: 0.8, f1: 0.85, support: 100 },
      scan: { precision: 0.5, recall: 0.6, f1: 0.55, support: 10 },
    },
    confusion: { labels: ['benign', 'scan'], counts: [80, 20, 4, 6] },
  }),
};

/** The list's rows carry the headline evaluation of each version (no request per version). */
const listItems: MlModelListItem[] = models.map((m) => {
  const metrics = details[m.id]?.metrics ?? {};
  return {
    ...m,
    accuracy: typeof metrics['accuracy'] === 'number' ? metrics['accuracy'] : null,
    macro_f1: typeof metrics['macro_f1'] === 'number' ? metrics['macro_f1'] : null,
  };
});

const windows: ModelWindow[] = [
  {
    id: 7,
    model_id: ID3,
    window_start: '2026-11-20T10:00:00.000Z',
    window_end: '2026-11-20T11:00:00.000Z',
    predictions: 1200,
    latency_p50_ms: 0.4,
    latency_p99_ms: 2.1,
    drift: { bytes_out: 0.31, flows: 0.12, dns_queries: 0.02 },
    accuracy: null,
    labelled: 0,
  },
];

function handler(c: Call) {
  if (c.method === 'GET' && c.path.startsWith('/models?'))
    return json(200, { items: listItems, next_cursor: null });
  const m = /^\/models\/([0-9a-f-]{36})$/.exec(c.path);
  if (c.method === 'GET' && m) return details[m[1]!] ? json(200, details[m[1]!]) : undefined;
  if (c.method === 'GET' && c.path.startsWith(`/models/${ID3}/metrics`))
    return json(200, { items: windows, next_cursor: null });
  if (c.method === 'GET' && /\/models\/.*\/metrics/.test(c.path))
    return json(200, { items: [], next_cursor: null });
  return undefined;
}

describe('Models list', () => {
  it('groups versions by task with status, share and metrics; a viewer gets no actions and no training form', async () => {
    const { client, calls } = await loggedInClient('viewer', handler);
    renderAt(client, '/models', '/models', <Models />);
    const deviceType = await screen.findByRole('region', { name: 'Device type' });
    await waitFor(() => expect(within(deviceType).getByText('0.949')).toBeTruthy());
    expect(within(deviceType).getByText('production: v2 (random_forest) · 2 versions')).toBeTruthy();
    expect(within(deviceType).getByText('0.931')).toBeTruthy();
    expect(within(deviceType).getByText('70%')).toBeTruthy();
    const threat = screen.getByRole('region', { name: 'Threat' });
    expect(within(threat).getByRole('link', { name: 'Threat version 1' }).getAttribute('href')).toBe(
      `/models/${ID3}`,
    );
    expect(screen.queryByRole('button', { name: /Roll back/ })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Train a new model version' })).toBeNull();
    // One request for the list, none per version.
    expect(calls.filter((c) => /^\/models\/[0-9a-f-]{36}$/.test(c.path))).toEqual([]);
  });

  it('lets an admin start a training job and follows its progress to the new version', async () => {
    const trainingJob = jobPolls(
      { id: 'job-1', queue: 'training', name: 'train' },
      { progress: 45, stage: 'fold 2/5' },
      {
        stage: 'done',
        result: { model_id: ID3, task: 'threat', version: 2, algorithm: 'gbt', promoted: false },
      },
    );
    const { client, calls } = await loggedInClient('admin', (c) => {
      if (c.method === 'POST' && c.path === '/models/train')
        return json(202, { job_id: 'job-1', queue: 'training' });
      if (c.method === 'GET' && c.path === '/jobs/training/job-1') return trainingJob();
      return handler(c);
    });
    renderAt(client, '/models', '/models', <Models />);
    const form = await screen.findByRole('form', { name: 'Train a new model version' });
    fireEvent.change(within(form).getByLabelText('Task'), { target: { value: 'threat' } });
    fireEvent.change(within(form).getByLabelText('Dataset (JSON, optional)'), {
      target: { value: '{"days": 7}' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Start training' }));
    const bar = await screen.findByRole('progressbar', { name: 'Progress of Threat job job-1' });
    await waitFor(() => expect(bar.getAttribute('aria-valuenow')).toBe('45'));
    expect(bar.getAttribute('aria-valuetext')).toBe('45% · fold 2/5');
    expect(calls.find((c) => c.path === '/models/train')?.body).toEqual({
      task: 'threat',
      dataset: { days: 7 },
      promote: false,
    });
    await screen.findByRole('link', { name: 'Threat v2' }, { timeout: 4_000 });
    expect(screen.getByTestId('training-job').getAttribute('data-status')).toBe('completed');
    // The list is reloaded when a job completes.
    await waitFor(() =>
      expect(calls.filter((c) => c.path.startsWith('/models?')).length).toBeGreaterThanOrEqual(2),
    );
  });

  it('refuses a dataset that is not a JSON object without calling the API', async () => {
    const { client, calls } = await loggedInClient('admin', handler);
    renderAt(client, '/models', '/models', <Models />);
    const form = await screen.findByRole('form', { name: 'Train a new model version' });
    fireEvent.change(within(form).getByLabelText('Dataset (JSON, optional)'), { target: { value: '[1,2]' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Start training' }));
    await screen.findByText(/must be a JSON object/);
    expect(calls.some((c) => c.path === '/models/train')).toBe(false);
  });
});

describe('Model detail', () => {
  async function renderAs(
    role: Role,
    id: string,
    extra?: (c: Call) => { status: number; body?: unknown } | undefined,
  ) {
    const r = await loggedInClient(role, (c) => extra?.(c) ?? handler(c));
    renderAt(r.client, `/models/${id}`, '/models/:id', <ModelDetail />);
    await screen.findByRole('heading', { name: 'Evaluation' });
    return r.calls;
  }

  it('shows the confusion matrix as a table with headers, the per-class table and the accuracy', async () => {
    await renderAs('viewer', ID1);
    const table = screen.getByRole('table', { name: /Confusion matrix/ });
    const rows = within(table).getAllByRole('row');
    expect(
      within(rows[0]!)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['True ↓ / predicted →', 'camera', 'plug']);
    expect(within(rows[1]!).getByRole('rowheader').textContent).toBe('camera');
    expect(
      within(rows[1]!)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['18 (90% of camera)', '2 (10% of camera)']);
    expect(screen.getByTestId('model-accuracy').textContent).toBe('94.85%');
    expect(screen.getByText('camera → plug: 2')).toBeTruthy();
    const perClass = screen.getByRole('table', { name: 'Precision and recall per class' });
    expect(within(perClass).getAllByRole('row')).toHaveLength(3);
    // Viewer: no actions.
    expect(screen.queryByRole('button', { name: /Promote|Roll back|Set A\/B share/ })).toBeNull();
    await screen.findByText(/No serving windows recorded yet/);
  });

  it('reads the threat trainer’s flat matrix and per-class record, and draws the drift of the latest window', async () => {
    await renderAs('viewer', ID3);
    const table = screen.getByRole('table', { name: /Confusion matrix/ });
    expect(
      within(table)
        .getAllByRole('cell')
        .map((c) => c.textContent?.split(' ')[0]),
    ).toEqual(['80', '20', '4', '6']);
    const chart = await screen.findByTestId('drift-chart');
    expect(chart.getAttribute('aria-label')).toMatch(
      /highest bytes_out at 0\.310; 1 significant, 1 moderate/,
    );
    expect(screen.getByRole('table', { name: 'Population stability index per feature' })).toBeTruthy();
  });

  it('lets an admin promote a candidate and set its A/B share', async () => {
    const calls = await renderAs('admin', ID2, (c) => {
      if (c.method === 'POST' && c.path === '/models/ab')
        return json(200, {
          candidate: { ...models[1], traffic_share: 0.25, shadow: true },
          production: models[0],
        });
      if (c.method === 'POST' && c.path === `/models/${ID2}/promote`)
        return json(200, { ...models[1], status: 'production' });
      return undefined;
    });
    const share = screen.getByLabelText('Traffic share (% of devices)');
    fireEvent.change(share, { target: { value: '25' } });
    fireEvent.click(screen.getByLabelText('Shadow (score only, production still decides)'));
    fireEvent.click(screen.getByRole('button', { name: 'Set A/B share' }));
    await screen.findByText('v1 now shadows 25% of devices.');
    expect(calls.find((c) => c.path === '/models/ab')?.body).toEqual({
      task: 'device_type',
      candidate_id: ID2,
      share: 0.25,
      shadow: true,
    });
    fireEvent.click(screen.getByRole('button', { name: 'Promote Device type v1 to production' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, promote' }));
    await screen.findByText('Device type v1 is now production.');
  });
});

describe('metrics readers', () => {
  it('reads nested and flat confusion matrices and rejects a malformed one', () => {
    expect(confusionOf({ confusion: { labels: [0, 1], counts: [1, 0, 0, 1] } })).toEqual({
      labels: ['0', '1'],
      counts: [
        [1, 0],
        [0, 1],
      ],
    });
    expect(confusionOf({ confusion: { labels: ['a', 'b'], counts: [1, 2, 3] } })).toBeNull();
    expect(confusionOf({ kind: 'unsupervised' })).toBeNull();
  });

  it('reads per-class metrics as an array or a record', () => {
    expect(perClassOf({ per_class: [{ label: 0, f1: 1 }] })).toEqual([
      { label: '0', precision: null, recall: null, f1: 1, support: null },
    ]);
    expect(
      perClassOf({ per_class: { scan: { precision: 0.5, recall: 0.25, f1: 0.33, support: 4 } } }),
    ).toEqual([{ label: 'scan', precision: 0.5, recall: 0.25, f1: 0.33, support: 4 }]);
  });
});
