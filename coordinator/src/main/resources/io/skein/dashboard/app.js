// Skein's dashboard: plain JavaScript over the node's HTTP API (the same endpoints curl and the CLI
// use), served from the jar. Pages: jobs, a job (live over GET /jobs/{id}/events), a record's
// history (GET /jobs/{id}/records/{index}), the cluster. Nothing is fetched from the internet.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const STATES = ['all', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const MAX_ERROR_ROWS = 1000;
const PREVIEW_ROWS = 20;

/** An element: h('td', {class: 'x', onclick: f}, 'text', child, [more]). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// ---- the API, with the token this tab was given (sessionStorage: gone when the tab closes)

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

const token = () => sessionStorage.getItem('skein-token');

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (token()) headers.Authorization = 'Bearer ' + token();
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) {
    $('#auth').hidden = false;
    throw new ApiError(401, 'this server asks for a token');
  }
  if (!response.ok) {
    let detail = response.status + ' ' + response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (ignored) { /* not problem+json */ }
    throw new ApiError(response.status, detail);
  }
  return response;
}

const getJson = async path => (await api(path)).json();

/** Up to {@code max} lines of an NDJSON stream, parsed; the rest is not read. */
async function ndjson(path, max) {
  const reader = (await api(path)).body.pipeThrough(new TextDecoderStream()).getReader();
  const rows = [];
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (value) buffer += value;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0 && rows.length < max) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) rows.push(JSON.parse(line));
    }
    if (rows.length >= max) { reader.cancel(); return {rows, more: true}; }
    if (done) {
      if (buffer.trim()) rows.push(JSON.parse(buffer));
      return {rows, more: false};
    }
  }
}

/**
 * Server-Sent Events read with fetch (EventSource cannot send the token): calls onEvent(type, data)
 * for each event until the server ends the stream; reconnects after a broken connection. Returns a
 * function that stops it.
 */
function watch(path, onEvent, onEnd) {
  const abort = new AbortController();
  let stopped = false;
  (async () => {
    while (!stopped) {
      try {
        const response = await api(path, {signal: abort.signal, headers: {Accept: 'text/event-stream'}});
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const {value, done} = await reader.read();
          if (done) { if (onEnd) onEnd(); return; }
          buffer += value.replace(/\r\n/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length) onEvent(type, JSON.parse(data.join('\n')));
          }
        }
      } catch (e) {
        if (stopped) return;
        problem(e);
        await new Promise(resolve => setTimeout(resolve, 2000));
      }
    }
  })();
  return () => { stopped = true; abort.abort(); };
}

function problem(error) {
  const banner = $('#problem');
  banner.hidden = !error || error.status === 401;
  banner.textContent = error ? 'The server answered: ' + error.message : '';
}

// ---- numbers as people read them

const fmt = n => (n === undefined || n === null) ? '–' : Number(n).toLocaleString('en-US');
const rate = r => r === null || !isFinite(r) ? '–' : (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)) + '/s';

function duration(seconds) {
  if (seconds === null || !isFinite(seconds)) return '–';
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + (seconds % 60) + ' s';
  return Math.floor(seconds / 3600) + ' h ' + Math.floor(seconds % 3600 / 60) + ' min';
}

/** Dollars: cents above a dollar, more digits below. */
function usd(n) {
  if (n === undefined || n === null) return '–';
  const v = Number(n);
  return '$' + (v >= 1 ? v.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2}) : v === 0 ? '0' : v.toPrecision(3));
}

const time = iso => iso ? new Date(iso).toLocaleString() : '–';
const done = s => s.succeeded + s.failed;

/** What the progress bar counts toward: the records of the job, or a target's rows. */
function goal(s) {
  if (s.target) return {of: s.target.rows, done: Math.min(s.target.passed, s.target.rows), unit: 'rows passed'};
  return {of: s.total, done: done(s), unit: 'records'};
}

/**
 * Records/s and calls/s from the statuses seen (a window of the last 30 s); an ended job's from its
 * whole run. The ETA is what is left at the current rate.
 */
class Rates {
  constructor() { this.samples = []; }

  add(s) {
    const at = Date.now() / 1000;
    this.samples.push({at, done: done(s), calls: s.calls});
    while (this.samples.length > 2 && at - this.samples[0].at > 30) this.samples.shift();
  }

  of(s) {
    if (TERMINAL.includes(s.state) && s.finished_at) {
      const seconds = Math.max((Date.parse(s.finished_at) - Date.parse(s.created_at)) / 1000, 0.001);
      return {records: done(s) / seconds, calls: s.calls / seconds, eta: null};
    }
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || last.at - first.at < 0.5) return {records: null, calls: null, eta: null};
    const seconds = last.at - first.at;
    const records = (last.done - first.done) / seconds;
    const g = goal(s);
    const eta = s.state === 'running' && records > 0 ? (s.target ? null : (g.of - g.done) / records) : null;
    return {records, calls: (last.calls - first.calls) / seconds, eta};
  }
}

function stateBadge(state) {
  return h('span', {class: 'state ' + state, 'data-state': state}, state);
}

function progressBar(s, big) {
  const g = goal(s);
  const whole = Math.max(g.of, 1);
  const part = n => (100 * Math.min(n, whole) / whole).toFixed(3) + '%';
  const pct = Math.floor(100 * g.done / whole);
  const failed = s.target ? 0 : s.failed;
  return h('div', {class: 'progress' + (big ? ' big' : ''), 'data-pct': pct, role: 'progressbar', 'aria-valuenow': pct,
      title: `${fmt(s.succeeded)} succeeded, ${fmt(s.failed)} failed, ${fmt(s.in_flight)} in flight of ${fmt(s.total)}`},
    h('div', {class: 'ok', style: 'width:' + part(g.done - failed)}),
    h('div', {class: 'bad', style: 'width:' + part(failed)}),
    h('div', {class: 'fly', style: 'width:' + part(TERMINAL.includes(s.state) ? 0 : s.in_flight)}),
    h('span', {class: 'label'}, `${fmt(g.done)} / ${fmt(g.of)} ${g.unit} (${pct}%)`));
}

// ---- pages

let leave = [];

function show(...content) {
  $('#main').replaceChildren(...content);
}

function route() {
  leave.forEach(stop => stop());
  leave = [];
  problem(null);
  const hash = location.hash || '#/';
  let m;
  if ((m = hash.match(/^#\/jobs\/([^/]+)\/records\/(\d+)$/))) return recordPage(decodeURIComponent(m[1]), Number(m[2]));
  if ((m = hash.match(/^#\/jobs\/([^/]+)$/))) return jobPage(decodeURIComponent(m[1]));
  if (hash === '#/cluster') return clusterPage();
  return jobsPage();
}

const rates = new Map();

function ratesOf(id) {
  if (!rates.has(id)) rates.set(id, new Rates());
  return rates.get(id);
}

function jobsPage() {
  const filter = h('select', {id: 'state-filter'}, STATES.map(s => h('option', {value: s}, s)));
  filter.value = sessionStorage.getItem('skein-filter') || 'all';
  const body = h('tbody');
  const count = h('span', {class: 'muted'});
  show(h('section', {},
    h('div', {class: 'toolbar'}, h('h2', {}, 'Jobs'), h('label', {}, 'State ', filter), count),
    h('table', {id: 'jobs'},
      h('thead', {}, h('tr', {}, ['Job', 'Name', 'State', 'Progress', 'Rate', 'ETA', 'Calls', 'Tokens', 'Cost', 'Created'].map(t => h('th', {}, t)))),
      body)));
  async function refresh() {
    try {
      const all = (await getJson('/jobs')).jobs.sort((a, b) => b.created_at.localeCompare(a.created_at));
      const shown = all.filter(j => filter.value === 'all' || j.state === filter.value);
      count.textContent = `${shown.length} of ${all.length}`;
      body.replaceChildren(...shown.map(j => {
        ratesOf(j.id).add(j);
        const r = ratesOf(j.id).of(j);
        return h('tr', {class: 'clickable', 'data-job': j.id, onclick: () => { location.hash = '#/jobs/' + encodeURIComponent(j.id); }},
          h('td', {}, h('a', {href: '#/jobs/' + encodeURIComponent(j.id)}, j.id)),
          h('td', {}, j.name),
          h('td', {}, stateBadge(j.state)),
          h('td', {}, progressBar(j)),
          h('td', {}, rate(r.records)),
          h('td', {}, duration(r.eta)),
          h('td', {}, fmt(j.calls)),
          h('td', {}, fmt(j.tokens)),
          h('td', {}, usd(j.cost_usd)),
          h('td', {}, time(j.created_at)));
      }));
      if (shown.length === 0) body.append(h('tr', {}, h('td', {colspan: 10, class: 'muted'}, 'No jobs' + (filter.value === 'all' ? ' yet.' : ' in this state.'))));
      problem(null);
    } catch (e) {
      problem(e);
    }
  }
  filter.addEventListener('change', () => { sessionStorage.setItem('skein-filter', filter.value); refresh(); });
  refresh();
  const timer = setInterval(refresh, 2000);
  leave.push(() => clearInterval(timer));
}

function jobPage(id) {
  const path = '/jobs/' + encodeURIComponent(id);
  const state = h('span', {id: 'job-state'});
  const reason = h('div', {id: 'job-reason', class: 'reason', hidden: true});
  const progress = h('div', {id: 'progress'});
  const stats = h('dl', {id: 'job-stats', class: 'stats'});
  const pause = h('button', {id: 'pause', onclick: () => control('pause')}, 'Pause');
  const resume = h('button', {id: 'resume', onclick: () => control('resume')}, 'Resume');
  const cancel = h('button', {id: 'cancel', class: 'danger', onclick: () => {
    if (confirm('Cancel job ' + id + '? Records in flight stop and write no row.')) control('cancel');
  }}, 'Cancel');
  const retry = h('button', {id: 'retry', onclick: async () => {
    const n = last ? fmt(last.failed) : 'the';
    if (confirm(`Retry the ${n} failed records of job ${id}? Each goes on from its last answered call; its error row is replaced by the row it ends with.`)
        && await control('retry-failed')) follow();
  }}, 'Retry failed');
  const plotBox = h('div', {id: 'plot'});
  const panel = h('div', {class: 'panel'});
  const tabs = h('div', {class: 'tabs'});
  const title = h('h2', {}, id);
  show(h('section', {}, h('p', {}, h('a', {href: '#/'}, '← Jobs')), title,
    h('div', {class: 'toolbar'}, state, h('div', {class: 'buttons'}, pause, resume, cancel, retry)),
    reason, progress, stats, h('h3', {}, 'Throughput'), plotBox, tabs, panel));

  let last = null;
  const plot = throughputPlot(plotBox);
  const seen = new Rates();

  function render(s) {
    last = s;
    title.textContent = `${s.name} `;
    title.append(h('span', {class: 'muted'}, s.id));
    state.replaceChildren(stateBadge(s.state));
    const why = [s.reason, s.waiting_for && 'Waiting for ' + s.waiting_for].filter(Boolean).join(' · ');
    reason.hidden = !why;
    reason.textContent = why;
    progress.replaceChildren(progressBar(s, true));
    seen.add(s);
    const r = seen.of(s);
    const cells = [['Total', fmt(s.total)], ['Succeeded', fmt(s.succeeded)], ['Failed', fmt(s.failed)],
      ['In flight', fmt(s.in_flight)], ['Calls', fmt(s.calls)], ['Tokens', fmt(s.tokens)], ['Records/s', rate(r.records)],
      ['Calls/s', rate(r.calls)], ['ETA', duration(r.eta)], ['Cost', usd(s.cost_usd)],
      ['Projected cost', s.projected_cost_usd !== undefined ? usd(s.projected_cost_usd) : usd(s.cost_usd)], ['Created', time(s.created_at)], ['Finished', time(s.finished_at)]];
    if (s.target) cells.push(['Target rows', fmt(s.target.rows)], ['Passed', fmt(s.target.passed)]);
    if (s.dedupe) cells.push(['Duplicates', fmt(s.dedupe.duplicates)]);
    stats.replaceChildren(...cells.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {'data-stat': k.toLowerCase()}, v))));
    stats.dataset.finished = s.finished_at || '';
    const ended = TERMINAL.includes(s.state);
    pause.disabled = ended || s.state === 'paused';
    resume.disabled = ended || s.state !== 'paused';
    cancel.disabled = ended;
    retry.disabled = !(s.state === 'succeeded' || s.state === 'failed') || !s.failed || !!s.stages;
    plot.add(s);
  }

  async function control(verb) {
    try {
      render(await (await api(path + '/' + verb, {method: 'POST'})).json());
      return true;
    } catch (e) {
      problem(e);
      return false;
    }
  }

  const panels = {
    Errors: () => errorsPanel(id, panel),
    Results: () => resultsPanel(id, panel),
    Usage: () => usagePanel(id, panel),
    Downloads: () => downloadsPanel(id, panel, last),
  };
  function open(name) {
    [...tabs.children].forEach(b => b.classList.toggle('active', b.textContent === name));
    panels[name]();
  }
  tabs.append(...Object.keys(panels).map(name => h('button', {id: 'tab-' + name.toLowerCase(), onclick: () => open(name)}, name)));

  let first = true;
  // Watched until the job ends; again after a retry of its failed records, which runs it again.
  function follow() {
    leave.push(watch(path + '/events', (type, data) => {
      if (type === 'gone') { problem(new ApiError(404, 'job ' + id + ' was deleted')); return; }
      render(data);
      problem(null);
      if (first) { first = false; open(data.failed > 0 ? 'Errors' : 'Results'); }
    }, () => {
      // The stream ends with the job: show its final rows.
      if (last && TERMINAL.includes(last.state)) {
        const active = [...tabs.children].find(b => b.classList.contains('active'));
        if (active) open(active.textContent);
      }
    }));
  }
  follow();
}

/** Records/s and calls/s over time, from the statuses the event stream brings (uPlot, served from the jar). */
function throughputPlot(box) {
  const xs = [], records = [], calls = [];
  let previous = null;
  let plot = null;
  return {
    add(s) {
      const now = Date.now() / 1000;
      if (previous && now - previous.at > 0.2) {
        const seconds = now - previous.at;
        xs.push(now);
        records.push((done(s) - previous.done) / seconds);
        calls.push((s.calls - previous.calls) / seconds);
      }
      previous = {at: now, done: done(s), calls: s.calls};
      if (xs.length < 2 && TERMINAL.includes(s.state)) {
        // Opened on a job that had already ended: nothing was watched to plot.
        const seconds = (Date.parse(s.finished_at) - Date.parse(s.created_at)) / 1000;
        box.replaceChildren(h('p', {class: 'muted', id: 'plot-summary'},
          `It ran ${fmt(done(s))} records and ${fmt(s.calls)} calls in ${duration(seconds)}: ${(done(s) / seconds).toFixed(1)} records/s`
          + ` and ${(s.calls / seconds).toFixed(1)} calls/s on average. The plot is drawn while this page watches a running job.`));
        return;
      }
      if (!window.uPlot || xs.length < 2) return;
      if (!plot) {
        box.replaceChildren();
        plot = new uPlot({
          width: Math.max(box.clientWidth - 20, 300), height: 180,
          series: [{}, {label: 'records/s', stroke: '#2e9d57', width: 2}, {label: 'calls/s', stroke: '#5b8def', width: 2}],
          axes: [{}, {label: 'per second'}],
        }, [xs, records, calls], box);
      } else {
        plot.setData([xs, records, calls]);
      }
    },
  };
}

async function errorsPanel(id, panel) {
  panel.replaceChildren(h('p', {class: 'muted'}, 'Loading error rows…'));
  try {
    const {rows, more} = await ndjson('/jobs/' + encodeURIComponent(id) + '/errors?annotated=true', MAX_ERROR_ROWS);
    if (rows.length === 0) { panel.replaceChildren(h('p', {id: 'no-errors', class: 'muted'}, 'No error rows.')); return; }
    const types = [...new Set(rows.map(r => r.error && r.error.type))].sort();
    const steps = [...new Set(rows.map(r => r.error && r.error.step).filter(Boolean))].sort();
    const byType = h('select', {id: 'error-type'}, h('option', {value: ''}, 'every type'), types.map(t => h('option', {value: t}, t)));
    const byStep = h('select', {id: 'error-step'}, h('option', {value: ''}, 'every step'), steps.map(t => h('option', {value: t}, t)));
    const body = h('tbody');
    const count = h('span', {class: 'muted'});
    const fill = () => {
      const shown = rows.filter(r => (!byType.value || r.error.type === byType.value) && (!byStep.value || r.error.step === byStep.value));
      count.textContent = `${shown.length} of ${rows.length}${more ? ' (the first ' + MAX_ERROR_ROWS + '; download for all)' : ''}`;
      body.replaceChildren(...shown.map(r => h('tr', {class: 'clickable', 'data-index': r.index,
          onclick: () => { location.hash = `#/jobs/${encodeURIComponent(id)}/records/${r.index}`; }},
        h('td', {}, r.index), h('td', {}, JSON.stringify(r.id)), h('td', {}, r.error.type), h('td', {}, r.error.step || '–'),
        h('td', {class: 'cell'}, r.error.message))));
    };
    byType.addEventListener('change', fill);
    byStep.addEventListener('change', fill);
    panel.replaceChildren(h('div', {class: 'toolbar'}, h('label', {}, 'Type ', byType), h('label', {}, 'Step ', byStep), count),
      h('table', {id: 'errors'}, h('thead', {}, h('tr', {}, ['Record', 'Id', 'Type', 'Step', 'Message'].map(t => h('th', {}, t)))), body));
    fill();
  } catch (e) {
    panel.replaceChildren();
    problem(e);
  }
}

/** Calls, cached answers, failed attempts (429s among them), tokens and cost per step and per model, of the records that ended. */
async function usagePanel(id, panel) {
  panel.replaceChildren(h('p', {class: 'muted'}, 'Tallying the rows…'));
  try {
    const usage = await getJson('/jobs/' + encodeURIComponent(id) + '/usage');
    const failures = f => Object.entries(f).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ') || '–';
    const table = (tableId, key, rows) => h('table', {id: tableId},
      h('thead', {}, h('tr', {}, [key, 'Calls', 'From the cache', 'Failed attempts', 'Tokens in', 'Tokens out', 'Cost'].map(t => h('th', {}, t)))),
      h('tbody', {}, rows.map(r => h('tr', {'data-name': r[key.toLowerCase()]}, h('td', {}, r[key.toLowerCase()]), h('td', {}, fmt(r.calls)),
        h('td', {}, fmt(r.cached)), h('td', {}, failures(r.failed_attempts)), h('td', {}, fmt(r.tokens_in)),
        h('td', {}, fmt(r.tokens_out)), h('td', {}, usd(r.cost_usd))))));
    panel.replaceChildren(h('p', {class: 'muted'}, `Of the ${fmt(usage.records)} records that have ended.`),
      h('h3', {}, 'Per step'), table('usage-steps', 'Step', usage.steps),
      h('h3', {}, 'Per model'), table('usage-models', 'Model', usage.models));
  } catch (e) {
    panel.replaceChildren();
    problem(e);
  }
}

/** A cell: chat messages as a conversation, text as text, anything else as JSON. */
function cell(value) {
  if (Array.isArray(value) && value.length && value.every(m => m && typeof m === 'object' && 'role' in m)) return conversation(value);
  if (typeof value === 'string') return h('div', {class: 'cell'}, value);
  return h('div', {class: 'cell'}, h('pre', {}, JSON.stringify(value, null, 2)));
}

function conversation(messages) {
  return h('div', {class: 'conversation'}, messages.map(m => h('div', {class: 'msg ' + m.role},
    h('span', {class: 'role'}, m.role + (m.name ? ' · ' + m.name : '')),
    typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? m.tool_calls ?? null, null, 2))));
}

async function resultsPanel(id, panel) {
  panel.replaceChildren(h('p', {class: 'muted'}, 'Loading rows…'));
  try {
    const {rows, more} = await ndjson('/jobs/' + encodeURIComponent(id) + '/results', PREVIEW_ROWS);
    if (rows.length === 0) { panel.replaceChildren(h('p', {class: 'muted'}, 'No output rows yet.')); return; }
    const columns = [...new Set(rows.flatMap(r => Object.keys(r)))];
    panel.replaceChildren(
      h('p', {class: 'muted'}, `The first ${rows.length} rows${more ? ' (see Downloads for all)' : ''}.`),
      h('div', {style: 'overflow-x:auto'}, h('table', {id: 'results'},
        h('thead', {}, h('tr', {}, columns.map(c => h('th', {}, c)))),
        h('tbody', {}, rows.map(r => h('tr', {}, columns.map(c => h('td', {}, c in r ? cell(r[c]) : ''))))))));
  } catch (e) {
    panel.replaceChildren();
    problem(e);
  }
}

/** A link that downloads with the tab's token when there is one (a plain link cannot send it). */
function download(href, name, label) {
  return h('a', {href, download: name, onclick: async event => {
    if (!token()) return;
    event.preventDefault();
    try {
      const url = URL.createObjectURL(await (await api(href)).blob());
      const a = h('a', {href: url, download: name});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      problem(e);
    }
  }}, label);
}

function downloadsPanel(id, panel, status) {
  const base = '/jobs/' + encodeURIComponent(id);
  const items = [
    download(base + '/results', id + '.jsonl', 'Output rows (JSONL)'),
    download(base + '/results?format=parquet', id + '.parquet', 'Output rows (Parquet)'),
    download(base + '/errors', id + '.errors.jsonl', 'Error rows (JSONL)'),
    download(base + '/results?annotated=true', id + '.annotated.jsonl', 'Output rows with every call (JSONL)'),
    ...((status && status.datasets) || []).map(d => download(base + '/datasets/' + encodeURIComponent(d), `${id}.${d}.jsonl`, `Dataset ${d} (JSONL)`)),
  ];
  panel.replaceChildren(h('ul', {id: 'downloads'}, items.map(a => h('li', {}, a))));
}

async function recordPage(id, index) {
  const back = '#/jobs/' + encodeURIComponent(id);
  const list = h('div', {id: 'record-events'}, h('p', {class: 'muted'}, 'Loading the record’s journal…'));
  show(h('section', {}, h('p', {}, h('a', {href: back}, '← Job ' + id)), h('h2', {}, `Record ${index}`),
    h('p', {class: 'muted'}, 'Every event of this record’s journal, in the order it was written.'), list));
  try {
    const history = await getJson(`/jobs/${encodeURIComponent(id)}/records/${index}`);
    list.replaceChildren(...history.events.map(eventCard));
  } catch (e) {
    list.replaceChildren();
    problem(e);
  }
}

function callName(call) {
  if (!call) return '';
  return call.step + (call.sample ? ' #' + call.sample : '') + (call.turn ? ' turn ' + call.turn : '');
}

function facts(pairs) {
  return h('div', {class: 'facts'}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => h('span', {}, h('b', {}, k + ' '), v)));
}

function eventCard(e) {
  const body = [];
  switch (e.type) {
    case 'CallSucceeded':
      body.push(facts([['step', callName(e.call)], ['model', e.model], ['attempt', e.attempt], ['latency', e.latency_millis + ' ms'],
        ['tokens in', e.usage && e.usage.prompt_tokens], ['tokens out', e.usage && e.usage.completion_tokens],
        ['finish', e.finish_reason], ['cached', e.cached ? 'yes' : null], ['node', e.node], ['server', e.endpoint]]));
      body.push(conversation([...(e.request || []), {role: 'assistant', content: e.response}]));
      if (e.result && !(Object.keys(e.result).length === 1 && e.result.ok === true)) body.push(h('pre', {}, JSON.stringify(e.result, null, 2)));
      break;
    case 'CallFailed':
      body.push(facts([['step', callName(e.call)], ['attempt', e.attempt], ['error', e.error_type], ['status', e.status || null],
        ['retryable', e.retryable ? 'yes' : 'no'], ['retry after', e.retry_after_millis ? e.retry_after_millis + ' ms' : null],
        ['latency', e.latency_millis + ' ms'], ['node', e.node], ['server', e.endpoint]]));
      body.push(h('div', {class: 'cell'}, e.message));
      break;
    case 'RecordFailed':
      body.push(facts([['error', e.error_type], ['step', e.step]]), h('div', {class: 'cell'}, e.message));
      break;
    case 'RecordRetried':
      body.push(h('div', {class: 'cell'}, 'Its job retried its failed records: the failure above is undone, and the record goes on from its last answered call.'));
      break;
    case 'ToolCalled':
      body.push(facts([['tool', e.tool], ['server', e.server], ['error', e.error ? 'yes' : null], ['latency', e.latency_millis + ' ms']]),
        h('pre', {}, e.result));
      break;
    case 'ValuesComputed':
      body.push(h('pre', {}, JSON.stringify(e.values, null, 2)));
      if (e.skipped && e.skipped.length) body.push(facts([['skipped', e.skipped.join(', ')]]));
      break;
    default: {
      const rest = Object.assign({}, e);
      ['seq', 'type', 'at'].forEach(k => delete rest[k]);
      if (Object.keys(rest).length) body.push(h('pre', {}, JSON.stringify(rest, null, 2)));
    }
  }
  return h('div', {class: 'event ' + e.type, 'data-type': e.type},
    h('header', {}, h('span', {class: 'muted'}, '#' + e.seq), h('span', {class: 'type'}, e.type), h('span', {class: 'muted'}, time(e.at))),
    body);
}

function clusterPage() {
  const members = h('tbody');
  const models = h('tbody');
  show(h('section', {}, h('h2', {}, 'Cluster'),
    h('table', {id: 'members'}, h('thead', {}, h('tr', {}, ['Member', 'Status', 'Reachable', 'Records', 'Job coordinators', 'Roles'].map(t => h('th', {}, t)))), members),
    h('h3', {}, 'Model gateways'),
    h('p', {class: 'muted'}, 'Each node’s gateway to each model it called lately: the concurrency it uses now, its share of the model’s limit, and its calls in flight and waiting.'),
    h('table', {id: 'models'}, h('thead', {}, h('tr', {}, ['Node', 'Model', 'Concurrency', 'Of at most', 'In flight', 'Waiting'].map(t => h('th', {}, t)))), models)));
  async function refresh() {
    try {
      const cluster = await getJson('/cluster');
      members.replaceChildren(...cluster.members.map(m => h('tr', {},
        h('td', {}, m.node + (m.address === cluster.leader ? ' (leader)' : '') + (m.address === cluster.self ? ' (this node)' : '')),
        h('td', {}, m.status), h('td', {}, m.reachable ? 'yes' : 'no'), h('td', {}, fmt(m.records)), h('td', {}, fmt(m.job_coordinators)),
        h('td', {class: 'muted'}, (m.roles || []).join(', ')))));
      const rows = cluster.members.flatMap(m => m.models === undefined
        ? [h('tr', {}, h('td', {}, m.node), h('td', {colspan: 5, class: 'muted'}, 'did not answer'))]
        : m.models.map(g => h('tr', {'data-node': m.node, 'data-model': g.model}, h('td', {}, m.node), h('td', {}, g.model),
          h('td', {}, fmt(g.concurrency)), h('td', {}, fmt(g.max_concurrency)), h('td', {}, fmt(g.in_flight)), h('td', {}, fmt(g.waiting)))));
      models.replaceChildren(...rows);
      if (rows.length === 0) models.append(h('tr', {}, h('td', {colspan: 6, class: 'muted'}, 'No model called lately.')));
      problem(null);
    } catch (e) {
      problem(e);
    }
  }
  refresh();
  const timer = setInterval(refresh, 3000);
  leave.push(() => clearInterval(timer));
}

$('#auth').addEventListener('submit', event => {
  event.preventDefault();
  sessionStorage.setItem('skein-token', $('#token').value.trim());
  $('#auth').hidden = true;
  route();
});
window.addEventListener('hashchange', route);
route();
