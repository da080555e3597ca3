/* global document, window, Node */
// The operator console's page: polls api/state and redraws. Every value goes in through
// textContent, never as HTML, so nothing an attacker puts in a request can script the page.
(() => {
  const pollMs = Number(document.body.dataset.pollMs) || 2000;
  const MAX_ROWS = 200;
  let lastSeq = 0;
  let locksKey = null;

  const $ = (id) => document.getElementById(id);
  const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const dateTime = (ms) => new Date(ms).toLocaleString();

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const cell of cells) tr.append(cell instanceof Node ? wrap(cell) : el('td', cell));
    return tr;
  }

  function wrap(node) {
    if (node.tagName === 'TD') return node;
    const td = document.createElement('td');
    td.append(node);
    return td;
  }

  function fill(tableId, rows, emptyText, columns) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren(...rows);
    if (rows.length === 0) {
      const td = el('td', emptyText, 'empty');
      td.colSpan = columns;
      body.append(document.createElement('tr'));
      body.lastChild.append(td);
    }
  }

  function tallyRows(list) {
    return list.map((t) => row([el('code', t.id), num(t.attempts), num(t.blocked), num(t.challenged), num(t.failed)]));
  }

  function num(n) {
    return el('td', n, 'num');
  }

  function renderSummary(s) {
    $('window-minutes').textContent = s.windowMinutes;
    $('scope').textContent =
      `What this process's shield decided since ${dateTime(s.since)} (each instance's console shows its own decisions). ` +
      'Identifiers are the shield\u2019s keyed ids, never an email or IP address.';
    for (const action of ['allow', 'challenge', 'block']) $(`count-${action}`).textContent = s.actions[action];
    $('challenges').textContent = `step-up: ${s.challenges.issued} issued \u00b7 ${s.challenges.passed} passed \u00b7 ${s.challenges.failed} failed`;
    const wave = $('wave');
    wave.classList.toggle('active', s.wave.active);
    wave.textContent = s.wave.active
      ? `Failure wave running: the shield applied its wave signal to ${s.wave.waveSignals} decisions in the last ${s.wave.windowSec} s`
      : `No failure wave (last ${s.wave.windowSec} s: ${s.wave.failures} of ${s.wave.logins} logins failed or blocked)`;

    const max = Math.max(1, ...s.perMinute.map((m) => m.allow + m.challenge + m.block));
    $('timeline').replaceChildren(
      ...s.perMinute.map((m) => {
        const column = el('div', undefined, 'minute');
        column.title = `${time(m.at)}: ${m.allow} allow, ${m.challenge} challenge, ${m.block} block`;
        for (const action of ['block', 'challenge', 'allow']) {
          const part = el('div', undefined, `bar ${action}`);
          part.style.height = `${(m[action] / max) * 100}%`;
          column.append(part);
        }
        column.append(el('span', time(m.at).slice(0, 5), 'tick'));
        return column;
      }),
    );

    fill('reasons', s.reasons.map((r) => row([el('code', r.signal), num(r.count)])), 'No decisions yet.', 2);
    fill('sources', tallyRows(s.topSources), 'No sources yet.', 5);
    fill('accounts', tallyRows(s.topAccounts), 'No accounts yet.', 5);
  }

  function renderLocks(s) {
    const key = s.locks.map((l) => `${l.id}:${l.until}:${l.reasons.length}`).join('|');
    if (key !== locksKey) {
      locksKey = key;
      $('locks').hidden = s.locks.length === 0;
      $('locks-empty').hidden = s.locks.length > 0;
      $('locks').tBodies[0].replaceChildren(...s.locks.map(lockRow));
    }
    const list = $('unlocks');
    list.replaceChildren(
      ...(s.unlocks.length === 0
        ? [el('li', 'None yet.', 'empty')]
        : s.unlocks.map((u) => el('li', `${time(u.at)} \u00b7 ${u.id} unlocked by ${u.actor}: \u201c${u.reason}\u201d`))),
    );
  }

  function lockRow(lock) {
    const reasons = el('ul', undefined, 'plain');
    for (const r of lock.reasons) reasons.append(el('li', `${r.kind}: ${r.detail}${r.actor ? ` (by ${r.actor})` : ''}, until ${dateTime(r.until)}`));
    const form = el('form', undefined, 'unlock');
    const label = el('label', 'Reason');
    const input = el('input');
    input.name = 'reason';
    input.required = true;
    input.maxLength = 500;
    input.placeholder = 'e.g. owner confirmed by phone';
    label.append(input);
    form.append(label, el('button', 'Unlock'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      unlock(lock, input.value, form);
    });
    return row([el('code', lock.shown), dateTime(lock.until), reasons, form]);
  }

  async function unlock(lock, reason, form) {
    const message = $('unlock-message');
    form.querySelector('button').disabled = true;
    try {
      const res = await fetch('api/unlock', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-account-shield-console': '1' },
        body: JSON.stringify({ id: lock.id, reason }),
      });
      const body = await res.json().catch(() => ({}));
      message.textContent = res.ok ? `Unlocked ${lock.shown}.` : `Not unlocked: ${body.detail || body.error || res.status}`;
    } catch {
      message.textContent = 'Not unlocked: the server did not answer.';
    }
    locksKey = null;
    await poll();
  }

  function renderDecisions(s) {
    const body = $('decisions').tBodies[0];
    const rows = s.decisions
      .slice()
      .reverse()
      .map((d) => {
        const action = el('span', d.monitor ? `${d.action} (monitor)` : d.action, `action ${d.action}`);
        const reasons = d.reasons.map((r) => `${r.signal} ${r.points >= 0 ? '+' : ''}${r.points}`).join(', ') || '\u2013';
        const reasonCell = el('td', reasons);
        reasonCell.title = d.reasons.map((r) => `${r.signal}: ${r.detail}`).join('\n');
        const ids = [d.ids.subnet, d.ids.account ?? '\u2013', d.ids.device ?? 'no device'].join(' \u00b7 ');
        const route = d.change ? `${d.route} (${d.change})` : d.route;
        return row([time(d.at), el('code', route), action, num(d.score), d.outcome ?? '\u2013', reasonCell, el('code', ids)]);
      });
    for (const r of rows) body.prepend(r);
    while (body.rows.length > MAX_ROWS) body.lastChild.remove();
  }

  async function poll() {
    try {
      const res = await fetch(`api/state?after=${lastSeq}`, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(String(res.status));
      const state = await res.json();
      renderSummary(state);
      renderLocks(state);
      renderDecisions(state);
      lastSeq = state.lastSeq;
      document.body.classList.remove('offline');
    } catch {
      document.body.classList.add('offline');
    }
  }

  poll();
  window.setInterval(poll, pollMs);
})();
