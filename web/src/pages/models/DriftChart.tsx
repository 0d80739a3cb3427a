import {
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Legend,
  LinearScale,
  Tooltip,
  type ChartOptions,
} from 'chart.js';
import { Bar } from 'react-chartjs-2';
import { useChartColors } from '../../components/chart';
import { cssVar } from '../../theme';
import styles from '../Inventory.module.css';
import { psiLevel } from './metrics';

ChartJS.register(BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const LEVEL_VAR = { stable: '--ok', moderate: '--warn', significant: '--danger' } as const;

/** PSI per feature (largest first) of one serving window, coloured by the usual PSI thresholds. */
export default function DriftChart({ drift, label }: { drift: [string, number][]; label: string }) {
  const { grid, text } = useChartColors();
  const options: ChartOptions<'bar'> = {
    indexAxis: 'y',
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: {
      legend: { display: false },
      tooltip: {
        callbacks: { label: (c) => `PSI ${Number(c.parsed.x).toFixed(3)} (${psiLevel(Number(c.parsed.x))})` },
      },
    },
    scales: {
      x: { beginAtZero: true, grid: { color: grid }, ticks: { color: text } },
      y: { grid: { display: false }, ticks: { color: text, autoSkip: false } },
    },
  };
  return (
    <div
      className={styles.chart}
      style={{ height: `${Math.max(160, 24 * drift.length + 60)}px` }}
      role="img"
      aria-label={label}
      data-testid="drift-chart"
    >
      <Bar
        options={options}
        data={{
          labels: drift.map(([f]) => f),
          datasets: [
            {
              label: 'PSI',
              data: drift.map(([, v]) => v),
              backgroundColor: drift.map(([, v]) => cssVar(LEVEL_VAR[psiLevel(v)])),
            },
          ],
        }}
      />
    </div>
  );
}
