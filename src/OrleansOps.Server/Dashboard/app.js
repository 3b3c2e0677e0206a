// The OrleansOps dashboard: three views over the HTTP API, kept current by its server-sent events.
// Everything shown is built with textContent and attributes, never parsed as HTML: label values are untrusted.

const TOKEN_KEY = 'orleansops.token';
const ACCOUNT_KEY = 'orleansops.account'; // set when the token is an account token: the only account it reaches
const ACTOR_KEY = 'orleansops.actor';
const REFRESH_MS = 30_000; // budgets burn while incidents are open, even when nothing else changes

const main = document.getElementById('main');
const liveStatus = document.getElementById('live');
const signOutButton = document.getElementById('signout');

// ---- DOM ----

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const svg = (tag, attributes = {}, ...children) => {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
};

function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

function table(caption, columns, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'lead' }, empty);
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map(row => h('tr', {}, row.map((cell, i) => h('td', { class: columns[i].num ? 'num' : null, 'data-label': columns[i].label }, cell))))));
}

const words = { healthy: 'healthy', atRisk: 'at risk', breached: 'breached' };
const badge = (value, text) => h('span', { class: `badge ${String(value).replace(/[A-Z]/g, c => '-' + c.toLowerCase())}` }, text ?? words[value] ?? value);

// ---- formatting ----

const time = iso => iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
const minutes = value => value === null || value === undefined ? '–' : `${Number(value).toFixed(1)} min`;
const percent = (value, digits = 1) => value === null || value === undefined ? '–' : `${Number(value).toFixed(digits)} %`;
const number = (value, digits = 2) => value === null || value === undefined ? '–' : Number(value).toFixed(digits);
/** A span of minutes as people say it: 45 s, 7 min 30 s, 12 min, 2 h 14 min, 1 h, 3 d 4 h. */
function duration(totalMinutes) {
  if (totalMinutes === null || totalMinutes === undefined) return '–';
  const value = Math.abs(Number(totalMinutes));
  const both = (count, unit, rest, restUnit) => rest > 0 ? `${count} ${unit} ${rest} ${restUnit}` : `${count} ${unit}`;
  if (value < 1) return `${Math.round(value * 60)} s`;
  if (value < 10) { const seconds = Math.round(value * 60); return both(Math.floor(seconds / 60), 'min', seconds % 60, 's'); }
  const m = Math.round(value);
  return m >= 1440 ? both(Math.floor(m / 1440), 'd', Math.floor((m % 1440) / 60), 'h') : m >= 60 ? both(Math.floor(m / 60), 'h', m % 60, 'min') : `${m} min`;
}
/** How far an instant is from now: "in 12 min" or "3 h 5 min ago". */
function fromNow(iso) {
  if (!iso) return '–';
  const minutesAway = (Date.parse(iso) - Date.now()) / 60_000;
  return minutesAway >= 0 ? `in ${duration(minutesAway)}` : `${duration(-minutesAway)} ago`;
}
/** A link only for http(s) addresses: an annotation is untrusted and must never become a javascript: link. */
function safeLink(address, text) {
  try {
    const url = new URL(address);
    return url.protocol === 'https:' || url.protocol === 'http:' ? h('a', { href: url.href, rel: 'noopener noreferrer', target: '_blank' }, text ?? url.href) : text ?? address;
  } catch { return text ?? address; }
}
/** An element id from a name that may hold spaces or anything else (an SLO's name): ids must be one token. */
const idFrom = (prefix, name) => `${prefix}-${String(name).replace(/[^A-Za-z0-9_-]/g, c => `_${c.codePointAt(0).toString(16)}`)}`;
const incidentLink = (id, text) => h('a', { href: `/dashboard/incidents/${encodeURIComponent(id)}` }, text ?? id);
const accountLink = (id, text) => h('a', { href: `/dashboard/accounts/${encodeURIComponent(id)}` }, text ?? id);

// ---- the token ----

/**
 * The token and, for an account token, its account: kept for this tab, or on this browser when the operator asks, so
 * that a link from a page (Slack, email) opens signed in. Signing out or a refused token forgets both, wherever kept.
 */
const session = {
  store: () => localStorage.getItem(TOKEN_KEY) !== null ? localStorage : sessionStorage,
  get token() { return this.store().getItem(TOKEN_KEY); },
  get account() { return this.store().getItem(ACCOUNT_KEY); },
  start(token, remember) { this.end(); (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token); },
  set account(account) { if (account) this.store().setItem(ACCOUNT_KEY, account); else this.store().removeItem(ACCOUNT_KEY); },
  end() { for (const store of [sessionStorage, localStorage]) { store.removeItem(TOKEN_KEY); store.removeItem(ACCOUNT_KEY); } },
};

// ---- the API ----

class SignedOut extends Error {}

/** A request with the token: a refused token signs out; any other failure throws what the problem details say. */
async function send(path, options = {}, accept = 'application/json') {
  const token = session.token;
  if (!token) throw new SignedOut();
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, Accept: accept, ...(options.body ? { 'Content-Type': 'application/json' } : {}) },
  });
  if (response.status === 401) { session.end(); throw new SignedOut(); }
  if (!response.ok) {
    const problem = response.headers.get('Content-Type')?.includes('json') ? await response.json() : null;
    throw new Error(problem?.detail ?? problem?.title ?? `${response.status} ${response.statusText}`);
  }
  return response;
}

async function api(path, options = {}) {
  const response = await send(path, options);
  return response.headers.get('Content-Type')?.includes('json') ? response.json() : null;
}

/** A card of the page: a section named by its heading. */
const card = (id, heading, ...content) => h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, heading), ...content);

/** Follows the live feed of a topic: calls refresh once subscribed and after every change; reconnects after 3 s. */
function follow(topic, refresh) {
  let running = false, again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try { do { again = false; await refresh(); } while (again); }
    catch (error) { if (error instanceof SignedOut) signIn(); else showError(error); }
    finally { running = false; }
  };
  (async () => {
    for (;;) {
      try {
        const token = session.token;
        if (!token) return;
        const response = await fetch(`/api/v1/live?topic=${encodeURIComponent(topic)}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' } });
        if (response.status === 401) { session.end(); signIn(); return; }
        // Nothing to watch (missing, or beyond the token's reach): read once, so the page says why, and stop.
        if (response.status === 403 || response.status === 404) { liveStatus.textContent = ''; run(); return; }
        if (!response.ok) throw new Error(`live feed: ${response.status}`);
        liveStatus.textContent = 'Live';
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = /^event: ?(.*)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (event === 'ready' || event === 'change') run();
          }
        }
      } catch { /* reconnect below */ }
      liveStatus.textContent = 'Reconnecting…';
      await new Promise(resolve => setTimeout(resolve, 3000));
    }
  })();
  setInterval(run, REFRESH_MS);
}

function showError(error) {
  const region = document.getElementById('problem') ?? main.insertBefore(h('p', { id: 'problem', class: 'error', role: 'alert' }), main.firstChild);
  region.textContent = `Could not load: ${error.message}`;
}

// ---- sign in ----

function signIn() {
  signOutButton.hidden = true;
  liveStatus.textContent = '';
  const message = h('p', { class: 'message error', role: 'alert' });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const remember = h('input', { id: 'remember', name: 'remember', type: 'checkbox' });
  replace(main,
    h('h1', {}, 'Sign in'),
    h('p', { class: 'lead' }, 'The dashboard reads the API with your token: the admin token the server printed at start (OrleansOps:AdminToken), or an admin or account token issued to you. It is kept for this browser tab only, unless you ask to stay signed in on this browser (then links from notifications open signed in; sign out to forget it).'),
    h('form', {
      class: 'signin', onsubmit: async event => {
        event.preventDefault();
        session.start(input.value.trim(), remember.checked);
        try {
          const me = await api('/api/v1/me');
          session.account = me.account;
          if (me.account) location.assign(`/dashboard/accounts/${encodeURIComponent(me.account)}`);
          else location.reload();
        }
        catch (error) { message.textContent = error instanceof SignedOut ? 'That token was refused.' : error.message; input.focus(); }
      },
    }, h('label', { for: 'token' }, 'API token', input),
    h('p', { class: 'check' }, remember, h('label', { for: 'remember' }, 'Stay signed in on this browser')),
    h('p', {}, h('button', { class: 'primary', type: 'submit' }, 'Sign in')), message));
  input.focus();
}

signOutButton.addEventListener('click', () => { session.end(); signIn(); });

// ---- fleet ----

function fleetView() {
  document.title = 'Fleet · OrleansOps';
  const summary = h('p', { class: 'lead' });
  const accounts = h('div'), incidents = h('div');
  const filters = {
    status: select('filter-status', [['open', 'Open'], ['triggered', 'Triggered'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved'], ['', 'Any']]),
    severity: select('filter-severity', [['', 'Any'], ['sev1', 'sev1'], ['sev2', 'sev2'], ['sev3', 'sev3'], ['sev4', 'sev4']]),
    account: select('filter-account', [['', 'Any']]),
    service: h('input', { id: 'filter-service', name: 'service', autocomplete: 'off' }),
    q: h('input', { id: 'filter-q', name: 'q', type: 'search', autocomplete: 'off' }),
  };
  let standing = [], asked = 0;
  const listIncidents = async () => {
    const query = new URLSearchParams({ limit: '100' });
    for (const [name, input] of Object.entries(filters)) if (input.value.trim()) query.set(name, input.value.trim());
    const mine = ++asked;
    const page = await api(`/api/v1/fleet/incidents?${query}`);
    if (mine !== asked) return; // a newer filter (or refresh) has been asked meanwhile: its answer is the one to show
    const names = new Map(standing.map(a => [a.accountId, a.name]));
    replace(incidents, table(`Incidents across the fleet, newest first (${page.items.length}${page.items.length === 100 ? ' shown' : ''})`,
      [{ label: 'Incident' }, { label: 'Account' }, { label: 'Severity' }, { label: 'Status' }, { label: 'Service' }, { label: 'Opened' }, { label: 'Firing alerts', num: true }],
      page.items.map(i => [incidentLink(i.id, i.title), accountLink(i.account, names.get(i.account) ?? i.account), badge(i.severity), badge(i.status),
        i.service, h('span', { title: time(i.openedAt) }, fromNow(i.openedAt)), `${i.firingAlertCount} of ${i.alertCount}`]),
      'No incident matches.'));
  };
  let typing;
  const onFilter = () => {
    clearTimeout(typing);
    typing = setTimeout(() => listIncidents().catch(error => error instanceof SignedOut ? signIn() : showError(error)), 250);
  };
  for (const input of Object.values(filters)) input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', onFilter);
  replace(main, h('h1', {}, 'Fleet'), summary, reportLinks('/api/v1/fleet', 'fleet'),
    card('fleet-heading', 'Accounts by risk', accounts),
    card('fleet-incidents-heading', 'Incidents',
      h('form', { class: 'actions filters', role: 'search', 'aria-label': 'Filter incidents', onsubmit: event => { event.preventDefault(); onFilter(); } },
        h('label', { for: 'filter-status' }, 'Status', filters.status), h('label', { for: 'filter-severity' }, 'Severity', filters.severity),
        h('label', { for: 'filter-account' }, 'Account', filters.account), h('label', { for: 'filter-service' }, 'Service', filters.service),
        h('label', { for: 'filter-q' }, 'Search title, id or service', filters.q)),
      incidents));
  follow('fleet', async () => {
    const items = [];
    for (let next = ''; next !== null;) {
      const part = await api(`/api/v1/fleet/sla?limit=500${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
      items.push(...part.items);
      next = part.next ?? null;
    }
    standing = items;
    const count = status => items.filter(a => a.status === status).length;
    const open = items.reduce((sum, a) => sum + a.open.sev1 + a.open.sev2 + a.open.sev3 + a.open.sev4, 0);
    summary.textContent = `${items.length} accounts: ${count('breached')} breached, ${count('atRisk')} at risk, ${count('healthy')} healthy; ${open} open incidents. Breached first, then at risk, then the least budget left.`;
    const chosen = filters.account.value;
    filters.account.replaceChildren(h('option', { value: '' }, 'Any'), ...items.map(a => h('option', { value: a.accountId, selected: a.accountId === chosen }, a.name)));
    replace(accounts, table('Accounts, most at risk first',
      [{ label: 'Account' }, { label: 'Status' }, { label: 'Open incidents' }, { label: 'Budget left' }, { label: 'Trend' }, { label: 'Credit due', num: true }, { label: 'MTTA (30 d)' }, { label: 'MTTR (30 d)' }],
      items.map(a => [
        accountLink(a.accountId, a.name),
        badge(a.status),
        openBySeverity(a.open),
        a.budgetMinutes ? h('span', {}, gauge(a.remainingMinutes, a.budgetMinutes, `Budget left for ${a.name}`), h('br'), h('small', {}, a.remainingMinutes < 0 ? `${a.tightestSlo}: ${duration(-a.remainingMinutes)} over a budget of ${duration(a.budgetMinutes)}` : `${a.tightestSlo}: ${duration(a.remainingMinutes)} of ${duration(a.budgetMinutes)}`)) : '–',
        !a.budgetMinutes ? '–' : a.remainingMinutes <= 0 ? h('span', { class: 'over' }, 'spent') : a.exhaustedAt ? h('span', { class: 'over' }, `burning: spent ${fromNow(a.exhaustedAt)}`) : 'steady',
        a.creditPercent > 0 ? h('span', { class: 'over' }, percent(a.creditPercent, 0)) : 'none',
        againstTarget(a.mttaMinutes, a.mttaOverTarget), againstTarget(a.mttrMinutes, a.mttrOverTarget),
      ]), 'No account has an SLA yet.'));
    await listIncidents();
  });
}

/** A labelled list of [value, text] choices; its name is its id without the form's prefix. */
function select(id, options) {
  return h('select', { id, name: id.replace(/^(filter|silence)-/, '') }, options.map(([value, text]) => h('option', { value }, text)));
}

/** Open incidents as one badge per severity that has any. */
function openBySeverity(open) {
  const parts = ['sev1', 'sev2', 'sev3', 'sev4'].filter(s => open[s] > 0).map(s => badge(s, `${open[s]} ${s}`));
  return parts.length === 0 ? 'none' : h('span', { class: 'badges' }, parts);
}

function againstTarget(value, over) {
  if (value === null || value === undefined) return '–';
  return over ? h('span', { class: 'over' }, duration(value), ' (over target)') : duration(value);
}

function gauge(remaining, budget, label) {
  const share = budget > 0 ? Math.max(0, remaining) / budget : 0;
  return h('span', {},
    h('meter', { min: 0, max: 1, low: 0.25, high: 0.5, optimum: 1, value: share.toFixed(4), 'aria-label': label }),
    ` ${Math.round(share * 100)} %`);
}

// ---- account ----

function accountView(accountId) {
  const title = h('h1', {}, accountId);
  const facts = h('p', { class: 'lead' });
  const reports = h('div'), budgets = h('div'), clocks = h('div'), events = h('div'), kpis = h('div'), incidents = h('div'), corrections = h('div');
  const onCall = h('div'), silences = h('div'), maintenance = h('div');
  const base = `/api/v1/accounts/${encodeURIComponent(accountId)}`;
  const silenceForm = silenceMaker(base, () => refresh());
  replace(main, title, facts, reports,
    card('budget-heading', 'Error budgets', budgets),
    card('incidents-heading', 'Open incidents', incidents),
    card('clocks-heading', 'Response and resolution', clocks),
    card('events-heading', 'SLA events', events),
    card('kpi-heading', 'KPIs by severity, last 30 days', kpis),
    card('oncall-heading', 'On call', onCall),
    card('silences-heading', 'Silences', silences, silenceForm),
    card('maintenance-heading', 'Maintenance windows', maintenance),
    card('corrections-heading', 'SLA corrections', corrections));
  replace(reports, reportLinks(base, accountId));

  async function refresh() {
    const [account, sla, burnDown, kpi, open, recent, config, silenceList] = await Promise.all([
      api(base), api(`${base}/sla`), api(`${base}/sla/burndown?points=60`), api(`${base}/kpis`), api(`${base}/incidents?status=open&limit=100`),
      api(`${base}/incidents?limit=200`), api(`${base}/config`), api(`${base}/silences?limit=100`)]);
    document.title = `${account.name} · OrleansOps`;
    title.textContent = account.name;
    const credit = Math.max(0, ...sla.slos.filter(s => s.kind === 'availability').map(s => s.creditPercent ?? 0));
    replace(facts, `${account.id} · tier ${account.tier ?? '–'} · ${account.timeZone} · SLA `, badge(sla.status),
      ` · ${account.openIncidents} open of ${account.totalIncidents} incidents · credit due this window: ${credit > 0 ? percent(credit, 0) : 'none'}`);
    const titles = new Map(recent.items.map(i => [i.id, i.title]));
    const availability = sla.slos.filter(s => s.kind === 'availability');
    replace(budgets, availability.length === 0 ? h('p', { class: 'lead' }, 'No availability SLO.') : availability.map(slo =>
      budgetCard(slo, burnDown.series.find(s => s.slo === slo.id), recent.items)));
    replace(incidents, incidentTable(open.items));
    replace(clocks, table('Response and resolution commitments over the last 30 days',
      [{ label: 'Commitment' }, { label: 'Limit' }, { label: 'Incidents', num: true }, { label: 'Met', num: true }, { label: 'Breached', num: true }, { label: 'Compliance', num: true }, { label: 'Running now' }, { label: 'Status' }],
      sla.slos.filter(s => s.kind !== 'availability').map(c => [
        c.id, c.limit, c.incidents, c.met, c.breached, percent(c.sli),
        c.running.length === 0 ? '–' : h('ul', { class: 'plain' }, c.running.map(r => h('li', {}, incidentLink(r.incidentId, titles.get(r.incidentId)), ` due ${fromNow(r.deadline)}`))),
        h('span', {}, badge(c.status), c.drift?.drifting ? ` drifting towards ${duration(c.drift.projectedMinutes)}` : ''),
      ]), 'No response or resolution commitment.'));
    replace(events, slaTimeline(sla.recentEvents));
    replace(kpis, kpiTable(kpi));
    replace(onCall, await onCallTable(base, config.schedules ?? []));
    replace(silences, silenceTable(base, silenceList.items, () => refresh()));
    replace(maintenance, table('Maintenance windows in the account\'s configuration (alerts they match are held back; a service or node they cover has no downtime meanwhile)',
      [{ label: 'Name' }, { label: 'Matches' }, { label: 'When' }, { label: 'Time zone' }],
      (config.maintenance ?? []).map(m => [m.name ?? '–', h('span', { class: 'mono' }, (m.matchers ?? []).join(', ') || 'every alert'),
        m.cron ? `cron ${m.cron}, for ${m.duration}` : m.rrule ? `rrule ${m.rrule} from ${m.start}, for ${m.duration}` : `${time(m.start)} to ${time(m.end)}`, m.timeZone ?? account.timeZone]),
      'No maintenance window. Windows are part of the account\'s configuration (maintenance:), changed with a configuration PUT or opsctl config apply.'));
    replace(corrections, table('Incidents whose count an operator corrected, in the windows above',
      [{ label: 'Incident' }, { label: 'Started' }, { label: 'Correction' }, { label: 'By' }, { label: 'Reason' }],
      sla.corrections.map(c => [incidentLink(c.incidentId, c.title), time(c.startedAt),
        correctionText(c.correction), c.correction.actor, c.correction.reason]), 'None: every incident counts as it happened.'));
  }
  follow(`account:${accountId}`, refresh);
}

/**
 * The monthly SLA report (an account's, or the fleet's under /api/v1/fleet), this month and last, as HTML to read or
 * send and CSV to work with: fetched with the token, which a plain link would not carry.
 */
function reportLinks(base, name) {
  const now = new Date();
  const month = offset => { const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - offset, 1)); return d.toISOString().slice(0, 7); };
  const message = h('span', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const download = (period, format) => h('button', {
    type: 'button', onclick: async () => {
      message.textContent = 'Preparing…';
      try {
        const response = await send(`${base}/reports/sla?period=${period}&format=${format}`, {}, format === 'csv' ? 'text/csv' : 'text/html');
        const address = URL.createObjectURL(await response.blob());
        const link = h('a', { href: address, download: `sla-${name}-${period}.${format}` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(address), 60_000);
        message.textContent = `Downloaded the ${period} report (${format.toUpperCase()}).`;
      } catch (error) {
        if (error instanceof SignedOut) return signIn();
        message.textContent = `Could not download: ${error.message}`;
      }
    },
  }, `${period} ${format.toUpperCase()}`);
  return h('p', { class: 'reports' }, name === 'fleet' ? 'Fleet SLA reports: ' : 'SLA reports: ', [0, 1].flatMap(offset => [download(month(offset), 'html'), ' ', download(month(offset), 'csv'), ' ']), message);
}

function slaTimeline(events) {
  if (events.length === 0) return h('p', { class: 'lead' }, 'No SLA event yet: no status change and no burn-rate episode.');
  const what = e => e.kind === 'status' ? h('span', {}, `${e.slo}: `, e.from ? badge(e.from) : '', e.from ? ' → ' : '', badge(e.to))
    : `${e.slo}: burn-rate episode ${e.kind === 'burnStarted' ? 'began' : 'ended'}`;
  return h('ol', { class: 'timeline', 'aria-label': 'SLA events, newest first' }, events.map(e => h('li', {},
    h('time', { datetime: e.at }, time(e.at)), ' ', what(e), e.detail ? h('span', { class: 'detail' }, e.detail) : null,
    e.notified?.length ? h('span', { class: 'detail' }, `told ${e.notified.join(', ')}`) : null)));
}

async function onCallTable(base, schedules) {
  if (schedules.length === 0) return h('p', { class: 'lead' }, 'No on-call schedule.');
  const rows = await Promise.all(schedules.map(async schedule => {
    const now = await api(`${base}/schedules/${encodeURIComponent(schedule.id)}/oncall`);
    const next = now.shifts.find(s => !now.onCall.includes(s.user)) ?? now.shifts[1];
    return [schedule.name ?? schedule.id, now.onCall.length ? now.onCall.join(', ') : 'nobody',
      now.shifts[0] ? `until ${time(now.shifts[0].end)} (${fromNow(now.shifts[0].end)})` : '–',
      next ? `${next.user} from ${time(next.start)}` : '–', now.timeZone];
  }));
  return table('Who is on call now and next, per schedule', [{ label: 'Schedule' }, { label: 'On call now' }, { label: 'Shift ends' }, { label: 'Next' }, { label: 'Time zone' }], rows, '');
}

function silenceTable(base, items, changed) {
  return table('Silences: pending, active and recently ended, newest first',
    [{ label: 'Matchers' }, { label: 'State' }, { label: 'From' }, { label: 'Until' }, { label: 'By' }, { label: 'Comment' }, { label: 'Action' }],
    items.map(s => [h('span', { class: 'mono' }, s.matchers.join(', ')), badge(s.state === 'active' ? 'at-risk' : 'sev4', s.state), time(s.startsAt),
      s.expiredAt ? `${time(s.expiredAt)} (ended by ${s.expiredBy ?? 'someone'})` : time(s.endsAt), s.createdBy, s.comment ?? '',
      s.state === 'expired' ? '–' : h('button', {
        type: 'button', 'aria-label': `End the silence ${s.matchers.join(', ')} now`, onclick: async () => {
          const actor = localStorage.getItem(ACTOR_KEY) ?? 'dashboard';
          try { await api(`${base}/silences/${encodeURIComponent(s.id)}?actor=${encodeURIComponent(actor)}`, { method: 'DELETE' }); await changed(); }
          catch (error) { if (error instanceof SignedOut) signIn(); else showError(error); }
        },
      }, 'End now')]),
    'No silence.');
}

/** A form that silences alerts for a while: matchers as Alertmanager writes them, one per line. */
function silenceMaker(base, changed) {
  const matchers = h('textarea', { id: 'silence-matchers', name: 'matchers', rows: 2, required: true, placeholder: 'alertname="HighLatency"' });
  const hours = select('silence-for', [['1', '1 hour'], ['2', '2 hours'], ['4', '4 hours'], ['12', '12 hours'], ['24', '1 day'], ['168', '1 week']]);
  const comment = h('input', { id: 'silence-comment', name: 'comment', required: true, maxlength: 2000 });
  const by = h('input', { id: 'silence-by', name: 'createdBy', required: true, autocomplete: 'name', value: localStorage.getItem(ACTOR_KEY) ?? '' });
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  return h('form', {
    class: 'actions', 'aria-label': 'New silence', onsubmit: async event => {
      event.preventDefault();
      localStorage.setItem(ACTOR_KEY, by.value.trim());
      const endsAt = new Date(Date.now() + Number(hours.value) * 3_600_000).toISOString();
      try {
        await api(`${base}/silences`, { method: 'POST', body: JSON.stringify({
          matchers: matchers.value.split('\n').map(m => m.trim()).filter(Boolean), endsAt, createdBy: by.value.trim(), comment: comment.value.trim() }) });
        message.className = 'message ok';
        message.textContent = 'Silenced.';
        matchers.value = comment.value = '';
        await changed();
      } catch (error) {
        if (error instanceof SignedOut) return signIn();
        message.className = 'message error';
        message.textContent = error.message;
      }
    },
  }, h('label', { for: 'silence-matchers' }, 'Matchers, one per line', matchers), h('label', { for: 'silence-for' }, 'For', hours),
  h('label', { for: 'silence-comment' }, 'Why', comment), h('label', { for: 'silence-by' }, 'Your name', by),
  h('button', { class: 'primary', type: 'submit' }, 'Silence'), message);
}

function budgetCard(slo, series, incidents) {
  // A spent budget has no time left to count down and no incidents left to absorb: say so rather than "0 min" or a
  // negative headroom.
  const spent = slo.remainingMinutes <= 0;
  const exhaustion = spent ? `spent: ${minutes(-slo.remainingMinutes)} over the budget`
    : slo.timeToExhaustionMinutes === null ? 'not burning' : `${duration(slo.timeToExhaustionMinutes)} (${time(slo.exhaustedAt)})`;
  const headroom = spent ? 'none: the budget is spent'
    : slo.headroom?.median === null || slo.headroom?.median === undefined ? 'no resolved incident yet'
      : `${number(slo.headroom.median, 1)} median incidents (${minutes(slo.headroom.medianImpactMinutes)} each), ${number(slo.headroom.p90, 1)} at p90`;
  return h('article', { class: 'slo', 'aria-labelledby': idFrom('slo', slo.id) },
    h('h3', { id: idFrom('slo', slo.id) }, slo.id, ' ', badge(slo.status)),
    h('div', { class: 'slo-grid' },
      h('dl', { class: 'facts' },
        h('dt', {}, 'Target'), h('dd', {}, percent(slo.target, 2)),
        h('dt', {}, 'SLI'), h('dd', {}, percent(slo.sli, 4)),
        h('dt', {}, 'Budget left'), h('dd', {}, gauge(slo.remainingMinutes, slo.budgetMinutes, `Budget left for ${slo.id}`), ` ${minutes(slo.remainingMinutes)} of ${minutes(slo.budgetMinutes)}`),
        h('dt', {}, 'Consumed'), h('dd', {}, percent(slo.consumed * 100)),
        h('dt', {}, spent ? 'Exhausted' : 'Exhausted in'), h('dd', {}, exhaustion),
        h('dt', {}, 'Headroom'), h('dd', {}, headroom),
        h('dt', {}, 'Credit due'), h('dd', {}, slo.creditPercent > 0 ? h('span', { class: 'over' }, `${percent(slo.creditPercent, 0)} of the month's fee`) : 'none'),
        h('dt', {}, 'Window'), h('dd', {}, `${time(slo.windowStart)} to ${time(slo.windowEnd)}`)),
      series ? burnDownChart(slo, series, incidents) : h('p', {}, 'No burn-down.')),
    table(`Burn rates of ${slo.id} (1 = spending the budget exactly over the window)`,
      Object.keys(slo.burnRates).map(window => ({ label: window, num: true })),
      [Object.values(slo.burnRates).map(rate => number(rate))], ''),
    slo.burnAlerts.length > 0 ? h('p', { class: 'over' }, `Burn-rate alerts firing: ${slo.burnAlerts.join(', ')}`) : null);
}

/**
 * The budget left over the window: gridlines in readable units, the even-spend line a budget on target follows, the
 * region below zero, the incidents as markers (hover or focus names them; each links to its page) and, while the
 * budget burns, the forecast to its exhaustion past the window's end.
 */
function burnDownChart(slo, series, incidents) {
  if (series.points.length === 0) return h('p', {}, 'No burn-down yet.');
  const width = 720, height = 260, left = 64, right = 16, top = 30, bottom = 34;
  const start = Date.parse(series.windowStart), end = Date.parse(series.windowEnd);
  const last = series.points[series.points.length - 1];
  // Now is the last point: a rolling window ends now, a calendar month later.
  const nowAt = Date.parse(last.at);
  const burning = slo.timeToExhaustionMinutes !== null && last.remainingMinutes > 0;
  // The forecast gets a fifth of the window beyond now, enough to show where the line meets zero if it will soon.
  const horizon = Math.max(end, burning ? nowAt + (end - start) / 5 : nowAt);
  const exhaustedAt = burning ? Date.parse(slo.exhaustedAt) : null;
  const forecastEnd = burning ? Math.min(exhaustedAt, horizon) : null;
  const rate = burning ? last.remainingMinutes / Math.max(1, exhaustedAt - Date.parse(last.at)) : 0; // minutes of budget per ms
  const values = series.points.map(p => p.remainingMinutes);
  const high = Math.max(series.budgetMinutes, ...values);
  const low = Math.min(0, ...values) - (Math.min(0, ...values) < 0 ? 0 : series.budgetMinutes * 0.12); // room for the region below zero
  const x = at => left + (at - start) / Math.max(1, horizon - start) * (width - left - right);
  const y = v => top + (high - v) / Math.max(1e-9, high - low) * (height - top - bottom);
  const titleId = idFrom('chart-title', slo.id), descId = idFrom('chart-desc', slo.id);
  const grid = [0, 0.25, 0.5, 0.75, 1].map(share => share * series.budgetMinutes);
  const day = 86_400_000, span = (horizon - start) / day;
  const step = (span > 60 ? 14 : span > 20 ? 7 : span > 6 ? 2 : 1) * day;
  const ticks = [];
  for (let at = Math.ceil(start / day) * day; at <= horizon; at += step) ticks.push(at);
  const shown = incidents.filter(i => Date.parse(i.startedAt) < nowAt && (i.resolvedAt === null || Date.parse(i.resolvedAt) > start));
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-labelledby': titleId, 'aria-describedby': descId },
    svg('title', { id: titleId }, `Budget burn-down of ${slo.id}`),
    svg('desc', { id: descId }, `From ${number(series.budgetMinutes, 1)} minutes at ${time(series.windowStart)} to ${number(last.remainingMinutes, 1)} minutes left at ${time(last.at)}.`
      + (burning ? ` At the current burn the budget is spent ${fromNow(slo.exhaustedAt)}.` : '') + ` ${shown.length} incidents in the window.`),
    svg('rect', { class: 'below', x: left, y: y(0), width: width - left - right, height: Math.max(0, height - bottom - y(0)) }),
    svg('text', { class: 'below-label', x: width - right - 4, y: height - bottom - 4, 'text-anchor': 'end' }, 'over budget'),
    grid.map(v => [svg('line', { class: 'grid', x1: left, y1: y(v), x2: width - right, y2: y(v) }),
      svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, v === 0 ? '0' : duration(v >= 5 ? Math.round(v) : v))]),
    ticks.map(at => [svg('line', { class: 'grid', x1: x(at), y1: top, x2: x(at), y2: height - bottom }),
      svg('text', { x: x(at), y: height - bottom + 16, 'text-anchor': 'middle' }, new Date(at).toISOString().slice(5, 10))]),
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: height - bottom }),
    svg('line', { class: 'axis', x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }),
    svg('line', { class: 'zero', x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svg('line', { class: 'target', x1: x(start), y1: y(series.budgetMinutes), x2: x(end), y2: y(0) }, svg('title', {}, 'Even spend: the whole budget used exactly over the window')),
    horizon > nowAt ? svg('line', { class: 'now', x1: x(nowAt), y1: top, x2: x(nowAt), y2: height - bottom }) : null,
    horizon > nowAt ? svg('text', { x: x(nowAt) + 3, y: top + 10 }, 'now') : null,
    shown.map(i => {
      const from = Math.max(start, Date.parse(i.startedAt)), to = Math.min(nowAt, i.resolvedAt ? Date.parse(i.resolvedAt) : nowAt);
      return svg('a', { href: `/dashboard/incidents/${encodeURIComponent(i.id)}`, class: `marker ${i.severity}`, 'aria-label': `${i.title}, ${i.severity}, from ${time(i.startedAt)}` },
        svg('title', {}, `${i.title} (${i.severity}), ${time(i.startedAt)} to ${i.resolvedAt ? time(i.resolvedAt) : 'now, open'}`),
        svg('rect', { x: x(from) - 2, y: top - 16, width: Math.max(4, x(to) - x(from) + 4), height: 10, rx: 2 }),
        svg('line', { x1: x(from), y1: top - 6, x2: x(from), y2: height - bottom }));
    }),
    svg('polyline', { class: 'line', points: series.points.map(p => `${x(Date.parse(p.at)).toFixed(1)},${y(p.remainingMinutes).toFixed(1)}`).join(' ') }),
    series.points.map(p => svg('circle', { class: 'point', cx: x(Date.parse(p.at)).toFixed(1), cy: y(p.remainingMinutes).toFixed(1), r: 5 },
      svg('title', {}, `${time(p.at)}: ${duration(p.remainingMinutes)} ${p.remainingMinutes < 0 ? 'over budget' : 'left'}`))),
    burning ? svg('line', { class: 'forecast', x1: x(Date.parse(last.at)), y1: y(last.remainingMinutes), x2: x(forecastEnd),
      y2: y(last.remainingMinutes - rate * (forecastEnd - Date.parse(last.at))) }, svg('title', {}, `Forecast: spent ${fromNow(slo.exhaustedAt)} (${time(slo.exhaustedAt)})`)) : null);
  return h('figure', { class: 'burndown' }, chart,
    h('figcaption', {}, h('span', { class: 'key line' }, 'budget left'), h('span', { class: 'key target' }, 'even spend'),
      burning ? h('span', { class: 'key forecast' }, 'forecast') : null, h('span', { class: 'key marker' }, 'incidents')));
}

function incidentTable(items) {
  return table('Open incidents, newest first',
    [{ label: 'Incident' }, { label: 'Severity' }, { label: 'Status' }, { label: 'Service' }, { label: 'Opened' }, { label: 'Firing alerts', num: true }],
    items.map(i => [
      incidentLink(i.id, i.title),
      badge(i.severity), badge(i.status), i.service, h('span', { title: time(i.openedAt) }, fromNow(i.openedAt)), `${i.firingAlertCount} of ${i.alertCount}`,
    ]), 'No open incident.');
}

function kpiTable(kpi) {
  const against = (value, target) => {
    if (value === null || value === undefined) return '–';
    const text = duration(value) + (target === null ? '' : ` (target ${duration(target)})`);
    return target !== null && value > target ? h('span', { class: 'over' }, text, ' over target') : text;
  };
  return h('div', {},
    table('KPIs by severity against the contract\'s targets',
      [{ label: 'Severity' }, { label: 'Incidents', num: true }, { label: 'MTTA median' }, { label: 'MTTR median' }, { label: 'MTTD median' }, { label: 'Acknowledged', num: true }, { label: 'Escalations per incident', num: true }],
      kpi.severities.map(s => [
        badge(s.severity), s.kpis.incidents, against(s.kpis.mtta.medianMinutes, s.targets.mttaMinutes), against(s.kpis.mttr.medianMinutes, s.targets.mttrMinutes),
        duration(s.kpis.mttd.medianMinutes), s.kpis.acknowledgementRate === null ? '–' : percent(s.kpis.acknowledgementRate * 100, 0), number(s.kpis.escalationsPerIncident, 1),
      ]), ''),
    h('p', {}, `Noise reduction: ${kpi.noiseReduction === null ? '–' : percent(kpi.noiseReduction * 100)}`));
}

// ---- incident ----

/** What an operator's SLA correction says, as the chronicle words it. */
function correctionText(c) {
  return c.excluded ? (c.slos.length === 0 ? 'left out of every SLO' : `left out of ${c.slos.join(', ')}`)
    : `impact counted from ${c.impactStart ? time(c.impactStart) : 'its start'} to ${c.impactEnd ? time(c.impactEnd) : 'its resolution'}`;
}

function incidentView(incidentId) {
  const title = h('h1', {}, incidentId);
  const facts = h('div'), escalation = h('div'), countdowns = h('div'), guides = h('div'), related = h('div'), verification = h('p'), chronicle = h('div'), alerts = h('div');
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const slaState = h('p');
  const slaMessage = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const reason = h('input', { id: 'sla-reason', name: 'reason', required: true, maxlength: 2000 });
  const exclude = h('button', { type: 'button', onclick: () => correct({ exclude: true }, 'Left out of every SLO.') }, 'Leave out of the SLA');
  const withdraw = h('button', { type: 'button', onclick: () => correct({ withdraw: true }, 'Counted as it happened again.') }, 'Count it again');
  const actor = h('input', { id: 'actor', name: 'actor', required: true, autocomplete: 'name', value: localStorage.getItem(ACTOR_KEY) ?? '' });
  const note = h('input', { id: 'note', name: 'note', maxlength: 2000 });
  const target = h('input', { id: 'reassign-to', name: 'to', list: 'targets', placeholder: 'user:ana', autocomplete: 'off' });
  const targets = h('datalist', { id: 'targets' });
  const ack = h('button', { class: 'primary', type: 'button', onclick: () => act('ack', {}, 'acknowledged') }, 'Acknowledge');
  const resolve = h('button', { class: 'primary', type: 'button', onclick: () => act('resolve', { note: note.value.trim() || null }, 'resolved') }, 'Resolve');
  const reopen = h('button', { type: 'button', onclick: () => act('reopen', { note: note.value.trim() || null }, 'reopened') }, 'Reopen');
  const escalate = h('button', { type: 'button', onclick: () => act('escalate', {}, 'escalated') }, 'Escalate now');
  const addNote = h('button', { type: 'button', onclick: () => note.value.trim() ? act('notes', { text: note.value.trim() }, 'noted') : note.focus() }, 'Add note');
  const reassign = h('button', { type: 'button', onclick: () => target.value.trim() ? act('reassign', { to: target.value.trim() }, 'reassigned') : target.focus() }, 'Reassign');
  const regroupReason = h('input', { id: 'regroup-reason', name: 'reason', required: true, maxlength: 2000 });
  const mergeInto = h('input', { id: 'merge-into', name: 'into', required: true, placeholder: 'inc-…', pattern: 'inc-[a-z2-7]{16}', autocomplete: 'off' });
  const merge = h('button', { type: 'button', onclick: () => mergeInto.reportValidity() && regroup('merge', { into: mergeInto.value.trim() }) }, 'Merge into that incident');
  const split = h('button', { type: 'button', onclick: () => regroup('split', { alerts: [...alerts.querySelectorAll('input[name=split]:checked')].map(box => box.value) }) }, 'Split the ticked alerts out');
  const regroupMessage = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const base = `/api/v1/incidents/${encodeURIComponent(incidentId)}`;
  let accountBase = null, itsm = null;

  /** A merge or a split: always with the operator's name and a reason, on both incidents' chronicles; then the incident that now holds the alerts opens. */
  async function regroup(action, body) {
    if (!actor.reportValidity() || !regroupReason.reportValidity()) return;
    if (action === 'split' && body.alerts.length === 0) {
      regroupMessage.className = 'message error';
      regroupMessage.textContent = 'Tick the alerts to split out first (in the Alerts table below).';
      return;
    }
    localStorage.setItem(ACTOR_KEY, actor.value.trim());
    regroupMessage.className = 'message';
    regroupMessage.textContent = 'Working…';
    try {
      const incident = await api(`${base}/${action}`, { method: 'POST', body: JSON.stringify({ actor: actor.value.trim(), reason: regroupReason.value.trim(), ...body }) });
      location.assign(`/dashboard/incidents/${encodeURIComponent(incident.id)}`);
    } catch (error) {
      if (error instanceof SignedOut) return signIn();
      regroupMessage.className = 'message error';
      regroupMessage.textContent = error.message;
    }
  }

  async function act(action, body, done) {
    if (!actor.reportValidity()) return;
    localStorage.setItem(ACTOR_KEY, actor.value.trim());
    message.className = 'message';
    message.textContent = 'Working…';
    try {
      const incident = await api(`${base}/${action}`, { method: 'POST', body: JSON.stringify({ actor: actor.value.trim(), ...body }) });
      message.className = 'message ok';
      message.textContent = action === 'ack' || action === 'resolve' ? `Incident ${incident.status} by ${actor.value.trim()}.` : `Incident ${done} by ${actor.value.trim()}.`;
      if (action === 'notes') note.value = '';
      await refresh();
    } catch (error) {
      if (error instanceof SignedOut) return signIn();
      message.className = 'message error';
      message.textContent = error.message;
    }
  }

  /** An SLA correction (admin tokens only): always with the operator's name and a reason, both on the chronicle. */
  async function correct(body, done) {
    if (!actor.reportValidity() || !reason.reportValidity()) return;
    localStorage.setItem(ACTOR_KEY, actor.value.trim());
    slaMessage.className = 'message';
    slaMessage.textContent = 'Saving…';
    try {
      await api(`${base}/sla-correction`, { method: 'POST', body: JSON.stringify({ actor: actor.value.trim(), reason: reason.value.trim(), ...body }) });
      slaMessage.className = 'message ok';
      slaMessage.textContent = done;
      reason.value = '';
      await refresh();
    } catch (error) {
      if (error instanceof SignedOut) return signIn();
      slaMessage.className = 'message error';
      slaMessage.textContent = error.message;
    }
  }

  replace(main, title, facts,
    card('act-heading', 'Act',
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        h('label', { for: 'actor' }, 'Your name', actor), h('label', { for: 'note' }, 'Note (for a resolve, a reopen, or on its own)', note), ack, resolve, reopen, addNote),
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        escalate, h('label', { for: 'reassign-to' }, 'Reassign to (user:, schedule:, team: or channel:)', target), targets, reassign),
      message),
    card('escalation-heading', 'Escalation', escalation),
    card('sla-heading', 'SLA', countdowns, slaState,
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        h('label', { for: 'sla-reason' }, 'Reason (required; on the chronicle and the reports)', reason), exclude, withdraw),
      slaMessage),
    card('guides-heading', 'Runbooks and links', guides),
    card('related-heading', 'Related', related,
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        h('label', { for: 'regroup-reason' }, 'Reason to merge or split (required; on both chronicles)', regroupReason),
        h('label', { for: 'merge-into' }, 'Merge this incident into', mergeInto), merge, split),
      regroupMessage),
    card('chronicle-heading', 'Chronicle', verification, chronicle),
    card('alerts-heading', 'Alerts', alerts));

  async function refresh() {
    const [incident, entries, check] = await Promise.all([api(base), api(`${base}/chronicle?limit=500`), api(`${base}/chronicle/verify`)]);
    if (accountBase === null) {
      accountBase = `/api/v1/accounts/${encodeURIComponent(incident.account)}`;
      const config = await api(`${accountBase}/config`).catch(() => null);
      itsm = config?.itsm ?? null;
      replace(targets, [...(config?.users ?? []).map(u => `user:${u.id}`), ...(config?.schedules ?? []).map(s => `schedule:${s.id}`),
        ...(config?.teams ?? []).map(t => `team:${t.id}`), ...(config?.channels ?? []).map(c => `channel:${c.id}`)].map(value => h('option', { value })));
    }
    const sla = await api(`${accountBase}/sla`);
    document.title = `${incident.title} · OrleansOps`;
    title.textContent = incident.title;
    ack.disabled = incident.status !== 'triggered';
    resolve.disabled = incident.status === 'resolved';
    reopen.disabled = incident.status !== 'resolved';
    escalate.disabled = reassign.disabled = incident.status === 'resolved';
    merge.disabled = incident.mergedInto !== null;
    const c = incident.slaCorrection;
    slaState.textContent = c ? `Corrected: ${correctionText(c)}, by ${c.actor} at ${time(c.at)} (${c.reason}).` : 'Counted against the account\'s SLOs as it happened.';
    exclude.disabled = c?.excluded === true && c.slos.length === 0;
    withdraw.disabled = !c;
    replace(facts, incident.mergedInto ? h('p', { class: 'notice', role: 'note' }, 'Merged into ', incidentLink(incident.mergedInto, incident.mergedInto),
      ': its alerts and its impact count there.') : null, h('dl', { class: 'facts' },
      h('dt', {}, 'Incident'), h('dd', { class: 'mono' }, incident.id),
      h('dt', {}, 'Account'), h('dd', {}, accountLink(incident.account)),
      h('dt', {}, 'Service'), h('dd', {}, incident.service),
      h('dt', {}, 'Severity'), h('dd', {}, badge(incident.severity)),
      h('dt', {}, 'Status'), h('dd', { id: 'incident-status' }, badge(incident.status)),
      h('dt', {}, 'Started'), h('dd', {}, `${time(incident.startedAt)} (${fromNow(incident.startedAt)})`),
      h('dt', {}, 'Opened'), h('dd', {}, time(incident.openedAt)),
      h('dt', {}, 'Acknowledged'), h('dd', {}, incident.acknowledgedAt ? `${time(incident.acknowledgedAt)} by ${incident.acknowledgedBy}` : '–'),
      h('dt', {}, 'Resolved'), h('dd', {}, incident.resolvedAt ? `${time(incident.resolvedAt)} by ${incident.resolvedBy}` : '–'),
      h('dt', {}, 'Tickets'), h('dd', {}, incident.tickets.length === 0 ? '–' : incident.tickets.map(t => h('span', { class: 'ticket' },
        ticketLink(t, itsm), t.stuck ? ` — stuck: ${t.lastError}` : t.failures > 0 ? ` — retrying: ${t.lastError}` : '')))));
    replace(escalation, escalationFacts(incident), table('Notifications, as each ended',
      [{ label: 'At' }, { label: 'To' }, { label: 'Channel' }, { label: 'Outcome' }, { label: 'Attempts', num: true }],
      incident.notifications.slice().reverse().map(n => [time(n.at), n.recipient, n.channel, n.delivered ? badge('healthy', 'delivered') : h('span', { class: 'over' }, `failed: ${n.error ?? 'every attempt failed'}`), n.attempts]),
      incident.pendingNotifications > 0 ? `${incident.pendingNotifications} notifications on their way, none ended yet.` : 'No notification yet.'));
    const clocks = sla.slos.filter(s => s.kind !== 'availability').flatMap(s => s.running.filter(r => r.incidentId === incident.id).map(r => ({ slo: s, deadline: r.deadline })));
    replace(countdowns, clocks.length === 0
      ? h('p', {}, incident.status === 'resolved' ? 'No clock runs: the incident is resolved.' : 'No response or resolution clock runs for this incident.')
      : h('ul', { class: 'countdowns' }, clocks.map(({ slo, deadline }) => {
        const late = Date.parse(deadline) < Date.now();
        return h('li', { class: late ? 'over' : null }, `${slo.id} (${slo.kind} within ${slo.limit}): due ${time(deadline)}, `, h('strong', {}, late ? `${fromNow(deadline)}, missed` : fromNow(deadline)));
      })));
    replace(guides, guideLinks(incident.alerts));
    const neighbours = await api(`/api/v1/fleet/incidents?status=open&account=${encodeURIComponent(incident.account)}&service=${encodeURIComponent(incident.service)}&limit=20`);
    replace(related, table(`Other open incidents on ${incident.service}`,
      [{ label: 'Incident' }, { label: 'Severity' }, { label: 'Status' }, { label: 'Opened' }],
      neighbours.items.filter(i => i.id !== incident.id).map(i => [h('span', {}, incidentLink(i.id, i.title), ' ',
        h('button', { type: 'button', class: 'link', disabled: incident.mergedInto !== null, 'aria-label': `Merge this incident into ${i.title} (${i.id})`,
          onclick: () => { mergeInto.value = i.id; merge.click(); } }, 'merge into it')),
        badge(i.severity), badge(i.status), h('span', { title: time(i.openedAt) }, fromNow(i.openedAt))]),
      `No other open incident on ${incident.service}.`));
    verification.className = check.valid ? 'verified' : 'broken';
    verification.textContent = check.valid
      ? `Chronicle verified: ${check.entries} entries, hash chain intact (head ${check.headHash.slice(0, 16)}…).`
      : `Chronicle does NOT verify at entry ${check.firstInvalidSeq}: ${check.reason}`;
    replace(chronicle, table('Every step, oldest first',
      [{ label: '#', num: true }, { label: 'At' }, { label: 'Kind' }, { label: 'Actor' }, { label: 'What happened' }],
      entries.items.map(e => [e.seq, time(e.at), e.kind, e.actor, e.text]), 'No entries.'),
      entries.next ? h('p', {}, `The first 500 entries; the API pages through all ${check.entries}.`) : null);
    replace(alerts, table('Alerts in this incident',
      [{ label: 'Split out' }, { label: 'Status' }, { label: 'Severity' }, { label: 'Labels' }, { label: 'Summary' }, { label: 'Seen', num: true }],
      incident.alerts.map(a => [
        h('input', { type: 'checkbox', name: 'split', value: a.fingerprint, 'aria-label': `Split out ${a.labels.alertname ?? a.fingerprint}` }),
        badge(a.status), badge(a.severity),
        h('span', { class: 'mono' }, Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' '),
          a.mergedFrom ? h('span', { class: 'muted' }, ` (merged from ${a.mergedFrom})`) : null),
        a.annotations?.summary ?? '', a.count]), 'No alerts.'),
      incident.alertCount > incident.alerts.length ? h('p', {}, `The first ${incident.alerts.length} of ${incident.alertCount} alerts.`) : null);
  }

  follow(`incident:${incidentId}`, refresh);
}

function escalationFacts(incident) {
  const e = incident.escalation;
  const next = incident.status === 'resolved' ? 'nothing: resolved'
    : incident.status === 'acknowledged' ? (e.ackTimeoutAt ? `pages again ${fromNow(e.ackTimeoutAt)} unless resolved (acknowledgement times out ${time(e.ackTimeoutAt)})` : 'nothing while acknowledged')
      : e.exhausted ? 'nothing: every level has been paged'
        : e.nextLevel ? `level ${e.nextLevel} ${fromNow(e.nextAt)} (${time(e.nextAt)})` : 'nothing scheduled';
  return h('dl', { class: 'facts' },
    h('dt', {}, 'Policy'), h('dd', {}, e.policy ?? 'none applies'),
    h('dt', {}, 'Round'), h('dd', {}, String(e.round)),
    h('dt', {}, 'Assigned to'), h('dd', {}, e.assignees.length ? e.assignees.join(', ') : 'nobody yet (only channels paged so far)'),
    h('dt', {}, 'Next step'), h('dd', {}, next));
}

/** A ticket's key, linked to the ticket when the account's ITSM settings say where it lives. */
function ticketLink(ticket, itsm) {
  const label = `${ticket.system} ${ticket.key ?? '(not created yet)'}`;
  if (!ticket.key) return label;
  if (ticket.system === 'jira' && itsm?.jira?.siteUrl) return safeLink(`${itsm.jira.siteUrl.replace(/\/+$/, '')}/browse/${encodeURIComponent(ticket.key)}`, label);
  if (ticket.system === 'serviceNow' && itsm?.serviceNow?.instanceUrl)
    return safeLink(`${itsm.serviceNow.instanceUrl.replace(/\/+$/, '')}/nav_to.do?uri=${encodeURIComponent(`incident.do?sysparm_query=number=${ticket.key}`)}`, label);
  return label;
}

/** Runbooks (the runbook_url annotation Prometheus rules carry, or runbook) and the alerts' own links, each once. */
function guideLinks(alerts) {
  const seen = new Map();
  for (const a of alerts) {
    for (const name of ['runbook_url', 'runbook']) {
      const address = a.annotations?.[name];
      if (address && !seen.has(address)) seen.set(address, `Runbook: ${a.labels.alertname ?? 'alert'}`);
    }
    for (const link of a.links ?? []) if (!seen.has(link.href)) seen.set(link.href, link.text ?? link.href);
  }
  if (seen.size === 0) return h('p', { class: 'lead' }, 'No runbook: the alerts carry no runbook_url annotation and no link.');
  return h('ul', {}, [...seen].map(([address, text]) => h('li', {}, safeLink(address, text))));
}

// ---- cluster ----

function clusterView() {
  document.title = 'Cluster · OrleansOps';
  const silos = h('div'), grains = h('div');
  replace(main, h('h1', {}, 'Cluster'),
    h('p', { class: 'lead' }, 'The silos as Orleans\' membership sees them, and where the grains are active now. Refreshed every 10 seconds.'),
    card('silos-heading', 'Silos', silos),
    card('grains-heading', 'Grain activations', grains));
  const refresh = async () => {
    try {
      const [membership, activations] = await Promise.all([api('/api/v1/cluster/silos'), api('/api/v1/cluster/grains')]);
      replace(silos, table('Silos in the membership table',
        [{ label: 'Silo' }, { label: 'Address' }, { label: 'Status' }, { label: 'Started' }, { label: 'Last alive' }],
        (membership.items ?? membership.silos).map(s => [s.name + (s.answeredThisRequest ? ' (serving this page)' : ''), h('span', { class: 'mono' }, s.address),
          badge(s.status === 'active' ? 'healthy' : 'breached', s.status), time(s.startedAt), time(s.lastAliveAt)]), 'No silo.'));
      replace(grains, h('p', {}, `${activations.total} activations.`), table('Activations by grain type',
        [{ label: 'Grain type' }, { label: 'Activations', num: true }, { label: 'Per silo' }],
        activations.grainTypes.map(t => [t.grainType, t.activations, t.silos.map(s => `${s.silo}: ${s.activations}`).join(', ')]), 'No activation.'));
      liveStatus.textContent = 'Refreshed ' + new Date().toISOString().slice(11, 19) + 'Z';
    } catch (error) {
      if (error instanceof SignedOut) signIn(); else showError(error);
    }
  };
  refresh();
  setInterval(refresh, 10_000);
}

// ---- routing ----

function start() {
  if (!session.token) return signIn();
  signOutButton.hidden = false;
  const path = decodeURIComponent(location.pathname.replace(/\/+$/, ''));
  const account = /^\/dashboard\/accounts\/([^/]+)$/.exec(path);
  const incident = /^\/dashboard\/incidents\/([^/]+)$/.exec(path);
  const only = session.account;
  if (only) {
    // An account token reaches one account: no fleet, no cluster; its account is home.
    const home = `/dashboard/accounts/${encodeURIComponent(only)}`;
    document.querySelector('header nav').hidden = true;
    document.querySelector('header .brand').setAttribute('href', home);
    if (!account && !incident) return location.replace(home);
  }
  if (path === '/dashboard/cluster') clusterView();
  else if (account) accountView(account[1]);
  else if (incident) incidentView(incident[1]);
  else fleetView();
}

start();
