// The run console: asks for the key once per tab, then shows the view the
// URL's hash names.  Views return a function that closes what they opened
// (event streams), called when the page moves on.

import { api, getKey, setKey } from './api.js';
import { h, clear } from './dom.js';
import { runsView } from './runs.js';
import { runView } from './run.js';
import { startView } from './start.js';

const main = document.getElementById('main');
const banner = document.getElementById('banner');
const forget = document.getElementById('forget-key');
let cleanup = null;
let asking = false;

function showBanner(text) {
  banner.textContent = text;
  banner.hidden = !text;
}

function keyForm(message) {
  asking = true;
  if (cleanup) { cleanup(); cleanup = null; }
  clear(main);
  const input = h('input', {
    id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'key-help key-msg',
  });
  const msg = h('p', { id: 'key-msg', class: 'err', role: 'alert' }, message || '');
  const form = h('form', { class: 'keybox panel', 'aria-labelledby': 'key-title' },
    h('h1', { id: 'key-title' }, 'API key'),
    h('div', { class: 'field' },
      h('label', { for: 'api-key' }, 'Key (one of SUPERVISOR_INTERNAL_KEY)'),
      input,
      h('p', { id: 'key-help', class: 'help' },
        'Kept in this tab only (sessionStorage) and sent as Authorization: Bearer with every request. ',
        'Closing the tab forgets it.'),
      msg),
    h('button', { type: 'submit' }, 'Use this key'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setKey(input.value.trim());
    msg.textContent = '';
    try {
      await api('GET', '/v1/graphs');
      asking = false;
      showBanner('');
      route();
    } catch (e) {
      setKey('');
      msg.textContent = e.status === 401
        ? 'The daemon refused this key (401 unauthorized): check it against SUPERVISOR_INTERNAL_KEY.'
        : `The daemon could not be asked: ${e.message}`;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}

window.addEventListener('sv-unauthorized', () => {
  if (asking) return;
  setKey('');
  showBanner('');
  keyForm('The daemon refused the key (401 unauthorized): it was changed or revoked. Enter a valid key.');
});

function route() {
  if (asking) return;
  if (cleanup) { cleanup(); cleanup = null; }
  forget.hidden = !getKey();
  clear(main);
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  let m;
  if ((m = path.match(/^\/runs\/([A-Za-z0-9_]+)$/))) cleanup = runView(main, m[1]);
  else if ((m = path.match(/^\/start(?:\/([A-Za-z0-9_.-]+))?$/))) cleanup = startView(main, m[1] || '');
  else cleanup = runsView(main, params);
  main.focus({ preventScroll: true });
}

forget.addEventListener('click', () => {
  setKey('');
  keyForm('');
});

window.addEventListener('hashchange', route);

(async function start() {
  try {
    await api('GET', '/v1/graphs');
    route();
  } catch (e) {
    // a 401 has shown the key form already (sv-unauthorized)
    if (e.status === 401) { if (!asking) keyForm(''); }
    else { showBanner(`The daemon could not be asked: ${e.message}`); route(); }
  }
}());
