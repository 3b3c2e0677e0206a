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
  for (const child of children.flat()) {
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
    h('tbody', {}, rows.map(row => h('tr', {}, row.map((cell, i) => h('td', { class: columns[i].num ? 'num' : null }, cell))))));
}

const words = { healthy: 'healthy', atRisk: 'at risk', breached: 'breached' };
const badge = (value, text) => h('span', { class: `badge ${String(value).replace(/[A-Z]/g, c => '-' + c.toLowerCase())}` }, text ?? words[value] ?? value);

// ---- formatting ----

const time = iso => iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
const minutes = value => value === null || value === undefined ? '–' : `${Number(value).toFixed(1)} min`;
const percent = (value, digits = 1) => value === null || value === undefined ? '–' : `${Number(value).toFixed(digits)} %`;
const number = (value, digits = 2) => value === null || value === undefined ? '–' : Number(value).toFixed(digits);
function duration(totalMinutes) {
  if (totalMinutes === null || totalMinutes === undefined) return '–';
  const m = Math.round(totalMinutes);
  return m >= 1440 ? `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h` : m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

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

async function api(path, options = {}) {
  const token = session.token;
  if (!token) throw new SignedOut();
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(options.body ? { 'Content-Type': 'application/json' } : {}) },
  });
  if (response.status === 401) { session.end(); throw new SignedOut(); }
  const body = response.headers.get('Content-Type')?.includes('json') ? await response.json() : null;
  if (!response.ok) throw new Error(body?.detail ?? body?.title ?? `${response.status} ${response.statusText}`);
  return body;
}

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
  const body = h('div');
  replace(main, h('h1', {}, 'Fleet'), summary, h('section', { class: 'card', 'aria-labelledby': 'fleet-heading' }, h('h2', { id: 'fleet-heading' }, 'Accounts by risk'), body));
  follow('fleet', async () => {
    const page = { items: [] };
    for (let next = ''; next !== null;) {
      const part = await api(`/api/v1/fleet/sla?limit=500${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
      page.items.push(...part.items);
      next = part.next ?? null;
    }
    const count = status => page.items.filter(a => a.status === status).length;
    summary.textContent = `${page.items.length} accounts: ${count('breached')} breached, ${count('atRisk')} at risk, ${count('healthy')} healthy. Breached first, then at risk, then the least budget left.`;
    replace(body, table('Accounts, most at risk first',
      [{ label: 'Account' }, { label: 'Status' }, { label: 'Tightest SLO' }, { label: 'Budget left' }, { label: 'Minutes left', num: true }],
      page.items.map(a => [
        h('a', { href: `/dashboard/accounts/${encodeURIComponent(a.accountId)}` }, a.name),
        badge(a.status),
        a.tightestSlo ?? '–',
        a.budgetMinutes ? gauge(a.remainingMinutes, a.budgetMinutes, `Budget left for ${a.name}`) : '–',
        a.remainingMinutes === null ? '–' : `${a.remainingMinutes} of ${number(a.budgetMinutes, 1)}`,
      ]), 'No account has an SLA yet.'));
  });
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
  const budgets = h('div'), clocks = h('div'), kpis = h('div'), incidents = h('div'), corrections = h('div');
  replace(main, title, facts,
    h('section', { class: 'card', 'aria-labelledby': 'budget-heading' }, h('h2', { id: 'budget-heading' }, 'Error budgets'), budgets),
    h('section', { class: 'card', 'aria-labelledby': 'incidents-heading' }, h('h2', { id: 'incidents-heading' }, 'Open incidents'), incidents),
    h('section', { class: 'card', 'aria-labelledby': 'clocks-heading' }, h('h2', { id: 'clocks-heading' }, 'Response and resolution'), clocks),
    h('section', { class: 'card', 'aria-labelledby': 'kpi-heading' }, h('h2', { id: 'kpi-heading' }, 'KPIs by severity, last 30 days'), kpis),
    h('section', { class: 'card', 'aria-labelledby': 'corrections-heading' }, h('h2', { id: 'corrections-heading' }, 'SLA corrections'), corrections));
  const base = `/api/v1/accounts/${encodeURIComponent(accountId)}`;
  follow(`account:${accountId}`, async () => {
    const [account, sla, burnDown, kpi, open] = await Promise.all([
      api(base), api(`${base}/sla`), api(`${base}/sla/burndown?points=60`), api(`${base}/kpis`), api(`${base}/incidents?status=open&limit=100`)]);
    document.title = `${account.name} · OrleansOps`;
    title.textContent = account.name;
    replace(facts, `${account.id} · tier ${account.tier ?? '–'} · ${account.timeZone} · SLA `, badge(sla.status), ` · ${account.openIncidents} open of ${account.totalIncidents} incidents`);
    const availability = sla.slos.filter(s => s.kind === 'availability');
    replace(budgets, availability.length === 0 ? h('p', { class: 'lead' }, 'No availability SLO.') : availability.map(slo =>
      budgetCard(slo, burnDown.series.find(s => s.slo === slo.id))));
    replace(incidents, incidentTable(open.items));
    replace(clocks, table('Response and resolution commitments over the last 30 days',
      [{ label: 'Commitment' }, { label: 'Limit' }, { label: 'Incidents', num: true }, { label: 'Met', num: true }, { label: 'Breached', num: true }, { label: 'Compliance', num: true }, { label: 'Running' }, { label: 'Status' }],
      sla.slos.filter(s => s.kind !== 'availability').map(c => [
        c.id, c.limit, c.incidents, c.met, c.breached, percent(c.sli),
        c.running.length === 0 ? '–' : c.running.map(r => `${r.incidentId} due ${time(r.deadline)}`).join(', '),
        h('span', {}, badge(c.status), c.drift?.drifting ? ' drifting' : ''),
      ]), 'No response or resolution commitment.'));
    replace(kpis, kpiTable(kpi));
    replace(corrections, table('Incidents whose count an operator corrected, in the windows above',
      [{ label: 'Incident' }, { label: 'Started' }, { label: 'Correction' }, { label: 'By' }, { label: 'Reason' }],
      sla.corrections.map(c => [h('a', { href: `/dashboard/incidents/${encodeURIComponent(c.incidentId)}` }, c.title), time(c.startedAt),
        correctionText(c.correction), c.correction.actor, c.correction.reason]), 'None: every incident counts as it happened.'));
  });
}

function budgetCard(slo, series) {
  // A spent budget has no time left to count down and no incidents left to absorb: say so rather than "0 min" or a
  // negative headroom.
  const spent = slo.remainingMinutes <= 0;
  const exhaustion = spent ? `spent: ${minutes(-slo.remainingMinutes)} over the budget`
    : slo.timeToExhaustionMinutes === null ? 'not burning' : `${duration(slo.timeToExhaustionMinutes)} (${time(slo.exhaustedAt)})`;
  const headroom = spent ? 'none: the budget is spent'
    : slo.headroom?.median === null || slo.headroom?.median === undefined ? 'no resolved incident yet'
      : `${number(slo.headroom.median, 1)} median incidents (${minutes(slo.headroom.medianImpactMinutes)} each), ${number(slo.headroom.p90, 1)} at p90`;
  return h('article', { class: 'slo', 'aria-labelledby': `slo-${slo.id}` },
    h('h3', { id: `slo-${slo.id}` }, slo.id, ' ', badge(slo.status)),
    h('div', { class: 'slo-grid' },
      h('dl', { class: 'facts' },
        h('dt', {}, 'Target'), h('dd', {}, percent(slo.target, 2)),
        h('dt', {}, 'SLI'), h('dd', {}, percent(slo.sli, 4)),
        h('dt', {}, 'Budget left'), h('dd', {}, gauge(slo.remainingMinutes, slo.budgetMinutes, `Budget left for ${slo.id}`), ` ${minutes(slo.remainingMinutes)} of ${minutes(slo.budgetMinutes)}`),
        h('dt', {}, 'Consumed'), h('dd', {}, percent(slo.consumed * 100)),
        h('dt', {}, spent ? 'Exhausted' : 'Exhausted in'), h('dd', {}, exhaustion),
        h('dt', {}, 'Headroom'), h('dd', {}, headroom),
        h('dt', {}, 'Window'), h('dd', {}, `${time(slo.windowStart)} to ${time(slo.windowEnd)}`)),
      series ? burnDownChart(slo, series) : h('p', {}, 'No burn-down.')),
    table(`Burn rates of ${slo.id} (1 = spending the budget exactly over the window)`,
      Object.keys(slo.burnRates).map(window => ({ label: window, num: true })),
      [Object.values(slo.burnRates).map(rate => number(rate))], ''),
    slo.burnAlerts.length > 0 ? h('p', { class: 'over' }, `Burn-rate alerts firing: ${slo.burnAlerts.join(', ')}`) : null);
}

function burnDownChart(slo, series) {
  const width = 640, height = 220, left = 56, right = 12, top = 14, bottom = 30;
  const start = Date.parse(series.windowStart), end = Date.parse(series.windowEnd);
  const values = series.points.map(p => p.remainingMinutes);
  const high = Math.max(series.budgetMinutes, ...values), low = Math.min(0, ...values);
  const x = at => left + (Date.parse(at) - start) / Math.max(1, end - start) * (width - left - right);
  const y = v => top + (high - v) / Math.max(1e-9, high - low) * (height - top - bottom);
  const last = series.points[series.points.length - 1];
  const titleId = `chart-title-${slo.id}`, descId = `chart-desc-${slo.id}`;
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, 'aria-describedby': descId },
    svg('title', { id: titleId }, `Budget burn-down of ${slo.id}`),
    svg('desc', { id: descId }, `From ${number(series.budgetMinutes, 1)} minutes at ${time(series.windowStart)} to ${number(last.remainingMinutes, 1)} minutes left at ${time(last.at)}.`),
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: height - bottom }),
    svg('line', { class: 'axis', x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }),
    svg('line', { class: 'zero', x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svg('text', { x: left - 6, y: y(series.budgetMinutes) + 4, 'text-anchor': 'end' }, `${number(series.budgetMinutes, 1)}`),
    svg('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: height - 10 }, time(series.windowStart).slice(0, 10)),
    svg('text', { x: width - right, y: height - 10, 'text-anchor': 'end' }, time(series.windowEnd).slice(0, 10)),
    svg('polyline', { class: 'line', points: series.points.map(p => `${x(p.at).toFixed(1)},${y(p.remainingMinutes).toFixed(1)}`).join(' ') }));
}

function incidentTable(items) {
  return table('Open incidents, newest first',
    [{ label: 'Incident' }, { label: 'Severity' }, { label: 'Status' }, { label: 'Service' }, { label: 'Opened' }, { label: 'Firing alerts', num: true }],
    items.map(i => [
      h('a', { href: `/dashboard/incidents/${encodeURIComponent(i.id)}` }, i.title),
      badge(i.severity), badge(i.status), i.service, time(i.openedAt), `${i.firingAlertCount} of ${i.alertCount}`,
    ]), 'No open incident.');
}

function kpiTable(kpi) {
  const against = (value, target) => {
    if (value === null || value === undefined) return '–';
    const text = minutes(value) + (target === null ? '' : ` (target ${minutes(target)})`);
    return target !== null && value > target ? h('span', { class: 'over' }, text, ' over target') : text;
  };
  return h('div', {},
    table('KPIs by severity against the contract\'s targets',
      [{ label: 'Severity' }, { label: 'Incidents', num: true }, { label: 'MTTA median' }, { label: 'MTTR median' }, { label: 'MTTD median' }, { label: 'Acknowledged', num: true }, { label: 'Escalations per incident', num: true }],
      kpi.severities.map(s => [
        badge(s.severity), s.kpis.incidents, against(s.kpis.mtta.medianMinutes, s.targets.mttaMinutes), against(s.kpis.mttr.medianMinutes, s.targets.mttrMinutes),
        minutes(s.kpis.mttd.medianMinutes), s.kpis.acknowledgementRate === null ? '–' : percent(s.kpis.acknowledgementRate * 100, 0), number(s.kpis.escalationsPerIncident, 1),
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
  const facts = h('div'), verification = h('p'), chronicle = h('div'), alerts = h('div');
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const slaState = h('p');
  const slaMessage = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const reason = h('input', { id: 'sla-reason', name: 'reason', required: true, maxlength: 2000 });
  const exclude = h('button', { type: 'button', onclick: () => correct({ exclude: true }, 'Left out of every SLO.') }, 'Leave out of the SLA');
  const withdraw = h('button', { type: 'button', onclick: () => correct({ withdraw: true }, 'Counted as it happened again.') }, 'Count it again');
  const actor = h('input', { id: 'actor', name: 'actor', required: true, autocomplete: 'name', value: localStorage.getItem(ACTOR_KEY) ?? '' });
  const note = h('input', { id: 'note', name: 'note', maxlength: 2000 });
  const ack = h('button', { class: 'primary', type: 'button', onclick: () => act('ack', {}) }, 'Acknowledge');
  const resolve = h('button', { class: 'primary', type: 'button', onclick: () => act('resolve', { note: note.value.trim() || null }) }, 'Resolve');
  const base = `/api/v1/incidents/${encodeURIComponent(incidentId)}`;

  async function act(action, body) {
    if (!actor.reportValidity()) return;
    localStorage.setItem(ACTOR_KEY, actor.value.trim());
    message.className = 'message';
    message.textContent = action === 'ack' ? 'Acknowledging…' : 'Resolving…';
    try {
      const incident = await api(`${base}/${action}`, { method: 'POST', body: JSON.stringify({ actor: actor.value.trim(), ...body }) });
      message.className = 'message ok';
      message.textContent = `Incident ${incident.status} by ${actor.value.trim()}.`;
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
    h('section', { class: 'card', 'aria-labelledby': 'act-heading' },
      h('h2', { id: 'act-heading' }, 'Act'),
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        h('label', { for: 'actor' }, 'Your name', actor), h('label', { for: 'note' }, 'Resolution note (optional)', note), ack, resolve),
      message),
    h('section', { class: 'card', 'aria-labelledby': 'sla-heading' },
      h('h2', { id: 'sla-heading' }, 'SLA'), slaState,
      h('form', { class: 'actions', onsubmit: event => event.preventDefault() },
        h('label', { for: 'sla-reason' }, 'Reason (required; on the chronicle and the reports)', reason), exclude, withdraw),
      slaMessage),
    h('section', { class: 'card', 'aria-labelledby': 'chronicle-heading' }, h('h2', { id: 'chronicle-heading' }, 'Chronicle'), verification, chronicle),
    h('section', { class: 'card', 'aria-labelledby': 'alerts-heading' }, h('h2', { id: 'alerts-heading' }, 'Alerts'), alerts));

  async function refresh() {
    const [incident, entries, check] = await Promise.all([api(base), api(`${base}/chronicle`), api(`${base}/chronicle/verify`)]);
    document.title = `${incident.title} · OrleansOps`;
    title.textContent = incident.title;
    ack.disabled = incident.status !== 'triggered';
    resolve.disabled = incident.status === 'resolved';
    const c = incident.slaCorrection;
    slaState.textContent = c ? `Corrected: ${correctionText(c)}, by ${c.actor} at ${time(c.at)} (${c.reason}).` : 'Counted against the account\'s SLOs as it happened.';
    exclude.disabled = c?.excluded === true && c.slos.length === 0;
    withdraw.disabled = !c;
    replace(facts, h('dl', { class: 'facts' },
      h('dt', {}, 'Incident'), h('dd', { class: 'mono' }, incident.id),
      h('dt', {}, 'Account'), h('dd', {}, h('a', { href: `/dashboard/accounts/${encodeURIComponent(incident.account)}` }, incident.account)),
      h('dt', {}, 'Service'), h('dd', {}, incident.service),
      h('dt', {}, 'Severity'), h('dd', {}, badge(incident.severity)),
      h('dt', {}, 'Status'), h('dd', { id: 'incident-status' }, badge(incident.status)),
      h('dt', {}, 'Opened'), h('dd', {}, time(incident.openedAt)),
      h('dt', {}, 'Acknowledged'), h('dd', {}, incident.acknowledgedAt ? `${time(incident.acknowledgedAt)} by ${incident.acknowledgedBy}` : '–'),
      h('dt', {}, 'Resolved'), h('dd', {}, incident.resolvedAt ? `${time(incident.resolvedAt)} by ${incident.resolvedBy}` : '–'),
      h('dt', {}, 'Tickets'), h('dd', {}, incident.tickets.length === 0 ? '–' : incident.tickets.map(t =>
        `${t.system} ${t.key ?? '(not created yet)'}${t.stuck ? ' — stuck: ' + t.lastError : t.failures > 0 ? ' — retrying: ' + t.lastError : ''}`).join('; '))));
    verification.className = check.valid ? 'verified' : 'broken';
    verification.textContent = check.valid
      ? `Chronicle verified: ${check.entries} entries, hash chain intact (head ${check.headHash.slice(0, 16)}…).`
      : `Chronicle does NOT verify at entry ${check.firstInvalidSeq}: ${check.reason}`;
    replace(chronicle, table('Every step, oldest first',
      [{ label: '#', num: true }, { label: 'At' }, { label: 'Kind' }, { label: 'Actor' }, { label: 'What happened' }],
      entries.items.map(e => [e.seq, time(e.at), e.kind, e.actor, e.text]), 'No entries.'));
    replace(alerts, table('Alerts in this incident',
      [{ label: 'Status' }, { label: 'Severity' }, { label: 'Labels' }, { label: 'Summary' }, { label: 'Seen', num: true }],
      incident.alerts.map(a => [badge(a.status), badge(a.severity),
        h('span', { class: 'mono' }, Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ')), a.annotations?.summary ?? '', a.count]), 'No alerts.'));
  }

  follow(`incident:${incidentId}`, refresh);
}

// ---- cluster ----

function clusterView() {
  document.title = 'Cluster · OrleansOps';
  const silos = h('div'), grains = h('div');
  replace(main, h('h1', {}, 'Cluster'),
    h('p', { class: 'lead' }, 'The silos as Orleans\' membership sees them, and where the grains are active now. Refreshed every 10 seconds.'),
    h('section', { class: 'card', 'aria-labelledby': 'silos-heading' }, h('h2', { id: 'silos-heading' }, 'Silos'), silos),
    h('section', { class: 'card', 'aria-labelledby': 'grains-heading' }, h('h2', { id: 'grains-heading' }, 'Grain activations'), grains));
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
