import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { shieldMetrics } from '../../src/index.js';
import { loginApp } from '../helpers/login-app.js';

describe('prometheus metrics', () => {
  it('counts decisions by action and reason, challenges and latency, with no identifiers in labels', async () => {
    const users = { 'alice@example.com': { id: 'u1', password: 'correct horse battery', code: '111111' } };
    const { app, shield } = loginApp({ leakedAddresses: ['alice@example.com'] }, users);
    const metrics = shieldMetrics(shield);
    app.get('/metrics', metrics.handler());
    const ch = await request(app).post('/login').send({ email: 'alice@example.com', password: 'correct horse battery' });
    await request(app).post('/login/verify').send({ challenge: ch.body.challenge, code: '000000' });
    await request(app).post('/login').send({ email: 'bob@example.com', password: 'x' });
    const text = (await request(app).get('/metrics')).text;
    expect(text).toMatch(/account_shield_decisions_total\{kind="login",action="challenge",enforced="challenge",outcome="challenged"\} 1/);
    expect(text).toMatch(/account_shield_decisions_total\{kind="login",action="allow",enforced="allow",outcome="failure"\} 1/);
    expect(text).toMatch(/account_shield_decision_reasons_total\{kind="login",signal="leaked-address"\} 1/);
    expect(text).toMatch(/account_shield_challenges_total\{purpose="login",outcome="failed",failure="wrong-code"\} 1/);
    expect(text).toMatch(/account_shield_decision_duration_seconds_count\{kind="login"\} 2/);
    expect(text).not.toContain('alice');
    metrics.detach();
    await shield.close();
  });
});
