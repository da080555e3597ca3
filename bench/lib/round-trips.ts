import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisProcess } from '../../test/support/redis.js';
import { commandCalls, redisCall } from '../../test/support/resp.js';
import { FlightCounter, startTcpProxy } from '../../test/support/tcp-proxy.js';
import { blockedTraffic, burnSources, newDeviceTraffic, returningLogin, returningTraffic, sourceSet } from './cost-traffic.js';
import { Target } from './http.js';
import { enrolAccounts, type LoginRequest } from './load.js';
import { startServer } from './processes.js';

/**
 * Redis round trips and commands per login decision, path by path. A login server (the same
 * compiled one the load measures) talks to Redis through a counting TCP proxy
 * (`test/support/tcp-proxy.ts`): a round trip is a burst of client→server traffic not
 * interrupted by a reply, so an ioredis pipeline or a script call is one, however many commands
 * it carries. Requests go one at a time with a pause after each, so the writes a decision makes
 * after its answer (device index, password flags) are counted with it and never merge with the
 * next request's. Commands come from INFO commandstats and include those a Lua script runs.
 */
export interface PathTrips {
  readonly path: string;
  readonly requests: number;
  readonly roundTripsPerRequest: number;
  readonly commandsPerRequest: number;
  readonly commands: Record<string, number>;
}

export interface RoundTrips {
  readonly method: string;
  readonly shield: PathTrips[];
  readonly floor: PathTrips;
}

const ACCOUNTS = 60;
/** Between requests: longer than a few proxy delays, so no two decisions share a burst. */
const GAP_MS = 30;
const PROXY_DELAY_MS = 5;

export const ROUND_TRIP_METHOD =
  'one request at a time through a counting TCP proxy between the login server and Redis; a round trip is a burst of client→server traffic not interrupted by a reply (an ioredis pipeline or one script call is one), including writes made after the answer; commands from INFO commandstats, including those Lua scripts run';

export async function measureRoundTrips(script: string, redis: RedisProcess, log: (line: string) => void): Promise<RoundTrips> {
  // The bench's own Redis still holds the measured windows' counters: the 1 in 10 wrong
  // passwords from each home address can put it over the per-IP limit, and a new device from
  // there is then refused, not stepped up. Count from an empty database.
  await redisCall(redis.port, 'FLUSHALL');
  const counter = new FlightCounter();
  const proxy = await startTcpProxy(redis.port, counter, { delayMs: PROXY_DELAY_MS });
  const url = `redis://127.0.0.1:${proxy.port}`;
  const start = (mode: string) =>
    startServer({ args: [script], env: { MODE: mode, REDIS_URL: url, USERS: String(ACCOUNTS * 3) }, ready: /\[login-server\] listening on :(\d+)/, timeoutMs: 60_000 });
  const shieldServer = await start('redis');
  const floorServer = await start('redis-floor');
  const shieldTarget = new Target(shieldServer.port, 8);
  const floorTarget = new Target(floorServer.port, 1);
  try {
    const phase = async (target: Target, path: string, count: number, request: (i: number) => LoginRequest): Promise<PathTrips> => {
      await sleep(GAP_MS * 5);
      const before = await commandCalls(redis.port);
      counter.reset();
      for (let i = 0; i < count; i++) {
        const r = request(i);
        await target.post('/auth/login', JSON.parse(r.body), { ip: r.ip, cookie: r.cookie });
        await sleep(GAP_MS);
      }
      await sleep(GAP_MS * 5);
      const flights = counter.flights;
      const after = await commandCalls(redis.port);
      const commands: Record<string, number> = {};
      for (const [name, calls] of Object.entries(after)) {
        const delta = calls - (before[name] ?? 0);
        if (name !== 'info' && delta > 0) commands[name] = Math.round((delta / count) * 100) / 100;
      }
      const total = Object.values(commands).reduce((a, b) => a + b, 0);
      const result = { path, requests: count, roundTripsPerRequest: flights / count, commandsPerRequest: Math.round(total * 100) / 100, commands };
      log(`round trips · ${path}: ${result.roundTripsPerRequest.toFixed(2)} per request, ${result.commandsPerRequest} commands ${JSON.stringify(commands)}`);
      return result;
    };

    const cookies = await enrolAccounts(shieldTarget, ACCOUNTS, 8);
    const account = (i: number) => i % ACCOUNTS;
    // One login per account first: the first known-device login also learns the password's
    // quality (once per account), which is not the steady state.
    for (let user = 0; user < ACCOUNTS; user++) {
      const r = returningLogin(user, false, cookies);
      await shieldTarget.post('/auth/login', JSON.parse(r.body), { ip: r.ip, cookie: r.cookie });
    }
    const shield = [
      await phase(shieldTarget, 'returning user, right password', ACCOUNTS * 2, (i) => returningLogin(account(i), false, cookies)),
      await phase(shieldTarget, 'returning user, wrong password', ACCOUNTS, (i) => returningLogin(account(i), true, cookies)),
      await phase(shieldTarget, 'returning user, right password after a failure', ACCOUNTS, (i) => returningLogin(account(i), false, cookies)),
    ];
    const fresh = newDeviceTraffic(ACCOUNTS, ACCOUNTS * 2);
    shield.push(await phase(shieldTarget, 'new device (step-up answer)', ACCOUNTS, (i) => fresh.request(3_000_000 + i)));
    const sources = sourceSet(999, 3);
    await burnSources(shieldTarget, sources, ACCOUNTS);
    const blocked = blockedTraffic(ACCOUNTS, ACCOUNTS * 2, sources);
    shield.push(await phase(shieldTarget, 'source over its limit (429)', ACCOUNTS, (i) => blocked.request(i)));
    const home = returningTraffic(ACCOUNTS, cookies);
    const floor = await phase(floorTarget, 'floor: bare + one pipelined read of 8 keys', ACCOUNTS, (i) => home.request(i));
    return { method: ROUND_TRIP_METHOD, shield, floor };
  } finally {
    shieldTarget.close();
    floorTarget.close();
    await Promise.all([shieldServer.stop(), floorServer.stop()]);
    await proxy.close();
  }
}
