import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './program.js';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'iotsec.js');

function run(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('iotsec CLI', () => {
  it('lists its commands and gives each a --help', () => {
    const top = run(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) {
      expect(top.out).toContain(c.name);
      const h = run([c.name, '--help']);
      expect(h.code, c.name).toBe(0);
      expect(h.out, c.name).toContain(`iotsec ${c.name}`);
    }
  });

  it('exits 2 on usage errors and bad configuration, naming the problem', () => {
    const unknown = run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command');
    const badOpt = run(['serve', '--bogus']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toMatch(/bogus/);
    const badEnv = run(['serve'], { PORT: 'not-a-port' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.err).toContain('PORT');
    const noArg = run(['users', 'add']);
    expect(noArg.code).toBe(2);
  });

  it('migrates, manages users and keys, and verifies the audit log on an embedded database', () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'iotsec-cli-')) };
    expect(run(['migrate'], env).code).toBe(0);
    const add = run(
      ['users', 'add', 'carol', '--role', 'analyst', '--password-stdin'],
      env,
      'carol-password-1\n',
    );
    expect(add.code, add.err).toBe(0);
    const weak = run(['users', 'add', 'dave', '--role', 'viewer', '--password-stdin'], env, 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.err).toContain('WEAK_PASSWORD');
    expect(run(['users', 'role', 'carol', 'viewer'], env).code).toBe(0);
    const list = run(['users', 'list', '--json'], env);
    expect(
      list.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { username: string; role: string }),
    ).toEqual([expect.objectContaining({ username: 'carol', role: 'viewer' })]);
    const key = run(['keys', 'create', 'gateway', '--json'], env);
    expect(key.code).toBe(0);
    const k = JSON.parse(key.out) as { key: string; prefix: string; role: string };
    expect(k.role).toBe('sensor');
    expect(k.key).toMatch(/^iotsec_/);
    expect(run(['keys', 'revoke', k.prefix], env).code).toBe(0);
    expect(run(['keys', 'revoke', k.prefix], env).code).toBe(1);
    const verify = run(['audit', 'verify'], env);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/intact: [3-9] rows/);
  });

  it('first start prints a generated admin password once, and serves /healthz', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-start-'));
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const startOnce = async () => {
      const child = spawn(process.execPath, [BIN, 'start', '--no-demo'], {
        env: { ...process.env, DATA_DIR: dataDir, PORT: port, LOG_LEVEL: 'warn' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 60_000;
      let healthy = false;
      while (Date.now() < deadline && !healthy) {
        await new Promise((r) => setTimeout(r, 250));
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      const password = /password: (\S+)/.exec(out)?.[1];
      let login = 0;
      if (password) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password }),
        });
        login = res.status;
      }
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      return { healthy, password, login, code };
    };
    const first = await startOnce();
    expect(first.healthy).toBe(true);
    expect(first.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(first.login).toBe(200);
    expect(first.code).toBe(0); // graceful shutdown on SIGTERM
    const second = await startOnce();
    expect(second.healthy).toBe(true);
    expect(second.password).toBeUndefined(); // printed once only
  }, 120_000);
});
