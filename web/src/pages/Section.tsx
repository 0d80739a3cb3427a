import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import { Empty, ErrorState, Loading } from '../components/States';
import { useResource } from '../hooks/useResource';
import styles from './Inventory.module.css';

/** A titled panel that loads its own data, with loading, empty and error states. */
export function Section<T>({
  title,
  load,
  isEmpty,
  empty,
  children,
  id,
}: {
  title: string;
  id: string;
  load: (signal: AbortSignal) => Promise<T>;
  isEmpty: (data: T) => boolean;
  empty: string;
  children: (data: T, reload: () => void) => ReactNode;
}) {
  const res = useResource(load);
  return (
    <section className={styles.panel} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {res.state === 'loading' ? (
        <Loading label={`Loading ${title.toLowerCase()}…`} />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={res.reload} />
      ) : isEmpty(res.data) ? (
        <Empty title={empty} />
      ) : (
        children(res.data, res.reload)
      )}
    </section>
  );
}

export const errorText = (e: ApiError): string => `${e.message} (${e.code})`;

export function SeverityBadge({ severity }: { severity: string }) {
  const cls = (styles as Record<string, string | undefined>)[severity] ?? styles.info;
  return <span className={`${styles.badge} ${cls}`}>{severity}</span>;
}
