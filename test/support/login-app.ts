import express from 'express';
import type { Decision, ShieldOptions, ShieldRequest } from '../../src/index.js';
import { createShield } from '../../src/index.js';

export const SECRET = 's'.repeat(40);

/**
 * A minimal app with its own password and second-factor checks, guarded by the shield. It
 * scores in the adaptive posture unless `options.posture` says otherwise: these tests are about
 * the scoring itself; the strict default has its own tests (test/login/posture.test.ts).
 */
export function loginApp(options: ShieldOptions = {}, users: Record<string, { id: string; password: string; code: string }> = {}) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json({ limit: '16kb' }));
  const decisions: Decision[] = [];
  const shield = createShield({ secret: SECRET, app, posture: 'adaptive', ...options });
  shield.on('decision', (d) => decisions.push(d));
  const byId = new Map(Object.values(users).map((u) => [u.id, u]));
  app.post(
    '/login',
    shield.login({
      authenticate: (email, password) => {
        const user = users[email.toLowerCase()];
        return user && user.password === password ? { userId: user.id } : null;
      },
    }),
    (req, res) => {
      res.json({ token: `t-${(req as ShieldRequest).shield?.userId}` });
    },
  );
  app.post(
    '/login/verify',
    shield.stepUp({ verifySecondFactor: (userId, code) => byId.get(userId)?.code === code }),
    (req, res) => {
      res.json({ token: `t-${(req as ShieldRequest).shield?.userId}` });
    },
  );
  app.use(shield.errorHandler());
  return { app, shield, decisions };
}

/** The device cookie pair from a response, ready to send back. */
export function deviceCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = res.headers['set-cookie'] as string[] | undefined;
  const c = cookies?.find((x) => x.startsWith('as_dev='));
  return c?.split(';')[0];
}
