// The runs, newest first, filtered by graph, status and workspace (the
// filters are in the URL, so a view can be bookmarked), kept up to date by
// GET /v1/events: a run's start, status changes and end move its row.

import { api } from './api.js';
import { h, clear, badge, fmtTime, durationOf } from './dom.js';
import { openStream } from './sse.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function runsView(main, params) {
  const f = {
    graph: params.get('graph') || '',
    status: params.get('status') || '',
    workspace_id: params.get('workspace_id') || '',
  };
  const rows = new Map(); // run_id -> summary
  let stream = null;
  let closed = false;
  const live = h('span', { class: 'live off', role: 'status' }, 'connecting…');
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted', hidden: true }, 'No runs match.');
  const graphSel = h('select', { id: 'f-graph', name: 'graph' }, h('option', { value: '' }, 'any'));
  const statusSel = h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, 'any'),
    STATUSES.map((s) => h('option', { value: s, selected: s === f.status }, s)));
  const wsInput = h('input', { id: 'f-ws', name: 'workspace_id', type: 'text', value: f.workspace_id, size: 16 });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter runs' },
    h('div', {}, h('label', { for: 'f-graph' }, 'Graph'), graphSel),
    h('div', {}, h('label', { for: 'f-status' }, 'Status'), statusSel),
    h('div', {}, h('label', { for: 'f-ws' }, 'Workspace'), wsInput),
    h('button', { type: 'submit' }, 'Filter'),
    live);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (graphSel.value) q.set('graph', graphSel.value);
    if (statusSel.value) q.set('status', statusSel.value);
    if (wsInput.value.trim()) q.set('workspace_id', wsInput.value.trim());
    location.hash = `#/runs${q.toString() ? '?' + q : ''}`;
  });
  main.append(
    h('h1', {}, 'Runs'),
    form,
    h('table', { 'aria-describedby': 'runs-caption' },
      h('caption', { id: 'runs-caption', class: 'muted' }, 'Newest first; updates live.'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Run'), h('th', { scope: 'col' }, 'Graph'),
        h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Workspace'),
        h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col', class: 'num' }, 'Duration'))),
      tbody),
    empty);

  function render() {
    clear(tbody);
    const list = [...rows.values()]
      .filter((s) => !f.status || s.status === f.status)
      .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))
      .slice(0, 200);
    for (const s of list) {
      tbody.append(h('tr', { 'data-run': s.run_id },
        h('td', {}, h('a', { href: `#/runs/${s.run_id}`, class: 'mono' }, s.run_id)),
        h('td', {}, `${s.graph} ${s.graph_version || ''}`),
        h('td', {}, badge(s.status)),
        h('td', {}, s.workspace_id),
        h('td', {}, fmtTime(s.created_at)),
        h('td', { class: 'num' }, durationOf(s.started_at || s.created_at, s.finished_at))));
    }
    empty.hidden = list.length > 0;
  }

  (async () => {
    try {
      const g = await api('GET', '/v1/graphs');
      for (const x of g.graphs || [])
        graphSel.append(h('option', { value: x.name, selected: x.name === f.graph }, x.name));
      if (closed) return;
      // The stream first: its baseline is taken before its headers come, so
      // the listing read after it misses no change.
      const q = new URLSearchParams();
      if (f.graph) q.set('graph', f.graph);
      if (f.workspace_id) q.set('workspace_id', f.workspace_id);
      const path = `/v1/events${q.toString() ? '?' + q : ''}`;
      let listed = false;
      stream = openStream(path, {
        onEvent: (ev) => {
          if (!ev.data || !ev.data.run_id) return;
          rows.set(ev.data.run_id, ev.data);
          if (listed) render();
        },
        onState: async (s) => {
          live.textContent = s === 'live' ? '● live' : s === 'reconnecting' ? 'reconnecting…' : 'not live';
          live.className = s === 'live' ? 'live' : 'live off';
          if (s === 'live' && !closed) {
            const lq = new URLSearchParams(q);
            if (f.status) lq.set('status', f.status);
            lq.set('limit', '100');
            const r = await api('GET', `/v1/runs?${lq}`);
            for (const s2 of r.runs || []) if (!rows.has(s2.run_id)) rows.set(s2.run_id, s2);
            listed = true;
            render();
          }
        },
        onError: (e) => { live.textContent = `not live: ${e.message}`; },
      });
    } catch (e) {
      if (e.status !== 401) main.append(h('p', { class: 'panel error-box', role: 'alert' }, e.message));
    }
  })();

  return () => { closed = true; if (stream) stream.close(); };
}
