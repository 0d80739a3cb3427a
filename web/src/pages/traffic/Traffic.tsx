import { lazy, Suspense, useCallback, useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { asApiError, type ApiError, type Page } from '../../api/client';
import type { Flow, TopTalker, TrafficSeries } from '../../api/types';
import { useApi } from '../../auth';
import { DataTable, type Column } from '../../components/DataTable';
import { Field, FilterForm, InputField } from '../../components/Form';
import { PageHeader, pageStyles } from '../../components/Page';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatBytes, formatDateTime, formatInt } from '../../format';
import { useGet } from '../../hooks/useGet';
import { useResource } from '../../hooks/useResource';
import { useSearchUpdate, type ParamChange } from '../../hooks/useSearchUpdate';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { Panel } from '../Section';
import { flowColumns, PROTOCOLS } from './flows';
import {
  fillBuckets,
  fromLocalInput,
  PRESETS,
  queryKey,
  resolveQuery,
  tickFlowsIn,
  toLocalInput,
  type FilterKey,
  type TrafficQuery,
} from './query';

const TrafficSeriesChart = lazy(() => import('./TrafficSeriesChart'));

const PAGE_SIZE = 50;
/** "Where is the traffic?": the newest flow at all, whatever the range (captures may be years old). */
const EPOCH = '1970-01-01T00:00:00.000Z';
const JUMP_MS = 15 * 60_000;

const columns = flowColumns({ device: true, state: true });

/** The present instant, for event handlers (presets are relative to it). */
const now = (): number => Date.now();

type ApiQuery = Record<string, string>;

const apiQueryOf = (q: TrafficQuery): ApiQuery => ({ from: q.from, to: q.to, ...q.filters });

function FlowsPanel({ qKey, onJump }: { qKey: string; onJump(latest: string): void }) {
  const client = useApi();
  const res = useGet<Page<Flow>>('/network-traffic', { ...(JSON.parse(qKey) as ApiQuery), limit: PAGE_SIZE });
  const [more, setMore] = useState<{ base: Page<Flow>; items: Flow[]; cursor: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [moreError, setMoreError] = useState<{ base: Page<Flow>; error: ApiError } | null>(null);

  let body;
  if (res.state === 'loading') body = <Loading label="Loading flows…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0) body = <NoFlows qKey={qKey} onJump={onJump} />;
  else {
    const base = res.data;
    const extra = more && more.base === base ? more : null;
    const items = extra ? [...base.items, ...extra.items] : base.items;
    const cursor = extra ? extra.cursor : base.next_cursor;
    const loadMore = async () => {
      if (!cursor) return;
      setBusy(true);
      try {
        const p = await client.get<Page<Flow>>('/network-traffic', {
          ...(JSON.parse(qKey) as ApiQuery),
          limit: PAGE_SIZE,
          cursor,
        });
        setMore({ base, items: [...(extra?.items ?? []), ...p.items], cursor: p.next_cursor });
        setMoreError(null);
      } catch (e) {
        setMoreError({ base, error: asApiError(e) });
      } finally {
        setBusy(false);
      }
    };
    const err = moreError && moreError.base === base ? moreError.error : null;
    body = (
      <>
        <DataTable
          rows={items}
          columns={columns}
          caption="Flows in the range, newest first"
          hideCaption
          rowKey={(f) => String(f.id)}
        />
        <div className={explorer.more}>
          <span role="status" aria-live="polite" data-testid="flow-count">
            {`Showing ${formatInt(items.length)} flow${items.length === 1 ? '' : 's'}${cursor ? '; more in this range' : ''}`}
          </span>
          {cursor ? (
            <button type="button" disabled={busy} onClick={() => void loadMore()}>
              {busy ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </div>
        {err ? <ErrorState error={err} onRetry={() => void loadMore()} /> : null}
      </>
    );
  }
  return (
    <Panel id="flows-title" title="Flows">
      {body}
    </Panel>
  );
}

/** No flows in the range: say where the newest one is, and offer to go there. */
function NoFlows({ qKey, onJump }: { qKey: string; onJump(latest: string): void }) {
  const client = useApi();
  const load = useCallback(
    (signal: AbortSignal) => {
      const q = JSON.parse(qKey) as ApiQuery;
      return client.get<Page<Flow>>(
        '/network-traffic',
        { ...q, from: EPOCH, to: new Date().toISOString(), limit: 1 },
        signal,
      );
    },
    [client, qKey],
  );
  const res = useResource(load);
  const latest = res.state === 'ready' ? res.data.items[0] : undefined;
  return (
    <Empty title="No flows in this range">
      {res.state === 'loading' ? (
        <p>Looking for the most recent traffic…</p>
      ) : latest ? (
        <p>
          {`The most recent matching flow started ${formatDateTime(latest.ts_start)}. `}
          <button type="button" onClick={() => onJump(latest.ts_start)}>
            Show the 15 minutes up to it
          </button>
        </p>
      ) : (
        <p>
          Nothing matches these filters at any time. Upload a capture or add a collector on the{' '}
          <Link to="/sources">Sources</Link> page.
        </p>
      )}
    </Empty>
  );
}

function SeriesPanel({ qKey }: { qKey: string }) {
  const res = useGet<TrafficSeries>('/network-traffic/timeseries', JSON.parse(qKey) as ApiQuery);
  let body;
  if (res.state === 'loading') body = <Loading label="Loading the time series…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0) body = <Empty title="No traffic in this range" />;
  else {
    const { from, to } = JSON.parse(qKey) as ApiQuery;
    const s = res.data;
    const items = fillBuckets(s.items, s.bucket_seconds, from ?? '', to ?? '', (t) => ({
      t,
      bytes: 0,
      packets: 0,
      flows: 0,
    }));
    const bytes = s.items.reduce((n, b) => n + b.bytes, 0);
    const flows = s.items.reduce((n, b) => n + b.flows, 0);
    const per = s.bucket_seconds >= 60 ? `${Math.round(s.bucket_seconds / 60)} min` : `${s.bucket_seconds} s`;
    const summary = `${formatBytes(bytes)} in ${formatInt(flows)} flows; one point per ${per}`;
    body = (
      <>
        <p className={styles.muted} data-testid="series-summary">
          {summary}
        </p>
        <Suspense fallback={<Loading label="Drawing the chart…" />}>
          <TrafficSeriesChart
            items={items}
            bucketSeconds={s.bucket_seconds}
            label={`Bytes and flows over time: ${summary}`}
          />
        </Suspense>
      </>
    );
  }
  return (
    <Panel id="series-title" title="Volume over time">
      {body}
    </Panel>
  );
}

function TalkersPanel({ qKey, filterLink }: { qKey: string; filterLink(k: FilterKey, v: string): string }) {
  const res = useGet<Page<TopTalker>>('/network-traffic/top-talkers', {
    ...(JSON.parse(qKey) as ApiQuery),
    limit: 10,
  });
  const talkerColumns: Column<TopTalker>[] = [
    {
      key: 'ip',
      header: 'Source',
      render: (t) => (
        <>
          <Link to={{ search: filterLink('ip', t.ip) }} aria-label={`Show flows of ${t.ip}`}>
            <span className={styles.mono}>{t.ip}</span>
          </Link>
          {t.device_id !== null ? (
            <>
              {' '}
              <Link to={`/devices/${t.device_id}`} className={styles.muted}>{`device ${t.device_id}`}</Link>
            </>
          ) : null}
        </>
      ),
    },
    { key: 'bytes', header: 'Bytes', numeric: true, render: (t) => formatBytes(t.bytes) },
    { key: 'flows', header: 'Flows', numeric: true, render: (t) => formatInt(t.flows) },
  ];
  let body;
  if (res.state === 'loading') body = <Loading label="Loading top talkers…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0) body = <Empty title="No talkers in this range" />;
  else
    body = (
      <DataTable
        rows={res.data.items}
        columns={talkerColumns}
        caption="Sources that moved the most bytes in the range"
        hideCaption
        rowKey={(t) => `${t.device_id ?? ''}-${t.ip}`}
      />
    );
  return (
    <Panel id="talkers-title" title="Top talkers">
      {body}
    </Panel>
  );
}

export default function Traffic() {
  const { params, update: setQuery } = useSearchUpdate({ keepCursor: true });
  // Presets are relative to this instant; Refresh and every change of the query move it to now.
  const [anchor, setAnchor] = useState(now);
  const [customOpen, setCustomOpen] = useState(false);
  const key = queryKey(params);
  const q = useMemo(() => resolveQuery(key, anchor), [key, anchor]);
  const qKey = JSON.stringify(apiQueryOf(q));

  const update = (change: ParamChange) => {
    setQuery(change);
    setAnchor(now());
  };

  // One loading of the panels: a new query, or Refresh (which reloads a fixed range too).
  const view = `${qKey}#${anchor}`;
  // Flows stored since this view loaded whose time falls in its range (live traffic_tick events): offered
  // on the Refresh button rather than reloaded under the reader. Each view starts the count afresh.
  const [fresh, setFresh] = useState({ view, flows: 0 });
  useLiveEvents(['traffic_tick'], (e) => {
    const n = 'data' in e ? tickFlowsIn(e.data, q) : 0;
    if (n > 0) setFresh((f) => ({ view, flows: (f.view === view ? f.flows : 0) + n }));
  });
  const freshFlows = fresh.view === view ? fresh.flows : 0;
  const filtered = Object.keys(q.filters).length > 0;

  const filterLink = (k: FilterKey, v: string): string => {
    const next = new URLSearchParams(params);
    next.set(k, v);
    return `?${next.toString()}`;
  };

  const applyRange = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const from = fromLocalInput(String(f.get('from') ?? ''));
    const to = fromLocalInput(String(f.get('to') ?? ''));
    if (!from) return;
    update({ range: null, from, to });
    setCustomOpen(false);
  };

  const applyFilters = (f: FormData) => {
    const val = (k: string) => String(f.get(k) ?? '').trim();
    update({
      device_id: val('device_id') || null,
      ip: val('ip') || null,
      port: val('port') || null,
      proto: val('proto') || null,
      app: val('app').toLowerCase() || null,
    });
  };

  const jump = (latest: string) => {
    const t = Date.parse(latest);
    update({
      range: null,
      from: new Date(t - JUMP_MS + 60_000).toISOString(),
      to: new Date(t + 60_000).toISOString(),
    });
  };

  const protoValue = q.filters.proto ?? '';
  const knownProto = PROTOCOLS.some((p) => String(p.n) === protoValue);
  const showCustom = customOpen || q.preset === null;

  return (
    <>
      <PageHeader title="Traffic" subtitle="Flows, volume and top talkers for any time range" />
      <div className={explorer.toolbar}>
        <div role="group" aria-label="Time range" className={explorer.segmented}>
          {PRESETS.map((p) => (
            <button
              key={p.key}
              type="button"
              aria-pressed={q.preset === p.key && !customOpen}
              aria-label={`Last ${p.label}`}
              onClick={() => {
                setCustomOpen(false);
                update({ range: p.key, from: null, to: null });
              }}
            >
              {p.label}
            </button>
          ))}
          <button type="button" aria-pressed={showCustom} onClick={() => setCustomOpen(true)}>
            Custom
          </button>
        </div>
        <span className={explorer.rangeText} data-testid="range-text">
          {`${formatDateTime(q.from)} – ${formatDateTime(q.to)}`}
        </span>
        <button type="button" onClick={() => setAnchor(now())} data-testid="traffic-refresh">
          {freshFlows === 0
            ? 'Refresh'
            : filtered
              ? 'Refresh: new flows stored'
              : `Refresh: ${formatInt(freshFlows)} new ${freshFlows === 1 ? 'flow' : 'flows'}`}
        </button>
      </div>
      {showCustom ? (
        <form
          key={`range-${key}`}
          className={pageStyles.form}
          aria-label="Custom time range"
          onSubmit={applyRange}
        >
          <InputField
            id="tr-from"
            label="From"
            name="from"
            type="datetime-local"
            required
            defaultValue={toLocalInput(q.from)}
          />
          <InputField
            id="tr-to"
            label="To"
            name="to"
            type="datetime-local"
            defaultValue={toLocalInput(q.to)}
          />
          <button type="submit" className="primary">
            Apply range
          </button>
          {q.preset !== null ? (
            <button type="button" onClick={() => setCustomOpen(false)}>
              Cancel
            </button>
          ) : null}
        </form>
      ) : null}
      <FilterForm
        key={`filters-${key}`}
        label="Filter flows"
        onApply={applyFilters}
        onClear={() => update({ device_id: null, ip: null, port: null, proto: null, app: null })}
        clearText="Clear filters"
      >
        <InputField
          id="tr-device"
          label="Device ID"
          name="device_id"
          type="number"
          min={1}
          inputMode="numeric"
          defaultValue={q.filters.device_id ?? ''}
        />
        <InputField
          id="tr-ip"
          label="IP address"
          name="ip"
          maxLength={45}
          pattern="[0-9A-Fa-f:.]{2,45}"
          title="An IPv4 or IPv6 address"
          placeholder="10.0.0.5 or fe80::1"
          defaultValue={q.filters.ip ?? ''}
        />
        <InputField
          id="tr-port"
          label="Port"
          name="port"
          type="number"
          min={0}
          max={65535}
          inputMode="numeric"
          defaultValue={q.filters.port ?? ''}
        />
        <Field id="tr-proto" label="Protocol">
          <select id="tr-proto" name="proto" defaultValue={protoValue}>
            <option value="">Any</option>
            {PROTOCOLS.map((p) => (
              <option key={p.n} value={String(p.n)}>
                {`${p.name} (${p.n})`}
              </option>
            ))}
            {protoValue && !knownProto ? (
              <option value={protoValue}>{`Protocol ${protoValue}`}</option>
            ) : null}
          </select>
        </Field>
        <InputField
          id="tr-app"
          label="Application"
          name="app"
          maxLength={32}
          pattern="[A-Za-z0-9_\-]{1,32}"
          title="An application protocol such as dns, tls, http"
          placeholder="dns, tls, http, mqtt"
          defaultValue={q.filters.app ?? ''}
        />
      </FilterForm>
      <div className={explorer.split}>
        <SeriesPanel key={view} qKey={qKey} />
        <TalkersPanel key={view} qKey={qKey} filterLink={filterLink} />
      </div>
      <FlowsPanel key={view} qKey={qKey} onJump={jump} />
    </>
  );
}
