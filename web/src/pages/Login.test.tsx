import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../api/client';
import { fakeFetch, json, MemoryStorage, pair } from '../test/fake-api';
import { LoginForm } from './Login';

afterEach(cleanup);

function fill(username: string, password: string) {
  fireEvent.change(screen.getByLabelText('Username'), { target: { value: username } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
}

describe('LoginForm', () => {
  it('logs in through the API client and reports the user', async () => {
    const f = fakeFetch((c) => (c.path === '/auth/login' ? json(200, pair(1, 'analyst')) : undefined));
    const client = new ApiClient({ fetch: f.fetch, storage: new MemoryStorage() });
    const onSuccess = vi.fn();
    render(<LoginForm onLogin={(u, p) => client.login(u, p)} onSuccess={onSuccess} />);
    fill('ana', 'secret-password');
    await waitFor(() =>
      expect(onSuccess).toHaveBeenCalledWith({ id: 'u-analyst', username: 'a-analyst', role: 'analyst' }),
    );
    expect(f.calls[0]).toMatchObject({
      method: 'POST',
      path: '/auth/login',
      body: { username: 'ana', password: 'secret-password' },
    });
  });

  it('shows the reason of a refusal as an alert and lets the user try again', async () => {
    const f = fakeFetch(() =>
      json(401, { error: { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password.' } }),
    );
    const client = new ApiClient({ fetch: f.fetch, storage: new MemoryStorage() });
    const onSuccess = vi.fn();
    render(<LoginForm onLogin={(u, p) => client.login(u, p)} onSuccess={onSuccess} />);
    fill('admin', 'wrong');
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'Wrong username or password.');
    expect(screen.getByRole('button', { name: 'Log in' })).toHaveProperty('disabled', false);
    expect(onSuccess).not.toHaveBeenCalled();
  });

  it('labels its fields for assistive technology', () => {
    render(<LoginForm onLogin={vi.fn()} onSuccess={vi.fn()} />);
    expect(screen.getByLabelText('Username')).toHaveProperty('autocomplete', 'username');
    expect(screen.getByLabelText('Password')).toHaveProperty('type', 'password');
  });
});
