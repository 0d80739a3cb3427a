import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import type { DashboardMetrics } from '../api/types';
import { SEVERITIES } from '../api/types';
import { useApi } from '../auth';
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/Page';
import { Empty, ErrorState, Loading } from '../components/States';
import { deviceLabel, formatBytes, formatDateTime, formatInt, formatRate } from '../format';
import { useResource } from '../hooks/useResource';
import { useLiveEvents } from '../live';
import { useTheme } from '../theme';
import { AlertsChart, DeviceTypesChart, TrafficChart } from './overview/charts';
import styles from './overview/Overview.module.css';

const REFRESH_MS = 30_000;
const LIVE_MIN_GAP_MS = 5_000;
const LIVE_TYPES = [
  'traffic_tick',
  'new_alert',
  'alert_update',
  'new_device',
  'device_update',
  'resync',
] as const;

function Stat({
  label,
  value,
  sub,
  children,
}: {
  label: string;
  value: string;
  sub?: string;
  children?: ReactNode;
}) {
  return (
    <section className={styles.card} aria-label={label}>
      <p className={styles.label}>{label}</p>
      <p className={styles.value}>{value}</p>
      {sub ? <p className={styles.sub}>{sub}</p> : null}
      {children}
    </section>
  );
}

function Panel({ title, className, children }: { title: string; className?: string; children: ReactNode }) {
  const id = `panel-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className={`${styles.card} ${className ?? ''}`} aria-labelledby={id}>
      <h2 id={id} className={styles.panelTitle}>
        {title}
      </h2>
      {children}
    </section>
  );
}

const total = (s: { values: number[] }[]) => s.reduce((a, x) => a + x.values.reduce((b, v) => b + v, 0), 0);

function Dashboard({ m }: { m: DashboardMetrics }) {
  const { theme } = useTheme();
  const trafficTotal = total(m.traffic_over_time.series);
  const alertTotal = total(m.alerts_over_time.series);
  return (
    <>
      <div className={styles.stats}>
        <Stat
          label="Devices online"
          value={`${formatInt(m.devices.online)} / ${formatInt(m.devices.total)}`}
          sub={`${formatInt(m.devices.new_24h)} new in the last 24 h`}
        />
        <Stat label="Open alerts" value={formatInt(m.alerts_open.total)}>
          <ul className={styles.chips} aria-label="Open alerts by severity">
            {SEVERITIES.filter((s) => m.alerts_open[s] > 0).map((s) => (
              <li key={s} className={`${styles.chip} ${styles[s]}`}>
                {formatInt(m.alerts_open[s])} {s}
              </li>
            ))}
          </ul>
        </Stat>
        <Stat
          label="Critical vulnerabilities"
          value={formatInt(m.vulnerabilities.critical)}
          sub={`${formatInt(m.vulnerabilities.kev)} known exploited (KEV) · ${formatInt(m.vulnerabilities.affected_devices)} devices affected`}
        />
        <Stat
          label="Traffic now"
          value={formatRate(m.traffic_rate.bytes_per_second)}
          sub={`${formatInt(m.traffic_rate.packets_per_second)} packets/s · ${formatInt(m.traffic_rate.flows_per_minute)} flows/min (last ${m.traffic_rate.window_seconds / 60} min)`}
        />
      </div>
      <div className={styles.grid}>
        <Panel title="Traffic by device type (24 h)" className={styles.wide}>
          {trafficTotal === 0 ? (
            <Empty title="No traffic in the last 24 hours">
              <p>Add a traffic source to see flows here.</p>
            </Empty>
          ) : (
            <div className={styles.chart}>
              <TrafficChart
                data={m.traffic_over_time}
                theme={theme}
                label={`Stacked traffic per 15 minutes by device type; ${formatBytes(trafficTotal)} in total`}
              />
            </div>
          )}
        </Panel>
        <Panel title="Device types" className={styles.narrow}>
          {m.device_types.length === 0 ? (
            <Empty title="No devices yet" />
          ) : (
            <div className={styles.chart}>
              <DeviceTypesChart
                types={m.device_types}
                theme={theme}
                label={`Devices by type: ${m.device_types.map((t) => `${t.device_type} ${t.count}`).join(', ')}`}
              />
            </div>
          )}
        </Panel>
        <Panel title="Alerts (24 h)" className={styles.half}>
          {alertTotal === 0 ? (
            <Empty title="No alerts in the last 24 hours" />
          ) : (
            <div className={styles.chart}>
              <AlertsChart
                data={m.alerts_over_time}
                theme={theme}
                label={`Alerts per hour by severity; ${formatInt(alertTotal)} in the last 24 hours`}
              />
            </div>
          )}
        </Panel>
        <Panel title="Top talkers (24 h)" className={styles.half}>
          {m.top_talkers.length === 0 ? (
            <Empty title="No traffic in the last 24 hours" />
          ) : (
            <DataTable
              rows={m.top_talkers}
              caption="Top talkers by bytes in the last 24 hours"
              hideCaption
              rowKey={(r) => String(r.device_id)}
              columns={[
                { key: 'device', header: 'Device', render: (r) => deviceLabel(r) },
                { key: 'device_type', header: 'Type' },
                { key: 'bytes_out', header: 'Sent', numeric: true, render: (r) => formatBytes(r.bytes_out) },
                {
                  key: 'bytes_in',
                  header: 'Received',
                  numeric: true,
                  render: (r) => formatBytes(r.bytes_in),
                },
              ]}
            />
          )}
        </Panel>
        <Panel title="Riskiest devices" className={styles.half}>
          {m.riskiest_devices.length === 0 ? (
            <Empty title="No device has a risk score yet" />
          ) : (
            <DataTable
              rows={m.riskiest_devices}
              caption="Devices with the highest risk score"
              hideCaption
              rowKey={(r) => String(r.device_id)}
              columns={[
                { key: 'device', header: 'Device', render: (r) => deviceLabel(r) },
                { key: 'device_type', header: 'Type' },
                { key: 'risk_score', header: 'Risk', numeric: true, render: (r) => r.risk_score.toFixed(1) },
                { key: 'open_alerts', header: 'Alerts', numeric: true },
                { key: 'open_vulnerabilities', header: 'CVEs', numeric: true },
              ]}
            />
          )}
        </Panel>
        <Panel title="Where to next" className={styles.half}>
          <p className={styles.sub}>
            <Link to="/devices">Devices</Link> · <Link to="/alerts">Alerts</Link> ·{' '}
            <Link to="/vulnerabilities">Vulnerabilities</Link> · <Link to="/traffic">Traffic</Link>
          </p>
        </Panel>
      </div>
    </>
  );
}

export default function Overview() {
  const client = useApi();
  const load = useCallback(
    (signal: AbortSignal) => client.get<DashboardMetrics>('/dashboard/metrics', undefined, signal),
    [client],
  );
  const res = useResource(load);
  const { reload } = res;

  useEffect(() => {
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);

  // Live events refresh the numbers: at once, then at most every 5 s (a burst ends with one more reload).
  const lastLive = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (pending.current !== null) clearTimeout(pending.current);
    },
    [],
  );
  useLiveEvents(LIVE_TYPES, () => {
    if (pending.current !== null) return;
    const wait = Math.max(0, lastLive.current + LIVE_MIN_GAP_MS - Date.now());
    pending.current = setTimeout(() => {
      pending.current = null;
      lastLive.current = Date.now();
      reload();
    }, wait);
  });

  return (
    <>
      <PageHeader title="Overview">
        {res.state === 'ready' ? (
          <span className={styles.updated}>Updated {formatDateTime(res.data.generated_at)}</span>
        ) : null}
      </PageHeader>
      {res.state === 'loading' ? (
        <Loading label="Loading the overview…" />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={reload} />
      ) : (
        <Dashboard m={res.data} />
      )}
    </>
  );
}
