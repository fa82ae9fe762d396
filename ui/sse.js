// Server-Sent Events read with fetch(): EventSource cannot send the
// Authorization header, and the key must stay out of URLs.  Reconnects as
// EventSource would, with Last-Event-ID, so no event is missed or repeated;
// stops for good on an "end" event, on a 4xx, or when closed.

import { authHeaders, errorOf } from './api.js';

export function openStream(path, { onEvent, onState, onError } = {}) {
  let lastId = null;
  let retry = 2000;
  let stopped = false;
  let ctrl = null;
  const state = (s) => onState && onState(s);

  function dispatch(block) {
    let id = null, type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (id !== null) lastId = id;
    if (!data.length) return;
    let parsed = null;
    try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
    if (type === 'end') stopped = true;
    onEvent && onEvent({ id: id === null ? null : Number(id), type, data: parsed });
  }

  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (lastId !== null) headers['Last-Event-ID'] = lastId;
      try {
        const r = await fetch(path, { headers, signal: ctrl.signal, cache: 'no-store' });
        if (!r.ok) {
          const err = await errorOf(r);
          if (r.status < 500) { stopped = true; onError && onError(err); break; }
          throw err;
        }
        state('live');
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            dispatch(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
          }
        }
      } catch (e) {
        if (stopped || e.name === 'AbortError') break;
      }
      if (stopped) break;
      state('reconnecting');
      await new Promise((res) => setTimeout(res, retry));
    }
    state('closed');
  }

  run();
  return {
    close() { stopped = true; if (ctrl) ctrl.abort(); },
  };
}
