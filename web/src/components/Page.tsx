import type { ReactNode } from 'react';
import styles from './Page.module.css';

export { styles as pageStyles };

export function PageHeader({
  title,
  subtitle,
  children,
}: {
  title: string;
  subtitle?: string;
  children?: ReactNode;
}) {
  return (
    <div className={styles.header}>
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className={styles.subtitle}>{subtitle}</p> : null}
      </div>
      {children}
    </div>
  );
}

/** Cursor paging: "First page" drops the cursor, "Next page" follows next_cursor (both go into the URL). */
export function Pager({
  hasCursor,
  nextCursor,
  onFirst,
  onNext,
}: {
  hasCursor: boolean;
  nextCursor: string | null;
  onFirst(): void;
  onNext(cursor: string): void;
}) {
  if (!hasCursor && !nextCursor) return null;
  return (
    <nav className={styles.pager} aria-label="Pages">
      <button type="button" disabled={!hasCursor} onClick={onFirst}>
        First page
      </button>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}
