// The run console (ui/) in a real browser: headless Debian Chromium driven by
// playwright-core, against the real daemon and router-sim (scenario
// tests/scenarios/ui_console.json).  A person's path through it: the 401
// message for a wrong key, the key, a run started from the form whose nodes
// appear live and whose gates show, the runs list updating live, a waiting
// run cancelled, a 400 shown beside its field, an incident triage's causes.
//
//   SV_BUILDDIR=build node --test tests/browser/console.test.mjs
//
// Screenshots go to SV_SCREENSHOT_DIR (default tests/browser/out); docs/ui.md
// shows copies.  Nothing here downloads a browser: CHROMIUM (default
// /usr/bin/chromium) is the system's.  Every wait is for something to show,
// with a deadline; nothing sleeps a fixed time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(process.env.SV_SRCDIR || join(HERE, '..', '..'));
const BUILD = resolve(process.env.SV_BUILDDIR || join(SRC, 'build'));
const SHOTS = resolve(process.env.SV_SCREENSHOT_DIR || join(HERE, 'out'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const KEY = 'console-test-key-0123456789';
const WAIT = 20000;

const procs = [];
let tmp, base, browser, page;

async function until(what, fn, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(cmd, args, env, log) {
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  p.logText = '';
  p.stderr.on('data', (d) => { p.logText += d; });
  procs.push(p);
  return p;
}

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}

async function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  for (const f of [join(BUILD, 'sofiia-supervisor'), join(BUILD, 'router-sim'), CHROMIUM])
    assert.ok(existsSync(f), `${f} is missing (build first; apt-get install chromium)`);
  tmp = mkdtempSync(join(tmpdir(), 'sv-browser-'));
  const plugins = join(tmp, 'plugins');
  mkdirSync(plugins);
  chmodSync(plugins, 0o755);
  for (const g of ['release_check', 'incident_triage'])
    copyFileSync(join(BUILD, 'plugins', g, '.libs', `${g}.so`), join(plugins, `${g}.so`));

  const portFile = join(tmp, 'sim.port');
  start(join(BUILD, 'router-sim'), ['--scenario', join(SRC, 'tests/scenarios/ui_console.json'),
    '--listen', '127.0.0.1:0', '--port-file', portFile], process.env);
  const simPort = await until('router-sim', () => existsSync(portFile) && Number(readFileSync(portFile, 'utf8')));

  const d = start(join(BUILD, 'sofiia-supervisor'), [], {
    PATH: process.env.PATH,
    SUPERVISOR_LISTEN: '127.0.0.1:0',
    SUPERVISOR_INTERNAL_KEY: KEY,
    GATEWAY_BASE_URL: `http://127.0.0.1:${simPort}`,
    PLUGIN_DIR: plugins,
    PLUGIN_CACHE_DIR: join(tmp, 'cache'),
    UI_DIR: join(SRC, 'ui'),
    SSE_HEARTBEAT_SEC: '2',
    WORKER_THREADS: '2',
  });
  const port = await until('the daemon', () => {
    const m = d.logText.match(/"msg":"listening".*?"port":(\d+)/);
    return m && Number(m[1]);
  });
  base = `http://127.0.0.1:${port}`;
  await until('/healthz', async () => (await fetch(`${base}/healthz`)).ok);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => { throw e; });
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs.reverse()) {
    p.kill('SIGTERM');
    await until('a child to stop', () => p.exitCode !== null || p.signalCode !== null, 20000).catch(() => p.kill('SIGKILL'));
  }
  if (tmp && !process.env.SV_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
});

test('a wrong key shows the 401 message; the right one opens the runs', async () => {
  await page.goto(`${base}/ui/`);
  const input = page.getByLabel('Key (one of SUPERVISOR_INTERNAL_KEY)');
  await input.fill('not-the-key');
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText('The daemon refused this key (401 unauthorized)').waitFor();
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await shot('key-401');
  await input.fill(KEY);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByRole('heading', { name: 'Runs' }).waitFor();
  await page.getByText('● live').waitFor();
  // the key is in this tab's session storage, not in any URL
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sofiia-supervisor.key')), KEY);
  assert.ok(!page.url().includes(KEY));
});

test('start a run from the form, watch its nodes appear live, see the gates', async () => {
  await page.goto(`${base}/ui/#/start/release_check`);
  await page.getByRole('heading', { name: /Start a run of release_check/ }).waitFor();
  await page.getByLabel('service_name').fill('router');
  await page.getByLabel('poll_interval_ms').fill('1500');
  await page.getByRole('button', { name: 'Start release_check' }).click();
  await page.waitForURL(/#\/runs\/gr_[0-9a-f]{32}$/);
  // nodes appear while the run is still running
  await page.locator('#nodes tr[data-node="start_job"]').waitFor();
  await page.locator('#nodes tr[data-node="poll_job"]').first().waitFor();
  const statusWhilePolling = await page.locator('#run-status').innerText();
  assert.equal(statusWhilePolling.trim(), 'running');
  await page.locator('#nodes tr[data-node="poll_job"] li.call').first().waitFor();
  await shot('run-live');
  await page.locator('#gates').waitFor();
  assert.equal((await page.locator('#run-status').innerText()).trim(), 'succeeded');
  assert.equal(await page.locator('#gates tbody tr').count(), 5);
  const call = await page.locator('#nodes tr[data-node="start_job"] li.call').innerText();
  assert.match(call, /job_orchestrator_tool\/start_task · attempt 1 · succeeded \(HTTP 200\)/);
  assert.match(call, /sent [\d.]+ (B|KiB), received [\d.]+ (B|KiB)/);
  assert.equal(await page.locator('#cancel').isVisible(), false);
  await shot('run-release');
});

test('the runs list updates live', async () => {
  await page.goto(`${base}/ui/#/runs?graph=release_check`);
  await page.getByText('● live').waitFor();
  const before = await page.locator('tbody tr[data-run]').count();
  assert.ok(before >= 1);
  const r = await api('POST', '/v1/graphs/release_check/runs', {
    workspace_id: 'team-a', user_id: 'oncall', agent_id: 'sofiia', input: { service_name: 'billing', poll_interval_ms: 200 },
  });
  assert.equal(r.status, 202);
  const row = page.locator(`tr[data-run="${r.json.run_id}"]`);
  await row.waitFor(); // no reload: the stream brought it
  await row.getByText('succeeded').waitFor();
  await shot('runs');
});

test('cancel a waiting run', async () => {
  await page.goto(`${base}/ui/#/start/release_check`);
  await page.getByLabel('service_name').fill('stuck');
  await page.getByLabel('poll_interval_ms').fill('500');
  await page.getByRole('button', { name: 'Start release_check' }).click();
  await page.waitForURL(/#\/runs\/gr_/);
  await page.locator('#nodes tr[data-node="poll_job"]').first().waitFor();
  assert.equal((await page.locator('#run-status').innerText()).trim(), 'running');
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await page.locator('#run-status', { hasText: 'cancelled' }).waitFor();
  assert.equal(await page.locator('#cancel').isVisible(), false);
  await page.locator('#nodes tr[data-node="on_cancel"]').or(page.locator('li.call', { hasText: 'cancel_job' })).first().waitFor();
  await shot('run-cancelled');
});

test('a 400 is shown beside the field it names', async () => {
  await page.goto(`${base}/ui/#/start/release_check`);
  await page.getByLabel('poll_interval_ms').fill('70000');
  await page.getByRole('button', { name: 'Start release_check' }).click();
  const err = page.locator('#in-poll_interval_ms-err');
  await err.waitFor();
  assert.match(await err.innerText(), /60000/);
  assert.equal(await page.getByLabel('poll_interval_ms').getAttribute('aria-invalid'), 'true');
  assert.ok(page.url().endsWith('#/start/release_check')); // no run was started
  // nested fields too
  await page.getByLabel('poll_interval_ms').fill('');
  await page.getByLabel('overall_sec').fill('0');
  await page.getByRole('button', { name: 'Start release_check' }).click();
  await page.locator('#in-timeouts-overall_sec-err').waitFor();
  await page.getByLabel('overall_sec').fill('');
  await page.getByLabel('poll_interval_ms').fill('70000');
  await page.getByRole('button', { name: 'Start release_check' }).click();
  await page.locator('#in-poll_interval_ms-err').waitFor();
  await shot('start-400');
});

test("an incident triage's ranked causes, mitigations and data gaps", async () => {
  await page.goto(`${base}/ui/#/start/incident_triage`);
  await page.getByLabel('service (required)').fill('router');
  await page.getByLabel('symptom (required)').fill('High error rate after deploy');
  await page.getByRole('button', { name: 'Start incident_triage' }).click();
  await page.waitForURL(/#\/runs\/gr_/);
  await page.locator('#causes').waitFor();
  assert.ok(await page.locator('#causes > li').count() >= 1);
  await page.getByRole('heading', { name: 'Mitigations now' }).waitFor();
  await page.getByRole('heading', { name: 'Data gaps' }).waitFor();
  await shot('run-triage');
});

test('a key revoked while the page is open gives the 401 message', async () => {
  await page.goto(`${base}/ui/#/runs`);
  await page.getByText('● live').waitFor();
  await page.evaluate(() => sessionStorage.setItem('sofiia-supervisor.key', 'revoked-key'));
  await page.goto(`${base}/ui/#/start/release_check`);
  await page.reload();
  await page.getByText(/refused the key \(401 unauthorized\)/).waitFor();
});
