import { createContext, useCallback, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { useAuth } from './auth';
import { useLive, type LiveEvent, type LiveStatus } from './hooks/useLive';

/** A live event, or "resync": the server could not replay what was missed; reload from the API. */
export type LiveMessage = LiveEvent | { type: 'resync' };
type Listener = (e: LiveMessage) => void;

interface LiveValue {
  status: LiveStatus;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveValue>({ status: 'offline', subscribe: () => () => undefined });

/** One WebSocket for the whole app while logged in; pages subscribe to its events. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { status: auth, client } = useAuth();
  const listeners = useRef(new Set<Listener>());
  const onEvent = useCallback((e: LiveMessage) => {
    for (const l of listeners.current) l(e);
  }, []);
  const onResync = useCallback(() => onEvent({ type: 'resync' }), [onEvent]);
  const getToken = useCallback(() => client.freshAccessToken(), [client]);
  const { status } = useLive({ enabled: auth === 'authenticated', getToken, onEvent, onResync });
  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);
  const value = useMemo(() => ({ status, subscribe }), [status, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export const useLiveStatus = (): LiveStatus => useContext(LiveContext).status;

/** Calls `onEvent` for live messages of the given types. */
export function useLiveEvents(
  types: readonly LiveMessage['type'][],
  onEvent: (e: LiveMessage) => void,
): void {
  const { subscribe } = useContext(LiveContext);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const key = types.join(',');
  useEffect(
    () =>
      subscribe((e) => {
        if (key.split(',').includes(e.type)) handler.current(e);
      }),
    [subscribe, key],
  );
}
