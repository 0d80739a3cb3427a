import { ArcElement, BarElement, type ChartOptions } from 'chart.js';
import { Bar, Doughnut, Line } from 'react-chartjs-2';
import type { TimeSeries } from '../../api/types';
import { ChartJS } from '../../components/chart';
import { formatBytes, formatInt, formatTime } from '../../format';
import { cssVar, type Theme } from '../../theme';

// Besides what the line charts draw: the bars and the doughnut.
ChartJS.register(BarElement, ArcElement);

const PALETTE = Array.from({ length: 9 }, (_, i) => `--chart-${i + 1}`);
const SEVERITY_VAR: Record<string, string> = {
  critical: '--sev-critical',
  high: '--sev-high',
  medium: '--sev-medium',
  low: '--sev-low',
  info: '--sev-info',
};

function base(theme: Theme) {
  void theme; // colours are read from the CSS of the current theme; the argument re-renders on a switch
  const text = cssVar('--muted');
  const grid = cssVar('--grid');
  ChartJS.defaults.color = text;
  ChartJS.defaults.font.family = getComputedStyle(document.body).fontFamily;
  return { text, grid };
}

const withAlpha = (color: string, alpha: string) => (/^#[0-9a-f]{6}$/i.test(color) ? color + alpha : color);

export function TrafficChart({ data, theme, label }: { data: TimeSeries; theme: Theme; label: string }) {
  const { grid } = base(theme);
  const options: ChartOptions<'line'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 12 } },
      tooltip: {
        callbacks: { label: (c) => `${c.dataset.label ?? ''}: ${formatBytes(Number(c.parsed.y))}` },
      },
    },
    scales: {
      x: { grid: { color: grid }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      y: { stacked: true, grid: { color: grid }, ticks: { callback: (v) => formatBytes(Number(v)) } },
    },
  };
  return (
    <Line
      aria-label={label}
      role="img"
      options={options}
      data={{
        labels: data.buckets.map(formatTime),
        datasets: data.series.map((s, i) => {
          const color = cssVar(PALETTE[i % PALETTE.length] ?? '--chart-1');
          return {
            label: s.name,
            data: s.values,
            borderColor: color,
            backgroundColor: withAlpha(color, '55'),
            fill: i === 0 ? 'origin' : '-1', // stacked areas: each fills down to the one below
            pointRadius: 0,
            borderWidth: 1.5,
            tension: 0.25,
          };
        }),
      }}
    />
  );
}

export function AlertsChart({ data, theme, label }: { data: TimeSeries; theme: Theme; label: string }) {
  const { grid } = base(theme);
  const options: ChartOptions<'bar'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    scales: {
      x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      y: {
        stacked: true,
        grid: { color: grid },
        ticks: { precision: 0, callback: (v) => formatInt(Number(v)) },
      },
    },
  };
  return (
    <Bar
      aria-label={label}
      role="img"
      options={options}
      data={{
        labels: data.buckets.map(formatTime),
        datasets: data.series.map((s) => ({
          label: s.name,
          data: s.values,
          backgroundColor: cssVar(SEVERITY_VAR[s.name] ?? '--chart-9'),
        })),
      }}
    />
  );
}

export function DeviceTypesChart({
  types,
  theme,
  label,
}: {
  types: { device_type: string; count: number }[];
  theme: Theme;
  label: string;
}) {
  base(theme);
  const options: ChartOptions<'doughnut'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: 'right', labels: { boxWidth: 12 } } },
  };
  return (
    <Doughnut
      aria-label={label}
      role="img"
      options={options}
      data={{
        labels: types.map((t) => t.device_type),
        datasets: [
          {
            data: types.map((t) => t.count),
            backgroundColor: types.map((_, i) => cssVar(PALETTE[i % PALETTE.length] ?? '--chart-1')),
            borderColor: cssVar('--surface'),
            borderWidth: 2,
          },
        ],
      }}
    />
  );
}
