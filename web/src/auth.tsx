import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { ApiClient, Role, SessionUser } from './api/client';

export type AuthStatus = 'loading' | 'anonymous' | 'authenticated';

interface AuthValue {
  status: AuthStatus;
  user: SessionUser | null;
  client: ApiClient;
  login(username: string, password: string): Promise<SessionUser>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

interface State {
  status: AuthStatus;
  user: SessionUser | null;
}

const initial = (client: ApiClient): State =>
  client.currentUser
    ? { status: 'authenticated', user: client.currentUser }
    : { status: client.hasStoredSession() ? 'loading' : 'anonymous', user: null };

export function AuthProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const [state, setState] = useState<State>(() => initial(client));

  useEffect(() => {
    const off = client.onSessionChange((user) =>
      setState(user ? { status: 'authenticated', user } : { status: 'anonymous', user: null }),
    );
    void client
      .restore()
      .then((user) =>
        setState(user ? { status: 'authenticated', user } : { status: 'anonymous', user: null }),
      );
    return off;
  }, [client]);

  const value = useMemo<AuthValue>(
    () => ({
      ...state,
      client,
      login: (u, p) => client.login(u, p),
      logout: () => client.logout(),
    }),
    [state, client],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}

export const useApi = (): ApiClient => useAuth().client;

const RANK: Record<Role, number> = { sensor: 0, viewer: 1, analyst: 2, admin: 3 };

/** Whether a user may do what needs `needed` (admin > analyst > viewer; sensor keys never use the UI). */
export function hasRole(user: SessionUser | null, needed: Exclude<Role, 'sensor'>): boolean {
  return !!user && user.role !== 'sensor' && RANK[user.role] >= RANK[needed];
}

/** Renders its children only for users of at least `role`: the UI hides what the server would refuse. */
export function RequireRole({ role, children }: { role: Exclude<Role, 'sensor'>; children: ReactNode }) {
  const { user } = useAuth();
  return hasRole(user, role) ? <>{children}</> : null;
}
