// A run's result as people read it: release_check's gates as a table,
// incident_triage's ranked causes, mitigations, checks and data gaps; any
// other graph's result as JSON.

import { h, badge } from './dom.js';

function list(items, cls) {
  return h('ul', { class: cls }, (items || []).map((x) => h('li', {}, String(x))));
}

function releaseCheck(r) {
  return h('div', { class: 'result-release' },
    h('p', {}, badge(r.pass ? 'pass' : 'fail'), ' ', r.summary || ''),
    h('table', { id: 'gates' },
      h('caption', { class: 'muted' }, 'Gates'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Gate'), h('th', { scope: 'col' }, 'Status'))),
      h('tbody', {}, (r.gates || []).map((g) => h('tr', {}, h('td', {}, g.name), h('td', {}, badge(g.status)))))),
    r.recommendations && r.recommendations.length
      ? h('div', {}, h('h3', {}, 'Recommendations'), list(r.recommendations)) : '',
    r.elapsed_ms !== undefined ? h('p', { class: 'muted' }, `Job time: ${r.elapsed_ms} ms`) : '');
}

function incidentTriage(r) {
  const causes = r.suspected_root_causes || [];
  return h('div', { class: 'result-triage' },
    h('p', {}, r.summary || ''),
    r.impact_assessment ? h('p', { class: 'panel' }, h('strong', {}, 'Impact: '), r.impact_assessment) : '',
    h('h3', {}, 'Suspected root causes'),
    causes.length
      ? h('ol', { class: 'causes', id: 'causes' }, causes.map((c) => h('li', {},
        h('strong', {}, c.cause), ' ',
        c.confidence ? badge(`${c.confidence} confidence`) : '',
        c.confidence_reason ? h('span', { class: 'muted' }, ` ${c.confidence_reason}`) : '',
        list(c.evidence, 'calls'))))
      : h('p', { class: 'muted' }, 'No cause stands out.'),
    h('h3', {}, 'Mitigations now'),
    (r.mitigations_now || []).length ? list(r.mitigations_now) : h('p', { class: 'muted' }, 'None.'),
    (r.next_checks || []).length ? h('div', {}, h('h3', {}, 'Next checks'), list(r.next_checks)) : '',
    h('h3', {}, 'Data gaps'),
    (r.data_gaps || []).length
      ? h('table', { id: 'gaps' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Node'), h('th', { scope: 'col' }, 'Tool'),
          h('th', { scope: 'col' }, 'Error'))),
        h('tbody', {}, r.data_gaps.map((g) => h('tr', {}, h('td', {}, g.node), h('td', {}, g.tool),
          h('td', {}, typeof g.error === 'object' ? JSON.stringify(g.error) : String(g.error))))))
      : h('p', { class: 'muted' }, 'None: every source answered.'));
}

export function renderResult(graph, result) {
  if (graph === 'release_check' && Array.isArray(result.gates)) return releaseCheck(result);
  if (graph === 'incident_triage' && 'suspected_root_causes' in result) return incidentTriage(result);
  return h('pre', { class: 'json' }, JSON.stringify(result, null, 2));
}
