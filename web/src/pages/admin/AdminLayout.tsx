import { NavLink, Outlet } from 'react-router-dom';
import { PageHeader } from '../../components/Page';
import styles from './Admin.module.css';

export default function AdminLayout() {
  return (
    <>
      <PageHeader title="Admin" subtitle="Users, API keys and the audit log" />
      <nav aria-label="Admin sections" className={styles.tabs}>
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/api-keys">API keys</NavLink>
        <NavLink to="/admin/audit">Audit log</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
