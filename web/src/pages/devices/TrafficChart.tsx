import { Line } from 'react-chartjs-2';
import type { DeviceTraffic } from '../../api/types';
import { lineOptions, useChartColors } from '../../components/chart';
import { formatBytes, formatDateTime } from '../../format';
import { cssVar } from '../../theme';
import styles from '../Inventory.module.css';

/** Bytes sent and received per bucket (from /devices/:id/traffic). */
export default function DeviceTrafficChart({ data }: { data: DeviceTraffic }) {
  const { grid, text } = useChartColors();
  const options = lineOptions(text, {
    tooltip: {
      callbacks: { label: (c) => `${c.dataset.label ?? ''}: ${formatBytes(Number(c.parsed.y))}` },
    },
    scales: {
      x: { grid: { color: grid }, ticks: { maxTicksLimit: 8, color: text } },
      y: {
        beginAtZero: true,
        grid: { color: grid },
        ticks: { color: text, callback: (v) => formatBytes(Number(v)) },
      },
    },
  });
  const series = [
    { label: 'Sent', key: 'bytes_out', color: cssVar('--chart-1') },
    { label: 'Received', key: 'bytes_in', color: cssVar('--chart-2') },
  ] as const;
  return (
    <div
      className={styles.chart}
      role="img"
      aria-label={`Traffic per ${Math.round(data.bucket_seconds / 60)} minutes: bytes sent and received`}
    >
      <Line
        options={options}
        data={{
          labels: data.items.map((p) => formatDateTime(p.t)),
          datasets: series.map((s) => ({
            label: s.label,
            data: data.items.map((p) => p[s.key]),
            borderColor: s.color,
            backgroundColor: s.color,
            pointRadius: 0,
            borderWidth: 2,
            tension: 0.2,
          })),
        }}
      />
    </div>
  );
}
