import { useSearchParams } from 'react-router-dom';

export type ParamChange = Record<string, string | null>;

/**
 * The URL's query and `update`, which sets the given parameters (an empty value removes one). Unless
 * `keepCursor`, a change that does not set the cursor drops it: a cursor belongs to one filter and sort.
 */
export function useSearchUpdate({ keepCursor = false }: { keepCursor?: boolean } = {}) {
  const [params, setParams] = useSearchParams();
  const update = (change: ParamChange) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(change)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!keepCursor && !('cursor' in change)) next.delete('cursor');
    setParams(next);
  };
  return { params, setParams, update };
}
