import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_SPEC, loadConfig } from './config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: './data',
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
      corsOrigins: [],
      tls: undefined,
      accessTokenTtl: 900,
      loginMaxFailures: 5,
    });
  });

  it('parses values from the environment', () => {
    const c = loadConfig({
      PORT: '9000',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      DATABASE_URL: 'postgres://u@db:5432/iotsec',
      REDIS_URL: 'redis://cache:6379',
      TRUST_PROXY: 'true',
      TLS_CERT: '/c.pem',
      TLS_KEY: '/k.pem',
      NETFLOW_SPOOL_MB: '0',
    });
    expect(c.port).toBe(9000);
    expect(c.netflowSpoolMb).toBe(0);
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.databaseUrl).toBe('postgres://u@db:5432/iotsec');
    expect(c.trustProxy).toBe(true);
    expect(c.tls).toEqual({ cert: '/c.pem', key: '/k.pem' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['ADMIN_PASSWORD', 'short'],
    ['JWT_SECRET', 'tooshort'],
    ['TRUST_PROXY', 'maybe'],
    ['DEMO', 'sometimes'],
    ['NETFLOW_SPOOL_MB', '-1'],
    ['NETFLOW_SPOOL_MB', 'lots'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toContain(name);
  });

  it('needs TLS_CERT and TLS_KEY together, naming the missing one', () => {
    expect(() => loadConfig({ TLS_CERT: '/c.pem' })).toThrow(/TLS_KEY/);
    expect(() => loadConfig({ TLS_KEY: '/k.pem' })).toThrow(/TLS_CERT/);
  });

  it('is documented: the README configuration table lists every variable with its default', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const [name, spec] of Object.entries(ENV_SPEC)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\``));
      expect(row, `README row for ${name}`).toBeDefined();
      const shown = spec.default === undefined || spec.default === '' ? '(unset)' : `\`${spec.default}\``;
      expect(row, `default of ${name}`).toContain(shown);
    }
  });
});
