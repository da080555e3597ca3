import { generate } from 'otplib';
import { outcome, percentile, type Presented, type Reply, shape, type Target } from './http.js';
import type { BenchUser } from './population.js';
import { type FlowKind, isNewDevice, type LegitFlow, type Plan } from './scenarios.js';

/**
 * Runs one scenario plan against one server, over HTTP only, and counts what happened from
 * the answers the simulated clients got. Order of events is fixed by the plan (legitimate
 * logins start when the attack reaches a given attempt), so every protection sees the same
 * interleaving whatever its speed.
 */

export interface Incident {
  /** What the legitimate user was doing (`after-attack`: the login from the known device after the attack). */
  readonly flow: FlowKind | 'after-attack' | 'background';
  readonly targeted: boolean;
  readonly reuse: BenchUser['reuse'];
  readonly factor: BenchUser['factor'];
  /** The login came from the address the attacker shares. */
  readonly behindAttacker: boolean;
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
  readonly reuse: BenchUser['reuse'];
  /** The address was in the list handed to the shield. */
  readonly inShieldList: boolean;
}

/** Logins of one class: how many, how many were stepped up, refused with 429, or never got a token. */
export interface LoginCounts {
  logins: number;
  challenged: number;
  blocked: number;
  failed: number;
}

export interface RunResult {
  readonly takeovers: number;
  readonly validityLeaks: number;
  /** Known-device logins (during and after the attack) that were challenged, % (background traffic apart). */
  readonly legitChallengedPct: number;
  /** Legitimate logins answered 429, % (new devices behind the attacker's shared address apart). */
  readonly legitBlockedPct: number;
  readonly legitLockedOut: number;
  /** New-device legitimate logins that were stepped up, % (the price of a strict posture). */
  readonly newDeviceSteppedUpPct: number;
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
    /** Users who answer a step-up with an emailed code (read from GET /dev/outbox). */
    emailFactorUsers: number;
    /** Legitimate logins after enrolment: during the attack, plus one per user after it (background apart). */
    logins: number;
    /** Of those, from the device the user enrolled (including the logins after the attack). */
    knownDeviceLogins: number;
    knownDeviceChallenged: number;
    newDeviceLogins: number;
    newDeviceChallenged: number;
    typoLogins: number;
    newDeviceTypoLogins: number;
    blocked: number;
    failed: number;
    /** The logins after the attack alone (also counted above). */
    afterAttack: LoginCounts;
    /** Returning users' known-device logins sent with the attack to keep the exchange busy (not counted above). */
    background: LoginCounts;
    /** Logins from the address the attacker shares (also counted above). */
    behindAttacker: { knownDevice: LoginCounts; newDevice: LoginCounts };
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

/** Where a user's emailed one-time codes can be read; `undefined` when there is none (→ TOTP). */
export type CodeReader = (email: string, sentSince: number) => Promise<string | undefined>;

export interface RunOptions {
  readonly timeCapMs: number;
  /** Reads emailed codes for users whose factor is `email`; absent: every user answers with TOTP. */
  readonly emailCodes?: CodeReader;
  /** Addresses in the list handed to the shield (to tell takeovers apart by coverage). */
  readonly shieldList?: ReadonlySet<string>;
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
const counts = (): LoginCounts => ({ logins: 0, challenged: 0, blocked: 0, failed: 0 });

function count(into: LoginCounts, r: PersonResult): void {
  into.logins++;
  if (r.challenged) into.challenged++;
  if (r.blocked) into.blocked++;
  if (!r.token) into.failed++;
}

async function secondFactorCode(user: BenchUser, sentSince: number, emailCodes: CodeReader | undefined): Promise<string> {
  if (user.factor === 'email' && emailCodes) {
    const code = await emailCodes(user.email, sentSince);
    if (code !== undefined) return code;
  }
  return generate({ secret: user.totpSecret });
}

/**
 * A person logging in: types `firstPassword`, answers a challenge with their authenticator or
 * the code in their mailbox, and retypes the right password after any refusal — including
 * `invalid_credentials` from the verify step, which tells the owner the password was wrong.
 */
async function personLogin(target: Target, user: BenchUser, from: Presented, firstPassword: string, latencies: number[], emailCodes?: CodeReader): Promise<PersonResult> {
  const result: PersonResult = { token: false, challenged: false, blocked: false, cookie: from.cookie, answers: [] };
  let password = firstPassword;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++, password = user.password) {
    const sentAt = Date.now();
    const reply = await target.post('/auth/login', { email: user.email, password }, { ip: from.ip, cookie: result.cookie });
    latencies.push(reply.ms);
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
    const code = await secondFactorCode(user, sentAt, emailCodes);
    const verified = await target.post('/auth/login/verify', { challenge: reply.body.challenge, code }, { ip: from.ip, cookie: result.cookie });
    latencies.push(verified.ms);
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

const mistyped = (password: string) => `${password.slice(0, -1)}${password.endsWith('x') ? 'y' : 'x'}`;

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

export async function runPlan(target: Target, plan: Plan, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { emailCodes } = options;
  const legitLatencies: number[] = [];
  const incidents: Incident[] = [];
  const legit = {
    enrolled: plan.enrolled.length,
    enrolmentChallenged: 0,
    enrolmentFailed: 0,
    emailFactorUsers: emailCodes ? plan.enrolled.filter((u) => u.factor === 'email').length : 0,
    logins: 0,
    knownDeviceLogins: 0,
    knownDeviceChallenged: 0,
    newDeviceLogins: 0,
    newDeviceChallenged: 0,
    typoLogins: 0,
    newDeviceTypoLogins: 0,
    blocked: 0,
    failed: 0,
    afterAttack: counts(),
    background: counts(),
    behindAttacker: { knownDevice: counts(), newDevice: counts() },
    lockedOut: 0,
  };
  const login = (user: BenchUser, from: Presented, first: string) => personLogin(target, user, from, first, legitLatencies, emailCodes);
  const attackOnAccount = new Map<string, number>();
  const note = (flow: Incident['flow'], user: BenchUser, ip: string, atAttempt: number, r: PersonResult) =>
    incidents.push({
      flow,
      targeted: user.targeted,
      reuse: user.reuse,
      factor: emailCodes ? user.factor : 'totp',
      behindAttacker: ip === plan.sharedAddress,
      attackerAttemptsOnAccount: attackOnAccount.get(user.email) ?? 0,
      atAttempt,
      answers: r.answers.join(' → '),
    });

  // 1. Before the attack, every legitimate user has logged in once from home and has a device.
  const devices = new Map<BenchUser, string | undefined>();
  await inPool(plan.enrolled, LEGIT_CONCURRENCY, async (user) => {
    const r = await login(user, { ip: plan.homes.get(user) as string }, user.password);
    if (r.challenged) legit.enrolmentChallenged++;
    if (!r.token) legit.enrolmentFailed++;
    devices.set(user, r.cookie);
  });

  // 2. The attack, with legitimate logins starting at their planned points.
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
  let nextBackground = 0;
  const deadline = started + options.timeCapMs;
  let truncated = false;

  const startFlow = (flow: LegitFlow, atAttempt: number) => {
    const { user, kind, ip } = flow;
    const fresh = isNewDevice(kind);
    const behind = ip === plan.sharedAddress;
    legit.logins++;
    if (fresh) legit.newDeviceLogins++;
    else legit.knownDeviceLogins++;
    if (kind === 'typo') legit.typoLogins++;
    if (kind === 'new-device-typo') legit.newDeviceTypoLogins++;
    const first = kind === 'typo' || kind === 'new-device-typo' ? mistyped(user.password) : user.password;
    running.push(
      login(user, { ip, cookie: fresh ? undefined : devices.get(user) }, first).then((r) => {
        if (r.challenged && fresh) legit.newDeviceChallenged++;
        if (r.challenged && !fresh) legit.knownDeviceChallenged++;
        if (behind) count(fresh ? legit.behindAttacker.newDevice : legit.behindAttacker.knownDevice, r);
        // A new device behind the attacker's own address looks exactly like the attacker: reported apart.
        if (r.blocked && !(behind && fresh)) legit.blocked++;
        if (!r.token) legit.failed++;
        if (r.blocked || !r.token || (r.challenged && !fresh)) note(kind, user, ip, atAttempt, r);
      }),
    );
  };

  /** A returning user of a busy exchange logging in from the known device, in step with the attack. */
  const background = async (atAttempt: number) => {
    const login = plan.background[nextBackground++];
    if (!login) return;
    const { user, ip } = login;
    const r = await personLogin(target, user, { ip, cookie: devices.get(user) }, user.password, legitLatencies, emailCodes);
    count(legit.background, r);
    if (r.blocked) legit.blocked++;
    if (r.blocked || !r.token || r.challenged) note('background', user, ip, atAttempt, r);
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
        const [reply] = await Promise.all([
          target.post('/auth/login', { email: attempt.email, password: attempt.password }, { ip: attempt.ip }),
          ...Array.from({ length: plan.backgroundPerAttempt }, () => background(index)),
        ]);
        const o = outcome(reply);
        if (attempt.correct) {
          attack.correctPairs++;
          correctReplies.push(reply);
          tally(attack.correctShapes, shape(reply));
        } else {
          tally(attack.wrongShapes, shape(reply));
        }
        if (o === 'token') {
          // The attacker never knows a TOTP secret or reads the owner's mail: any token it holds is a takeover without 2FA.
          attack.takeoverDetails.push({ atAttempt: index, sentBefore, reuse: attempt.reuse, inShieldList: options.shieldList?.has(attempt.email) ?? false });
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
    const ip = plan.homes.get(user) as string;
    const r = await login(user, { ip, cookie: devices.get(user) }, user.password);
    legit.logins++;
    legit.knownDeviceLogins++;
    count(legit.afterAttack, r);
    if (ip === plan.sharedAddress) count(legit.behindAttacker.knownDevice, r);
    if (r.challenged) legit.knownDeviceChallenged++;
    if (r.blocked) legit.blocked++;
    if (!r.token) {
      legit.failed++;
      legit.lockedOut++;
    }
    if (!r.token || r.challenged || r.blocked) note('after-attack', user, ip, attack.sent, r);
  });

  const wrong = new Set(Object.keys(attack.wrongShapes));
  const validityLeaks = correctReplies.filter((r) => !wrong.has(shape(r))).length;
  const countedLogins = legit.logins - legit.behindAttacker.newDevice.logins + legit.background.logins;
  return {
    takeovers: attack.takeoverDetails.length,
    validityLeaks,
    legitChallengedPct: pct(legit.knownDeviceChallenged, legit.knownDeviceLogins),
    legitBlockedPct: pct(legit.blocked, countedLogins),
    legitLockedOut: legit.lockedOut,
    newDeviceSteppedUpPct: pct(legit.newDeviceChallenged, legit.newDeviceLogins),
    p50ms: percentile(target.latencies, 50),
    p99ms: percentile(target.latencies, 99),
    attack,
    legit: { ...legit, p50ms: percentile(legitLatencies, 50), p99ms: percentile(legitLatencies, 99), incidents },
    requests: target.latencies.length,
    seconds: (performance.now() - started) / 1000,
    truncated,
  };
}
