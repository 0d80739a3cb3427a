import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import styles from './States.module.css';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className={styles.box} role="status" aria-live="polite">
      <span className={styles.spinner} aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className={styles.box} data-testid="empty-state">
      <p className={styles.title}>{title}</p>
      {children}
    </div>
  );
}

const friendly: Record<string, string> = {
  FORBIDDEN: 'Your role does not allow this.',
  NETWORK: 'Cannot reach the server.',
  RATE_LIMITED: 'Too many requests; wait a moment.',
  ROUTE_RATE_LIMITED: 'Too many requests of this kind; wait a moment.',
  DATABASE_UNAVAILABLE: 'The database is unavailable; retry shortly.',
};

export function ErrorState({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div className={`${styles.box} ${styles.error}`} role="alert">
      <p className={styles.title}>{friendly[error.code] ?? 'Something went wrong.'}</p>
      <p>
        {error.message} <span className={styles.code}>({error.code})</span>
      </p>
      {onRetry && error.code !== 'FORBIDDEN' ? (
        <div className={styles.actions}>
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        </div>
      ) : null}
    </div>
  );
}
