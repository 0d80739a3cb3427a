import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENV_SPEC } from './config.js';
import { COMMANDS } from './cli/program.js';

/**
 * No Docker engine or cluster runs here, so deploy/ is checked for what can be checked: every manifest
 * parses, every environment variable it sets is one the config knows, every command it runs is one the CLI
 * has, and the probes point at routes that exist.
 */
const DEPLOY = resolve(import.meta.dirname, '..', 'deploy');
const KNOWN_ENV = new Set<string>(Object.keys(ENV_SPEC));
const CLI = new Set(COMMANDS.map((c) => c.name));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function walk(v: Json, f: (key: string, value: Json, parent: Record<string, Json>) => void): void {
  if (Array.isArray(v)) v.forEach((x) => walk(x, f));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      f(k, x, v);
      walk(x, f);
    }
  }
}

function docs(file: string): Json[] {
  const all = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  for (const d of all) expect(d.errors, file).toEqual([]);
  return all.map((d) => d.toJS({ maxAliasCount: 100 }) as Json);
}

describe('deploy/', () => {
  const k8sFiles = readdirSync(join(DEPLOY, 'k8s')).filter((f) => f.endsWith('.yaml'));

  it('compose: parses, knows its env vars and runs real CLI commands with health checks', () => {
    const [compose] = docs(join(DEPLOY, 'docker-compose.yml')) as [
      { services: Record<string, Record<string, Json>> },
    ];
    const services = compose.services;
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'worker', 'collector', 'api-1']),
    );
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image === 'postgres:15' || svc.image === 'redis:7') {
        expect(svc.healthcheck, name).toBeDefined();
        continue;
      }
      const cmd = (svc.command as string[])[0] ?? '';
      expect(CLI.has(cmd), `${name} runs "${cmd}"`).toBe(true);
      for (const key of Object.keys(svc.environment as Record<string, Json>))
        expect(KNOWN_ENV.has(key), `${name}: ${key}`).toBe(true);
      if (cmd !== 'migrate') expect(svc.healthcheck, name).toBeDefined();
    }
  });

  it('kubernetes: every manifest parses; a Deployment per role with probes; HPA, Ingress, ConfigMap, Secret', () => {
    const kinds = new Map<string, string[]>();
    const envKeys = new Set<string>();
    const args: string[] = [];
    const probes: string[] = [];
    for (const f of k8sFiles) {
      for (const d of docs(join(DEPLOY, 'k8s', f))) {
        const o = d as {
          kind?: string;
          metadata?: { name?: string };
          data?: Record<string, string>;
          stringData?: Record<string, string>;
        };
        if (!o.kind || o.kind === 'Kustomization') continue;
        kinds.set(o.kind, [...(kinds.get(o.kind) ?? []), o.metadata?.name ?? '']);
        if (o.kind === 'ConfigMap') Object.keys(o.data ?? {}).forEach((k) => envKeys.add(k));
        if (o.kind === 'Secret') Object.keys(o.stringData ?? {}).forEach((k) => envKeys.add(k));
        walk(d, (key, value) => {
          if (key === 'args' && Array.isArray(value)) args.push(String(value[0]));
          if (key === 'env' && Array.isArray(value))
            for (const e of value) envKeys.add(String((e as { name: string }).name));
          if ((key === 'livenessProbe' || key === 'readinessProbe') && value && typeof value === 'object') {
            probes.push(String(((value as { httpGet?: { path?: string } }).httpGet ?? {}).path));
          }
        });
      }
    }
    expect(kinds.get('Deployment')?.sort()).toEqual(['iotsec-api', 'iotsec-collector', 'iotsec-worker']);
    for (const k of ['Service', 'Ingress', 'HorizontalPodAutoscaler', 'ConfigMap', 'Secret', 'Job'])
      expect(kinds.has(k), k).toBe(true);
    for (const a of args) expect(CLI.has(a), `args ${a}`).toBe(true);
    for (const k of envKeys) expect(KNOWN_ENV.has(k), `env ${k}`).toBe(true);
    expect(new Set(probes)).toEqual(new Set(['/healthz', '/readyz']));
  });

  it('the kustomization lists every manifest', () => {
    const [k] = docs(join(DEPLOY, 'k8s', 'kustomization.yaml')) as [{ resources: string[] }];
    expect(new Set(k.resources)).toEqual(new Set(k8sFiles.filter((f) => f !== 'kustomization.yaml')));
  });

  it('the Dockerfile runs the built CLI and builds what it copies', () => {
    const d = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(d).toMatch(/FROM node:20[^\n]* AS build/);
    expect(d).toContain('npm run build');
    expect(d).toContain('IOTSEC_USE_DIST=1');
    expect(d).toMatch(/ENTRYPOINT \[.*"bin\/iotsec.js"\]/);
    const cmd = /CMD \["(\w+)"\]/.exec(d)?.[1] ?? '';
    expect(CLI.has(cmd)).toBe(true);
  });
});
