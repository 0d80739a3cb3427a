import { useCallback } from 'react';
import type { Query } from '../api/client';
import { useApi } from '../auth';
import { useResource, type Resource } from './useResource';

/**
 * GET `path` with `query` as a resource: a new request when the path or a query value changes (the query is
 * compared by value, so an object literal is fine), the previous one aborted.
 */
export function useGet<T>(path: string, query?: Query): Resource<T> {
  const client = useApi();
  const key = query === undefined ? '' : JSON.stringify(query);
  const load = useCallback(
    (signal: AbortSignal) => client.get<T>(path, key ? (JSON.parse(key) as Query) : undefined, signal),
    [client, path, key],
  );
  return useResource(load);
}
