import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import type { ApiClient } from '../api/client';
import { AuthProvider } from '../auth';

/** The current location, for tests that check what went into the URL. */
export function LocationProbe() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

/** Renders `element` at `url` (matched by `path`), logged in with `client`, the way the app does. */
export function renderAt(client: ApiClient, url: string, path: string, element: ReactNode) {
  return render(
    <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <AuthProvider client={client}>
        <Routes>
          <Route path={path} element={element} />
        </Routes>
        <LocationProbe />
      </AuthProvider>
    </MemoryRouter>,
  );
}
