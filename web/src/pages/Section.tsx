import type { ReactNode } from 'react';
import type { Query } from '../api/client';
import { Empty, ErrorState, Loading } from '../components/States';
import { humanize } from '../format';
import type { Message } from '../hooks/useAction';
import { useGet } from '../hooks/useGet';
import styles from './Inventory.module.css';

export { errorText } from '../format';

/** A titled panel: a section named by its heading. */
export function Panel({ id, title, children }: { id: string; title: ReactNode; children?: ReactNode }) {
  return (
    <section className={styles.panel} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** A titled panel that loads its own list (GET `path` with `query`), with loading, empty and error states. */
export function Section<T extends { items: readonly unknown[] }>({
  title,
  path,
  query,
  empty,
  children,
  id,
}: {
  title: string;
  id: string;
  path: string;
  query?: Query;
  /** The title shown when the list has no items. */
  empty: string;
  children: (data: T, reload: () => void) => ReactNode;
}) {
  const res = useGet<T>(path, query);
  return (
    <Panel id={id} title={title}>
      {res.state === 'loading' ? (
        <Loading label={`Loading ${title.toLowerCase()}…`} />
      ) : res.state === 'error' ? (
        <ErrorState error={res.error} onRetry={res.reload} />
      ) : res.data.items.length === 0 ? (
        <Empty title={empty} />
      ) : (
        children(res.data, res.reload)
      )}
    </Panel>
  );
}

/** What an action did, or why it failed; `plain` leaves out the message box. */
export function StatusMessage({ message, plain }: { message: Message | null; plain?: boolean }) {
  if (!message) return null;
  const tone = message.ok ? styles.ok : styles.bad;
  return (
    <p role="status" className={plain ? tone : `${styles.message} ${tone}`}>
      {message.text}
    </p>
  );
}

/** Free-form key/value pairs (evidence, metrics, parameters) as a definition list, keys humanized. */
export function FactList({
  entries,
  valueClassName,
}: {
  entries: readonly (readonly [string, ReactNode])[];
  valueClassName?: string;
}) {
  return (
    <dl className={styles.facts}>
      {entries.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{humanize(k)}</dt>
          <dd className={valueClassName}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function SeverityBadge({ severity }: { severity: string }) {
  const cls = (styles as Record<string, string | undefined>)[severity] ?? styles.info;
  return <span className={`${styles.badge} ${cls}`}>{severity}</span>;
}
