import { Line } from 'react-chartjs-2';
import type { TrafficBucket } from '../../api/types';
import { lineOptions, useChartColors } from '../../components/chart';
import { formatBytes, formatDateTime, formatInt, formatTime } from '../../format';
import { cssVar } from '../../theme';
import styles from '../Inventory.module.css';

/** Bytes (area, left axis) and flows (line, right axis) per bucket of the explorer's range. */
export default function TrafficSeriesChart({
  items,
  bucketSeconds,
  label,
}: {
  items: TrafficBucket[];
  bucketSeconds: number;
  label: string;
}) {
  const { grid, text } = useChartColors();
  const bytesColor = cssVar('--chart-1');
  const flowsColor = cssVar('--chart-2');
  const spanMs =
    items.length > 1 ? Date.parse(items[items.length - 1]?.t ?? '') - Date.parse(items[0]?.t ?? '') : 0;
  const tick = spanMs > 86_400_000 || bucketSeconds >= 3_600 ? formatDateTime : formatTime;
  const options = lineOptions(text, {
    tooltip: {
      callbacks: {
        title: (c) => formatDateTime(items[c[0]?.dataIndex ?? 0]?.t ?? ''),
        label: (c) =>
          c.datasetIndex === 0
            ? `Bytes: ${formatBytes(Number(c.parsed.y))}`
            : `Flows: ${formatInt(Number(c.parsed.y))}`,
      },
    },
    scales: {
      x: {
        grid: { color: grid },
        ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkipPadding: 16, color: text },
      },
      y: {
        beginAtZero: true,
        position: 'left',
        grid: { color: grid },
        ticks: { color: text, callback: (v) => formatBytes(Number(v)) },
      },
      flows: {
        beginAtZero: true,
        position: 'right',
        grid: { display: false },
        ticks: { color: text, precision: 0, callback: (v) => formatInt(Number(v)) },
      },
    },
  });
  return (
    <div className={styles.chart} role="img" aria-label={label} data-testid="traffic-chart">
      <Line
        options={options}
        data={{
          labels: items.map((b) => tick(b.t)),
          datasets: [
            {
              label: 'Bytes',
              data: items.map((b) => b.bytes),
              borderColor: bytesColor,
              backgroundColor: /^#[0-9a-f]{6}$/i.test(bytesColor) ? `${bytesColor}44` : bytesColor,
              fill: 'origin',
              pointRadius: 0,
              borderWidth: 1.5,
              tension: 0.2,
              yAxisID: 'y',
            },
            {
              label: 'Flows',
              data: items.map((b) => b.flows),
              borderColor: flowsColor,
              backgroundColor: flowsColor,
              pointRadius: 0,
              borderWidth: 1.5,
              tension: 0.2,
              yAxisID: 'flows',
            },
          ],
        }}
      />
    </div>
  );
}
