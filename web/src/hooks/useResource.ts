import { useCallback, useEffect, useState } from 'react';
import { asApiError, type ApiError } from '../api/client';

export type Resource<T> =
  | { state: 'loading'; data: undefined; error: undefined; reload(): void }
  | { state: 'ready'; data: T; error: undefined; reload(): void }
  | { state: 'error'; data: undefined; error: ApiError; reload(): void };

interface Result<T> {
  load: unknown;
  nonce: number;
  data?: T;
  error?: ApiError;
}

/**
 * Loads data with `load` (memoise it with useCallback: a new function means a new request) and exposes
 * loading, ready and error states. The previous request is aborted when `load` changes or on unmount.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [nonce, setNonce] = useState(0);
  const [result, setResult] = useState<Result<T> | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setResult({ load, nonce, data });
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setResult({ load, nonce, error: asApiError(e) });
      },
    );
    return () => ctl.abort();
  }, [load, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  // While reloading the same resource, keep showing what we have instead of flashing a spinner.
  const current = result && result.load === load ? result : null;
  if (!current) return { state: 'loading', data: undefined, error: undefined, reload };
  if (current.error) return { state: 'error', data: undefined, error: current.error, reload };
  return { state: 'ready', data: current.data as T, error: undefined, reload };
}
