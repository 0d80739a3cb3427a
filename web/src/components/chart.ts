import {
  CategoryScale,
  Chart as ChartJS,
  Filler,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
  type ChartOptions,
} from 'chart.js';
import { cssVar, useTheme } from '../theme';

// Tree-shaken Chart.js: what the line charts draw (react-chartjs-2 registers the controllers).
ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, Filler, Legend, Tooltip);

export { ChartJS };

/** The grid and text colours of the current theme (the chart re-renders when it changes). */
export function useChartColors(): { grid: string; text: string } {
  const { theme } = useTheme();
  void theme; // re-render with the colours of the current theme
  return { grid: cssVar('--grid'), text: cssVar('--muted') };
}

/** A time series line chart: sized by its box, no animation, one tooltip for all series, legend below. */
export function lineOptions(
  text: string,
  rest: Pick<ChartOptions<'line'>, 'scales'> & {
    tooltip?: NonNullable<ChartOptions<'line'>['plugins']>['tooltip'];
  },
): ChartOptions<'line'> {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 12, color: text } },
      tooltip: rest.tooltip,
    },
    scales: rest.scales,
  };
}
