// "Start a run": a form made from the graph's input schema (GET /v1/graphs).
// The API validates (the form sets novalidate, so what the API says is what
// the user sees): a 400 is shown beside the field that details.field names.

import { api } from './api.js';
import { h } from './dom.js';

const IDS = [
  ['workspace_id', 'Workspace', 'console'],
  ['user_id', 'User', 'console'],
  ['agent_id', 'Agent', 'sofiia-console'],
];

const fid = (path) => 'in-' + path.replace(/[^A-Za-z0-9_]/g, '-');

// One input for a schema property; fields[path] = how to read it back.
function field(path, name, prop, required, fields) {
  const id = fid(path);
  const help = prop.description || '';
  const helpId = `${id}-help`, errId = `${id}-err`;
  const err = h('p', { id: errId, class: 'err', hidden: true });
  const described = `${help ? helpId : ''} ${errId}`.trim();
  const label = h('label', { for: id }, name, required ? ' (required)' : '');
  let input, read;
  const dflt = prop.default;
  if (prop.type === 'boolean') {
    input = h('input', { id, type: 'checkbox', checked: dflt === true, 'aria-describedby': described });
    read = () => input.checked;
    fields[path] = { input, err, read };
    return h('div', { class: 'field check' }, input, ' ', label,
      help ? h('p', { id: helpId, class: 'help' }, help) : '', err);
  }
  if (Array.isArray(prop.enum)) {
    input = h('select', { id, 'aria-describedby': described },
      required ? '' : h('option', { value: '' }, '(default)'),
      prop.enum.map((v) => h('option', { value: String(v), selected: v === dflt }, String(v))));
    read = () => (input.value === '' ? undefined : input.value);
  } else if (prop.type === 'integer' || prop.type === 'number') {
    input = h('input', {
      id, type: 'text', inputmode: prop.type === 'integer' ? 'numeric' : 'decimal',
      placeholder: dflt === undefined ? '' : String(dflt), 'aria-describedby': described,
    });
    // Sent as a number when it reads as one, else as typed: the API says why not.
    read = () => {
      const v = input.value.trim();
      if (v === '') return undefined;
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : v;
    };
  } else if (prop.type === 'array') {
    input = h('input', {
      id, type: 'text', placeholder: Array.isArray(dflt) ? dflt.join(', ') : '',
      'aria-describedby': described,
    });
    read = () => {
      const v = input.value.trim();
      return v === '' ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    };
  } else if (prop.type === 'string' && (prop.maxLength === undefined || prop.maxLength > 300) && /diff|text|symptom/i.test(name)) {
    input = h('textarea', { id, rows: 3, placeholder: dflt || '', 'aria-describedby': described });
    read = () => (input.value === '' ? undefined : input.value);
  } else {
    input = h('input', {
      id, type: 'text', placeholder: dflt === undefined ? (prop.format === 'date-time' ? '2026-02-23T10:00:00Z' : '') : String(dflt),
      'aria-describedby': described, required: required || undefined,
    });
    read = () => (input.value === '' ? undefined : input.value);
  }
  fields[path] = { input, err, read };
  return h('div', { class: 'field' }, label, input,
    help ? h('p', { id: helpId, class: 'help' }, help) : '', err);
}

function section(schema, prefix, fields) {
  const req = new Set(schema.required || []);
  const out = [];
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (prop.type === 'object' && prop.properties) {
      out.push(h('fieldset', {}, h('legend', {}, name),
        prop.description ? h('p', { class: 'help' }, prop.description) : '',
        section(prop, path, fields)));
    } else {
      out.push(field(path, name, prop, req.has(name), fields));
    }
  }
  return out;
}

function setPath(obj, path, value) {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] = o[p] || {};
  o[parts[parts.length - 1]] = value;
}

export function startView(main, graphName) {
  (async () => {
    let graphs;
    try {
      graphs = (await api('GET', '/v1/graphs')).graphs || [];
    } catch (e) {
      if (e.status !== 401) main.append(h('p', { class: 'panel error-box', role: 'alert' }, e.message));
      return;
    }
    const g = graphs.find((x) => x.name === graphName);
    if (!g) {
      main.append(h('h1', {}, 'Start a run'),
        h('p', {}, 'Which graph?'),
        h('ul', {}, graphs.map((x) => h('li', {},
          h('a', { href: `#/start/${x.name}` }, x.name), ` ${x.version} — ${x.description || ''}`))));
      return;
    }
    const fields = {};
    const formErr = h('p', { class: 'err', role: 'alert', id: 'form-err' });
    const ids = IDS.map(([k, label, dflt]) => {
      const el = field(k, label, { type: 'string', description: '1-128 characters of A-Z a-z 0-9 _ . : -' },
        true, fields);
      fields[k].input.value = sessionStorage.getItem(`sv.${k}`) || dflt;
      return el;
    });
    const submit = h('button', { type: 'submit' }, `Start ${g.name}`);
    const form = h('form', { class: 'start', novalidate: true, 'aria-labelledby': 'start-title' },
      h('h1', { id: 'start-title' }, `Start a run of ${g.name} `, h('span', { class: 'muted' }, g.version)),
      g.description ? h('p', { class: 'muted' }, g.description) : '',
      h('fieldset', {}, h('legend', {}, 'Who asks'), ids),
      h('fieldset', {}, h('legend', {}, 'Input'), section(g.input_schema || {}, '', fields)),
      formErr,
      submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      formErr.textContent = '';
      for (const f of Object.values(fields)) {
        f.err.hidden = true;
        f.err.textContent = '';
        f.input.removeAttribute('aria-invalid');
      }
      const body = { input: {} };
      for (const [path, f] of Object.entries(fields)) {
        const v = f.read();
        if (v === undefined) continue;
        if (IDS.some(([k]) => k === path)) { body[path] = v; sessionStorage.setItem(`sv.${path}`, v); }
        else setPath(body.input, path, v);
      }
      submit.disabled = true;
      try {
        const r = await api('POST', `/v1/graphs/${g.name}/runs`, body);
        location.hash = `#/runs/${r.run_id}`;
      } catch (e) {
        submit.disabled = false;
        if (e.status === 401) return;
        // "timeouts.overall_sec", "deps_targets[1]" -> the field's input
        const path = (e.field || '').replace(/\[\d+\].*$/, '');
        const f = fields[path] || (path.startsWith('input.') ? fields[path.slice(6)] : null);
        if (f) {
          f.err.textContent = e.message;
          f.err.hidden = false;
          f.input.setAttribute('aria-invalid', 'true');
          f.input.focus();
        } else {
          formErr.textContent = `${e.status ? e.status + ' ' : ''}${e.code}: ${e.message}`;
        }
      }
    });
    main.append(form);
  })();
  return () => {};
}
