import express, { type Request } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createShield, type Shield } from '../../src/index.js';

/**
 * The guard's own current-password check (`verifyCurrentPassword`), without session ids: wrong
 * current passwords count per account, so after 5 an hour every change of the account must
 * step up, but the owner, who has the second factor, is never refused.
 */

let shield: Shield | undefined;
afterEach(async () => shield?.close());

function setup() {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  // No device cookies in this app: the adaptive posture scores new devices instead of always
  // stepping them up, so what is tested is the current-password count.
  shield = createShield({ secret: 'p'.repeat(40), app, posture: 'adaptive' });
  let password = 'Tr0ub4dor&3-horse';
  const getUser = (req: Request) => (req.headers.authorization ? { userId: 'u1', email: 'alice@example.com', sessionStartedAt: Date.now() } : undefined);
  app.post(
    '/account/password',
    shield.credentialChange('password', {
      getUser,
      verifySecondFactor: (_userId, code) => code === '111111',
      verifyCurrentPassword: (_userId, given) => given === password,
      // No device cookies in this app: without this every change would need step-up.
      thresholds: { challenge: 60 },
    }),
    (req, res) => {
      password = req.body.newPassword;
      res.json({ ok: true });
    },
  );
  app.use(shield.errorHandler());
  const change = (currentPassword: string, ip: string, extra: object = {}) =>
    request(app)
      .post('/account/password')
      .set('Authorization', 'Bearer any')
      .set('X-Forwarded-For', ip)
      .send({ currentPassword, newPassword: 'violet-kettle-orbit-73', ...extra });
  return { change, password: () => password };
}

describe('verifyCurrentPassword without session ids', () => {
  it('requires the field: a change without it is a 400, never a pass', async () => {
    const { change } = setup();
    const res = await change(undefined as never, '198.51.100.1');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_request');
  });

  it('5 wrong answers from 5 addresses, then step-up for the account; the owner passes it', async () => {
    const { change, password } = setup();
    for (let i = 0; i < 5; i++) expect((await change(`wrong-${i}`, `203.0.113.${i + 1}`)).status).toBe(403);
    const stranger = await change('wrong-6', '203.0.113.6');
    expect(stranger.status).toBe(401);
    expect(stranger.body.error).toBe('step_up_required');
    // The owner, elsewhere, with the right password: asked for the second factor, not refused.
    const owner = await change('Tr0ub4dor&3-horse', '192.0.2.7');
    expect(owner.status).toBe(401);
    const passed = await change('Tr0ub4dor&3-horse', '192.0.2.7', { challenge: owner.body.challenge, code: '111111' });
    expect(passed.status, passed.text).toBe(200);
    expect(password()).toBe('violet-kettle-orbit-73');
  });
});
