import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { noProtection } from '../../bench/exchange/baselines.js';
import { code, deviceCookie, post, startExchange, testUsers } from './helpers.js';

let exchange: ExchangeApp | undefined;
afterEach(async () => {
  await exchange?.close();
  exchange = undefined;
});

/** The sample value of the first line of `metric` whose labels include all of `labels`. */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const have = line.slice(metric.length + 1, close);
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('serves Prometheus text with decisions by kind/action/outcome, and no email, IP, device or token', async () => {
    const cast = testUsers();
    exchange = await startExchange(cast, { shieldOptions: { posture: 'adaptive' } });
    const { app } = exchange;
    const before = await request(app).get('/metrics');
    expect(before.status).toBe(200);
    expect(before.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(before.text).toContain('# TYPE account_shield_decisions_total counter');
    expect(sample(before.text, 'account_shield_decisions_total', { kind: 'login' })).toBeUndefined();

    // An allowed login, a challenged one answered with TOTP, a failed one.
    const carol = await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, { ip: '198.51.100.101' });
    expect(carol.status).toBe(200);
    const alice = await post(app, '/auth/login', { email: cast.leakedAlice.email, password: cast.leakedAlice.password }, { ip: '198.51.100.102' });
    expect(alice.body.error).toBe('step_up_required');
    const verified = await post(app, '/auth/login/verify', { challenge: alice.body.challenge, code: await code(cast.leakedAlice) }, { ip: '198.51.100.102' });
    expect(verified.status).toBe(200);
    const failed = await post(app, '/auth/login', { email: cast.frank.email, password: 'not-franks-password' }, { ip: '198.51.100.103' });
    expect(failed.status).toBe(401);

    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    const text = res.text;
    expect(sample(text, 'account_shield_decisions_total', { kind: 'login', action: 'allow', outcome: 'success' })).toBe(1);
    expect(sample(text, 'account_shield_decisions_total', { kind: 'login', action: 'challenge', outcome: 'challenged' })).toBe(1);
    expect(sample(text, 'account_shield_decisions_total', { kind: 'login', action: 'allow', outcome: 'failure' })).toBe(1);
    expect(sample(text, 'account_shield_decision_reasons_total', { kind: 'login', signal: 'leaked-address' })).toBe(1);
    expect(sample(text, 'account_shield_challenges_total', { outcome: 'issued' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'account_shield_challenges_total', { outcome: 'passed' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^account_shield_decision_duration_seconds_count\{route="[^"]+",kind="login"\} [1-9]/m);

    // Nothing that identifies a person or a device, raw or in part.
    const secrets = [
      ...Object.values(cast).flatMap((u) => [u.email, u.email.split('@')[0]!, u.password, u.totpSecret]),
      '198.51.100.10',
      '127.0.0.1',
      carol.body.token,
      verified.body.token,
      deviceCookie(carol)!.slice('as_dev='.length, 'as_dev='.length + 22),
      deviceCookie(verified)!.slice('as_dev='.length, 'as_dev='.length + 22),
    ];
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
    expect(text).not.toMatch(/@/);
  });

  it('counts withdrawal locks; absent when the shield is off', async () => {
    const cast = testUsers();
    exchange = await startExchange(cast, { shieldOptions: { posture: 'adaptive' } });
    const login = await post(exchange.app, '/auth/login', { email: cast.carol.email, password: cast.carol.password });
    const me = { token: login.body.token as string, cookie: deviceCookie(login) };
    const change = await post(exchange.app, '/account/password', { currentPassword: cast.carol.password, newPassword: 'orbit-Lantern-quietly-58-mosaic' }, me);
    expect(change.status).toBe(200);
    const text = (await request(exchange.app).get('/metrics')).text;
    expect(sample(text, 'account_shield_withdrawal_locks_total', { event: 'locked', kind: 'password' })).toBe(1);
    expect(sample(text, 'account_shield_decisions_total', { kind: 'credential-change', action: 'allow', outcome: 'success' })).toBe(1);
    await exchange.close();

    exchange = await startExchange(testUsers(), { guards: noProtection });
    const off = await request(exchange.app).get('/metrics');
    expect(off.status).toBe(404);
    expect(off.body).toEqual({ error: 'not_found' });
  });
});
