import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Answer, Client, outcomeOf, signature } from './client.js';
import { botnet, buildPopulation, COMMON_PASSWORDS, type DemoUser, homeAddresses, leakCoverage, pick, prng, shieldLeakList, shuffle } from './population.js';
import { printSummary, type Tally } from './report.js';
import { keepServing, serveRequested } from './serve.js';
import { createExchangeApp } from '../exchange-server/app.js';
import type { GuardsFactory } from '../exchange-server/guards.js';
import { parsePort } from '../exchange-server/options.js';
import { totpCode } from '../exchange-server/totp.js';

const SPEC = { leakedTotal: 2_000, realLeaked: 200, realNotLeaked: 200, commonReusers: 10, uniqueReusers: 10, otherLeaked: 50 };
/** Passwords the attacker pairs with each leaked address. */
const TRIES_PER_ADDRESS = 2;
const BOTNET_SIZE = 500;
const LEGIT_USERS = 120;
/** Attempts per second the attacker aims for, and at most this many in flight. */
const ATTACK_RATE = 500;
const ATTACK_CONCURRENCY = 24;
/** Real scrypt, at a cost that lets a few thousand logins fit in seconds on two cores. */
const DEMO_SCRYPT_COST = 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A credential-stuffing wave against the reference exchange, over real HTTP, with legitimate
 * users logging in at the same time. Every number printed is counted from the HTTP answers the
 * simulated clients received.
 *
 * The shield is handed 30 % of the attacker's addresses (plus other dumps), never the attacker's
 * own list: LEAK_COVERAGE=0..100 changes the share. `guards` replaces the shield's (the
 * benchmark's baselines, see bench/exchange/demo.ts). Resolves to the exit code: 0 when the
 * attacker took over no account without passing 2FA, else 1.
 */
export async function runDemo(guards?: GuardsFactory): Promise<number> {
  const started = Date.now();
  const serve = serveRequested(process.argv.slice(2));
  const random = prng(20_240_601);
  const population = buildPopulation(random, SPEC);
  // The shield is never handed the attacker's whole list: leak lists are incomplete (LEAK_COVERAGE, default 30 %).
  const coverage = leakCoverage(process.env.LEAK_COVERAGE);
  const shieldList = shieldLeakList(population, coverage);

  const exchange = await createExchangeApp({
    guards,
    secret: randomBytes(32).toString('base64url'),
    users: population.users,
    leakedAddresses: shieldList,
    // The demo presents many client addresses through X-Forwarded-For from loopback.
    trustProxy: 'loopback',
    scryptCost: DEMO_SCRYPT_COST,
    adminToken: process.env.ADMIN_TOKEN?.trim() || undefined,
  });
  const server = createServer(exchange.app);
  await new Promise<void>((resolve) => server.listen(serve ? parsePort(process.env.PORT) : 0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const tally: Tally = {
    protection: exchange.protection,
    users: population.users.length,
    leakedTotal: population.leakedAddresses.length,
    realLeaked: SPEC.realLeaked,
    reusers: { common: SPEC.commonReusers, unique: SPEC.uniqueReusers },
    coverage,
    shieldListSize: shieldList.length,
    attack: { attempts: 0, blocked: 0, challenged: 0, rejected: 0, other: 0, correctPairs: 0, takeovers: 0, takeoversUnique: 0, validityLeaks: 0 },
    legit: {
      logins: 0,
      succeeded: 0,
      knownDevice: 0,
      knownDeviceChallenged: 0,
      newDevice: 0,
      newDeviceChallenged: 0,
      typoFirst: 0,
      blocked: 0,
      failed: 0,
    },
    enrolment: { users: 0, challenged: 0 },
    afterWave: { logins: 0, challenged: 0, blocked: 0, lockedOut: 0 },
    seconds: 0,
  };

  // Legitimate users: each has a home address and, after enrolment, a device cookie.
  const legit = shuffle(random, [...population.users]).slice(0, LEGIT_USERS);
  const homeIps = homeAddresses(random, legit.length);
  const homes = new Map(legit.map((u, i) => [u, homeIps[i] as string]));
  const devices = new Map<DemoUser, string | undefined>();

  const progress = startProgress(tally, started);
  try {
    // Before the wave: every legitimate user has logged in once and enrolled a device.
    await inBatches(legit, 16, async (user) => {
      const client = new Client(baseUrl, homes.get(user)!);
      const result = await userLogin(client, user, user.password);
      tally.enrolment.users++;
      if (result.challenged) tally.enrolment.challenged++;
      devices.set(user, client.cookie);
    });

    const waveStart = Date.now();
    const attack = runAttack(baseUrl, population.leakedAddresses, population.users, tally, random);
    const expectedWaveMs = ((population.leakedAddresses.length * TRIES_PER_ADDRESS) / ATTACK_RATE) * 1000;
    const scenarios = legit.map((user) => {
      const roll = random();
      const kind = roll < 0.6 ? 'known' : roll < 0.8 ? 'new-device' : 'typo';
      const at = waveStart + 300 + random() * expectedWaveMs * 0.9;
      return { user, kind, at } as const;
    });
    const people = Promise.all(
      scenarios.map(async ({ user, kind, at }) => {
        await sleep(Math.max(0, at - Date.now()));
        const client = new Client(baseUrl, homes.get(user)!, kind === 'new-device' ? undefined : devices.get(user));
        tally.legit.logins++;
        if (kind === 'new-device') tally.legit.newDevice++;
        else tally.legit.knownDevice++;
        if (kind === 'typo') tally.legit.typoFirst++;
        const result = await userLogin(client, user, kind === 'typo' ? `${user.password}x` : user.password);
        if (result.challenged) {
          if (kind === 'new-device') tally.legit.newDeviceChallenged++;
          else tally.legit.knownDeviceChallenged++;
        }
        if (result.blocked) tally.legit.blocked++;
        if (result.token) tally.legit.succeeded++;
        else tally.legit.failed++;
      }),
    );
    await Promise.all([attack, people]);
    tally.afterWave = await afterWave(baseUrl, legit, homes, devices);
  } finally {
    progress.stop();
    tally.seconds = (Date.now() - started) / 1000;
    if (!serve) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await exchange.close();
    }
  }
  printSummary(tally);
  if (serve) {
    await keepServing(server, exchange, baseUrl, legit.find((u) => u.reuse === 'none') ?? legit[0]!);
    await exchange.close();
  }
  return tally.attack.takeovers === 0 ? 0 : 1;
}

/**
 * The stuffing run: every leaked address with a few list passwords, from random botnet
 * addresses, never with a device cookie and never able to answer a TOTP challenge.
 */
async function runAttack(baseUrl: string, leaked: readonly string[], users: readonly DemoUser[], tally: Tally, random: () => number) {
  const byEmail = new Map(users.map((u) => [u.email, u]));
  const attempts: { email: string; password: string }[] = [];
  for (const email of leaked) {
    const user = byEmail.get(email);
    const tries = new Set<string>();
    // Real reuse is what makes stuffing pay: the reused password is on the attacker's list.
    if (user && user.reuse !== 'none') tries.add(user.password);
    while (tries.size < TRIES_PER_ADDRESS) tries.add(pick(random, COMMON_PASSWORDS));
    for (const password of tries) attempts.push({ email, password });
  }
  shuffle(random, attempts);
  const ips = botnet(random, BOTNET_SIZE);
  const answersToCorrect: Answer[] = [];
  const wrongSignatures = new Set<string>();

  const start = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: ATTACK_CONCURRENCY }, async () => {
      while (next < attempts.length) {
        const i = next++;
        const attempt = attempts[i]!;
        await sleep(Math.max(0, start + (i / ATTACK_RATE) * 1000 - Date.now()));
        const answer = await new Client(baseUrl, pick(random, ips)).post('/auth/login', attempt);
        const correct = byEmail.get(attempt.email)?.password === attempt.password;
        tally.attack.attempts++;
        if (correct) {
          tally.attack.correctPairs++;
          answersToCorrect.push(answer);
        } else {
          wrongSignatures.add(signature(answer));
        }
        switch (outcomeOf(answer)) {
          case 'token':
            // The attacker holds a session: it never knew a TOTP secret, so 2FA was not passed.
            tally.attack.takeovers++;
            if (byEmail.get(attempt.email)?.reuse === 'unique') tally.attack.takeoversUnique++;
            break;
          case 'too_many_attempts':
            tally.attack.blocked++;
            break;
          case 'step_up_required':
            tally.attack.challenged++;
            break;
          case 'invalid_credentials':
            tally.attack.rejected++;
            break;
          default:
            tally.attack.other++;
        }
      }
    }),
  );
  // A validity leak: a right password answered in a way no wrong password ever was.
  tally.attack.validityLeaks = answersToCorrect.filter((a) => !wrongSignatures.has(signature(a))).length;
}

interface UserResult {
  token: boolean;
  challenged: boolean;
  blocked: boolean;
}

/**
 * A person logging in: types `firstPassword`, answers a challenge from their authenticator,
 * and retypes the right password after an error, three tries at most.
 */
async function userLogin(client: Client, user: DemoUser, firstPassword: string): Promise<UserResult> {
  const result: UserResult = { token: false, challenged: false, blocked: false };
  let password = firstPassword;
  for (let attempt = 0; attempt < 3 && !result.token; attempt++, password = user.password) {
    const answer = await client.post('/auth/login', { email: user.email, password });
    const outcome = outcomeOf(answer);
    if (outcome === 'too_many_attempts') {
      result.blocked = true;
      return result;
    }
    if (outcome === 'token') {
      result.token = true;
      client.cookie = answer.deviceCookie ?? client.cookie;
      return result;
    }
    if (outcome !== 'step_up_required') continue;
    result.challenged = true;
    const verified = await client.post('/auth/login/verify', { challenge: answer.body.challenge, code: await totpCode(user.totpSecret) });
    if (outcomeOf(verified) === 'token') {
      result.token = true;
      client.cookie = verified.deviceCookie ?? client.cookie;
    } else if (outcomeOf(verified) === 'too_many_attempts') {
      result.blocked = true;
      return result;
    }
  }
  return result;
}

/** After the wave, every legitimate user logs in once more from their known device: who cannot is locked out. */
async function afterWave(baseUrl: string, legit: readonly DemoUser[], homes: ReadonlyMap<DemoUser, string>, devices: ReadonlyMap<DemoUser, string | undefined>) {
  const result = { logins: 0, challenged: 0, blocked: 0, lockedOut: 0 };
  await inBatches(legit, 16, async (user) => {
    const r = await userLogin(new Client(baseUrl, homes.get(user)!, devices.get(user)), user, user.password);
    result.logins++;
    if (r.challenged) result.challenged++;
    if (r.blocked) result.blocked++;
    if (!r.token) result.lockedOut++;
  });
  return result;
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** One progress line a second on stderr: counts only, no addresses or passwords. */
function startProgress(tally: Tally, started: number) {
  const total = SPEC.leakedTotal * TRIES_PER_ADDRESS;
  const line = () => {
    const a = tally.attack;
    const l = tally.legit;
    const done = Math.round((a.attempts / total) * 20);
    process.stderr.write(
      `[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] [${'#'.repeat(done)}${'.'.repeat(20 - done)}] ` +
        `attack ${a.attempts}/${total} blocked ${a.blocked} challenged ${a.challenged} takeovers ${a.takeovers} · ` +
        `enrolled ${tally.enrolment.users}/${LEGIT_USERS} · legit ${l.succeeded}/${l.logins} ok\n`,
    );
  };
  const timer = setInterval(line, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      line();
    },
  };
}

/** Runs the demo and exits with its code (2 when it could not run). */
export function runDemoAndExit(guards?: GuardsFactory): void {
  runDemo(guards).then(
    (code) => {
      // Idle keep-alive sockets of fetch's pool must not hold the process open.
      process.exit(code);
    },
    (error: unknown) => {
      console.error('[demo] failed:', error instanceof Error ? error.message : String(error));
      process.exit(2);
    },
  );
}
