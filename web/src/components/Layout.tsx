import { useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { useTheme } from '../theme';
import { useLiveStatus } from '../live';
import styles from './Layout.module.css';

export const NAV = [
  { to: '/', label: 'Overview', end: true },
  { to: '/devices', label: 'Devices' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/vulnerabilities', label: 'Vulnerabilities' },
  { to: '/traffic', label: 'Traffic' },
  { to: '/models', label: 'Models' },
  { to: '/sources', label: 'Sources' },
  { to: '/admin', label: 'Admin' },
] as const;

const STATUS_TEXT = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' } as const;
const STATUS_HELP = {
  live: 'Receiving live updates from the server.',
  connecting: 'Connecting to the live feed…',
  offline: 'No live feed: the server refused or dropped the connection. Pages still load; retrying.',
} as const;

export function ConnectionIndicator() {
  const status = useLiveStatus();
  return (
    <span
      className={`${styles.indicator} ${styles[status]}`}
      role="status"
      aria-live="polite"
      title={STATUS_HELP[status]}
      data-testid="connection"
      data-status={status}
    >
      <span className={styles.dot} aria-hidden="true" />
      {STATUS_TEXT[status]}
      <span className="visually-hidden">: {STATUS_HELP[status]}</span>
    </span>
  );
}

export function Layout() {
  const { user, logout } = useAuth();
  const { theme, toggle } = useTheme();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuFor, setMenuFor] = useState<string | null>(null);
  const menuOpen = menuFor === location.pathname; // closes by itself on navigation

  return (
    <>
      <a className={styles.skip} href="#main">
        Skip to content
      </a>
      <div className={styles.shell}>
        <header className={styles.sidebar}>
          <NavLink to="/" className={styles.brand} end>
            <img src="/favicon.svg" alt="" />
            IoTSec
          </NavLink>
          <button
            type="button"
            className={styles.menuButton}
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuFor(menuOpen ? null : location.pathname)}
          >
            Menu
          </button>
          <nav id="main-nav" aria-label="Main" className={`${styles.nav} ${menuOpen ? styles.navOpen : ''}`}>
            <ul>
              {NAV.map((n) => (
                <li key={n.to}>
                  <NavLink to={n.to} end={'end' in n ? n.end : false}>
                    {n.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        <div className={styles.main}>
          <div className={styles.topbar}>
            <ConnectionIndicator />
            <button
              type="button"
              onClick={toggle}
              aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
            >
              {theme === 'dark' ? 'Light theme' : 'Dark theme'}
            </button>
            {user ? (
              <span className={styles.user}>
                {user.username} <span aria-label="role">({user.role})</span>
              </span>
            ) : null}
            <button
              type="button"
              onClick={() => {
                void logout().then(() => navigate('/login', { replace: true }));
              }}
            >
              Log out
            </button>
          </div>
          <main id="main" className={styles.content} tabIndex={-1}>
            <Outlet />
          </main>
        </div>
      </div>
    </>
  );
}
