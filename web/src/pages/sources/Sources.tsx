import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { asApiError, type ApiError, type Page } from '../../api/client';
import { SOURCE_KINDS, type Source, type SourceKind, type UploadAccepted } from '../../api/types';
import { hasRole, useApi, useAuth } from '../../auth';
import { ConfirmButton } from '../../components/ConfirmButton';
import { DataTable, type Column } from '../../components/DataTable';
import { Field, FormError, InputField, Options } from '../../components/Form';
import { PageHeader, pageStyles } from '../../components/Page';
import { ProgressBar } from '../../components/ProgressBar';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatBytes, formatDateTime, formatInt, humanize, toText } from '../../format';
import { useJob } from '../../hooks/useJob';
import { useAction, useSubmit } from '../../hooks/useAction';
import { useGet } from '../../hooks/useGet';
import { useSearchUpdate } from '../../hooks/useSearchUpdate';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { errorText, Panel, StatusMessage } from '../Section';

const KIND_NAMES: Record<string, string> = {
  netflow: 'NetFlow/IPFIX collector',
  live: 'Live capture',
  watch: 'Watched folder',
  file: 'File',
};
const kindName = (k: string): string => KIND_NAMES[k] ?? k;
const ACCEPT = '.pcap,.pcapng,.cap,.gz,.log,.json,.ndjson';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The one or two settings that say what a source is. */
function configText(s: Source): string {
  const c = s.config;
  switch (s.kind) {
    case 'netflow':
      return `UDP ${toText(c.host ?? '0.0.0.0')}:${toText(c.port)}`;
    case 'live':
      return `${toText(c.interface)}${c.filter ? ` · ${toText(c.filter)}` : ''}`;
    case 'watch':
      return toText(c.directory);
    case 'file':
      return [c.format ? toText(c.format) : null, typeof c.size === 'number' ? formatBytes(c.size) : null]
        .filter(Boolean)
        .join(' · ');
    default:
      return toText(c, 120);
  }
}

function statsText(s: Source): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.stats)) {
    if (typeof v === 'number' && Number.isFinite(v))
      parts.push(`${humanize(k).toLowerCase()} ${formatInt(v)}`);
    if (parts.length >= 4) break;
  }
  return parts.join(' · ') || '—';
}

const statusClass = (status: string): string | undefined =>
  status === 'running' || status === 'done' || status === 'completed'
    ? styles.ok
    : status === 'error' || status === 'failed'
      ? styles.bad
      : styles.muted;

type Phase =
  | { step: 'idle' }
  | { step: 'uploading'; name: string; pct: number }
  | { step: 'processing'; name: string; jobId: string; bytes: number; format: string }
  | { step: 'failed'; name: string; error: string };

const uploadError = (e: ApiError): string =>
  e.code === 'NETWORK'
    ? 'The upload was interrupted: the connection dropped, or the file is larger than the server accepts (UPLOAD_MAX_BYTES).'
    : e.code === 'INVALID_CAPTURE'
      ? `Not a capture IoTSec can read (pcap, pcapng, gzip of either, Zeek log, Suricata EVE). (${e.code})`
      : errorText(e);

function Processing({
  phase,
  onFinished,
}: {
  phase: Extract<Phase, { step: 'processing' }>;
  onFinished(): void;
}) {
  const job = useJob('ingest', phase.jobId);
  const status = job?.status ?? 'waiting';
  const notified = useRef(false);
  useEffect(() => {
    if ((status === 'completed' || status === 'failed') && !notified.current) {
      notified.current = true;
      onFinished();
    }
  }, [status, onFinished]);
  const r = isRecord(job?.result) ? job.result : {};
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
  if (status === 'completed')
    return (
      <div data-testid="upload-result" data-status="completed">
        <ProgressBar value={100} label={`Processing ${phase.name}`} state="done" text="Done" />
        <p className={styles.ok} role="status">
          {`Ingested ${phase.name}: ${formatInt(n('packets'))} packets, ${formatInt(n('flows'))} flows, ${formatInt(n('new_devices'))} new device${n('new_devices') === 1 ? '' : 's'}.`}
        </p>
        {isRecord(r.error) && typeof r.error.message === 'string' ? (
          <p className={styles.bad}>{`The file ends early: ${r.error.message}`}</p>
        ) : null}
        <p>
          <Link to="/devices">See the devices</Link> · <Link to="/traffic">Explore the traffic</Link>
        </p>
      </div>
    );
  if (status === 'failed' || status === 'unknown')
    return (
      <div data-testid="upload-result" data-status="failed">
        <ProgressBar
          value={job?.progress ?? 0}
          label={`Processing ${phase.name}`}
          state="failed"
          text="Failed"
        />
        <p className={styles.bad} role="alert">
          {`Processing ${phase.name} failed: ${job?.error ?? 'unknown error'}`}
        </p>
      </div>
    );
  return (
    <div data-testid="upload-result" data-status={status}>
      <ProgressBar
        value={job?.progress ?? 0}
        label={`Processing ${phase.name}`}
        text={
          status === 'active'
            ? `Processing: ${Math.round(job?.progress ?? 0)}%`
            : `Queued (${formatBytes(phase.bytes)} ${phase.format})`
        }
      />
      {job?.error ? <p className={styles.bad}>{`Attempt failed, retrying: ${job.error}`}</p> : null}
    </div>
  );
}

function Upload({ onFinished }: { onFinished(): void }) {
  const client = useApi();
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });
  const [chosen, setChosen] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const file = fileInput.current?.files?.[0];
    if (!file) return;
    const name = file.name.replace(/[/\\]/g, '_').slice(0, 255) || 'upload.pcap';
    if (file.size === 0) {
      setPhase({ step: 'failed', name, error: 'The file is empty.' });
      return;
    }
    const ctl = new AbortController();
    abort.current = ctl;
    setPhase({ step: 'uploading', name, pct: 0 });
    try {
      const r = await client.upload<UploadAccepted>('/sources/upload', file, {
        query: { name },
        signal: ctl.signal,
        onProgress: (loaded, total) =>
          setPhase({ step: 'uploading', name, pct: total > 0 ? (100 * loaded) / total : 0 }),
      });
      setPhase({ step: 'processing', name, jobId: r.job_id, bytes: r.bytes, format: r.format });
    } catch (err) {
      const apiErr = asApiError(err);
      setPhase(
        apiErr.code === 'ABORTED' ? { step: 'idle' } : { step: 'failed', name, error: uploadError(apiErr) },
      );
    } finally {
      abort.current = null;
    }
  };

  const busy = phase.step === 'uploading';
  return (
    <Panel id="upload-title" title="Upload a capture">
      <form className={pageStyles.form} aria-label="Upload a capture" onSubmit={(e) => void submit(e)}>
        <Field id="upload-file" label="Capture file (pcap, pcapng, gzip, Zeek log, Suricata EVE)">
          <input
            id="upload-file"
            ref={fileInput}
            className={explorer.fileInput}
            type="file"
            name="file"
            accept={ACCEPT}
            disabled={busy}
            onChange={(e) => setChosen((e.currentTarget.files?.length ?? 0) > 0)}
          />
        </Field>
        <button type="submit" className="primary" disabled={busy || !chosen}>
          Upload
        </button>
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        ) : null}
      </form>
      <div aria-live="polite">
        {phase.step === 'uploading' ? (
          <ProgressBar
            value={phase.pct}
            label={`Uploading ${phase.name}`}
            text={`Uploading: ${Math.round(phase.pct)}%`}
          />
        ) : phase.step === 'processing' ? (
          <Processing key={phase.jobId} phase={phase} onFinished={onFinished} />
        ) : phase.step === 'failed' ? (
          <p className={styles.bad} role="alert">
            {`${phase.name}: ${phase.error}`}
          </p>
        ) : (
          <p className={styles.muted}>
            The file is streamed to the server, then ingested by a background job: devices, flows and alerts
            appear as it goes.
          </p>
        )}
      </div>
    </Panel>
  );
}

function CreateForm({ onCreated }: { onCreated(s: Source): void }) {
  const client = useApi();
  const [kind, setKind] = useState<SourceKind>('netflow');
  const { busy, error, submit: run } = useSubmit();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const str = (k: string) => String(f.get(k) ?? '').trim();
    const name = str('name');
    let config: Record<string, unknown>;
    if (kind === 'netflow') {
      config = { port: Number(str('port')) };
      if (str('host')) config.host = str('host');
    } else if (kind === 'live') {
      config = { interface: str('interface') };
      if (str('filter')) config.filter = str('filter');
    } else {
      config = { directory: str('directory') };
    }
    await run(async () => {
      const s = await client.post<Source>('/sources', { kind, name, config });
      form.reset();
      onCreated(s);
    });
  };
  return (
    <Panel id="create-source-title" title="Add a source">
      <form className={pageStyles.form} aria-label="Add a source" onSubmit={(e) => void submit(e)}>
        <Field id="src-kind" label="Kind">
          <select id="src-kind" value={kind} onChange={(e) => setKind(e.target.value as SourceKind)}>
            <Options values={SOURCE_KINDS} text={kindName} />
          </select>
        </Field>
        <InputField
          id="src-name"
          label="Name"
          name="name"
          required
          maxLength={128}
          placeholder="e.g. core-switch"
        />
        {kind === 'netflow' ? (
          <>
            <InputField
              id="src-port"
              label="UDP port"
              name="port"
              type="number"
              min={1}
              max={65535}
              required
              defaultValue={2055}
            />
            <InputField
              id="src-host"
              label="Listen address (optional)"
              name="host"
              maxLength={64}
              placeholder="0.0.0.0"
            />
          </>
        ) : kind === 'live' ? (
          <>
            <InputField
              id="src-interface"
              label="Interface"
              name="interface"
              required
              maxLength={32}
              pattern="[A-Za-z0-9._:@\-]{1,32}"
              placeholder="eth0"
            />
            <InputField
              id="src-filter"
              label="Capture filter (optional, BPF)"
              name="filter"
              maxLength={1024}
              placeholder="not port 22"
            />
          </>
        ) : (
          <InputField
            id="src-directory"
            label="Directory on the collector"
            name="directory"
            required
            maxLength={1024}
            placeholder="/captures"
          />
        )}
        <button type="submit" className="primary" disabled={busy}>
          Add source
        </button>
        <FormError error={error} />
      </form>
    </Panel>
  );
}

export default function Sources() {
  const client = useApi();
  const { user } = useAuth();
  const canEdit = hasRole(user, 'analyst');
  const { params, update } = useSearchUpdate({ keepCursor: true });
  const kind = params.get('kind') ?? '';
  const res = useGet<Page<Source>>('/sources', { kind, limit: 200 });
  const { reload } = res;
  const { message, setMessage, run } = useAction(reload);
  useLiveEvents(['resync'], () => reload());

  const columns: Column<Source>[] = [
    { key: 'name', header: 'Name', render: (s) => <strong>{s.name}</strong> },
    { key: 'kind', header: 'Kind', render: (s) => KIND_NAMES[s.kind] ?? s.kind },
    {
      key: 'config',
      header: 'Settings',
      render: (s) => <span className={styles.mono}>{configText(s)}</span>,
    },
    {
      key: 'status',
      header: 'Status',
      render: (s) => (
        <span className={`${styles.badge} ${statusClass(s.status) ?? ''}`} data-testid="source-status">
          {s.status}
        </span>
      ),
    },
    {
      key: 'last_error',
      header: 'Last error',
      render: (s) => (s.last_error ? <span className={styles.bad}>{s.last_error}</span> : '—'),
    },
    { key: 'stats', header: 'Counters', render: statsText },
    { key: 'updated_at', header: 'Updated', render: (s) => formatDateTime(s.updated_at) },
    ...(canEdit
      ? [
          {
            key: 'actions',
            header: 'Actions',
            render: (s: Source) => (
              <ConfirmButton
                label="Delete"
                ariaLabel={`Delete source ${s.name}`}
                danger
                onConfirm={() =>
                  run(async () => {
                    await client.delete(`/sources/${s.id}`);
                    return `Source ${s.name} deleted (its flows stay).`;
                  })
                }
              />
            ),
          },
        ]
      : []),
  ];

  let body;
  if (res.state === 'loading') body = <Loading label="Loading sources…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0)
    body = (
      <Empty title={kind ? `No ${(KIND_NAMES[kind] ?? kind).toLowerCase()} sources` : 'No sources yet'}>
        <p>
          Upload a capture, add a collector, or run <code>iotsec collect</code> on a sensor.
        </p>
      </Empty>
    );
  else
    body = (
      <DataTable
        rows={res.data.items}
        columns={columns}
        caption="Traffic sources, most recently updated first"
        hideCaption
        rowKey={(s) => s.id}
      />
    );

  return (
    <>
      <PageHeader
        title="Sources"
        subtitle="Where traffic comes from: uploads, collectors, live captures, watched folders"
      />
      {canEdit ? (
        <div className={styles.grid}>
          <Upload onFinished={reload} />
          <CreateForm
            onCreated={(s) => {
              setMessage({ ok: true, text: `Source ${s.name} added; a collector picks it up.` });
              reload();
            }}
          />
        </div>
      ) : null}
      <section className={styles.panel} aria-labelledby="sources-title">
        <div className={explorer.taskTitle}>
          <h2 id="sources-title">Sources</h2>
          <div className={explorer.inline}>
            <label htmlFor="sources-kind">Kind</label>
            <select id="sources-kind" value={kind} onChange={(e) => update({ kind: e.target.value || null })}>
              <Options values={[...SOURCE_KINDS, 'file']} text={kindName} any="All" />
            </select>
          </div>
        </div>
        <StatusMessage message={message} />
        {body}
      </section>
    </>
  );
}
