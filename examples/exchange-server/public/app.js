/* global document, window, sessionStorage */
// The example exchange's pages: plain DOM code over the JSON API of the reference integration.
// The bearer token lives in sessionStorage (gone when the tab closes); the device cookie is set
// by the server and sent back by the browser on its own. Server text is always set as
// textContent, never as HTML.
(() => {
  const TOKEN = 'exchange.token';
  const EMAIL = 'exchange.email';
  const view = document.getElementById('view');
  /** The login challenge between the password and the code; kept in memory only. */
  let loginChallenge;
  let countdown;

  const $ = (id) => document.getElementById(id);
  const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  async function api(path, { method = 'POST', body, auth = false } = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) headers.authorization = `Bearer ${sessionStorage.getItem(TOKEN)}`;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { status: 0, body: { error: 'network' }, retryAfter: 0 };
    }
    const data = await res.json().catch(() => ({}));
    return { status: res.status, body: data, retryAfter: Number(res.headers.get('retry-after')) || 0 };
  }

  function show(name) {
    window.clearInterval(countdown);
    const template = $(`view-${name}`);
    view.replaceChildren(template.content.cloneNode(true));
    const first = view.querySelector('input');
    if (first) first.focus();
  }

  function say(id, text, kind) {
    const node = $(id);
    if (!node) return;
    node.textContent = text;
    node.classList.toggle('error', kind === 'error');
    node.classList.toggle('ok', kind === 'ok');
  }

  /** "Try again in N seconds", counting down, with the form's button held until then. */
  function wait(id, seconds, form) {
    const button = form.querySelector('button[type=submit]');
    let left = Math.max(1, seconds);
    const tick = () => {
      if (left <= 0) {
        window.clearInterval(countdown);
        button.disabled = false;
        say(id, 'You can try again now.');
        return;
      }
      say(id, `Too many attempts. Try again in ${left} second${left === 1 ? '' : 's'}.`, 'error');
      left--;
    };
    window.clearInterval(countdown);
    button.disabled = true;
    tick();
    countdown = window.setInterval(tick, 1000);
  }

  function commonError(id, answer, form) {
    if (answer.status === 429) return wait(id, answer.retryAfter, form);
    if (answer.status === 0) return say(id, 'The exchange did not answer. Check your connection and try again.', 'error');
    if (answer.status === 400) return say(id, `Please check what you typed${answer.body.detail ? `: ${answer.body.detail}` : '.'}`, 'error');
    if (answer.status === 503) return say(id, 'This is unavailable right now. Please try again in a minute.', 'error');
    say(id, `Something went wrong (${answer.status} ${answer.body.error || ''}).`, 'error');
  }

  // ---- sign-in and step-up -------------------------------------------------------------

  function signIn(message) {
    show('signin');
    if (message) say('signin-message', message, 'error');
    $('signin-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const email = form.email.value.trim();
      say('signin-message', '');
      const answer = await api('/auth/login', { body: { email, password: form.password.value } });
      if (answer.status === 200) return signedIn(answer.body.token, email);
      if (answer.status === 401 && answer.body.error === 'step_up_required') {
        loginChallenge = answer.body.challenge;
        sessionStorage.setItem(EMAIL, email);
        return stepUp();
      }
      if (answer.status === 401) return say('signin-message', 'Wrong email or password.', 'error');
      commonError('signin-message', answer, form);
    });
  }

  function stepUp() {
    show('stepup');
    $('stepup-cancel').addEventListener('click', () => signIn());
    $('stepup-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      say('stepup-message', '');
      const answer = await api('/auth/login/verify', { body: { challenge: loginChallenge, code: form.code.value.trim() } });
      if (answer.status === 200) return signedIn(answer.body.token, sessionStorage.getItem(EMAIL));
      // The code was right but the password was not: the owner learns it, an attacker never gets here.
      if (answer.status === 401 && answer.body.error === 'invalid_credentials') return signIn('Wrong email or password.');
      if (answer.status === 401) {
        form.code.value = '';
        return say('stepup-message', 'That code is not right. Check the code and try again.', 'error');
      }
      commonError('stepup-message', answer, form);
    });
  }

  function signedIn(token, email) {
    loginChallenge = undefined;
    sessionStorage.setItem(TOKEN, token);
    if (email) sessionStorage.setItem(EMAIL, email);
    account();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(EMAIL);
    signIn(message);
  }

  // ---- account ------------------------------------------------------------------------

  function account() {
    show('account');
    $('who').textContent = sessionStorage.getItem(EMAIL) ? `Signed in as ${sessionStorage.getItem(EMAIL)}` : 'Signed in';
    $('signout').addEventListener('click', () => signOut());
    $('withdraw-form').addEventListener('submit', withdraw);
    $('password-form').addEventListener('submit', changePassword);
    refreshSecurity();
  }

  /** 401 on a signed-in route other than step-up: the session ended (expired, or revoked by a change). */
  function sessionEnded(answer) {
    if (answer.status === 401 && answer.body.error !== 'step_up_required' && answer.body.error !== 'invalid_code') {
      signOut('Your session has ended. Please sign in again.');
      return true;
    }
    return false;
  }

  async function refreshSecurity() {
    const answer = await api('/account/security', { method: 'GET', auth: true });
    if (sessionEnded(answer) || answer.status !== 200) return;
    const banner = $('lock-banner');
    if (!banner) return;
    const s = answer.body;
    if (s.withdrawalsLockedUntil) {
      const reasons = s.reasons.map((r) => r.detail || r.kind).join('; ');
      banner.textContent = `Withdrawals locked until ${when(s.withdrawalsLockedUntil)}${reasons ? ` — ${reasons}` : ''}. A safety hold after a change to your account; sign-in and everything else still work.`;
      banner.hidden = false;
    } else {
      banner.hidden = true;
      banner.textContent = '';
    }
    $('devices').replaceChildren(
      ...(s.knownDevices.length === 0
        ? [Object.assign(document.createElement('li'), { textContent: 'None yet.' })]
        : s.knownDevices.map((d) => Object.assign(document.createElement('li'), { textContent: `Device ${d.id} · last seen ${when(d.lastSeen)}` }))),
    );
  }

  async function withdraw(event) {
    event.preventDefault();
    const form = event.currentTarget;
    say('withdraw-message', '');
    const answer = await api('/wallet/withdrawals', { body: { amount: form.amount.value.trim(), address: form.address.value.trim() }, auth: true });
    if (sessionEnded(answer)) return;
    if (answer.status === 201) {
      form.reset();
      say('withdraw-message', `Withdrawal requested (reference ${answer.body.id.slice(0, 8)}).`, 'ok');
    } else if (answer.status === 423) {
      say('withdraw-message', `Withdrawal refused: withdrawals are locked until ${when(answer.body.lockedUntil)}.`, 'error');
    } else if (answer.status === 503) {
      say('withdraw-message', 'Withdrawal refused: we cannot confirm your account is unlocked right now. Please try again shortly.', 'error');
    } else {
      commonError('withdraw-message', answer, form);
    }
    refreshSecurity();
  }

  /** The same request again with `challenge` and `code` once the server asked for step-up. */
  let passwordChallenge;

  async function changePassword(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { currentPassword: form.currentPassword.value, newPassword: form.newPassword.value };
    if (passwordChallenge) Object.assign(body, { challenge: passwordChallenge, code: form.code.value.trim() });
    say('password-message', '');
    const answer = await api('/account/password', { body, auth: true });
    if (sessionEnded(answer)) return;
    if (answer.status === 401 && answer.body.error === 'step_up_required') {
      passwordChallenge = answer.body.challenge;
      $('password-stepup').hidden = false;
      form.code.required = true;
      form.code.focus();
      return say('password-message', 'Enter the code to confirm this change.');
    }
    if (answer.status === 401 && answer.body.error === 'invalid_code') {
      form.code.value = '';
      return say('password-message', 'That code is not right. Check the code and try again.', 'error');
    }
    passwordChallenge = undefined;
    $('password-stepup').hidden = true;
    form.code.required = false;
    if (answer.status === 200) {
      form.reset();
      say('password-message', 'Password changed. Your other sessions were signed out.', 'ok');
      return refreshSecurity();
    }
    if (answer.status === 400 && answer.body.error === 'weak_password') return weakPassword(answer.body.feedback || {});
    if (answer.status === 403) return say('password-message', 'Your current password is not right.', 'error');
    commonError('password-message', answer, form);
  }

  function weakPassword(feedback) {
    const box = $('password-message');
    box.classList.add('error');
    const lines = [feedback.warning, ...(feedback.suggestions || [])].filter(Boolean);
    box.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'That new password is too easy to guess.' }));
    if (lines.length > 0) {
      const list = document.createElement('ul');
      for (const line of lines) list.append(Object.assign(document.createElement('li'), { textContent: line }));
      box.append(list);
    }
  }

  if (sessionStorage.getItem(TOKEN)) account();
  else signIn();
})();
