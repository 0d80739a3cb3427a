import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { asApiError, type SessionUser } from '../api/client';
import { useAuth } from '../auth';
import styles from './Login.module.css';

const MESSAGES: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong username or password.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator.',
  LOGIN_RATE_LIMITED: 'Too many failed attempts. Wait a minute and try again.',
  NETWORK: 'Cannot reach the server.',
};

export function LoginForm({
  onLogin,
  onSuccess,
}: {
  onLogin(username: string, password: string): Promise<SessionUser>;
  onSuccess(user: SessionUser): void;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSuccess(await onLogin(username, password));
    } catch (err) {
      const a = asApiError(err);
      setError(MESSAGES[a.code] ?? a.message);
      setBusy(false);
    }
  };

  return (
    <form className={styles.form} onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
      <div className={styles.field}>
        <label htmlFor="login-username">Username</label>
        <input
          id="login-username"
          name="username"
          autoComplete="username"
          required
          maxLength={128}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </div>
      <div className={styles.field}>
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={1024}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {error ? (
        <p id="login-error" className={styles.error} role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}

export default function LoginPage() {
  const { status, login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  if (status === 'authenticated') return <Navigate to={from} replace />;
  return (
    <div className={styles.wrap}>
      <main className={styles.card}>
        <div className={styles.brand}>
          <img src="/favicon.svg" alt="" />
          <h1>IoTSec</h1>
        </div>
        <LoginForm onLogin={login} onSuccess={() => navigate(from, { replace: true })} />
      </main>
    </div>
  );
}
