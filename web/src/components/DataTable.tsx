import type { ReactNode } from 'react';
import { humanize, toText } from '../format';
import styles from './DataTable.module.css';

export interface Column<T> {
  key: string;
  header: string;
  /** Header content instead of the text (e.g. a "select all" checkbox); `header` stays its accessible name. */
  headerNode?: ReactNode;
  /** Cell content; default: the field as text. Never HTML: React escapes every string. */
  render?: (row: T) => ReactNode;
  numeric?: boolean;
  /** The server's sort key for this column: its header becomes a sort button. */
  sortKey?: string;
}

export interface SortState {
  key: string;
  order: 'asc' | 'desc';
  onSort(key: string): void;
}

export interface DataTableProps<T> {
  rows: T[];
  columns: Column<T>[];
  caption: string;
  /** Show the caption to screen readers only. */
  hideCaption?: boolean;
  rowKey: (row: T, index: number) => string;
  /** Extra class of a row (e.g. a highlight). */
  rowClassName?: (row: T) => string | undefined;
  sort?: SortState;
}

function Header<T>({ c, sort }: { c: Column<T>; sort?: SortState }) {
  if (c.headerNode !== undefined) return <>{c.headerNode}</>;
  if (!sort || !c.sortKey) return <>{c.header}</>;
  const active = sort.key === c.sortKey;
  const arrow = active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : '';
  const sortKey = c.sortKey;
  return (
    <button type="button" className={styles.sortButton} onClick={() => sort.onSort(sortKey)}>
      {c.header}
      <span aria-hidden="true">{arrow}</span>
    </button>
  );
}

export function DataTable<T>({
  rows,
  columns,
  caption,
  hideCaption,
  rowKey,
  rowClassName,
  sort,
}: DataTableProps<T>) {
  return (
    <div className={styles.wrap}>
      <table className={styles.table}>
        <caption className={hideCaption ? 'visually-hidden' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={c.numeric ? styles.numeric : undefined}
                aria-sort={
                  sort && c.sortKey && sort.key === c.sortKey
                    ? sort.order === 'asc'
                      ? 'ascending'
                      : 'descending'
                    : undefined
                }
              >
                <Header c={c} sort={sort} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={rowKey(row, i)} className={rowClassName?.(row)}>
              {columns.map((c) => (
                <td key={c.key} className={`${styles.cell} ${c.numeric ? styles.numeric : ''}`}>
                  {c.render ? c.render(row) : toText((row as Record<string, unknown>)[c.key])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Columns for records whose shape is not known in advance: the union of their keys, in first-seen order. */
export function inferColumns(rows: Record<string, unknown>[], max = 12): Column<Record<string, unknown>>[] {
  const keys: string[] = [];
  for (const r of rows.slice(0, 50)) {
    for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  }
  return keys.slice(0, max).map((k) => ({
    key: k,
    header: humanize(k),
    numeric: rows.every((r) => r[k] === null || r[k] === undefined || typeof r[k] === 'number'),
  }));
}
