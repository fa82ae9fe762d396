// One run: its status and timings, each node with its duration, each tool
// call with its attempt, status and sizes (the API has no payloads), the
// result and the error, and a cancel button.  Built from the run's event
// stream, which replays every kept event and then follows the run live.

import { api } from './api.js';
import { h, clear, badge, fmtTime, fmtMs, fmtBytes, durationOf } from './dom.js';
import { openStream } from './sse.js';
import { renderResult } from './result.js';

export function runView(main, id) {
  let stream = null;
  let run = null;
  const steps = []; // {node, ts, duration_ms, outcome, calls: []}
  const meta = h('dl', { class: 'meta' });
  const live = h('span', { class: 'live off', role: 'status', 'aria-live': 'polite' }, '');
  const cancelBtn = h('button', { type: 'button', class: 'danger', id: 'cancel' }, 'Cancel run');
  const cancelMsg = h('span', { role: 'status', class: 'muted' });
  const notice = h('p', { class: 'muted', hidden: true });
  const tbody = h('tbody');
  const errorBox = h('div', { id: 'run-error' });
  const resultBox = h('section', { id: 'result', 'aria-labelledby': 'result-title' });
  main.append(
    h('p', {}, h('a', { href: '#/runs' }, '← All runs')),
    h('h1', {}, 'Run ', h('span', { class: 'mono' }, id), ' ', live),
    meta,
    h('p', {}, cancelBtn, ' ', cancelMsg),
    errorBox,
    h('h2', {}, 'Nodes'),
    notice,
    h('table', { id: 'nodes' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Node'),
        h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
        h('th', { scope: 'col' }, 'Outcome and tool calls'))),
      tbody),
    resultBox);

  function renderMeta() {
    clear(meta);
    const item = (k, v) => h('div', {}, h('dt', {}, k), h('dd', {}, v));
    meta.append(
      item('Status', h('span', { id: 'run-status' }, badge(run.status))),
      item('Graph', `${run.graph} ${run.graph_version || ''}`),
      item('Workspace', run.workspace_id || ''),
      item('User / agent', `${run.user_id || ''} / ${run.agent_id || ''}`),
      item('Created', fmtTime(run.created_at)),
      item('Started', fmtTime(run.started_at) || '—'),
      item('Finished', fmtTime(run.finished_at) || '—'),
      item('Duration', durationOf(run.started_at || run.created_at, run.finished_at)));
    const over = ['succeeded', 'failed', 'cancelled'].includes(run.status);
    cancelBtn.disabled = over;
    cancelBtn.hidden = over;
    clear(errorBox);
    if (run.error) {
      errorBox.append(h('div', { class: 'panel error-box', role: 'alert' },
        h('strong', {}, 'Error '), h('code', {}, run.error.code || ''), ': ', run.error.message || ''));
    }
  }

  function callLine(d) {
    const parts = [`${d.tool}/${d.action}`, `attempt ${d.attempt}`];
    const st = h('span', { class: 's-' + d.status }, d.status);
    return h('li', { class: 'call' }, parts.join(' · '), ' · ', st,
      d.http_status ? ` (HTTP ${d.http_status})` : '',
      d.error_code ? ` ${d.error_code}` : '',
      ` · ${fmtMs(d.duration_ms)} · sent ${fmtBytes(d.request_bytes)}, received ${fmtBytes(d.response_bytes)}`);
  }

  function renderSteps() {
    clear(tbody);
    steps.forEach((s, i) => {
      const outcome = s.outcome === 'running'
        ? h('span', { class: 's-running' }, 'running…')
        : s.outcome === 'error' ? h('span', { class: 's-error' }, `error ${s.code || ''}`)
          : h('span', { class: 's-ok' }, `ok → ${s.next}`);
      tbody.append(h('tr', { 'data-node': s.node },
        h('td', { class: 'num' }, i + 1),
        h('td', {}, h('code', {}, s.node)),
        h('td', {}, fmtTime(s.ts)),
        h('td', { class: 'num' }, s.duration_ms === undefined ? '' : fmtMs(s.duration_ms)),
        h('td', {}, outcome, s.calls.length ? h('ul', { class: 'calls' }, s.calls.map(callLine)) : '')));
    });
  }

  function onEvent(ev) {
    const e = ev.data || {};
    if (ev.type === 'dropped') {
      notice.hidden = false;
      notice.textContent = `${e.missed} older events were dropped (a run keeps its newest 1000).`;
      return;
    }
    if (ev.type === 'end') {
      Object.assign(run, e);
      renderMeta();
      clear(resultBox);
      if (e.result) {
        resultBox.append(h('h2', { id: 'result-title' }, 'Result'));
        resultBox.append(renderResult(run.graph, e.result));
      }
      return;
    }
    const d = e.details || {};
    const open = [...steps].reverse().find((s) => s.node === e.node && s.outcome === 'running');
    if (ev.type === 'node_start') {
      steps.push({ node: e.node, ts: e.ts, outcome: 'running', calls: [] });
    } else if (ev.type === 'tool_call') {
      const s = open || [...steps].reverse().find((x) => x.node === e.node);
      if (s) s.calls.push(d);
      else steps.push({ node: e.node, ts: e.ts, outcome: 'ok', next: '', calls: [d] });
    } else if (ev.type === 'node_end' && open) {
      Object.assign(open, { outcome: 'ok', duration_ms: d.duration_ms, next: d.next });
    } else if (ev.type === 'node_error' && open) {
      Object.assign(open, { outcome: 'error', duration_ms: d.duration_ms, code: d.code });
    } else if (ev.type === 'run_start') {
      run.status = 'running';
      if (!run.started_at) run.started_at = e.ts;
      renderMeta();
    } else if (ev.type === 'run_end') {
      run.status = d.status || run.status;
      renderMeta();
    } else if (ev.type === 'cancel_requested') {
      cancelMsg.textContent = 'Cancel requested.';
    }
    renderSteps();
  }

  cancelBtn.addEventListener('click', async () => {
    cancelBtn.disabled = true;
    cancelMsg.textContent = 'Cancelling…';
    try {
      const r = await api('POST', `/v1/runs/${id}/cancel`);
      cancelMsg.textContent = r.status === 'cancelled' ? 'Cancelled.' : 'Cancelling: the run stops after its current step.';
    } catch (e) {
      cancelMsg.textContent = e.message;
      cancelBtn.disabled = false;
    }
  });

  (async () => {
    try {
      run = await api('GET', `/v1/runs/${id}`);
    } catch (e) {
      if (e.status !== 401) {
        clear(main).append(h('p', {}, h('a', { href: '#/runs' }, '← All runs')),
          h('p', { class: 'panel error-box', role: 'alert' }, e.message));
      }
      return;
    }
    delete run.events; // the stream brings them, each once
    renderMeta();
    stream = openStream(`/v1/runs/${id}/events`, {
      onEvent,
      onState: (s) => {
        live.textContent = s === 'live' ? '● live' : s === 'reconnecting' ? 'reconnecting…' : '';
        live.className = s === 'live' ? 'live' : 'live off';
      },
      onError: (e) => { live.textContent = e.message; },
    });
  })();

  return () => { if (stream) stream.close(); };
}
