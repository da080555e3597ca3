import { generate } from 'otplib';
import { outcome, percentile, type Presented, type Reply, shape, type Target } from './http.js';
import type { BenchUser } from './population.js';
import type { FlowKind, LegitFlow, Plan } from './scenarios.js';

/**
 * Runs one scenario plan against one server, over HTTP only, and counts what happened from
 * the answers the simulated clients got. Order of events is fixed by the plan (legitimate
 * logins start when the attack reaches a given attempt), so every protection sees the same
 * interleaving whatever its speed.
 */

export interface Incident {
  /** What the legitimate user was doing (`after-attack`: the login from the known device after the attack). */
  readonly flow: FlowKind | 'after-attack';
  readonly leaked: boolean;
  readonly reusesListedPassword: boolean;
  /** Attacker attempts against this account sent before the user's login started. */
  readonly attackerAttemptsOnAccount: number;
  /** Attack progress when it happened (attempt index). */
  readonly atAttempt: number;
  /** The answers, in order (e.g. `invalid → challenge → token`). */
  readonly answers: string;
}

export interface TakeoverDetail {
  /** Position of the attempt in the attack (0 = first). */
  readonly atAttempt: number;
  /** Attempts the attacker had sent before this one (includes those still in flight). */
  readonly sentBefore: number;
}

export interface RunResult {
  readonly takeovers: number;
  readonly validityLeaks: number;
  readonly legitChallengedPct: number;
  readonly legitBlockedPct: number;
  readonly legitLockedOut: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly attack: {
    planned: number;
    sent: number;
    correctPairs: number;
    blocked: number;
    challenged: number;
    rejected: number;
    other: number;
    takeoverDetails: TakeoverDetail[];
    /** Answer shapes seen for wrong and for right passwords, with counts. */
    wrongShapes: Record<string, number>;
    correctShapes: Record<string, number>;
  };
  readonly legit: {
    enrolled: number;
    enrolmentChallenged: number;
    enrolmentFailed: number;
    /** Legitimate logins after enrolment: during the attack, plus one per user after it. */
    logins: number;
    /** Of those, from the device the user enrolled (including the logins after the attack). */
    knownDeviceLogins: number;
    knownDeviceChallenged: number;
    newDeviceLogins: number;
    newDeviceChallenged: number;
    typoLogins: number;
    blocked: number;
    failed: number;
    /** The logins after the attack alone (also counted above). */
    afterAttack: { logins: number; challenged: number; blocked: number };
    lockedOut: number;
    p50ms: number;
    p99ms: number;
    incidents: Incident[];
  };
  readonly requests: number;
  readonly seconds: number;
  /** The time cap cut the attack short: counts cover `attack.sent` attempts only. */
  readonly truncated: boolean;
}

interface PersonResult {
  token: boolean;
  challenged: boolean;
  blocked: boolean;
  cookie: string | undefined;
  answers: string[];
}

const LEGIT_CONCURRENCY = 8;
const MAX_TRIES = 3;

function tally(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);

/** A person logging in: types `firstPassword`, answers a challenge with their authenticator, retypes after an error. */
async function personLogin(target: Target, user: BenchUser, from: Presented, firstPassword: string, legitLatencies: number[]): Promise<PersonResult> {
  const result: PersonResult = { token: false, challenged: false, blocked: false, cookie: from.cookie, answers: [] };
  let password = firstPassword;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++, password = user.password) {
    const reply = await target.post('/auth/login', { email: user.email, password }, { ip: from.ip, cookie: result.cookie });
    legitLatencies.push(reply.ms);
    const o = outcome(reply);
    result.answers.push(o);
    if (o === 'token') {
      result.token = true;
      result.cookie = reply.deviceCookie ?? result.cookie;
      return result;
    }
    if (o === 'blocked') {
      result.blocked = true;
      return result;
    }
    if (o !== 'challenge') continue;
    result.challenged = true;
    const code = await generate({ secret: user.totpSecret });
    const verified = await target.post('/auth/login/verify', { challenge: reply.body.challenge, code }, { ip: from.ip, cookie: result.cookie });
    legitLatencies.push(verified.ms);
    const v = outcome(verified);
    result.answers.push(`verify:${v}`);
    if (v === 'token') {
      result.token = true;
      result.cookie = verified.deviceCookie ?? result.cookie;
      return result;
    }
    if (v === 'blocked') {
      result.blocked = true;
      return result;
    }
  }
  return result;
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

export async function runPlan(target: Target, plan: Plan, timeCapMs: number): Promise<RunResult> {
  const started = performance.now();
  const legitLatencies: number[] = [];
  const incidents: Incident[] = [];
  const legit = {
    enrolled: plan.enrolled.length,
    enrolmentChallenged: 0,
    enrolmentFailed: 0,
    logins: 0,
    knownDeviceLogins: 0,
    knownDeviceChallenged: 0,
    newDeviceLogins: 0,
    newDeviceChallenged: 0,
    typoLogins: 0,
    blocked: 0,
    failed: 0,
    afterAttack: { logins: 0, challenged: 0, blocked: 0 },
    lockedOut: 0,
  };

  // 1. Before the attack, every legitimate user has logged in once from home and has a device.
  const devices = new Map<BenchUser, string | undefined>();
  await inPool(plan.enrolled, LEGIT_CONCURRENCY, async (user) => {
    const r = await personLogin(target, user, { ip: plan.homes.get(user) as string }, user.password, legitLatencies);
    if (r.challenged) legit.enrolmentChallenged++;
    if (!r.token) legit.enrolmentFailed++;
    devices.set(user, r.cookie);
  });

  // 2. The attack, with legitimate logins starting at their planned points.
  const attackOnAccount = new Map<string, number>();
  const attack = {
    planned: plan.attempts.length,
    sent: 0,
    correctPairs: 0,
    blocked: 0,
    challenged: 0,
    rejected: 0,
    other: 0,
    takeoverDetails: [] as TakeoverDetail[],
    wrongShapes: {} as Record<string, number>,
    correctShapes: {} as Record<string, number>,
  };
  const correctReplies: Reply[] = [];
  const running: Promise<void>[] = [];
  let nextFlow = 0;
  const deadline = started + timeCapMs;
  let truncated = false;

  const startFlow = (flow: LegitFlow, atAttempt: number) => {
    const { user, kind } = flow;
    const cookie = kind === 'new-device' ? undefined : devices.get(user);
    const before = attackOnAccount.get(user.email) ?? 0;
    legit.logins++;
    if (kind === 'new-device') legit.newDeviceLogins++;
    else legit.knownDeviceLogins++;
    if (kind === 'typo') legit.typoLogins++;
    const first = kind === 'typo' ? `${user.password.slice(0, -1)}${user.password.endsWith('x') ? 'y' : 'x'}` : user.password;
    running.push(
      personLogin(target, user, { ip: flow.ip, cookie }, first, legitLatencies).then((r) => {
        if (r.challenged && kind === 'new-device') legit.newDeviceChallenged++;
        if (r.challenged && kind !== 'new-device') legit.knownDeviceChallenged++;
        if (r.blocked) legit.blocked++;
        if (!r.token) legit.failed++;
        if (r.blocked || !r.token || (r.challenged && kind !== 'new-device')) {
          incidents.push({
            flow: kind,
            leaked: user.leaked,
            reusesListedPassword: user.reusesListedPassword,
            attackerAttemptsOnAccount: before,
            atAttempt,
            answers: r.answers.join(' → '),
          });
        }
      }),
    );
  };

  let next = 0;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (next < plan.attempts.length) {
        if (performance.now() > deadline) {
          truncated = true;
          return;
        }
        const index = next++;
        while (nextFlow < plan.flows.length && (plan.flows[nextFlow] as LegitFlow).at <= index) startFlow(plan.flows[nextFlow++] as LegitFlow, index);
        const attempt = plan.attempts[index]!;
        attackOnAccount.set(attempt.email, (attackOnAccount.get(attempt.email) ?? 0) + 1);
        const sentBefore = attack.sent++;
        const reply = await target.post('/auth/login', { email: attempt.email, password: attempt.password }, { ip: attempt.ip });
        const o = outcome(reply);
        if (attempt.correct) {
          attack.correctPairs++;
          correctReplies.push(reply);
          tally(attack.correctShapes, shape(reply));
        } else {
          tally(attack.wrongShapes, shape(reply));
        }
        if (o === 'token') {
          // The attacker never knows a TOTP secret: any token it holds is a takeover without 2FA.
          attack.takeoverDetails.push({ atAttempt: index, sentBefore });
        } else if (o === 'blocked') attack.blocked++;
        else if (o === 'challenge') attack.challenged++;
        else if (o === 'invalid') attack.rejected++;
        else attack.other++;
      }
    }),
  );
  // Flows planned after a truncated attack still run, so legitimate counts stay comparable.
  while (nextFlow < plan.flows.length) startFlow(plan.flows[nextFlow++] as LegitFlow, attack.sent);
  await Promise.all(running);

  // 3. After the attack every legitimate user logs in once more from their known device: a
  //    login like any other (counted with the rest), and the lock-out check.
  await inPool(plan.enrolled, LEGIT_CONCURRENCY, async (user) => {
    const r = await personLogin(target, user, { ip: plan.homes.get(user) as string, cookie: devices.get(user) }, user.password, legitLatencies);
    legit.logins++;
    legit.knownDeviceLogins++;
    legit.afterAttack.logins++;
    if (r.challenged) {
      legit.knownDeviceChallenged++;
      legit.afterAttack.challenged++;
    }
    if (r.blocked) {
      legit.blocked++;
      legit.afterAttack.blocked++;
    }
    if (!r.token) {
      legit.failed++;
      legit.lockedOut++;
    }
    if (!r.token || r.challenged || r.blocked) {
      incidents.push({
        flow: 'after-attack',
        leaked: user.leaked,
        reusesListedPassword: user.reusesListedPassword,
        attackerAttemptsOnAccount: attackOnAccount.get(user.email) ?? 0,
        atAttempt: attack.sent,
        answers: r.answers.join(' → '),
      });
    }
  });

  const wrong = new Set(Object.keys(attack.wrongShapes));
  const validityLeaks = correctReplies.filter((r) => !wrong.has(shape(r))).length;
  return {
    takeovers: attack.takeoverDetails.length,
    validityLeaks,
    legitChallengedPct: pct(legit.knownDeviceChallenged, legit.knownDeviceLogins),
    legitBlockedPct: pct(legit.blocked, legit.logins),
    legitLockedOut: legit.lockedOut,
    p50ms: percentile(target.latencies, 50),
    p99ms: percentile(target.latencies, 99),
    attack,
    legit: { ...legit, p50ms: percentile(legitLatencies, 50), p99ms: percentile(legitLatencies, 99), incidents },
    requests: target.latencies.length,
    seconds: (performance.now() - started) / 1000,
    truncated,
  };
}
