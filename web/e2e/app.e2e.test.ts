import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { raiseAlert } from '../../src/alerts/service.js';
import { ensureWebBuild, webBuildReason, webDist } from '../../src/api/web.js';
import { EVENTS_CHANNEL, makeEvent } from '../../src/bus/events.js';
import { ingestFile } from '../../src/ingest/file-ingest.js';
import { projectRoot } from '../../src/store/db.js';
import { ADMIN_PASSWORD, makeStack, type Stack } from '../../src/test-support/api.js';
import { seedDashboard } from '../../src/test-support/dashboard-seed.js';
import { hasSharedData, SHARED_DATA } from '../../src/test-support/services.js';
import { IsolationForest } from '../../src/ml/isolation-forest.js';
import { ROLLUP_SIGNATURE, trafficMatrix } from '../../src/ml/registry/test-support.js';
import { modelServices } from '../../src/ml/registry/services.js';
import { modelMetrics } from '../../src/store/schema.js';
import { startIngestJobs } from '../../src/worker/ingest-jobs.js';
import { startTraining } from '../../src/worker/training.js';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real API listening on
 * a random 127.0.0.1 port, on a fresh embedded database. SCREENSHOTS=1 also writes docs/screenshots/*.png.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const msg = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${msg}: CI must run the browser tests`);
  console.warn(`SKIPPED: ${msg}; the end-to-end tests are skipped`);
}
const SHOTS = process.env.SCREENSHOTS === '1';
const SHOT_DIR = join(projectRoot(), 'docs', 'screenshots');
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const XSS = '<img src=x onerror=alert(1)>';
const BUDGET_GZ = 300 * 1024;
interface Watched {
  page: Page;
  context: BrowserContext;
  errors: string[];
  dialogs: string[];
}

describe.skipIf(!hasChromium)('dashboard end to end (Chromium)', () => {
  let s: Stack;
  let base: string;
  let browser: Browser;
  let stopWorker: (() => Promise<void>) | undefined;
  let stopTraining: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    await ensureWebBuild();
    expect(webBuildReason()).toBeNull();
    s = await makeStack('embedded');
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    if (SHOTS) mkdirSync(SHOT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await stopTraining?.();
    await stopWorker?.();
    await browser?.close();
    await s?.close();
  });

  async function open(viewport = DESKTOP, colorScheme: 'light' | 'dark' = 'light'): Promise<Watched> {
    const context = await browser.newContext({ viewport, colorScheme, reducedMotion: 'reduce' });
    const page = await context.newPage();
    const errors: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      // A server without the destination-profile route answers 404: the device page shows an empty state.
      if (m.type() === 'error' && !/\/devices\/\d+\/destinations$/.test(m.location().url))
        errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    return { page, context, errors, dialogs };
  }

  async function login(page: Page, username: string, password: string) {
    await page.goto(`${base}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/`);
  }

  async function shot(page: Page, name: string) {
    if (SHOTS) await page.screenshot({ path: join(SHOT_DIR, `${name}.png`), fullPage: true });
  }

  /** Form controls without an accessible name (label, aria-label or, for buttons, text). */
  function unlabelledControls(page: Page): Promise<string[]> {
    return page.evaluate<string[]>(`[...document.querySelectorAll('input, select, button, textarea')]
      .filter((el) => !(el.getAttribute('aria-label') || (el.id && document.querySelector('label[for="' + el.id + '"]'))
        || (el.tagName === 'BUTTON' && el.textContent.trim())))
      .map((el) => el.outerHTML)`);
  }

  it('logs in; on an empty database the overview shows empty states, without console errors', async () => {
    const w = await open();
    await w.page.goto(`${base}/`);
    await w.page.waitForURL(`${base}/login`); // not logged in: sent to the login page
    await shot(w.page, 'login');
    await w.page.getByLabel('Username').fill('admin');
    await w.page.getByLabel('Password').fill('wrong-password-123');
    await w.page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => w.page.getByRole('alert').textContent()).toBe('Wrong username or password.');
    w.errors.length = 0; // the refused login is a 401 in the console, as it should be
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.getByText('Devices online').waitFor();
    expect(await w.page.getByLabel('Devices online').textContent()).toContain('0 / 0');
    expect(await w.page.getByText('No traffic in the last 24 hours').count()).toBe(2);
    await w.page.getByText('No devices yet').waitFor();
    await w.page.getByText('No alerts in the last 24 hours').waitFor();
    // The live feed: authenticated by its first message, "live" once the server says hello.
    await expect.poll(() => w.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
    await shot(w.page, 'overview-empty');
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('draws the overview from real aggregates, within the JS budget, on desktop, phone and dark theme', async () => {
    await seedDashboard(s.services.store.db);
    // The seed writes to the database directly: announce it, as ingest would, so cached metrics are dropped.
    await s.services.bus.publish(EVENTS_CHANNEL, makeEvent('device_update', { reason: 'seed' }));
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    // A fresh load of the overview route with the session kept in sessionStorage: every script it needs.
    const scripts = new Set<string>();
    w.page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/assets/') && u.pathname.endsWith('.js')) scripts.add(u.pathname);
    });
    await w.page.reload();
    await w.page.locator('main canvas').first().waitFor();
    expect(await w.page.locator('main canvas').count()).toBe(3);
    expect(await w.page.getByLabel('Devices online').textContent()).toContain('4 / 6');
    expect(await w.page.getByText('cam-lobby').count()).toBeGreaterThan(0);
    const gz = [...scripts].reduce(
      (n, p) => n + gzipSync(readFileSync(join(webDist(), p.replace(/^\//, '')))).length,
      0,
    );
    console.log(
      `overview route first load: ${scripts.size} scripts, ${(gz / 1024).toFixed(1)} KB gzipped JS`,
    );
    expect(gz).toBeLessThan(BUDGET_GZ);
    await shot(w.page, 'overview');
    expect(w.errors).toEqual([]);

    // Theme toggle: switches to dark and is remembered across a reload.
    await w.page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await w.page.locator('html').getAttribute('data-theme')).toBe('dark');
    await w.page.reload();
    await w.page.locator('main canvas').first().waitFor();
    expect(await w.page.locator('html').getAttribute('data-theme')).toBe('dark');
    await shot(w.page, 'overview-dark');
    await w.context.close();

    const phone = await open(PHONE);
    await login(phone.page, 'admin', ADMIN_PASSWORD);
    await phone.page.locator('main canvas').first().waitFor();
    const width = await phone.page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(PHONE.width); // no sideways scrolling at phone width
    await shot(phone.page, 'overview-phone');
    const menu = phone.page.getByRole('button', { name: 'Menu' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    await phone.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Alerts' })
      .waitFor();
    await shot(phone.page, 'menu-phone');
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await phone.page.getByRole('cell', { name: 'admin', exact: true }).first().waitFor();
    await shot(phone.page, 'admin-users-phone');
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('updates the overview from the live feed, without a reload', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    const openAlerts = w.page.getByLabel('Open alerts').locator('p').nth(1);
    await expect.poll(() => openAlerts.textContent()).toBe('5');
    await expect.poll(() => w.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
    await s.services.store.db.execute(sql`
      INSERT INTO alerts (kind, severity, status, title, dedup_key, first_seen, last_seen)
      VALUES ('scan', 'critical', 'new', 'live test', 'live-test', now(), now())`);
    await s.services.bus.publish(EVENTS_CHANNEL, makeEvent('new_alert', { id: 999, severity: 'critical' }));
    await expect.poll(() => openAlerts.textContent(), { timeout: 15_000 }).toBe('6');
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('is usable from the keyboard: skip link first, labelled controls', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.getByText('Devices online').waitFor();
    await w.page.keyboard.press('Tab');
    expect(await w.page.locator(':focus').textContent()).toBe('Skip to content');
    await w.page.keyboard.press('Enter');
    expect(await w.page.locator(':focus').getAttribute('id')).toBe('main');
    await w.page.goto(`${base}/admin/users`);
    await w.page.getByRole('button', { name: 'Create user' }).waitFor();
    // Every form control has an accessible name (label, aria-label or text).
    const unlabelled = await unlabelledControls(w.page);
    expect(unlabelled).toEqual([]);
    await w.context.close();
  });

  it('lets the admin create a viewer and an API key (shown once); the viewer gets no action buttons and the server says 403', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.getByRole('link', { name: 'Admin' }).click();
    await w.page.waitForURL(`${base}/admin/users`);
    await w.page.getByLabel('Username').fill('vera');
    await w.page.getByLabel('Password (12+ characters)').fill('viewer-password-1');
    await w.page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await w.page.getByRole('button', { name: 'Create user' }).click();
    await w.page.getByText('Created vera (viewer).').waitFor();
    await w.page.getByRole('combobox', { name: 'Role of vera' }).waitFor();
    await shot(w.page, 'admin-users');

    await w.page.getByRole('link', { name: 'API keys' }).click();
    await w.page.getByRole('heading', { name: 'API keys' }).waitFor();
    await w.page.getByLabel('Name', { exact: true }).fill('lab-sensor');
    await w.page.getByRole('button', { name: 'Create key' }).click();
    const key = await w.page.getByTestId('new-api-key').textContent();
    expect(key).toMatch(/^iotsec_/);
    await w.page.getByRole('cell', { name: 'lab-sensor', exact: true }).waitFor();
    await shot(w.page, 'admin-api-keys');
    await w.page.reload(); // shown once: gone after a reload
    await w.page.getByRole('cell', { name: 'lab-sensor', exact: true }).waitFor();
    expect(await w.page.getByTestId('new-api-key').count()).toBe(0);
    await w.page.getByRole('button', { name: 'Revoke key lab-sensor' }).click();
    await w.page.getByRole('button', { name: 'Yes, revoke' }).click();
    await w.page.getByText('Key lab-sensor revoked.').waitFor();
    // The notice can show before the list has reloaded: wait for the row's new status.
    await expect.poll(() => w.page.getByText('revoked', { exact: true }).count()).toBe(1);
    expect(w.errors).toEqual([]);

    await w.page.getByRole('button', { name: 'Log out' }).click();
    await w.page.waitForURL(`${base}/login`);
    expect(await w.page.evaluate<number>('sessionStorage.length')).toBe(0);
    await w.context.close();

    const v = await open();
    await login(v.page, 'vera', 'viewer-password-1');
    await v.page.goto(`${base}/admin/users`);
    await expect.poll(() => v.page.getByRole('alert').textContent()).toContain('needs the admin role');
    expect(await v.page.locator('main button').count()).toBe(0);
    expect(await v.page.locator('main select, main form').count()).toBe(0);
    await shot(v.page, 'admin-users-viewer');
    await v.page.goto(`${base}/admin/api-keys`);
    await v.page.getByRole('alert').waitFor();
    expect(await v.page.locator('main button, main form').count()).toBe(0);
    await v.context.close();

    // And the server refuses anyway, whatever the UI shows.
    const token = (
      (await (
        await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'vera', password: 'viewer-password-1' }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const denied = await fetch(`${base}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: 'mallory', password: 'mallory-password-1', role: 'admin' }),
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });

  it('shows audit entries with HTML in them as text: no element, no dialog; filters live in the URL', async () => {
    await s.services.audit.record({
      actor: 'system',
      action: 'test.xss',
      target: XSS,
      details: { note: XSS },
    });
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.goto(`${base}/admin/audit`);
    await w.page.getByLabel('Action').fill('test.xss');
    await w.page.getByRole('button', { name: 'Apply filters' }).click();
    await w.page.waitForURL(`${base}/admin/audit?action=test.xss`);
    await w.page.getByRole('cell', { name: XSS, exact: true }).waitFor();
    // The filtered page replaces the previous rows once it has loaded.
    await expect.poll(() => w.page.locator('main table tbody tr').count()).toBe(1);
    expect(await w.page.getByText(`{"note":"${XSS}"}`).count()).toBe(1);
    expect(await w.page.locator('main img').count()).toBe(0);
    await w.page.waitForTimeout(300); // give a would-be onerror handler time to fire
    expect(w.dialogs).toEqual([]);
    await shot(w.page, 'admin-audit-filtered');

    // Cursor paging over the whole log; the filter form is filled from the URL after a reload.
    await w.page.goto(`${base}/admin/audit`);
    await w.page.getByRole('cell', { name: 'auth.login' }).first().waitFor();
    await shot(w.page, 'admin-audit');
    await w.page.reload();
    // Let the reload's session refresh finish: refresh tokens rotate, and an aborted rotation ends the session.
    await w.page.getByRole('cell', { name: 'auth.login' }).first().waitFor();
    await w.page.goto(`${base}/admin/audit?action=auth.login`);
    expect(await w.page.getByLabel('Action').inputValue()).toBe('auth.login');
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('opens every list page from the menu: its data or its empty state, no console errors', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    for (const [link, path] of [
      ['Devices', 'devices'],
      ['Alerts', 'alerts'],
      ['Vulnerabilities', 'vulnerabilities'],
      ['Traffic', 'traffic'],
      ['Models', 'models'],
      ['Sources', 'sources'],
    ] as const) {
      await w.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
      await w.page.waitForURL(`${base}/${path}`);
      await w.page.getByRole('heading', { name: link, level: 1 }).waitFor();
      await w.page.locator('main table, main [data-testid="empty-state"]').first().waitFor();
      expect(await w.page.locator('main [role="alert"]').count()).toBe(0);
      await shot(w.page, path); // later tests retake these with more data
    }
    // Every control of the new pages has an accessible name.
    for (const path of [
      'traffic?from=2016-09-07T14:00:00Z',
      'sources',
      'models',
      'vulnerabilities/CVE-2021-36260',
    ]) {
      await w.page.goto(`${base}/${path}`);
      await w.page.locator('main table, main [data-testid="empty-state"]').first().waitFor();
      expect(await unlabelledControls(w.page)).toEqual([]);
    }
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('keeps the new pages within a phone screen and readable in the dark theme', async () => {
    const phone = await open(PHONE, 'dark');
    await login(phone.page, 'admin', ADMIN_PASSWORD);
    for (const path of [
      'traffic',
      'vulnerabilities',
      'models',
      'sources',
      'vulnerabilities/CVE-2021-36260',
    ]) {
      await phone.page.goto(`${base}/${path}`);
      await phone.page.locator('main table, main [data-testid="empty-state"]').first().waitFor();
      const width = await phone.page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width, path).toBeLessThanOrEqual(PHONE.width);
    }
    await shot(phone.page, 'vulnerability-detail-phone-dark');
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('lists vulnerabilities with KEV and filters in the URL; a status change on a device persists', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.goto(`${base}/vulnerabilities`);
    const kevRow = w.page.locator('main table tbody tr').filter({ hasText: 'CVE-2021-36260' });
    await kevRow.waitFor();
    expect(await kevRow.getByTestId('kev-badge').count()).toBe(1);
    await w.page.getByLabel('Known exploited (KEV) only').check();
    await w.page.waitForURL(`${base}/vulnerabilities?kev=true`);
    await expect.poll(() => w.page.locator('main table tbody tr').count()).toBe(1);
    await w.page.reload();
    expect(await w.page.getByLabel('Known exploited (KEV) only').isChecked()).toBe(true);
    await w.page.getByLabel('Known exploited (KEV) only').uncheck();
    await w.page.waitForURL(`${base}/vulnerabilities`);
    await expect.poll(() => w.page.locator('main table tbody tr').count()).toBe(3);
    await shot(w.page, 'vulnerabilities');

    await kevRow.getByRole('link', { name: 'CVE-2021-36260' }).click();
    await w.page.getByRole('heading', { name: 'Affected devices (2)' }).waitFor();
    const form = w.page.getByRole('form', { name: 'Status of CVE-2021-36260 on cam-lobby' });
    await form.getByLabel('Status on cam-lobby').selectOption('accepted');
    await form.getByLabel('Note for cam-lobby').fill('isolated VLAN, vendor patch pending');
    await form.getByRole('button', { name: 'Save' }).click();
    await w.page.getByText('Saved: cam-lobby: Accepted.').waitFor();
    await shot(w.page, 'vulnerability-detail');
    await w.page.reload();
    const row = w.page.locator('main table tbody tr').filter({ hasText: 'cam-lobby' });
    await expect.poll(() => row.getByTestId('vuln-status').textContent()).toBe('Accepted');
    await row.getByText('isolated VLAN, vendor patch pending').waitFor();
    expect(
      await w.page
        .locator('main table tbody tr')
        .filter({ hasText: 'cam-dock' })
        .getByTestId('vuln-status')
        .textContent(),
    ).toBe('Open');
    // The server has it too, with who changed it.
    const token = await apiToken('admin', ADMIN_PASSWORD);
    const detail = await api<{
      affected: { hostname: string | null; status: string; status_changed_by: string | null }[];
    }>(token, '/vulnerabilities/CVE-2021-36260');
    expect(detail.affected.find((a) => a.hostname === 'cam-lobby')).toMatchObject({
      status: 'accepted',
      status_changed_by: 'admin',
    });
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  async function apiToken(username: string, password: string): Promise<string> {
    const r = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return ((await r.json()) as { access_token: string }).access_token;
  }

  async function api<T>(token: string, path: string, init: RequestInit = {}): Promise<T> {
    const r = await fetch(`${base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  it.skipIf(!hasSharedData)(
    'a capture uploaded on the Sources page shows upload and processing progress, completes and creates devices; a type override survives a reload',
    async () => {
      stopWorker = await startIngestJobs(s.services, pino({ level: 'silent' }));
      const token = await apiToken('admin', ADMIN_PASSWORD);
      type DeviceItem = { id: number; mac: string | null; device_type: string };
      const before = new Set(
        (await api<{ items: DeviceItem[] }>(token, '/devices?limit=1000')).items.map((d) => d.id),
      );
      const pcap = join(SHARED_DATA, 'iot-sentinel-train', 'HueBridge', 'Setup-A-1-STA.pcap');

      const up = await open();
      await login(up.page, 'admin', ADMIN_PASSWORD);
      await up.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources' }).click();
      await up.page.waitForURL(`${base}/sources`);
      await expect.poll(() => up.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
      // Record every state of the progress bars: the upload of a small file on loopback takes milliseconds.
      await up.page.evaluate(`(() => {
        window.__progress = [];
        const seen = () => {
          for (const el of document.querySelectorAll('[role="progressbar"]'))
            window.__progress.push(el.getAttribute('aria-label') + ' ' + el.getAttribute('aria-valuenow'));
        };
        new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true });
      })()`);
      await up.page.getByLabel(/Capture file/).setInputFiles(pcap);
      await up.page.getByRole('button', { name: 'Upload', exact: true }).click();
      const result = up.page.locator('[data-testid="upload-result"][data-status="completed"]');
      await result.waitFor({ timeout: 60_000 });
      const progress = await up.page.evaluate<string[]>('window.__progress');
      expect(progress.some((p) => p.startsWith('Uploading Setup-A-1-STA.pcap'))).toBe(true);
      expect(progress.some((p) => p.startsWith('Processing Setup-A-1-STA.pcap'))).toBe(true);
      expect(progress).toContain('Processing Setup-A-1-STA.pcap 100');
      const summary = (await result.getByRole('status').textContent()) ?? '';
      const newDevices = Number(/([\d,]+) new devices?/.exec(summary)?.[1]?.replace(/,/g, '') ?? 'NaN');
      expect(newDevices).toBeGreaterThan(0);
      // The ingested file is listed as a source.
      await up.page.locator('main table tbody tr').filter({ hasText: 'File' }).first().waitFor();
      await shot(up.page, 'sources');
      expect(up.errors).toEqual([]);
      await up.context.close();

      const created = (await api<{ items: DeviceItem[] }>(token, '/devices?limit=1000&sort=id')).items.filter(
        (d) => !before.has(d.id) && d.mac,
      );
      expect(created.length).toBeGreaterThan(0);
      expect(created.length).toBeLessThanOrEqual(newDevices);
      const dev = created.find((d) => d.device_type !== 'unknown') ?? created[0]!;

      const w = await open();
      await login(w.page, 'admin', ADMIN_PASSWORD);
      await w.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
      await w.page.waitForURL(`${base}/devices`);
      await w.page.getByRole('button', { name: /^Risk/ }).waitFor(); // the devices table, not the overview's
      expect(await w.page.locator('main table tbody tr').count()).toBeGreaterThanOrEqual(created.length);
      // Sorting and filtering go through the server and into the URL.
      await w.page.getByRole('button', { name: /^Risk/ }).click();
      await w.page.waitForURL(/sort=risk_score/);
      await shot(w.page, 'devices');
      await w.page.getByLabel('Search').fill(dev.mac!);
      await w.page.getByRole('button', { name: 'Apply filters' }).click();
      await w.page.waitForURL(/q=/);
      await w.page.locator('main table tbody tr').first().waitFor();
      await expect.poll(() => w.page.locator('main table tbody tr').count()).toBe(1);
      await w.page.locator('main table tbody tr a').first().click();
      await w.page.waitForURL(`${base}/devices/${dev.id}`);
      await w.page.getByRole('heading', { name: 'Evidence' }).waitFor();
      await w.page.locator('main canvas').first().waitFor();
      await w.page.getByRole('heading', { name: 'Signals' }).waitFor();
      await w.page
        .getByRole('cell')
        .filter({ hasText: dev.mac! })
        .first()
        .waitFor({ state: 'attached' })
        .catch(() => undefined);
      // The destination profile: its status when the server has the route, an empty state when not.
      const dest = await fetch(`${base}/api/v1/devices/${dev.id}/destinations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (dest.status === 200) {
        await w.page.getByTestId('destination-status').waitFor();
        await w.page.getByLabel('Destination', { exact: true }).fill('time.e2e.example');
        await w.page.getByRole('button', { name: 'Add destination' }).click();
        await w.page.getByText('Added domain time.e2e.example.').waitFor();
        await w.page.getByRole('cell', { name: 'time.e2e.example', exact: true }).waitFor();
      } else await w.page.getByText('Destination profiles are not available on this server').waitFor();
      await shot(w.page, 'device-detail');

      await w.page.getByLabel('Type', { exact: true }).fill('e2e-smart-hub');
      await w.page.getByRole('button', { name: 'Save changes' }).click();
      await w.page.getByText('Saved: device_type.').waitFor();
      expect(await w.page.getByTestId('device-type').textContent()).toBe('e2e-smart-hub');
      await w.page.reload();
      await expect.poll(() => w.page.getByTestId('device-type').textContent()).toBe('e2e-smart-hub');
      expect(await w.page.getByText('user', { exact: true }).count()).toBe(1); // type_source: set by hand
      expect(w.errors).toEqual([]);
      await w.context.close();
    },
  );

  it.skipIf(!hasSharedData)(
    'the traffic explorer shows the ingested flows, the chart and top talkers, and keeps its filters after a reload',
    async () => {
      const w = await open();
      await login(w.page, 'admin', ADMIN_PASSWORD);
      await w.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Traffic' }).click();
      await w.page.waitForURL(`${base}/traffic`);
      // The capture is from 2016: the last hour is empty, and the page offers to go to its newest flow.
      await w.page.getByRole('button', { name: 'Show the 15 minutes up to it' }).click();
      await w.page.waitForURL(/from=2016-09-07/);
      const flowRows = w.page.locator('section[aria-labelledby="flows-title"] table tbody tr');
      await flowRows.first().waitFor();
      await w.page.getByTestId('traffic-chart').locator('canvas').waitFor();
      await w.page.locator('section[aria-labelledby="talkers-title"] table tbody tr').first().waitFor();
      // 50 flows a page; "Load more" follows the cursor and appends the next page (the capture has ~200).
      expect(await flowRows.count()).toBe(50);
      await w.page.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => flowRows.count()).toBe(100);
      await w.page.getByText('Showing 100 flows; more in this range').waitFor();
      expect(await w.page.getByTestId('series-summary').textContent()).toMatch(/ in [\d,]+ flows/);

      // Filters go into the URL and through the server: UDP only.
      await w.page.getByLabel('Protocol').selectOption('17');
      await w.page.getByRole('button', { name: 'Apply filters' }).click();
      await w.page.waitForURL(/proto=17/);
      const protoCells = w.page.locator('section[aria-labelledby="flows-title"] table tbody td:nth-child(5)');
      await expect.poll(async () => [...new Set(await protoCells.allTextContents())]).toEqual(['UDP']);
      const url = w.page.url();

      await w.page.reload();
      await flowRows.first().waitFor();
      expect(w.page.url()).toBe(url);
      expect(await w.page.getByLabel('Protocol').inputValue()).toBe('17');
      expect(await w.page.getByRole('button', { name: 'Custom' }).getAttribute('aria-pressed')).toBe('true');
      expect([...new Set(await protoCells.allTextContents())]).toEqual(['UDP']);
      await w.page.getByTestId('traffic-chart').locator('canvas').waitFor();
      await shot(w.page, 'traffic');

      // Flows stored meanwhile in this range (the capture again) are offered on Refresh, live, not reloaded
      // under the reader; Refresh loads them and the offer goes.
      await expect.poll(() => w.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
      const refresh = w.page.getByTestId('traffic-refresh');
      expect(await refresh.textContent()).toBe('Refresh');
      const again = join(SHARED_DATA, 'iot-sentinel-train', 'HueBridge', 'Setup-A-1-STA.pcap');
      expect((await ingestFile(s.services, again, { force: true })).flows).toBeGreaterThan(0);
      await expect.poll(() => refresh.textContent(), { timeout: 5_000 }).toBe('Refresh: new flows stored');
      await refresh.click();
      await expect.poll(() => refresh.textContent()).toBe('Refresh');
      await flowRows.first().waitFor();
      expect(w.errors).toEqual([]);
      await w.context.close();

      // The same link on a phone: no sideways scrolling.
      const phone = await open(PHONE);
      await login(phone.page, 'admin', ADMIN_PASSWORD);
      await phone.page.goto(url);
      await phone.page.getByTestId('traffic-chart').locator('canvas').waitFor();
      expect(await phone.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        PHONE.width,
      );
      await shot(phone.page, 'traffic-phone');
      await phone.context.close();
    },
  );

  it('shows an alert raised on the server within 2 s without a reload; acknowledging it updates the list', async () => {
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await w.page.waitForURL(`${base}/alerts`);
    await w.page.locator('main table, main [data-testid="empty-state"]').first().waitFor();
    await expect.poll(() => w.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
    const title = `E2E beaconing ${Date.now()}`;
    // The highlight lasts a few seconds: the page itself records every row it highlights, so a slow read
    // from here (a loaded CI machine) cannot miss it.
    await w.page.evaluate(`(() => {
      window.__highlighted = [];
      new MutationObserver(() => {
        for (const tr of document.querySelectorAll('main table tbody tr'))
          if (/fresh/.test(tr.className)) window.__highlighted.push(tr.textContent);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    })()`);
    const t0 = Date.now();
    const raised = await raiseAlert(s.services, {
      deviceId: null,
      kind: 'e2e_beacon',
      severity: 'critical',
      title,
      peer: '203.0.113.7',
      evidence: { interval_s: 60, note: XSS, community_ids: ['1:abc'] },
    });
    expect(raised.outcome).toBe('created');
    const row = w.page.locator('main table tbody tr').filter({ hasText: title });
    await row.waitFor({ timeout: 2_000 });
    console.log(`live alert shown after ${Date.now() - t0} ms`);
    // Highlighted when its event arrives: the row can arrive with a reload already under way a moment
    // before its event, and under a loaded CI machine the event can trail that reload by seconds.
    await expect
      .poll(
        () =>
          w.page.evaluate<boolean>(`window.__highlighted.some((t) => t.includes(${JSON.stringify(title)}))`),
        { timeout: 10_000 },
      )
      .toBe(true);
    await shot(w.page, 'alerts');
    await row.getByRole('checkbox').check();
    await w.page.getByRole('button', { name: 'Acknowledge' }).click();
    await w.page.getByText('Acknowledge: 1 alert.').waitFor();
    await expect.poll(() => row.getByTestId('alert-status').textContent()).toBe('Acknowledged');

    // Filters live in the URL.
    await w.page.getByLabel('Status').selectOption('acknowledged');
    await w.page.waitForURL(`${base}/alerts?status=acknowledged`);
    await row.waitFor();

    // Detail: evidence as text, then suppress alerts like it.
    await row.getByRole('link', { name: title }).click();
    await w.page.getByRole('heading', { name: 'Evidence' }).waitFor();
    await w.page.getByText(XSS).waitFor();
    expect(await w.page.locator('main img').count()).toBe(0);
    await w.page.getByLabel('Suppression reason').fill('lab beacon, expected');
    await w.page.getByRole('button', { name: 'Suppress' }).click();
    await w.page.getByText(/Suppression \d+ created/).waitFor();
    await shot(w.page, 'alert-detail');
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('shows a DHCP host name with HTML in it as text; a viewer gets no action buttons on Devices and Alerts', async () => {
    const inserted = (await s.services.store.db.execute(sql`
      INSERT INTO devices (mac, hostname, device_type, vendor, first_seen, last_seen)
      VALUES ('02:00:5e:00:53:99', ${XSS}, 'unknown', 'Evil Corp', now(), now()) RETURNING id`)) as unknown as {
      rows: { id: number | string }[];
    };
    const id = Number(inserted.rows[0]?.id);
    const token = await apiToken('admin', ADMIN_PASSWORD);
    await api(token, '/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vicky', password: 'viewer-password-2', role: 'viewer' }),
    });

    const w = await open();
    await login(w.page, 'vicky', 'viewer-password-2');
    await w.page.goto(`${base}/devices?q=02:00:5e:00:53:99`);
    await w.page.getByRole('link', { name: XSS, exact: true }).waitFor();
    await w.page.getByRole('link', { name: XSS, exact: true }).click();
    await expect.poll(() => w.page.getByTestId('device-hostname').textContent()).toBe(XSS);
    await w.page.getByRole('heading', { name: 'Signals' }).waitFor();
    expect(await w.page.locator('main img').count()).toBe(0);
    expect(await w.page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await w.page.getByLabel('Correct this device').count()).toBe(0);
    expect(w.page.url()).toBe(`${base}/devices/${id}`);

    await w.page.goto(`${base}/alerts`);
    await w.page.locator('main table tbody tr').first().waitFor();
    expect(await w.page.locator('main input[type="checkbox"]').count()).toBe(0);
    for (const name of ['Acknowledge', 'Resolve', 'False positive', 'Suppress'])
      expect(await w.page.getByRole('button', { name }).count()).toBe(0);
    await w.page.locator('main table tbody tr a').first().click();
    await w.page.getByRole('heading', { name: 'Evidence' }).waitFor();
    for (const name of ['Acknowledge', 'Resolve', 'False positive', 'Suppress'])
      expect(await w.page.getByRole('button', { name }).count()).toBe(0);
    await w.page.waitForTimeout(300); // give a would-be onerror handler time to fire
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.context.close();
  });
  it('pages 10,000 devices on the server: 50 rows at a time, quickly, by any sort', async () => {
    await s.services.store.db.execute(sql`
      INSERT INTO devices (mac, hostname, device_type, vendor, risk_score, first_seen, last_seen)
      SELECT '02:10:' || lpad(to_hex(i / 65536), 2, '0') || ':' || lpad(to_hex((i / 256) % 256), 2, '0') || ':'
               || lpad(to_hex(i % 256), 2, '0') || ':00',
             'bulk-' || i, 'sensor', 'Bulk Inc', (i % 100)::real, now() - interval '1 day', now() - (i || ' s')::interval
      FROM generate_series(1, 10000) AS i`);
    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    const t0 = Date.now();
    await w.page.goto(`${base}/devices?vendor=Bulk+Inc&sort=risk_score&order=desc`);
    await w.page.locator('main table tbody tr').first().waitFor();
    const ms = Date.now() - t0;
    console.log(`devices page with 10,000 devices: first page in ${ms} ms`);
    expect(await w.page.locator('main table tbody tr').count()).toBe(50);
    expect(ms).toBeLessThan(5_000);
    const first = await w.page.locator('main table tbody tr a').first().textContent();
    await w.page.getByRole('button', { name: 'Next page' }).click();
    await w.page.waitForURL(/cursor=/);
    await expect.poll(() => w.page.locator('main table tbody tr a').first().textContent()).not.toBe(first);
    expect(await w.page.locator('main table tbody tr').count()).toBe(50);
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  it('shows a model version with its confusion matrix and drift; the admin promotes, splits traffic and trains live', async () => {
    const { registry } = modelServices(s.services, s.config);
    const X = trafficMatrix(300, 1);
    const envelope = new IsolationForest({ nEstimators: 20, seed: 1 })
      .fit(X, { featureSet: ROLLUP_SIGNATURE })
      .toJSON();
    const labelled = {
      accuracy: 0.9655,
      macro_f1: 0.9183,
      folds: 5,
      per_class: [
        { label: 'normal', precision: 0.979, recall: 0.981, f1: 0.98, support: 948 },
        { label: 'anomalous', precision: 0.88, recall: 0.868, f1: 0.874, support: 152 },
      ],
      confusion: {
        labels: ['normal', 'anomalous'],
        counts: [
          [930, 18],
          [20, 132],
        ],
      },
      top_confusions: ['anomalous → normal: 20', 'normal → anomalous: 18'],
    };
    const v1 = await registry.register({
      task: 'anomaly',
      envelope,
      featureSet: ROLLUP_SIGNATURE,
      metrics: labelled,
      trainingSummary: { source: 'e2e', rows: X.nRows },
      trainingData: X,
    });
    const v2 = await registry.register({
      task: 'anomaly',
      envelope,
      featureSet: ROLLUP_SIGNATURE,
      metrics: { ...labelled, accuracy: 0.9712, macro_f1: 0.9301 },
      trainingSummary: { source: 'e2e', rows: X.nRows },
      trainingData: X,
    });
    const end = Date.now();
    await s.services.store.db.insert(modelMetrics).values({
      modelId: v1.id,
      windowStart: new Date(end - 3_600_000),
      windowEnd: new Date(end),
      predictions: 4_200,
      latencyP50Ms: 0.31,
      latencyP99Ms: 1.9,
      drift: Object.fromEntries(
        ROLLUP_SIGNATURE.featureNames.map((f, i) => [f, [0.32, 0.14, 0.05][i % 3] ?? 0]),
      ),
      labelled: 0,
    });

    const w = await open();
    await login(w.page, 'admin', ADMIN_PASSWORD);
    await w.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click();
    await w.page.waitForURL(`${base}/models`);
    const group = w.page.getByRole('region', { name: 'Anomaly' });
    await group.getByText('0.918').waitFor();
    await group.getByRole('link', { name: 'Anomaly version 1' }).click();
    await w.page.waitForURL(`${base}/models/${v1.id}`);
    const matrix = w.page.getByRole('table', { name: /Confusion matrix/ });
    await matrix.waitFor();
    expect(await matrix.getByRole('rowheader').allTextContents()).toEqual(['normal', 'anomalous']);
    expect(await matrix.getByRole('cell').allTextContents()).toEqual([
      '930 (98% of normal)',
      '18 (2% of normal)',
      '20 (13% of anomalous)',
      '132 (87% of anomalous)',
    ]);
    expect(await w.page.getByTestId('model-accuracy').textContent()).toBe('96.55%');
    await w.page.getByTestId('drift-chart').locator('canvas').waitFor();

    await w.page.getByRole('button', { name: 'Promote Anomaly v1 to production' }).click();
    await w.page.getByRole('button', { name: 'Yes, promote' }).click();
    await w.page.getByText('Anomaly v1 is now production.').waitFor();
    await expect.poll(() => w.page.getByTestId('model-status').textContent()).toBe('production');
    await shot(w.page, 'model-detail');

    await w.page.goto(`${base}/models/${v2.id}`);
    await w.page.getByLabel('Traffic share (% of devices)').fill('20');
    await w.page.getByRole('button', { name: 'Set A/B share' }).click();
    await w.page.getByText('v2 now serves 20% of devices.').waitFor();
    await w.page.reload();
    await expect.poll(() => w.page.getByLabel('Traffic share (% of devices)').inputValue()).toBe('20');

    // Training from the page, with live progress, by the worker's training queue.
    stopTraining = await startTraining(s.services, s.config, pino({ level: 'silent' }));
    await w.page.goto(`${base}/models`);
    await expect.poll(() => w.page.getByTestId('connection').getAttribute('data-status')).toBe('live');
    await w.page
      .getByRole('form', { name: 'Train a new model version' })
      .getByLabel('Task')
      .selectOption('anomaly');
    await w.page.getByRole('button', { name: 'Start training' }).click();
    const job = w.page.getByTestId('training-job').first();
    await job.getByRole('progressbar').waitFor();
    await job.getByRole('link', { name: 'Anomaly v3' }).waitFor({ timeout: 120_000 });
    expect(await job.getAttribute('data-status')).toBe('completed');
    await w.page
      .getByRole('region', { name: 'Anomaly' })
      .getByRole('link', { name: 'Anomaly version 3' })
      .waitFor();
    await shot(w.page, 'models');
    expect(w.errors).toEqual([]);
    await w.context.close();
  });

  // README.md shows these: one (or more) per page of the app.
  const EVERY_PAGE = [
    'login',
    'overview',
    'overview-dark',
    'overview-phone',
    'overview-empty',
    'menu-phone',
    'devices',
    'device-detail',
    'alerts',
    'alert-detail',
    'vulnerabilities',
    'vulnerability-detail',
    'vulnerability-detail-phone-dark',
    'traffic',
    'traffic-phone',
    'models',
    'model-detail',
    'sources',
    'admin-users',
    'admin-users-phone',
    'admin-users-viewer',
    'admin-api-keys',
    'admin-audit',
    'admin-audit-filtered',
  ];

  it.skipIf(!SHOTS || !hasSharedData)('wrote a screenshot of every page, and README.md shows each', () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    const missing = EVERY_PAGE.filter((n) => !existsSync(join(SHOT_DIR, `${n}.png`)));
    expect(missing).toEqual([]);
    const unshown = EVERY_PAGE.filter((n) => !readme.includes(`docs/screenshots/${n}.png`));
    expect(unshown).toEqual([]);
  });
});
