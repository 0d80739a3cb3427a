import { useCallback, useState } from 'react';
import { Link } from 'react-router-dom';
import { asApiError, type ApiClient, type Page } from '../../api/client';
import { ML_TASKS, type MlModel, type MlModelListItem } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable, type Column } from '../../components/DataTable';
import { Options } from '../../components/Form';
import { PageHeader } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, humanize } from '../../format';
import { useResource } from '../../hooks/useResource';
import { useSearchUpdate } from '../../hooks/useSearchUpdate';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { errorText } from '../Section';
import { formatScore } from './metrics';
import { TrainingJobs } from './TrainingJobs';

const MAX_MODELS = 500;

export type ModelRow = MlModelListItem;

async function loadModels(client: ApiClient, signal: AbortSignal, task: string): Promise<ModelRow[]> {
  const models: ModelRow[] = [];
  let cursor: string | null = null;
  do {
    const p: Page<ModelRow> = await client.get<Page<ModelRow>>(
      '/models',
      { limit: 200, cursor, task: task || undefined },
      signal,
    );
    models.push(...p.items);
    cursor = p.next_cursor;
  } while (cursor && models.length < MAX_MODELS);
  return models;
}

export function StatusBadge({ status }: { status: MlModel['status'] }) {
  return (
    <span className={`${styles.badge} ${explorer[status] ?? ''}`} data-testid="model-status">
      {status}
    </span>
  );
}

export const shareText = (m: Pick<MlModel, 'status' | 'traffic_share' | 'shadow'>): string =>
  m.status === 'archived' && m.traffic_share === 0
    ? '—'
    : `${Math.round(m.traffic_share * 100)}%${m.shadow ? ' (shadow)' : ''}`;

const columns: Column<ModelRow>[] = [
  {
    key: 'version',
    header: 'Version',
    render: (m) => (
      <Link to={`/models/${m.id}`} aria-label={`${humanize(m.task)} version ${m.version}`}>
        {`v${m.version}`}
      </Link>
    ),
  },
  { key: 'algorithm', header: 'Algorithm' },
  { key: 'status', header: 'Status', render: (m) => <StatusBadge status={m.status} /> },
  { key: 'traffic_share', header: 'Traffic share', numeric: true, render: shareText },
  { key: 'accuracy', header: 'Accuracy', numeric: true, render: (m) => formatScore(m.accuracy) },
  { key: 'macro_f1', header: 'Macro-F1', numeric: true, render: (m) => formatScore(m.macro_f1) },
  {
    key: 'feature_set',
    header: 'Feature set',
    render: (m) => <span className={styles.mono}>{`${m.feature_set.name} v${m.feature_set.version}`}</span>,
  },
  { key: 'created_at', header: 'Created', render: (m) => formatDateTime(m.created_at) },
  { key: 'promoted_at', header: 'Promoted', render: (m) => formatDateTime(m.promoted_at) },
];

function TaskGroup({
  task,
  models,
  canAdmin,
  onChanged,
}: {
  task: string;
  models: ModelRow[];
  canAdmin: boolean;
  onChanged(text: string): void;
}) {
  const client = useApi();
  const prod = models.find((m) => m.status === 'production');
  const id = `task-${task}`;
  return (
    <section className={styles.panel} aria-labelledby={id}>
      <div className={explorer.taskTitle}>
        <h2 id={id}>{humanize(task)}</h2>
        <span className={styles.muted}>
          {prod ? `production: v${prod.version} (${prod.algorithm})` : 'no production version'}
          {` · ${models.length} version${models.length === 1 ? '' : 's'}`}
        </span>
        {canAdmin && prod ? (
          <ConfirmButton
            label="Roll back"
            ariaLabel={`Roll back ${humanize(task)} to the previous production version`}
            onConfirm={async () => {
              try {
                const m = await client.post<MlModel>('/models/rollback', { task });
                onChanged(`${humanize(task)}: v${m.version} is production again.`);
              } catch (e) {
                onChanged(errorText(asApiError(e)));
              }
            }}
          />
        ) : null}
      </div>
      <DataTable
        rows={models}
        columns={columns}
        caption={`${humanize(task)} model versions, newest first`}
        hideCaption
        rowKey={(m) => m.id}
      />
    </section>
  );
}

export default function Models() {
  const client = useApi();
  const { user } = useAuth();
  const canAdmin = hasRole(user, 'admin');
  const { params, update } = useSearchUpdate({ keepCursor: true });
  const task = params.get('task') ?? '';
  const load = useCallback((signal: AbortSignal) => loadModels(client, signal, task), [client, task]);
  const res = useResource(load);
  const { reload } = res;
  const [message, setMessage] = useState<string | null>(null);
  useLiveEvents(['model_update', 'resync'], () => reload());

  let body;
  if (res.state === 'loading') body = <Loading label="Loading models…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.length === 0)
    body = (
      <Empty title={task ? `No ${humanize(task)} models yet` : 'No models registered yet'}>
        <p>
          Train one with <code>iotsec train</code>
          {canAdmin ? ' or from the training form below' : ''}.
        </p>
      </Empty>
    );
  else {
    const groups = ML_TASKS.map((t) => [t, res.data.filter((m) => m.task === t)] as const).filter(
      ([, ms]) => ms.length > 0,
    );
    body = groups.map(([t, ms]) => (
      <TaskGroup
        key={t}
        task={t}
        models={ms}
        canAdmin={canAdmin}
        onChanged={(text) => {
          setMessage(text);
          reload();
        }}
      />
    ));
  }

  return (
    <>
      <PageHeader
        title="Models"
        subtitle="Model registry: versions by task, evaluation, A/B splits and training"
      />
      <div className={explorer.toolbar}>
        <label htmlFor="models-task">Task</label>
        <select id="models-task" value={task} onChange={(e) => update({ task: e.target.value || null })}>
          <Options values={ML_TASKS} any="All tasks" />
        </select>
      </div>
      {message ? (
        <p role="status" className={styles.message}>
          {message}
        </p>
      ) : null}
      {body}
      <TrainingJobs onFinished={reload} />
    </>
  );
}
