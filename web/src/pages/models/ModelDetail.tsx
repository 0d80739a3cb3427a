import { lazy, Suspense, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { Page } from '../../api/client';
import type { MlModel, MlModelDetail, ModelWindow } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable, type Column } from '../../components/DataTable';
import { Check, InputField } from '../../components/Form';
import { PageHeader, pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt, humanize, toText } from '../../format';
import { useAction } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { FactList, Panel, Section, StatusMessage } from '../Section';
import { ConfusionMatrix } from './ConfusionMatrix';
import {
  confusionOf,
  formatPercent,
  formatScore,
  headline,
  otherScalars,
  perClassOf,
  psiLevel,
  PSI_MODERATE,
  PSI_SIGNIFICANT,
  type ClassRow,
} from './metrics';
import { shareText, StatusBadge } from './Models';

const DriftChart = lazy(() => import('./DriftChart'));
const MAX_DRIFT_FEATURES = 25;

const classColumns: Column<ClassRow>[] = [
  { key: 'label', header: 'Class' },
  { key: 'precision', header: 'Precision', numeric: true, render: (r) => formatScore(r.precision) },
  { key: 'recall', header: 'Recall', numeric: true, render: (r) => formatScore(r.recall) },
  { key: 'f1', header: 'F1', numeric: true, render: (r) => formatScore(r.f1) },
  {
    key: 'support',
    header: 'Support',
    numeric: true,
    render: (r) => (r.support === null ? '—' : formatInt(r.support)),
  },
];

const windowColumns: Column<ModelWindow>[] = [
  {
    key: 'window',
    header: 'Window',
    render: (w) => `${formatDateTime(w.window_start)} – ${formatDateTime(w.window_end)}`,
  },
  { key: 'predictions', header: 'Predictions', numeric: true, render: (w) => formatInt(w.predictions) },
  {
    key: 'latency',
    header: 'Latency p50 / p99',
    numeric: true,
    render: (w) =>
      w.latency_p50_ms === null
        ? '—'
        : `${w.latency_p50_ms.toFixed(2)} / ${(w.latency_p99_ms ?? 0).toFixed(2)} ms`,
  },
  {
    key: 'accuracy',
    header: 'Accuracy (labelled)',
    numeric: true,
    render: (w) => (w.accuracy === null ? '—' : `${formatPercent(w.accuracy)} of ${formatInt(w.labelled)}`),
  },
  {
    key: 'drift',
    header: 'Max PSI',
    numeric: true,
    render: (w) => {
      const max = Math.max(0, ...Object.values(w.drift));
      return Object.keys(w.drift).length ? `${max.toFixed(3)} (${psiLevel(max)})` : '—';
    },
  },
];

function Actions({
  m,
  busy,
  run,
}: {
  m: MlModelDetail;
  busy: boolean;
  run(f: () => Promise<string>): Promise<void>;
}) {
  const client = useApi();
  const setShare = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const share = Number(f.get('share')) / 100;
    const shadow = f.get('shadow') === 'on';
    void run(async () => {
      const r = await client.post<{ candidate: MlModel; production: MlModel }>('/models/ab', {
        task: m.task,
        candidate_id: m.id,
        share,
        shadow,
      });
      return share === 0
        ? `A/B split ended: v${r.production.version} serves all traffic.`
        : `v${r.candidate.version} now ${shadow ? 'shadows' : 'serves'} ${Math.round(share * 100)}% of devices.`;
    });
  };
  const title = `${humanize(m.task)} v${m.version}`;
  return (
    <Panel id="model-actions-title" title="Actions">
      <div className={pageStyles.actions}>
        {m.status !== 'production' ? (
          <ConfirmButton
            label="Promote to production"
            confirmLabel="Yes, promote"
            ariaLabel={`Promote ${title} to production`}
            onConfirm={() =>
              run(async () => {
                const r = await client.post<MlModel>(`/models/${m.id}/promote`);
                return `${humanize(r.task)} v${r.version} is now production.`;
              })
            }
          />
        ) : (
          <ConfirmButton
            label="Roll back"
            confirmLabel="Yes, roll back"
            ariaLabel={`Roll back ${humanize(m.task)} to the version before ${title}`}
            danger
            onConfirm={() =>
              run(async () => {
                const r = await client.post<MlModel>('/models/rollback', { task: m.task });
                return `Rolled back: ${humanize(r.task)} v${r.version} is production again.`;
              })
            }
          />
        )}
      </div>
      {m.status === 'candidate' ? (
        <form className={pageStyles.form} aria-label={`A/B split for ${title}`} onSubmit={setShare}>
          <InputField
            id="ab-share"
            label="Traffic share (% of devices)"
            name="share"
            type="number"
            min={0}
            max={100}
            step={1}
            required
            defaultValue={Math.round(m.traffic_share * 100)}
          />
          <Check
            id="ab-shadow"
            name="shadow"
            defaultChecked={m.shadow}
            label="Shadow (score only, production still decides)"
          />
          <button type="submit" disabled={busy}>
            Set A/B share
          </button>
        </form>
      ) : null}
    </Panel>
  );
}

function DriftSection({ id }: { id: string }) {
  return (
    <Section<Page<ModelWindow>>
      id="drift-title"
      title="Serving and drift"
      empty="No serving windows recorded yet: drift is measured once the model scores live traffic"
      path={`/models/${id}/metrics`}
      query={{ limit: 24 }}
    >
      {(p) => {
        const latest = p.items.find((w) => Object.keys(w.drift).length > 0);
        const drift = latest
          ? Object.entries(latest.drift)
              .filter(([, v]) => Number.isFinite(v))
              .sort((a, b) => b[1] - a[1])
              .slice(0, MAX_DRIFT_FEATURES)
          : [];
        const significant = drift.filter(([, v]) => v >= PSI_SIGNIFICANT).length;
        const moderate = drift.filter(([, v]) => v >= PSI_MODERATE && v < PSI_SIGNIFICANT).length;
        const top = drift[0];
        return (
          <>
            {latest && top ? (
              <>
                <p className={styles.muted}>
                  {`PSI per feature in the window ending ${formatDateTime(latest.window_end)}: ${significant} significant (≥ ${PSI_SIGNIFICANT}), ${moderate} moderate (≥ ${PSI_MODERATE}).`}
                </p>
                <Suspense fallback={<Loading label="Drawing the chart…" />}>
                  <DriftChart
                    drift={drift}
                    label={`Population stability index per feature; highest ${top[0]} at ${top[1].toFixed(3)}; ${significant} significant, ${moderate} moderate`}
                  />
                </Suspense>
                <details>
                  <summary>PSI per feature as a table</summary>
                  <DataTable
                    rows={drift}
                    caption="Population stability index per feature"
                    rowKey={([f]) => f}
                    columns={[
                      {
                        key: 'feature',
                        header: 'Feature',
                        render: ([f]) => <span className={styles.mono}>{f}</span>,
                      },
                      { key: 'psi', header: 'PSI', numeric: true, render: ([, v]) => v.toFixed(3) },
                      { key: 'level', header: 'Level', render: ([, v]) => psiLevel(v) },
                    ]}
                  />
                </details>
              </>
            ) : (
              <p className={styles.muted}>No drift measured in the recorded windows.</p>
            )}
            <h3>Recent windows</h3>
            <DataTable
              rows={p.items}
              columns={windowColumns}
              caption="Serving windows, newest first"
              hideCaption
              rowKey={(w) => String(w.id)}
            />
          </>
        );
      }}
    </Section>
  );
}

function EvaluationSection({ m }: { m: MlModelDetail }) {
  const h = headline(m.metrics);
  const confusion = confusionOf(m.metrics);
  const perClass = perClassOf(m.metrics);
  const others = otherScalars(m.metrics);
  const topConfusions = Array.isArray(m.metrics.top_confusions)
    ? m.metrics.top_confusions.filter((x): x is string => typeof x === 'string').slice(0, 8)
    : [];
  return (
    <Panel id="eval-title" title="Evaluation">
      {h.accuracy === null && h.macroF1 === null && !confusion && others.length === 0 ? (
        <Empty title="No evaluation metrics recorded for this version" />
      ) : null}
      {h.accuracy !== null || h.macroF1 !== null ? (
        <dl className={explorer.metrics}>
          <div className={explorer.metric}>
            <dt>Accuracy</dt>
            <dd data-testid="model-accuracy">{formatPercent(h.accuracy, 2)}</dd>
          </div>
          <div className={explorer.metric}>
            <dt>Macro-F1</dt>
            <dd>{formatScore(h.macroF1)}</dd>
          </div>
        </dl>
      ) : null}
      {others.length > 0 ? <FactList entries={others} /> : null}
      {confusion ? (
        <>
          <h3 id="confusion-title">Confusion matrix</h3>
          <ConfusionMatrix
            confusion={confusion}
            caption="Confusion matrix: rows are the true class, columns the predicted class"
          />
        </>
      ) : null}
      {topConfusions.length > 0 ? (
        <>
          <h3>Most frequent confusions</h3>
          <ul className={styles.list}>
            {topConfusions.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </>
      ) : null}
      {perClass.length > 0 ? (
        <>
          <h3>Per class</h3>
          <DataTable
            rows={perClass}
            columns={classColumns}
            caption="Precision and recall per class"
            hideCaption
            rowKey={(r) => r.label}
          />
        </>
      ) : null}
    </Panel>
  );
}

export default function ModelDetail() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const res = useGet<MlModelDetail>(`/models/${encodeURIComponent(id)}`);
  const { reload } = res;
  const { busy, message, run } = useAction(reload);
  useLiveEvents(['model_update', 'resync'], () => reload());

  if (res.state === 'loading') return <Loading label="Loading the model…" />;
  if (res.state === 'error')
    return (
      <>
        <PageHeader title="Model">
          <Link to="/models">All models</Link>
        </PageHeader>
        <ErrorState error={res.error} onRetry={res.reload} />
      </>
    );
  const m = res.data;
  const summary = Object.entries(m.training_summary).filter(
    ([k]) => k !== 'feature_set' && k !== 'drift_reference',
  );
  const params = Object.entries(m.params);
  return (
    <>
      <PageHeader title={`${humanize(m.task)} v${m.version}`} subtitle={`${m.algorithm} · ${m.status}`}>
        <Link to="/models">All models</Link>
      </PageHeader>
      <StatusMessage message={message} />
      <div className={styles.grid}>
        <Panel id="model-facts-title" title="Version">
          <dl className={styles.facts}>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={m.status} />
            </dd>
            <dt>Traffic share</dt>
            <dd>{shareText(m)}</dd>
            <dt>Algorithm</dt>
            <dd>{m.algorithm}</dd>
            <dt>Feature set</dt>
            <dd className={styles.mono}>{`${m.feature_set.name} v${m.feature_set.version}`}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(m.created_at)}</dd>
            <dt>Promoted</dt>
            <dd>{formatDateTime(m.promoted_at)}</dd>
            <dt>Checksum</dt>
            <dd className={styles.mono}>{m.checksum.slice(0, 16)}</dd>
            <dt>ID</dt>
            <dd className={styles.mono}>{m.id}</dd>
          </dl>
        </Panel>
        <Panel id="model-training-title" title="Training">
          {summary.length === 0 && params.length === 0 ? (
            <p className={styles.muted}>No training summary recorded.</p>
          ) : (
            <FactList
              entries={[...summary, ...params.map(([k, v]) => [`param ${k}`, v] as const)].map(
                ([k, v]) => [k, toText(v, 160)] as const,
              )}
              valueClassName={styles.mono}
            />
          )}
        </Panel>
        {hasRole(user, 'admin') ? <Actions m={m} busy={busy} run={run} /> : null}
      </div>
      <EvaluationSection m={m} />
      <DriftSection id={m.id} />
    </>
  );
}
