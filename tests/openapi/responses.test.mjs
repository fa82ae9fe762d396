// The real daemon's answers against docs/openapi.yaml.  The daemon and
// router-sim of SV_BUILDDIR run on free loopback ports (scenario
// tests/scenarios/ui_console.json: a release that passes, one whose job never
// ends, an incident), once on the embedded store and once on a redis-server
// this test starts (when one is installed).  Every answer is checked against
// the operation its method and path name: its status must be documented
// there, its content type too, and its body must pass the schema (compiled
// with Ajv, JSON Schema 2020-12); event streams are parsed into their events
// and each event is checked.  At the end every documented operation must have
// been exercised, so the description and the daemon cannot drift apart.
//
//   SV_BUILDDIR=build node --test tests/openapi/responses.test.mjs
//   (cd tests/openapi && npm ci) first: Ajv, ajv-formats and yaml, pinned.
//
// Every wait is for something to happen, with a deadline; nothing sleeps a
// fixed time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(process.env.SV_SRCDIR || join(HERE, '..', '..'));
const BUILD = resolve(process.env.SV_BUILDDIR || join(SRC, 'build'));
// OPENAPI_SPEC: another description to check the daemon against (to see this
// test fail on a description that says something else).
const SPEC_FILE = resolve(process.env.OPENAPI_SPEC || join(SRC, 'docs', 'openapi.yaml'));
const KEY = 'openapi-test-key-0123456789';
const CI_KEY = 'openapi-ci-key-0123456789ab';
const WAIT = 20000;
const MAX_BODY = 4096;

// ---- the description, compiled --------------------------------------------

const spec = YAML.parse(readFileSync(SPEC_FILE, 'utf8'));
const SPEC_ID = 'https://sofiia-supervisor.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...spec, $id: SPEC_ID });
const validators = new Map();
function validatorAt(pointer) {
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `${SPEC_ID}#${pointer}` });
    validators.set(pointer, v);
  }
  return v;
}
const esc = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
function deref(obj, pointer) { // an OpenAPI object and the pointer of what it is
  while (obj && obj.$ref) {
    pointer = obj.$ref.slice(1);
    obj = pointer.split('/').slice(1).reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return { obj, pointer };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Concrete paths first (/v1/graphs/release_check/runs before /v1/graphs/{name}/runs).
const routes = Object.keys(spec.paths).map((tpl) => ({
  tpl,
  params: (tpl.match(/\{/g) || []).length,
  re: new RegExp('^' + tpl.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{file\}/g, '(.+)').replace(/\{[^}]+\}/g, '([^/]+)') + '$'),
})).sort((a, b) => a.params - b.params);
const operations = [];
for (const tpl of Object.keys(spec.paths))
  for (const m of METHODS)
    if (spec.paths[tpl][m]) operations.push(`${m.toUpperCase()} ${tpl}`);

const exercised = new Map(); // "GET /v1/runs" -> Set of "200 application/json"

function routeOf(path) {
  const p = path.split('?')[0];
  return routes.find((r) => r.re.test(p));
}

// ---- checking one answer ----------------------------------------------------

function mediaOf(res) {
  const ct = res.headers['content-type'];
  return ct ? ct.split(';')[0].trim().toLowerCase() : null;
}

// An event stream's text as its events: {id?, event, data} with data parsed.
export function parseSse(text) {
  const events = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  blocks.pop(); // what follows the last blank line: nothing, or an event not complete yet
  for (const block of blocks) {
    let id, event = 'message', data = null;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data = data === null ? value : `${data}\n${value}`;
      else assert.ok(field === 'retry' && /^\d+$/.test(value), `unexpected SSE line: ${line}`);
    }
    if (data === null) continue; // retry: only, or comments: not an event
    const e = { event, data: JSON.parse(data) };
    if (id !== undefined) e.id = id;
    events.push(e);
  }
  return events;
}

function schemaErrors(v) {
  return ajv.errorsText(v.errors, { separator: '\n  ' });
}

// Check res (from call()) against the description; returns the parsed body.
function check(method, path, res, opts = {}) {
  const route = routeOf(path);
  const where = `${method} ${path} -> ${res.status}`;
  if (!route) {
    // No such path in the description: the daemon must say so the documented way.
    assert.ok([401, 404, 413].includes(res.status), `${where}: a path the description does not have answered ${res.status}`);
    assert.equal(mediaOf(res), 'application/json', `${where}: content type`);
    const body = JSON.parse(res.text);
    const v = validatorAt('/components/schemas/Error');
    assert.ok(v(body), `${where}: body does not match Error:\n  ${schemaErrors(v)}\n${res.text}`);
    if (res.status === 404) assert.equal(body.error.code, 'not_found', where);
    return body;
  }
  const item = spec.paths[route.tpl];
  let m = method.toLowerCase();
  let opKey = `${method} ${route.tpl}`;
  if (!item[m]) {
    // Another method on a known path: answered as the path's operation documents it.
    assert.ok([401, 405, 413].includes(res.status), `${where}: another method on ${route.tpl} answered ${res.status}`);
    m = METHODS.find((x) => item[x]);
    opKey = `${m.toUpperCase()} ${route.tpl}`;
  }
  const op = item[m];
  const opPtr = `/paths/${esc(route.tpl)}/${m}`;
  const declared = op.responses[String(res.status)];
  assert.ok(declared, `${where}: status ${res.status} is not documented for ${opKey} (documented: ${Object.keys(op.responses).join(', ')})\n${res.text.slice(0, 400)}`);
  const { obj: resp, pointer: respPtr } = deref(declared, `${opPtr}/responses/${res.status}`);
  const media = mediaOf(res);
  let body;
  if (!resp.content) {
    assert.equal(res.text, '', `${where}: documented without a body, got one`);
  } else {
    assert.ok(media && resp.content[media], `${where}: content type ${res.headers['content-type']} is not documented (documented: ${Object.keys(resp.content).join(', ')})`);
    const schemaPtr = `${respPtr}/content/${esc(media)}/schema`;
    const v = validatorAt(schemaPtr);
    if (media === 'application/json') body = JSON.parse(res.text);
    else if (media === 'text/event-stream') body = parseSse(res.text);
    else body = res.text;
    assert.ok(v(body), `${where}: body does not match ${schemaPtr}:\n  ${schemaErrors(v)}\n${res.text.slice(0, 2000)}`);
  }
  for (const [name, h] of Object.entries(resp.headers || {})) {
    const { obj: hdr, pointer: hPtr } = deref(h, `${respPtr}/headers/${esc(name)}`);
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) {
      assert.ok(!hdr.required, `${where}: header ${name} is documented as always present`);
      continue;
    }
    const v = validatorAt(`${hPtr}/schema`);
    const typed = hdr.schema?.type === 'integer' ? Number(value) : value;
    assert.ok(v(typed), `${where}: header ${name}: ${value}: ${schemaErrors(v)}`);
  }
  if (!exercised.has(opKey)) exercised.set(opKey, new Set());
  exercised.get(opKey).add(`${res.status} ${media || '-'}`);
  if (opts.status !== undefined)
    assert.equal(res.status, opts.status, `${where}: expected ${opts.status}\n${res.text.slice(0, 400)}`);
  if (opts.code !== undefined)
    assert.equal(body?.error?.code, opts.code, `${where}: expected code ${opts.code}\n${res.text.slice(0, 400)}`);
  return body;
}

// ---- HTTP --------------------------------------------------------------------

// One request on its own connection: {status, headers, text}.  With `until`,
// a stream is read until until(text) is true (then the connection is closed)
// or it ends.  Bodies go with "Expect: 100-continue" so an early 413 cannot
// race the upload.
function call(base, method, path, { key = KEY, headers = {}, body, until, onResponse, timeout = WAIT } = {}) {
  return new Promise((resolvePromise, reject) => {
    const url = new URL(path, base);
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    let payload = null;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      h['Content-Type'] ??= 'application/json';
      h['Content-Length'] = payload.length;
      if (payload.length > 0) h.Expect = '100-continue';
    }
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: h, agent: false });
    const timer = setTimeout(() => { req.destroy(new Error(`${method} ${path}: no answer in ${timeout} ms`)); }, timeout);
    req.on('continue', () => req.end(payload));
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      const done = () => {
        clearTimeout(timer);
        resolvePromise({ status: res.statusCode, headers: res.headers, text });
        req.destroy();
      };
      if (onResponse) onResponse(res);
      res.on('data', (d) => {
        text += d;
        if (until && until(text)) { done(); req.destroy(); }
      });
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', () => {});
    });
    if (!payload || payload.length === 0) req.end(payload || undefined);
  });
}

// ---- processes -----------------------------------------------------------------

const procs = [];
const tmp = mkdtempSync(join(tmpdir(), 'sv-openapi-'));
let simPort;

async function until(what, fn, ms = WAIT) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e; // an answer the description does not allow
      last = e; // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(cmd, args, env) {
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  p.logText = '';
  p.stderr.on('data', (d) => { p.logText += d; });
  procs.push(p);
  return p;
}

async function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await until('a child to stop', () => p.exitCode !== null || p.signalCode !== null, 20000).catch(() => p.kill('SIGKILL'));
}

function pluginDir(name, graphs) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  for (const [g, so] of graphs) copyFileSync(so, join(dir, `${g}.so`));
  return dir;
}

async function startDaemon(name, extraEnv) {
  const d = start(join(BUILD, 'sofiia-supervisor'), [], {
    PATH: process.env.PATH,
    SUPERVISOR_LISTEN: '127.0.0.1:0',
    GATEWAY_BASE_URL: `http://127.0.0.1:${simPort}`,
    PLUGIN_CACHE_DIR: join(tmp, `${name}-cache`),
    UI_DIR: join(SRC, 'ui'),
    SSE_HEARTBEAT_SEC: '2',
    WORKER_THREADS: '2',
    ...extraEnv,
  });
  const port = await until(`the daemon (${name})`, () => {
    if (d.exitCode !== null) throw new Error(`the daemon exited: ${d.logText}`);
    const m = d.logText.match(/"msg":"listening".*?"port":(\d+)/);
    return m && Number(m[1]);
  }).catch((e) => { throw new Error(`${e.message}\n${d.logText}`); });
  d.base = `http://127.0.0.1:${port}`;
  await until('/healthz', async () => (await call(d.base, 'GET', '/healthz')).status === 200);
  return d;
}

const so = (g, dir = join('plugins', g)) => join(BUILD, dir, '.libs', `${g}.so`);
const HELLO = so('hello_graph', join('tests', 'plugins'));

before(async () => {
  for (const f of [join(BUILD, 'sofiia-supervisor'), join(BUILD, 'router-sim'), so('release_check'), so('incident_triage')])
    assert.ok(existsSync(f), `${f} is missing (build first)`);
  const portFile = join(tmp, 'sim.port');
  start(join(BUILD, 'router-sim'), ['--scenario', join(SRC, 'tests/scenarios/ui_console.json'),
    '--listen', '127.0.0.1:0', '--port-file', portFile], process.env);
  simPort = await until('router-sim', () => existsSync(portFile) && Number(readFileSync(portFile, 'utf8')));
});

after(async () => {
  for (const p of procs.reverse()) await stop(p);
  if (!process.env.SV_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
  // Drift: every operation the description has was exercised.
  const never = operations.filter((o) => !exercised.has(o));
  for (const o of operations) {
    const documented = spec.paths[o.split(' ')[1]][o.split(' ')[0].toLowerCase()].responses;
    const seen = new Set([...(exercised.get(o) || [])].map((s) => s.split(' ')[0]));
    const unseen = Object.keys(documented).filter((s) => !seen.has(s));
    if (unseen.length) console.log(`${o}: documented statuses not exercised here: ${unseen.join(', ')}`);
  }
  assert.deepEqual(never, [], `documented operations never exercised: ${never.join(', ')}`);
});

// ---- the scenario, once per store ---------------------------------------------

const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
const stores = ['memory', ...(redisServer ? ['redis'] : [])];
if (!redisServer) console.log('# redis-server is not installed: the Redis store is not exercised');

for (const store of stores) {
  test(`every endpoint against the schemas (${store} store)`, async (t) => {
    const env = {
      SUPERVISOR_INTERNAL_KEY: `ops:${KEY},ci:${CI_KEY}@ws_ci`,
      MAX_RUNS_ACTIVE: '2',
      MAX_BODY_BYTES: String(MAX_BODY),
    };
    let redis;
    if (store === 'redis') {
      const dir = join(tmp, 'redis');
      mkdirSync(dir);
      const sock = join(dir, 'redis.sock');
      redis = start(redisServer, ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir], process.env);
      await until('redis-server', () => existsSync(sock));
      env.REDIS_URL = `unix://${sock}`;
    }
    const graphs = [['release_check', so('release_check')], ['incident_triage', so('incident_triage')]];
    if (existsSync(HELLO)) graphs.push(['hello_graph', HELLO]);
    const plugins = pluginDir(`plugins-${store}`, graphs);
    writeFileSync(join(plugins, 'broken.so'), 'not a shared object\n');
    // METRICS_LISTEN: a second listener with /metrics and /healthz only, no key.
    if (store === 'memory') env.METRICS_LISTEN = '127.0.0.1:0';
    const d = await startDaemon(store, { ...env, PLUGIN_DIR: plugins });
    const B = d.base;
    const req = (method, path, o) => call(B, method, path, o);
    const ok = async (method, path, o = {}, expect = {}) => check(method, path, await req(method, path, o), expect);
    const WS = { workspace_id: 'ws_ops', user_id: 'u1', agent_id: 'a1' };

    await t.test('health, readiness, metrics, authentication', async () => {
      await ok('GET', '/healthz', { key: null }, { status: 200 });
      await ok('POST', '/healthz', { key: null }, { status: 405, code: 'method_not_allowed' });
      await ok('GET', '/healthz', { key: null, body: 'x'.repeat(MAX_BODY + 1) }, { status: 413, code: 'body_too_large' });
      const ready = await ok('GET', '/readyz', {}, { status: 200 });
      assert.equal(ready.store, store);
      await ok('GET', '/readyz', { key: null }, { status: 401, code: 'unauthorized' });
      await ok('PUT', '/readyz', {}, { status: 405 });
      await ok('GET', '/readyz', { body: 'x'.repeat(MAX_BODY + 1) }, { status: 413 });
      await ok('GET', '/metrics', { body: 'x'.repeat(MAX_BODY + 1) }, { status: 413 });
      const m = await req('GET', '/metrics');
      check('GET', '/metrics', m, { status: 200 });
      assert.match(m.text, /^# (HELP|TYPE) /m);
      await ok('GET', '/metrics', { key: 'wrong-key-0123456789' }, { status: 401 });
      await ok('POST', '/metrics', {}, { status: 405 });
      await ok('GET', '/v1/nope', {}, { status: 404 });
      await ok('GET', '/v1/nope', { key: null }, { status: 401 });
      await ok('GET', '/v1/runs/', {}, { status: 404 });
      if (store !== 'memory') return;
      const mport = await until('the metrics listener', () => {
        const m = d.logText.match(/"msg":"metrics listening[^"]*".*?"port":(\d+)/);
        return m && Number(m[1]);
      });
      const M = `http://127.0.0.1:${mport}`;
      const mm = await call(M, 'GET', '/metrics', { key: null });
      check('GET', '/metrics', mm, { status: 200 });
      check('GET', '/healthz', await call(M, 'GET', '/healthz', { key: null }), { status: 200 });
      check('POST', '/metrics', await call(M, 'POST', '/metrics', { key: null }), { status: 405 });
      // Everything else there is 404 with the common error body.
      const other = await call(M, 'GET', '/v1/graphs', { key: null });
      assert.equal(other.status, 404);
      const errv = validatorAt('/components/schemas/Error');
      assert.ok(errv(JSON.parse(other.text)), `${other.text}: ${schemaErrors(errv)}`);
      assert.equal(JSON.parse(other.text).error.code, 'not_found');
    });

    let graphList;
    await t.test('graphs', async () => {
      graphList = await ok('GET', '/v1/graphs', {}, { status: 200 });
      assert.deepEqual(graphList.graphs.map((g) => g.name).filter((n) => n !== 'hello'), ['incident_triage', 'release_check']);
      assert.ok(graphList.refused.some((r) => r.file === 'broken.so' && r.reason === 'not_elf'), JSON.stringify(graphList.refused));
      await ok('GET', '/v1/graphs', { key: null }, { status: 401 });
      await ok('DELETE', '/v1/graphs', {}, { status: 405 });
      await ok('GET', '/v1/graphs', { body: 'y'.repeat(MAX_BODY * 2) }, { status: 413 });
    });

    const runs = {};
    await t.test('starting runs: each graph, and every refusal', async () => {
      // The first joins the caller's trace; the second's traceparent is not
      // one, which is ignored (a trace of its own), never an error.
      const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
      const rc = await ok('POST', '/v1/graphs/release_check/runs', {
        body: { ...WS, input: { service_name: 'router', poll_interval_ms: 0 } },
        headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      }, { status: 202 });
      runs.pass = rc.run_id;
      runs.passTrace = TRACE;
      assert.equal(rc.trace_id, TRACE);
      const it = await ok('POST', '/v1/graphs/incident_triage/runs', {
        body: { ...WS, input: { service: 'router', symptom: 'DB pool exhausted after deploy' } },
        headers: { traceparent: 'not-a-traceparent' },
      }, { status: 202 });
      runs.triage = it.run_id;
      assert.notEqual(it.trace_id, TRACE);
      for (const id of [runs.pass, runs.triage])
        await until(`${id} to end`, async () => ['succeeded', 'failed'].includes((await ok('GET', `/v1/runs/${id}?wait=10`, {}, { status: 200 })).status));
      if (graphList.graphs.some((g) => g.name === 'hello')) {
        const h = await ok('POST', '/v1/graphs/hello/runs', { body: { ...WS, input: { max_polls: 1, interval_ms: 0 } } }, { status: 202 });
        runs.hello = h.run_id;
        await ok('POST', '/v1/graphs/hello/runs', { body: { ...WS, input: { max_polls: 0 } } }, { status: 400, code: 'invalid_input' });
        await ok('POST', '/v1/graphs/hello/runs', { key: null, body: WS }, { status: 401 });
        await ok('POST', '/v1/graphs/hello/runs', { key: CI_KEY, body: WS }, { status: 403 });
        const hk = { 'Idempotency-Key': `openapi-${store}-hello` };
        await ok('POST', '/v1/graphs/hello/runs', { body: { ...WS, input: { max_polls: 1, interval_ms: 0 } }, headers: hk }, { status: 202 });
        await ok('POST', '/v1/graphs/hello/runs', { body: WS, headers: hk }, { status: 409 });
        await until('hello to end', async () => ['succeeded', 'failed'].includes((await ok('GET', `/v1/runs/${h.run_id}?wait=10`)).status));
      }
      // 400s
      await ok('POST', '/v1/graphs/release_check/runs', { body: '' }, { status: 400, code: 'invalid_json' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: '{"workspace_id":"a","workspace_id":"b"}' }, { status: 400, code: 'invalid_json' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: '[1]' }, { status: 400, code: 'invalid_json' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, extra: 1 } }, { status: 400, code: 'invalid_request' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, workspace_id: 'no spaces' } }, { status: 400, code: 'invalid_request' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, input: { poll_interval_ms: 70000 } } }, { status: 400, code: 'invalid_input' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, input: [] } }, { status: 400, code: 'invalid_input' });
      await ok('POST', '/v1/graphs/incident_triage/runs', { body: { ...WS, input: { symptom: 's' } } }, { status: 400, code: 'invalid_input' });
      await ok('POST', '/v1/graphs/incident_triage/runs',
        { body: { ...WS, input: { service: 's', symptom: 's', time_range: { from: '2026-02-23T10:00:00Z', to: '2026-02-23T09:00:00Z' } } } },
        { status: 400, code: 'invalid_input' });
      await ok('POST', '/v1/graphs/release_check/runs', { body: WS, headers: { 'Idempotency-Key': 'k'.repeat(256) } }, { status: 400, code: 'invalid_request' });
      // 401, 403, 404, 405, 413
      await ok('POST', '/v1/graphs/release_check/runs', { key: null, body: WS }, { status: 401 });
      await ok('POST', '/v1/graphs/release_check/runs', { key: CI_KEY, body: WS }, { status: 403, code: 'forbidden_workspace' });
      await ok('POST', '/v1/graphs/incident_triage/runs', { key: CI_KEY, body: { ...WS, input: { service: 's', symptom: 's' } } }, { status: 403 });
      await ok('POST', '/v1/graphs/nope/runs', { body: WS }, { status: 404, code: 'graph_not_found' });
      await ok('GET', '/v1/graphs/release_check/runs', {}, { status: 405 });
      await ok('GET', '/v1/graphs/incident_triage/runs', {}, { status: 405 });
      await ok('GET', '/v1/graphs/nope/runs', {}, { status: 405 });
      await ok('POST', '/v1/graphs/release_check/runs', { body: 'z'.repeat(MAX_BODY + 10) }, { status: 413 });
      await ok('POST', '/v1/graphs/incident_triage/runs', { body: 'z'.repeat(MAX_BODY + 10) }, { status: 413 });
      await ok('POST', '/v1/graphs/nope/runs', { body: 'z'.repeat(MAX_BODY + 10) }, { status: 413 });
      // Idempotency-Key: a replay, then the same key with another request
      const idem = { 'Idempotency-Key': `openapi-${store}-1` };
      const body = JSON.stringify({ ...WS, input: { service_name: 'idem', poll_interval_ms: 0 } });
      const first = await ok('POST', '/v1/graphs/release_check/runs', { body, headers: idem }, { status: 202 });
      const againRes = await req('POST', '/v1/graphs/release_check/runs', { body, headers: idem });
      const again = check('POST', '/v1/graphs/release_check/runs', againRes, { status: 202 });
      assert.equal(again.run_id, first.run_id);
      assert.equal(againRes.headers['idempotent-replayed'], 'true');
      await ok('POST', '/v1/graphs/release_check/runs', { body: body + ' ', headers: idem }, { status: 409, code: 'idempotency_key_reused' });
      await ok('GET', `/v1/runs/${first.run_id}?wait=10`, {}, { status: 200 });
      runs.idem = first.run_id;
    });

    await t.test('a run: plain, waiting, results, refusals', async () => {
      const view = await ok('GET', `/v1/runs/${runs.pass}`, {}, { status: 200 });
      assert.equal(view.status, 'succeeded', JSON.stringify(view.error));
      const rcv = validatorAt('/components/schemas/ReleaseCheckResult');
      assert.ok(rcv(view.result), `release_check result: ${schemaErrors(rcv)}`);
      const tri = await ok('GET', `/v1/runs/${runs.triage}?wait=0`, {}, { status: 200 });
      assert.equal(tri.status, 'succeeded', JSON.stringify(tri.error));
      const itv = validatorAt('/components/schemas/IncidentTriageResult');
      assert.ok(itv(tri.result), `incident_triage result: ${schemaErrors(itv)}`);
      assert.equal(view.trace_id, runs.passTrace); // joined the caller's traceparent
      await ok('GET', `/v1/runs/${runs.pass}?wait=5&since=1`, {}, { status: 200 });
      await ok('GET', `/v1/runs/${runs.pass}?wait=61`, {}, { status: 400, code: 'invalid_request' });
      await ok('GET', `/v1/runs/${runs.pass}?since=-1&wait=1`, {}, { status: 400 });
      await ok('GET', `/v1/runs/${runs.pass}?bogus=1`, {}, { status: 400 });
      await ok('GET', '/v1/runs/gr_00000000000000000000000000000000', {}, { status: 404, code: 'run_not_found' });
      await ok('GET', '/v1/runs/not-an-id?wait=1', {}, { status: 404 });
      await ok('GET', `/v1/runs/${runs.pass}`, { key: CI_KEY }, { status: 404, code: 'run_not_found' });
      await ok('GET', `/v1/runs/${runs.pass}`, { key: null }, { status: 401 });
      await ok('POST', `/v1/runs/${runs.pass}`, {}, { status: 405 });
      await ok('GET', `/v1/runs/${runs.pass}`, { body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    await t.test('listing runs, with pages', async () => {
      const all = await ok('GET', '/v1/runs', {}, { status: 200 });
      assert.ok(all.runs.length >= 3);
      const page = await ok('GET', '/v1/runs?limit=1&status=succeeded&graph=release_check&workspace_id=ws_ops', {}, { status: 200 });
      assert.equal(page.runs.length, 1);
      assert.equal(typeof page.next, 'string');
      const p2 = await ok('GET', `/v1/runs?limit=1&status=succeeded&graph=release_check&workspace_id=ws_ops&cursor=${encodeURIComponent(page.next)}`, {}, { status: 200 });
      assert.notEqual(p2.runs[0]?.run_id, page.runs[0].run_id);
      assert.equal(all.next, null); // fewer runs than the default limit: the last page
      const none = await ok('GET', '/v1/runs', { key: CI_KEY }, { status: 200 });
      assert.deepEqual(none.runs, []);
      const bad = await ok('GET', '/v1/runs?cursor=%21not-a-cursor', {}, { status: 400, code: 'invalid_request' });
      assert.equal(bad.error.details.field, 'cursor');
      await ok('GET', '/v1/runs?limit=0', {}, { status: 400 });
      await ok('GET', '/v1/runs?status=done', {}, { status: 400 });
      await ok('GET', '/v1/runs', { key: null }, { status: 401 });
      await ok('POST', '/v1/runs', {}, { status: 405 });
      await ok('GET', '/v1/runs', { body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    await t.test("a run's events: JSON pages and the event stream", async () => {
      const SSE = { Accept: 'text/event-stream' };
      const page = await ok('GET', `/v1/runs/${runs.pass}/events`, {}, { status: 200 });
      assert.equal(page.events[0].seq, 0);
      const tail = await ok('GET', `/v1/runs/${runs.pass}/events?since=2&limit=2`, {}, { status: 200 });
      assert.deepEqual(tail.events.map((e) => e.seq), [2, 3]);
      const all = await ok('GET', `/v1/runs/${runs.pass}/events`, { headers: SSE }, { status: 200 });
      assert.equal(all.at(-1).event, 'end');
      assert.equal(all.length, page.events.length + 1);
      const resumed = await ok('GET', `/v1/runs/${runs.pass}/events`, { headers: { ...SSE, 'Last-Event-ID': '2' } }, { status: 200 });
      assert.equal(resumed[0].id, '3');
      if (runs.hello) await ok('GET', `/v1/runs/${runs.hello}/events`, { headers: SSE }, { status: 200 });
      await ok('GET', `/v1/runs/${runs.triage}/events`, { headers: SSE }, { status: 200 });
      await ok('GET', `/v1/runs/${runs.pass}/events?limit=0`, {}, { status: 400, code: 'invalid_request' });
      await ok('GET', `/v1/runs/${runs.pass}/events`, { headers: { ...SSE, 'Last-Event-ID': 'x' } }, { status: 400 });
      await ok('GET', `/v1/runs/${runs.pass}/events?wait=1`, {}, { status: 400 });
      await ok('GET', '/v1/runs/gr_00000000000000000000000000000000/events', { headers: SSE }, { status: 404 });
      await ok('GET', '/v1/runs/gr_00000000000000000000000000000000/events', {}, { status: 404 });
      await ok('GET', `/v1/runs/${runs.pass}/events`, { key: null }, { status: 401 });
      await ok('POST', `/v1/runs/${runs.pass}/events`, {}, { status: 405 });
      await ok('GET', `/v1/runs/${runs.pass}/events`, { body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    await t.test("every run's changes: the runs stream", async () => {
      const SSE = { Accept: 'text/event-stream' };
      await ok('GET', '/v1/events', {}, { status: 406, code: 'not_acceptable' });
      await ok('GET', '/v1/events?bogus=1', { headers: SSE }, { status: 400 });
      await ok('GET', '/v1/events', { key: null, headers: SSE }, { status: 401 });
      await ok('POST', '/v1/events', {}, { status: 405 });
      await ok('GET', '/v1/events', { headers: SSE, body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
      let runId = null, opened;
      const open = new Promise((r) => { opened = r; });
      const streaming = req('GET', '/v1/events?graph=release_check&workspace_id=ws_ops', {
        headers: SSE,
        onResponse: opened,
        until: (text) => runId !== null && parseSse(text).some((e) => e.event === 'run_end' && e.data.run_id === runId),
      });
      // The stream's starting point is taken before its headers are sent:
      // once they are here, the run below cannot be missed.
      await open;
      const started = await ok('POST', '/v1/graphs/release_check/runs',
        { body: { ...WS, input: { service_name: 'router', poll_interval_ms: 0 } } }, { status: 202 });
      runId = started.run_id;
      const events = check('GET', '/v1/events', await streaming, { status: 200 });
      assert.ok(events.some((e) => e.event === 'run_end' && e.data.run_id === runId), JSON.stringify(events));
    });

    await t.test('cancelling, and the instance full (429)', async () => {
      const stuck = { ...WS, input: { service_name: 'stuck', poll_interval_ms: 200 } };
      const a = await ok('POST', '/v1/graphs/release_check/runs', { body: stuck }, { status: 202 });
      const b = await ok('POST', '/v1/graphs/release_check/runs', { body: stuck }, { status: 202 });
      const full = await req('POST', '/v1/graphs/release_check/runs', { body: stuck });
      check('POST', '/v1/graphs/release_check/runs', full, { status: 429, code: 'too_many_runs' });
      assert.equal(full.headers['retry-after'], '5');
      await ok('POST', '/v1/graphs/incident_triage/runs', { body: { ...WS, input: { service: 's', symptom: 's' } } }, { status: 429 });
      await ok('POST', '/v1/graphs/nope/runs', { body: WS }, { status: 429 });
      await until('the run to be running', async () => (await ok('GET', `/v1/runs/${a.run_id}?wait=2&since=1`)).status === 'running');
      await ok('POST', `/v1/runs/${a.run_id}/cancel`, {}, { status: 202 });
      const cancelled = await ok('GET', `/v1/runs/${a.run_id}?wait=20`, {}, { status: 200 });
      assert.equal(cancelled.status, 'cancelled');
      await ok('POST', `/v1/runs/${a.run_id}/cancel`, {}, { status: 200 });
      const bAnswer = await ok('POST', `/v1/runs/${b.run_id}/cancel`, { key: CI_KEY }, { status: 404 });
      assert.equal(bAnswer.error.code, 'run_not_found');
      await ok('POST', `/v1/runs/${b.run_id}/cancel`, { body: 'ignored' });
      await ok('GET', `/v1/runs/${b.run_id}?wait=20`, {}, { status: 200 });
      await ok('POST', `/v1/runs/${runs.pass}/cancel`, {}, { status: 409, code: 'run_finished' });
      await ok('POST', '/v1/runs/gr_00000000000000000000000000000000/cancel', {}, { status: 404 });
      await ok('POST', `/v1/runs/${runs.pass}/cancel`, { key: null }, { status: 401 });
      await ok('GET', `/v1/runs/${runs.pass}/cancel`, {}, { status: 405 });
      await ok('POST', `/v1/runs/${runs.pass}/cancel`, { body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    await t.test('keeping a run (retain)', async () => {
      const WEEK = 604800; // longer than RUN_TTL_SEC (a day)
      const kept = await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: WEEK } }, { status: 200 });
      assert.ok(kept.ttl_sec > WEEK - 60 && kept.ttl_sec <= WEEK, JSON.stringify(kept));
      // Never shortened: an hour leaves the week.
      const again = await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: 3600 } }, { status: 200 });
      assert.equal(again.expires_at, kept.expires_at);
      const view = await ok('GET', `/v1/runs/${runs.pass}`, {}, { status: 200 });
      assert.equal(view.expires_at, kept.expires_at);
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: {} }, { status: 400, code: 'invalid_request' });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: 0 } }, { status: 400 });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: 'x' } }, { status: 400 });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: 60, more: 1 } }, { status: 400 });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: 'nope' }, { status: 400, code: 'invalid_json' });
      await ok('POST', '/v1/runs/gr_00000000000000000000000000000000/retain', { body: { ttl_sec: 60 } }, { status: 404, code: 'run_not_found' });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { key: CI_KEY, body: { ttl_sec: 60 } }, { status: 404 });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { key: null, body: { ttl_sec: 60 } }, { status: 401 });
      await ok('GET', `/v1/runs/${runs.pass}/retain`, {}, { status: 405 });
      await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    await t.test("the run console's files", async () => {
      await ok('GET', '/ui', { key: null }, { status: 308 });
      await ok('POST', '/ui', { key: null }, { status: 405 });
      await ok('GET', '/ui', { key: null, body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
      const index = await req('GET', '/ui/', { key: null });
      check('GET', '/ui/', index, { status: 200 });
      await ok('GET', '/ui/', { key: null, headers: { 'If-None-Match': index.headers.etag } }, { status: 304 });
      await ok('POST', '/ui/', { key: null }, { status: 405 });
      await ok('GET', '/ui/', { key: null, body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
      for (const f of ['app.js', 'style.css', 'favicon.svg', 'index.html']) {
        const r = await req('GET', `/ui/${f}`, { key: null });
        check('GET', `/ui/${f}`, r, { status: 200 });
        await ok('GET', `/ui/${f}`, { key: null, headers: { 'If-None-Match': r.headers.etag } }, { status: 304 });
      }
      await ok('GET', '/ui/nope.js', { key: null }, { status: 404, code: 'not_found' });
      await ok('GET', '/ui/.hidden.js', { key: null }, { status: 404 });
      await ok('DELETE', '/ui/app.js', { key: null }, { status: 405 });
      await ok('GET', '/ui/app.js', { key: null, body: 'q'.repeat(MAX_BODY + 1) }, { status: 413 });
    });

    if (store === 'redis') {
      await t.test('the store full: 503 store_full', async (tt) => {
        const cli = spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).stdout.trim();
        if (!cli) return tt.skip('redis-cli is not installed');
        const redisCli = (...a) => {
          const r = spawnSync(cli, ['-s', env.REDIS_URL.slice('unix://'.length), ...a], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
        };
        redisCli('config', 'set', 'maxmemory-policy', 'noeviction');
        redisCli('config', 'set', 'maxmemory', '1');
        try {
          await ok('GET', '/readyz', {}, { status: 503, code: 'store_full' });
          await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, input: {} } }, { status: 503, code: 'store_full' });
        } finally {
          redisCli('config', 'set', 'maxmemory', '0');
        }
        await ok('GET', '/readyz', {}, { status: 200 });
      });
      await t.test('the store gone: 503 store_unavailable', async () => {
        await stop(redis);
        const SSE = { Accept: 'text/event-stream' };
        await until('readyz to say so', async () => (await req('GET', '/readyz')).status === 503);
        await ok('GET', '/readyz', {}, { status: 503, code: 'store_unavailable' });
        await ok('POST', '/v1/graphs/release_check/runs', { body: { ...WS, input: {} } }, { status: 503, code: 'store_unavailable' });
        await ok('POST', '/v1/graphs/incident_triage/runs', { body: { ...WS, input: { service: 's', symptom: 's' } } }, { status: 503 });
        if (runs.hello) await ok('POST', '/v1/graphs/hello/runs', { body: WS }, { status: 503 });
        await ok('GET', '/v1/runs', {}, { status: 503, code: 'store_unavailable' });
        await ok('GET', `/v1/runs/${runs.pass}`, {}, { status: 503 });
        await ok('GET', `/v1/runs/${runs.pass}?wait=1`, {}, { status: 503 });
        await ok('POST', `/v1/runs/${runs.pass}/cancel`, {}, { status: 503 });
        await ok('GET', `/v1/runs/${runs.pass}/events`, {}, { status: 503 });
        await ok('GET', `/v1/runs/${runs.pass}/events`, { headers: SSE }, { status: 503 });
        await ok('GET', '/v1/events', { headers: SSE }, { status: 503 });
        await ok('POST', `/v1/runs/${runs.pass}/retain`, { body: { ttl_sec: 60 } }, { status: 503 });
      });
    } else {
      await t.test('no graph loaded: 503 not_ready (a second daemon, no key)', async () => {
        const empty = await startDaemon('empty', { PLUGIN_DIR: pluginDir('plugins-empty', []), UI_DIR: join(tmp, 'no-ui') });
        check('GET', '/ui/', await call(empty.base, 'GET', '/ui/', { key: null }), { status: 404, code: 'not_found' });
        const r = await call(empty.base, 'GET', '/readyz', { key: null });
        check('GET', '/readyz', r, { status: 503, code: 'not_ready' });
        const g = await call(empty.base, 'GET', '/v1/graphs', { key: null });
        assert.deepEqual(check('GET', '/v1/graphs', g, { status: 200 }).graphs, []);
        await stop(empty);
      });
    }
    await stop(d);
  });
}
