import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createShield, type MetricsOptions, shieldMetrics } from '../../src/index.js';
import { loginApp, SECRET } from '../support/login-app.js';

/** Value of the sample `metric{labels}` exactly, or undefined when that series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** All decisions counted for one route label, whatever their action and outcome. */
function decisionsOf(text: string, route: string): number {
  const prefix = `account_shield_decisions_total{route="${route}",`;
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** An app with JSON bodies, a shield and its metrics. */
function meteredApp(options: MetricsOptions = {}) {
  const app = express();
  app.use(express.json());
  const shield = createShield({ secret: SECRET, app });
  return { app, shield, metrics: shieldMetrics(shield, options) };
}

describe('prometheus metrics', () => {
  it('counts decisions by route, action and reason, challenges and latency, with no identifiers in labels', async () => {
    const users = { 'alice@example.com': { id: 'u1', password: 'correct horse battery', code: '111111' } };
    const { app, shield } = loginApp({ leakedAddresses: ['alice@example.com'] }, users);
    const metrics = shieldMetrics(shield);
    app.get('/metrics', metrics.handler());
    const ch = await request(app).post('/login').send({ email: 'alice@example.com', password: 'correct horse battery' });
    await request(app).post('/login/verify').send({ challenge: ch.body.challenge, code: '000000' });
    await request(app).post('/login').send({ email: 'bob@example.com', password: 'x' });
    const text = (await request(app).get('/metrics')).text;
    const login = 'route="/login",kind="login"';
    expect(sample(text, `account_shield_decisions_total{${login},action="challenge",enforced="challenge",outcome="challenged"}`)).toBe(1);
    expect(sample(text, `account_shield_decisions_total{${login},action="allow",enforced="allow",outcome="failure"}`)).toBe(1);
    expect(sample(text, `account_shield_decisions_total{${login},action="allow",enforced="allow",outcome="success"}`)).toBe(0);
    expect(sample(text, 'account_shield_decision_reasons_total{kind="login",signal="leaked-address"}')).toBe(1);
    expect(sample(text, 'account_shield_challenges_total{purpose="login",outcome="failed",failure="wrong-code"}')).toBe(1);
    expect(sample(text, `account_shield_decision_duration_seconds_count{${login}}`)).toBe(2);
    expect(sample(text, `account_shield_guard_duration_seconds_count{${login}}`)).toBe(2);
    expect(text).not.toContain('alice');
    metrics.detach();
    await shield.close();
  });

  it('serves every label set at 0 before the first event, and never an empty label value', async () => {
    const shield = createShield({ secret: SECRET });
    const metrics = shieldMetrics(shield);
    const text = await metrics.registry.metrics();
    expect(sample(text, 'account_shield_store_events_total{event="degraded"}')).toBe(0);
    expect(sample(text, 'account_shield_store_events_total{event="recovered"}')).toBe(0);
    expect(sample(text, 'account_shield_challenges_total{purpose="login",outcome="issued",failure="none"}')).toBe(0);
    expect(sample(text, 'account_shield_challenges_total{purpose="password",outcome="failed",failure="replayed"}')).toBe(0);
    expect(sample(text, 'account_shield_withdrawal_locks_total{event="locked",kind="password"}')).toBe(0);
    expect(sample(text, 'account_shield_withdrawal_locks_total{event="unlocked",kind="admin"}')).toBe(0);
    expect(sample(text, 'account_shield_decision_reasons_total{kind="credential-change",signal="session.stale"}')).toBe(0);

    // A lock, an unlock and a challenge without a failure: still no `=""` anywhere.
    await shield.locks.lock('u1', { hours: 1, reason: 'test', actor: 'test' });
    await shield.locks.unlock('u1', { reason: 'test', actor: 'test' });
    const after = await metrics.registry.metrics();
    expect(sample(after, 'account_shield_withdrawal_locks_total{event="unlocked",kind="admin"}')).toBe(1);
    expect(after).not.toMatch(/=""/);
    metrics.detach();
    await shield.close();
  });

  it("times the shield's own work apart from the app's slow password check", async () => {
    const { app, shield, metrics } = meteredApp();
    // A deliberately slow stand-in for scrypt: 80 ms per check.
    const slowCheck = async () => {
      await new Promise((resolve) => setTimeout(resolve, 80));
      return null;
    };
    app.post('/auth/login', shield.login({ authenticate: slowCheck, name: 'login' }), (_req, res) => res.end());
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/auth/login').send({ email: `user${i}@example.com`, password: 'wrong' });
      expect(res.status).toBe(401);
    }
    const text = await metrics.registry.metrics();
    const labels = 'route="login",kind="login"';
    // The whole guard includes the 80 ms check; the shield's own share stays well under it.
    expect(sample(text, `account_shield_guard_duration_seconds_bucket{le="0.05",${labels}}`)).toBe(0);
    expect(sample(text, `account_shield_guard_duration_seconds_count{${labels}}`)).toBe(3);
    expect(sample(text, `account_shield_decision_duration_seconds_bucket{le="0.05",${labels}}`)).toBe(3);
    expect(sample(text, `account_shield_decision_duration_seconds_count{${labels}}`)).toBe(3);
    metrics.detach();
    await shield.close();
  });

  it('caps the number of route label values', async () => {
    const { app, shield, metrics } = meteredApp({ maxRoutes: 1 });
    // A route mounted with a parameter: its label is the request path, one per user without a cap.
    app.post('/u/:id/login', shield.login({ authenticate: () => null }), (_req, res) => res.end());
    for (const id of ['1', '2', '3']) await request(app).post(`/u/${id}/login`).send({ email: 'a@example.com', password: 'x' });
    const text = await metrics.registry.metrics();
    expect(decisionsOf(text, '/u/1/login')).toBe(1);
    expect(decisionsOf(text, 'other')).toBe(2);
    expect(text).not.toContain('/u/2/');
    metrics.detach();
    await shield.close();
  });
});
