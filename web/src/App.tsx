import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth';
import { Layout } from './components/Layout';
import { Loading } from './components/States';
import { LiveProvider } from './live';
import LoginPage from './pages/Login';

// Route-level code splitting: each page (and Chart.js, used by the overview only) loads on first visit.
const loadOverview = () => import('./pages/Overview');
// The landing page's code loads beside the session refresh at start-up instead of after it.
if (typeof window !== 'undefined' && window.location.pathname === '/') void loadOverview();
const Overview = lazy(loadOverview);
const AdminLayout = lazy(() => import('./pages/admin/AdminLayout'));
const Users = lazy(() => import('./pages/admin/Users'));
const ApiKeys = lazy(() => import('./pages/admin/ApiKeys'));
const AuditLog = lazy(() => import('./pages/admin/AuditLog'));
const NotFound = lazy(() => import('./pages/NotFound'));
const Devices = lazy(() => import('./pages/devices/Devices'));
const DeviceDetail = lazy(() => import('./pages/devices/DeviceDetail'));
const Alerts = lazy(() => import('./pages/alerts/Alerts'));
const AlertDetail = lazy(() => import('./pages/alerts/AlertDetail'));
const Vulnerabilities = lazy(() => import('./pages/vulnerabilities/Vulnerabilities'));
const VulnerabilityDetail = lazy(() => import('./pages/vulnerabilities/VulnerabilityDetail'));
const Traffic = lazy(() => import('./pages/traffic/Traffic'));
const Models = lazy(() => import('./pages/models/Models'));
const ModelDetail = lazy(() => import('./pages/models/ModelDetail'));
const Sources = lazy(() => import('./pages/sources/Sources'));

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
        <Route path="vulnerabilities" element={page(<Vulnerabilities />)} />
        <Route path="vulnerabilities/:cve" element={page(<VulnerabilityDetail />)} />
        <Route path="traffic" element={page(<Traffic />)} />
        <Route path="models" element={page(<Models />)} />
        <Route path="models/:id" element={page(<ModelDetail />)} />
        <Route path="sources" element={page(<Sources />)} />
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
