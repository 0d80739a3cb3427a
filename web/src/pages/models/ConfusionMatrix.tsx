import type { CSSProperties } from 'react';
import { formatInt } from '../../format';
import explorer from '../Explorer.module.css';
import type { Confusion } from './metrics';

/**
 * A confusion matrix as a table (screen readers read it cell by cell with its headers) shaded like a heat
 * map: each cell by its share of the row, that is of the true class. The share is also in the cell's text
 * for screen readers and in its tooltip, so the colour is never the only carrier of the information.
 */
export function ConfusionMatrix({ confusion, caption }: { confusion: Confusion; caption: string }) {
  const { labels, counts } = confusion;
  return (
    <div className={explorer.matrixWrap}>
      <table className={explorer.matrix} data-testid="confusion-matrix">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">True ↓ / predicted →</th>
            {labels.map((l) => (
              <th key={l} scope="col">
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((truth, i) => {
            const row = counts[i] ?? [];
            const total = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={truth}>
                <th scope="row">{truth}</th>
                {row.map((n, j) => {
                  const share = total > 0 ? n / total : 0;
                  const pct = Math.round(share * 100);
                  // Light shades keep the page's text colour, dark ones the accent's: both pass 4.5:1 in
                  // either theme, so the shading skips the middle where neither would.
                  const dark = pct >= 50;
                  const mix = dark ? 85 + (pct - 50) * 0.3 : 8 + pct * 0.84;
                  const style: CSSProperties =
                    n === 0
                      ? {}
                      : {
                          background: `color-mix(in srgb, var(--accent) ${mix.toFixed(0)}%, var(--surface))`,
                          color: dark ? 'var(--accent-text)' : undefined,
                        };
                  const predicted = labels[j] ?? String(j);
                  return (
                    <td
                      key={predicted}
                      className={i === j ? explorer.diagonal : undefined}
                      style={style}
                      title={`${truth} predicted as ${predicted}: ${formatInt(n)} (${pct}% of ${truth})`}
                    >
                      {formatInt(n)}
                      <span className="visually-hidden">{` (${pct}% of ${truth})`}</span>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className={explorer.legend}>
        <span>Shading: share of the true class (row).</span>
        <span>Outlined: correct predictions (diagonal).</span>
      </p>
    </div>
  );
}
