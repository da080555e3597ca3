import { randomBytes } from 'node:crypto';
import express, { type Request } from 'express';
import type { Decision, ShieldOptions, ShieldRequest } from '../../src/index.js';
import { createShield } from '../../src/index.js';
import type { CredentialChangedEvent, WithdrawalsLockedEvent, WithdrawalsUnlockedEvent } from '../../src/index.js';

export const SECRET = 'c'.repeat(40);

interface User {
  id: string;
  email: string;
  password: string;
  code: string;
}

/**
 * A small app with users, bearer sessions and a second factor of its own, with every account
 * route guarded by the shield — the shape an exchange mounts it in.
 */
export function accountApp(options: ShieldOptions = {}) {
  const users = new Map<string, User>([
    ['u1', { id: 'u1', email: 'alice@example.com', password: 'Tr0ub4dor&3-horse', code: '111111' }],
    ['u2', { id: 'u2', email: 'bob@example.com', password: 'bobs-old-pass-9x', code: '222222' }],
  ]);
  const sessions = new Map<string, { userId: string; startedAt: number }>();
  const events = {
    decisions: [] as Decision[],
    changed: [] as CredentialChangedEvent[],
    locked: [] as WithdrawalsLockedEvent[],
    unlocked: [] as WithdrawalsUnlockedEvent[],
  };
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json({ limit: '16kb' }));
  // Adaptive posture unless a test asks otherwise: these tests are about credential changes.
  const shield = createShield({ secret: SECRET, app, posture: 'adaptive', ...options });
  shield.on('decision', (d) => events.decisions.push(d));
  shield.on('credential.changed', (e) => events.changed.push(e));
  shield.on('withdrawals.locked', (e) => events.locked.push(e));
  shield.on('withdrawals.unlocked', (e) => events.unlocked.push(e));

  const now = options.now ?? Date.now;
  const issue = (userId: string) => {
    const token = randomBytes(16).toString('hex');
    sessions.set(token, { userId, startedAt: now() });
    return token;
  };
  const bearer = (req: Request) => req.headers.authorization?.replace(/^Bearer /, '') ?? '';
  const getUser = (req: Request) => {
    const session = sessions.get(bearer(req));
    const user = session && users.get(session.userId);
    return user ? { userId: user.id, email: user.email, sessionStartedAt: session.startedAt } : undefined;
  };
  const verifySecondFactor = (userId: string, code: string) => users.get(userId)?.code === code;
  const userOf = (req: Request) => users.get((req as ShieldRequest).shield?.userId ?? '') as User;

  app.post(
    '/login',
    shield.login({
      authenticate: (email, password) => {
        const user = [...users.values()].find((u) => u.email === email);
        return user && user.password === password ? { userId: user.id } : null;
      },
    }),
    (req, res) => {
      res.json({ token: issue(userOf(req).id) });
    },
  );
  app.post('/login/verify', shield.stepUp({ verifySecondFactor }), (req, res) => {
    res.json({ token: issue(userOf(req).id) });
  });
  app.post(
    '/account/password',
    shield.credentialChange('password', {
      getUser,
      verifySecondFactor,
      // The app's hook: every other session of the user ends when the password changes.
      onChanged: (userId, req) => {
        for (const [token, s] of sessions) if (s.userId === userId && token !== bearer(req)) sessions.delete(token);
      },
    }),
    (req, res) => {
      const user = userOf(req);
      if (req.body.currentPassword !== user.password) {
        res.status(403).json({ error: 'forbidden' });
        return;
      }
      user.password = req.body.newPassword;
      // A handler that fails after changing something: the shield cannot tell it did not.
      if (req.body.explode === true) throw new Error('database went away after the write');
      res.json({ ok: true });
    },
  );
  app.post('/account/email', shield.credentialChange('email', { getUser, verifySecondFactor }), (req, res) => {
    if (typeof req.body?.email !== 'string') {
      res.status(400).json({ error: 'bad_request' });
      return;
    }
    userOf(req).email = req.body.email;
    res.json({ ok: true });
  });
  app.post('/account/2fa/reset', shield.credentialChange('2fa-reset', { getUser, verifySecondFactor }), (_req, res) => {
    res.json({ ok: true });
  });
  app.post(
    '/account/api-keys',
    shield.credentialChange('api-key', {
      getUser,
      verifySecondFactor,
      lockWithdrawals: (req) => Array.isArray(req.body?.permissions) && req.body.permissions.includes('withdraw'),
    }),
    (_req, res) => {
      res.status(201).json({ id: randomBytes(8).toString('hex') });
    },
  );
  app.post('/wallet/withdrawals', shield.withdrawals({ getUser }), (_req, res) => {
    res.status(201).json({ id: randomBytes(8).toString('hex') });
  });
  app.get('/account/security', async (req, res) => {
    const user = getUser(req);
    if (!user) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const status = await shield.locks.status(user.userId);
    res.json({ withdrawalsLockedUntil: status.until?.toISOString() ?? null, reasons: status.reasons });
  });
  app.use(shield.errorHandler());
  return { app, shield, users, sessions, events, issue };
}
