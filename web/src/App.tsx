import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth';
import { Layout } from './components/Layout';
import { Loading } from './components/States';
import { LiveProvider } from './live';
import LoginPage from './pages/Login';

// Route-level code splitting: each page (and Chart.js, used by the overview only) loads on first visit.
const Overview = lazy(() => import('./pages/Overview'));
const ResourcePage = lazy(() => import('./pages/ResourcePage'));
const AdminLayout = lazy(() => import('./pages/admin/AdminLayout'));
const Users = lazy(() => import('./pages/admin/Users'));
const ApiKeys = lazy(() => import('./pages/admin/ApiKeys'));
const AuditLog = lazy(() => import('./pages/admin/AuditLog'));
const NotFound = lazy(() => import('./pages/NotFound'));
const Devices = lazy(() => import('./pages/devices/Devices'));
const DeviceDetail = lazy(() => import('./pages/devices/DeviceDetail'));
const Alerts = lazy(() => import('./pages/alerts/Alerts'));
const AlertDetail = lazy(() => import('./pages/alerts/AlertDetail'));

/** Pages whose API is still being built: they show the list as soon as the endpoint answers. */
export const RESOURCES = [
  {
    path: 'vulnerabilities',
    title: 'Vulnerabilities',
    endpoint: '/vulnerabilities',
    what: 'vulnerabilities',
  },
  { path: 'traffic', title: 'Traffic', endpoint: '/network-traffic', what: 'flows' },
  { path: 'models', title: 'Models', endpoint: '/models', what: 'models' },
  { path: 'sources', title: 'Sources', endpoint: '/sources', what: 'traffic sources' },
] as const;

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <Loading label="Resuming your session…" />;
  if (status === 'anonymous')
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

const page = (node: ReactNode) => <Suspense fallback={<Loading />}>{node}</Suspense>;

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <LiveProvider>
              <Layout />
            </LiveProvider>
          </RequireAuth>
        }
      >
        <Route index element={page(<Overview />)} />
        <Route path="devices" element={page(<Devices />)} />
        <Route path="devices/:id" element={page(<DeviceDetail />)} />
        <Route path="alerts" element={page(<Alerts />)} />
        <Route path="alerts/:id" element={page(<AlertDetail />)} />
        {RESOURCES.map((r) => (
          <Route
            key={r.path}
            path={r.path}
            element={page(<ResourcePage key={r.path} title={r.title} endpoint={r.endpoint} what={r.what} />)}
          />
        ))}
        <Route path="admin" element={page(<AdminLayout />)}>
          <Route index element={<Navigate to="users" replace />} />
          <Route path="users" element={page(<Users />)} />
          <Route path="api-keys" element={page(<ApiKeys />)} />
          <Route path="audit" element={page(<AuditLog />)} />
        </Route>
        <Route path="*" element={page(<NotFound />)} />
      </Route>
    </Routes>
  );
}
