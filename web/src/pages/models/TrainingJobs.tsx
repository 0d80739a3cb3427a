import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { ML_TASKS, type MlTask } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { Check, Field, FormError, InputField, Options } from '../../components/Form';
import { pageStyles } from '../../components/Page';
import { ProgressBar } from '../../components/ProgressBar';
import { formatDateTime, humanize } from '../../format';
import { useSubmit } from '../../hooks/useAction';
import { isFinished, jobFromEvent, useJob } from '../../hooks/useJob';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { Panel } from '../Section';

const STORE_KEY = 'iotsec.training_jobs';
const MAX_JOBS = 8;

interface Tracked {
  id: string;
  task: string | null;
  at: string;
}

function readTracked(): Tracked[] {
  try {
    const v: unknown = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '[]');
    return Array.isArray(v)
      ? v.filter(
          (x): x is Tracked => typeof x === 'object' && x !== null && typeof (x as Tracked).id === 'string',
        )
      : [];
  } catch {
    return [];
  }
}

function writeTracked(jobs: Tracked[]): void {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(jobs));
  } catch {
    // private mode: the list lasts for this page only
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function JobRow({ job: t, onFinished }: { job: Tracked; onFinished(): void }) {
  const job = useJob('training', t.id);
  const status = job?.status ?? 'waiting';
  const finished = useRef(false);
  useEffect(() => {
    if (status === 'completed' && !finished.current) {
      finished.current = true;
      onFinished();
    }
  }, [status, onFinished]);
  const result = isRecord(job?.result) ? job.result : null;
  const modelId = typeof result?.model_id === 'string' ? result.model_id : null;
  const version = typeof result?.version === 'number' ? result.version : null;
  const task = t.task ?? (typeof result?.task === 'string' ? result.task : null);
  const title = `${task ? humanize(task) : 'Training'} job ${t.id.slice(0, 8)}`;
  const stage = job?.stage ? ` · ${job.stage}` : '';
  const text =
    status === 'completed'
      ? 'Done'
      : status === 'failed'
        ? 'Failed'
        : status === 'unknown'
          ? 'Unknown'
          : status === 'active'
            ? `${Math.round(job?.progress ?? 0)}%${stage}`
            : `${humanize(status)}${stage}`;
  return (
    <li className={explorer.job} data-testid="training-job" data-status={status}>
      <div className={explorer.jobHead}>
        <strong>{title}</strong>
        <span className={styles.muted}>{`started ${formatDateTime(t.at)}`}</span>
      </div>
      <ProgressBar
        value={job?.progress ?? 0}
        label={`Progress of ${title}`}
        state={status === 'completed' ? 'done' : status === 'failed' ? 'failed' : 'active'}
        text={text}
      />
      {status === 'completed' && modelId ? (
        <p className={styles.ok}>
          {'Registered '}
          <Link to={`/models/${modelId}`}>{`${task ? humanize(task) : 'model'} v${version ?? '?'}`}</Link>
          {' as a candidate.'}
        </p>
      ) : null}
      {job?.error && status !== 'completed' ? (
        <p className={styles.bad} role={isFinished(job) ? 'alert' : undefined}>
          {status === 'failed' || status === 'unknown' ? job.error : `Attempt failed, retrying: ${job.error}`}
        </p>
      ) : null}
    </li>
  );
}

function TrainForm({ onStarted }: { onStarted(t: Tracked): void }) {
  const client = useApi();
  const { busy, error, setError, submit: run } = useSubmit();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const task = String(f.get('task') ?? '') as MlTask;
    const algorithm = String(f.get('algorithm') ?? '').trim();
    const datasetText = String(f.get('dataset') ?? '').trim();
    let dataset: unknown;
    if (datasetText) {
      try {
        dataset = JSON.parse(datasetText);
      } catch {
        setError('The dataset must be a JSON object, e.g. {"days": 7}.');
        return;
      }
      if (!isRecord(dataset) || Array.isArray(dataset)) {
        setError('The dataset must be a JSON object, e.g. {"days": 7}.');
        return;
      }
    }
    await run(async () => {
      const r = await client.post<{ job_id: string }>('/models/train', {
        task,
        ...(algorithm ? { algorithm } : {}),
        ...(dataset ? { dataset } : {}),
        promote: f.get('promote') === 'on',
      });
      onStarted({ id: r.job_id, task, at: new Date().toISOString() });
    });
  };
  return (
    <form className={pageStyles.form} aria-label="Train a new model version" onSubmit={(e) => void submit(e)}>
      <Field id="train-task" label="Task">
        <select id="train-task" name="task" defaultValue="anomaly">
          <Options values={ML_TASKS} />
        </select>
      </Field>
      <InputField
        id="train-algorithm"
        label="Algorithm (optional)"
        name="algorithm"
        maxLength={64}
        placeholder="the task's default"
      />
      <InputField
        id="train-dataset"
        label="Dataset (JSON, optional)"
        name="dataset"
        maxLength={4000}
        placeholder='e.g. {"days": 7}'
      />
      <Check id="train-promote" name="promote" label="Promote when done" />
      <button type="submit" className="primary" disabled={busy}>
        Start training
      </button>
      <FormError error={error} />
    </form>
  );
}

/**
 * Training jobs with live progress: the ones started from this tab (kept for the session) and any other the
 * live feed announces (scheduled retraining, another admin). Admins can start one.
 */
export function TrainingJobs({ onFinished }: { onFinished(): void }) {
  const { user } = useAuth();
  const [jobs, setJobs] = useState<Tracked[]>(readTracked);
  const add = (t: Tracked) =>
    setJobs((list) => {
      if (list.some((j) => j.id === t.id)) return list;
      const next = [t, ...list].slice(0, MAX_JOBS);
      writeTracked(next);
      return next;
    });
  useLiveEvents(['job_update'], (e) => {
    if (e.type !== 'job_update') return;
    const j = jobFromEvent(e.data);
    if (j && j.queue === 'training') add({ id: j.id, task: null, at: e.at });
  });
  return (
    <Panel id="training-title" title="Training jobs">
      {hasRole(user, 'admin') ? <TrainForm onStarted={add} /> : null}
      {jobs.length === 0 ? (
        <p className={styles.muted}>
          No training job in this session. Jobs started here or by the scheduler show up live.
        </p>
      ) : (
        <ul className={styles.list} style={{ listStyle: 'none', paddingLeft: 0 }} aria-label="Training jobs">
          {jobs.map((j) => (
            <JobRow key={j.id} job={j} onFinished={onFinished} />
          ))}
        </ul>
      )}
      {jobs.length > 0 ? (
        <button
          type="button"
          onClick={() => {
            writeTracked([]);
            setJobs([]);
          }}
        >
          Clear the list
        </button>
      ) : null}
    </Panel>
  );
}
