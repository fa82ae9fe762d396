// The API as the page calls it: every request carries the key kept in this
// tab's sessionStorage (never in a URL, never in localStorage); errors come
// back as ApiError with the API's code, message and details.field.

const KEY = 'sofiia-supervisor.key';

export function getKey() {
  return sessionStorage.getItem(KEY) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

// A 401 anywhere: the page asks for the key again (app.js listens).
export function unauthorized(err) {
  window.dispatchEvent(new CustomEvent('sv-unauthorized', { detail: err }));
}

export async function errorOf(r) {
  let body = null;
  try { body = await r.json(); } catch { /* not JSON: a proxy's page */ }
  const e = (body && body.error) || {};
  const err = new ApiError(r.status, e.code || `http_${r.status}`,
    e.message || `${r.status} ${r.statusText}`, e.details && e.details.field);
  if (r.status === 401) unauthorized(err);
  return err;
}

export async function api(method, path, body, { signal } = {}) {
  const headers = authHeaders({ Accept: 'application/json' });
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, {
      method, headers, signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'no_answer', 'The daemon did not answer (is it running? is the proxy up?)');
  }
  if (!r.ok) throw await errorOf(r);
  return r.json();
}
