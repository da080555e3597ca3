import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MemoryStore, rateLimit } from 'express-rate-limit';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { jsonErrorHandler } from 'account-shield';
import type { ExchangeGuards, GuardedExchange, GuardsFactory } from '../../examples/exchange-server/guards.js';
import { emailKey, MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../examples/exchange-server/users.js';
import { badRequest, stringField } from '../../examples/exchange-server/validate.js';
import { unprotectedAccount } from './account-checks.js';

// The login protections the shield is benchmarked against, as guards for the example exchange
// (`createExchangeApp({ guards })`), answering with the same contract shapes (200 {token} ·
// 401 invalid_credentials · 429 too_many_attempts + Retry-After). None issues step-up
// challenges, so their verify route can only say 401 invalid_code; none guards the account
// routes beyond the checks in account-checks.ts.

/** A baseline's guards: its login chain, the plain account checks, JSON errors, no shield. */
function baseline(name: string, { users, sessions }: GuardedExchange, login: RequestHandler[], close: () => void = () => undefined): ExchangeGuards {
  return {
    name,
    login,
    verify: [noChallenges],
    ...unprotectedAccount(users, sessions),
    errorHandler: jsonErrorHandler(),
    close: async () => close(),
  };
}

type Credentials = { email: string; password: string };

function readCredentials(req: Request, res: Response): Credentials | undefined {
  const email = stringField(req.body, 'email', MAX_EMAIL_LENGTH);
  if (!email.ok) return void badRequest(res, email.detail);
  const password = stringField(req.body, 'password', MAX_PASSWORD_LENGTH);
  if (!password.ok) return void badRequest(res, password.detail);
  return { email: email.value, password: password.value };
}

function tooManyAttempts(res: Response, retryAfterSec: number): void {
  res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterSec))));
  res.status(429).json({ error: 'too_many_attempts' });
}

/** The unprotected check every baseline ends in: password right → token, else 401. */
function plainLogin({ users, sessions }: GuardedExchange): RequestHandler {
  return async (req: Request, res: Response) => {
    const credentials = readCredentials(req, res);
    if (!credentials) return;
    const user = await users.authenticate(credentials.email, credentials.password);
    if (!user) {
      res.status(401).json({ error: 'invalid_credentials' });
      return;
    }
    res.json({ token: sessions.issue(user.id) });
  };
}

/** Validates like the shield's verify route would, then refuses: there are no challenges. */
const noChallenges: RequestHandler = (req: Request, res: Response) => {
  const challenge = stringField(req.body, 'challenge', 128);
  if (!challenge.ok) return badRequest(res, challenge.detail);
  const code = stringField(req.body, 'code', 64);
  if (!code.ok) return badRequest(res, code.detail);
  res.status(401).json({ error: 'invalid_code' });
};

/** PROTECTION=none: what a login without any throttling looks like. */
export const noProtection: GuardsFactory = async (exchange) => baseline('none', exchange, [plainLogin(exchange)]);

/** express-rate-limit's per-IP limit, as most Express apps configure it for a login route. */
export const ERL_LIMIT = 10;
export const ERL_WINDOW_MS = 15 * 60 * 1000;

export const expressRateLimit: GuardsFactory = async (exchange) => {
  const store = new MemoryStore();
  const limiter = rateLimit({
    windowMs: ERL_WINDOW_MS,
    limit: ERL_LIMIT,
    // Default key: req.ip (IPv6 grouped per /56), so it follows the app's `trust proxy`.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store,
    handler: (_req: Request, res: Response, _next: NextFunction, options) => {
      // express-rate-limit has already set Retry-After; only the body is ours.
      res.status(options.statusCode).json({ error: 'too_many_attempts' });
    },
  });
  return baseline('express-rate-limit', exchange, [limiter, plainLogin(exchange)], () => store.shutdown());
};

/**
 * rate-limiter-flexible's "login endpoint protection" recipe (its wiki, brute-force section),
 * on RateLimiterMemory: at most 100 failed logins per IP per day (then blocked for a day), and
 * 10 consecutive failures per username+IP (then blocked for an hour), the latter reset by a
 * successful login. Kept faithful to the recipe, including counting username+IP failures only
 * for registered users, so the benchmark measures the recipe rather than an improved variant.
 */
export const RLF_MAX_FAILS_PER_IP_PER_DAY = 100;
export const RLF_MAX_CONSECUTIVE_FAILS = 10;

export const rlfRecipe: GuardsFactory = async (exchange) => {
  const { users, sessions } = exchange;
  const slowBruteByIp = new RateLimiterMemory({
    keyPrefix: 'login_fail_ip_per_day',
    points: RLF_MAX_FAILS_PER_IP_PER_DAY,
    duration: 24 * 60 * 60,
    blockDuration: 24 * 60 * 60,
  });
  const consecutiveFailsByUserAndIp = new RateLimiterMemory({
    keyPrefix: 'login_fail_consecutive_username_and_ip',
    points: RLF_MAX_CONSECUTIVE_FAILS,
    // The recipe keeps this count for 90 days. RateLimiterMemory expires keys with setTimeout,
    // which Node clamps to 1 ms beyond ~24.8 days, so 90 days would forget every failure at
    // once; 24 days is the longest window the memory limiter can honour.
    duration: 24 * 24 * 60 * 60,
    blockDuration: 60 * 60,
  });

  const login: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const credentials = readCredentials(req, res);
    if (!credentials) return;
    const ip = req.ip ?? 'unknown';
    const userIpKey = `${emailKey(credentials.email)}_${ip}`;
    const [userIp, byIp] = await Promise.all([consecutiveFailsByUserAndIp.get(userIpKey), slowBruteByIp.get(ip)]);

    if (byIp !== null && byIp.consumedPoints > RLF_MAX_FAILS_PER_IP_PER_DAY) {
      return tooManyAttempts(res, byIp.msBeforeNext / 1000);
    }
    if (userIp !== null && userIp.consumedPoints > RLF_MAX_CONSECUTIVE_FAILS) {
      return tooManyAttempts(res, userIp.msBeforeNext / 1000);
    }

    const user = await users.authenticate(credentials.email, credentials.password);
    if (!user) {
      try {
        const consumed = [slowBruteByIp.consume(ip)];
        if (users.findByEmail(credentials.email)) consumed.push(consecutiveFailsByUserAndIp.consume(userIpKey));
        await Promise.all(consumed);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return tooManyAttempts(res, rejection.msBeforeNext / 1000);
        return next(rejection);
      }
      res.status(401).json({ error: 'invalid_credentials' });
      return;
    }
    if (userIp !== null && userIp.consumedPoints > 0) await consecutiveFailsByUserAndIp.delete(userIpKey);
    res.json({ token: sessions.issue(user.id) });
  };

  return baseline('rlf-recipe', exchange, [login]);
};
