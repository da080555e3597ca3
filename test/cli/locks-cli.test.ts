import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShield, type Shield } from '../../src/index.js';
import { runLocks } from '../../src/cli/locks.js';
import { processIo } from '../../src/cli/common.js';
import { createRedisStoreFromUrl, type RedisStore } from '../../src/stores/redis.js';
import { freePort, type RedisProcess, startRedis } from '../support/redis.js';

// `account-shield lock | unlock | status` as an operator runs them: a real child process
// against this test's own redis-server, checked against a shield built in-process with the
// same secret (so the CLI and the servers agree on keyed user ids).
const root = resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const SECRET = 'locks-cli-test-secret-0123456789abcdef';
const USER = 'u_cli_user_1';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

let dir: string;
let redis: RedisProcess;
let store: RedisStore;
let shield: Shield;

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], SHIELD_SECRET: SECRET, USER: 'tester' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const started = Date.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, join(root, 'src/cli/main.ts'), ...args],
      { cwd: dir, env: childEnv, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-locks-cli-'));
  await writeFile(join(dir, 'secret.key'), `${SECRET}\n`);
  redis = await startRedis();
  store = createRedisStoreFromUrl(redis.url);
  shield = createShield({ secret: SECRET, store });
  // A server records its key id at start-up; the CLI refuses to act before one did.
  await shield.ready;
});

afterAll(async () => {
  await shield?.close();
  await store?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('account-shield lock / unlock / status', () => {
  it('locks, shows, is enforced by a shield with the same secret, and unlocks', async () => {
    const before = await cli(['status', USER, '--redis', redis.url]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/withdrawals not locked/);

    const lock = await cli(['lock', USER, '--hours', '6', '--reason', 'support ticket 4711', '--redis', redis.url]);
    expect(lock.code, lock.stderr).toBe(0);
    expect(lock.stdout).toMatch(/withdrawals locked until \d{4}-\d\d-\d\dT/);
    expect(lock.stdout).toMatch(/admin .* by cli:tester: "support ticket 4711"/);

    // The key comes from --secret-file as well as from SHIELD_SECRET; --json for machines.
    const status = await cli(['status', USER, '--redis', redis.url, '--secret-file', 'secret.key', '--json'], { SHIELD_SECRET: undefined });
    expect(status.code, status.stderr).toBe(0);
    const json = JSON.parse(status.stdout) as { locked: boolean; until: string; reasons: { kind: string; actor: string; detail: string }[] };
    expect(json).toMatchObject({ userId: USER, locked: true });
    expect(json.reasons).toEqual([expect.objectContaining({ kind: 'admin', actor: 'cli:tester', detail: 'support ticket 4711' })]);
    const hoursLeft = (Date.parse(json.until) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(5.9);
    expect(hoursLeft).toBeLessThanOrEqual(6);

    // What the servers see: the same keyed user id, the same lock.
    const seen = await shield.locks.status(USER);
    expect(seen.locked).toBe(true);
    expect(seen.until?.toISOString()).toBe(json.until);
    expect((await shield.locks.status('someone-else')).locked).toBe(false);

    const unlock = await cli(['unlock', USER, '--redis', redis.url, '--actor', 'ops:alice', '--json']);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(JSON.parse(unlock.stdout)).toMatchObject({ action: 'unlock', userId: USER, locked: false, until: null });
    expect((await shield.locks.status(USER)).locked).toBe(false);

    const after = await cli(['status', USER], { REDIS_URL: redis.url });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/withdrawals not locked/);
  });

  it('never shortens a lock the shield applied', async () => {
    await shield.locks.lock('u_long', { hours: 48, reason: 'password changed', actor: 'test' });
    const lock = await cli(['lock', 'u_long', '--hours', '1', '--reason', 'short', '--redis', redis.url, '--json']);
    expect(lock.code, lock.stderr).toBe(0);
    const until = Date.parse((JSON.parse(lock.stdout) as { until: string }).until);
    expect(until - Date.now()).toBeGreaterThan(47 * 3_600_000);
  });

  it('exits 2 with a clear message on every error', async () => {
    const closedPort = await freePort();
    const unreachableUrl = `redis://admin:hunter2@127.0.0.1:${closedPort}`;
    const cases: { args: string[]; env?: Record<string, string | undefined>; message: RegExp }[] = [
      { args: ['lock', '--hours', '1', '--reason', 'x', '--redis', redis.url], message: /lock needs a USER_ID[\s\S]*--help/ },
      { args: ['lock', USER, '--reason', 'x', '--redis', redis.url], message: /lock needs --hours N/ },
      { args: ['lock', USER, '--hours', '1', '--redis', redis.url], message: /lock needs --reason TEXT/ },
      { args: ['lock', USER, '--hours', 'soon', '--reason', 'x', '--redis', redis.url], message: /--hours must be a number/ },
      { args: ['lock', USER, '--hours', '0', '--reason', 'x', '--redis', redis.url], message: /--hours must be a number/ },
      { args: ['status', '--redis', redis.url], message: /status needs a USER_ID/ },
      { args: ['unlock', USER, 'extra', '--redis', redis.url], message: /takes one USER_ID/ },
      { args: ['unlock', USER, '--reason', ' ', '--redis', redis.url], message: /--reason must not be empty/ },
      { args: ['status', USER, '--bogus', '--redis', redis.url], message: /Unknown option '--bogus'/ },
      { args: ['status', USER], message: /needs --redis URL \(or REDIS_URL\)/ },
      { args: ['status', USER, '--redis', 'http://localhost:6379'], message: /REDIS_URL_SCHEME.*only redis: and rediss:/ },
      { args: ['status', USER, '--redis', 'redis://127.0.0.1:99999'], message: /REDIS_URL_INVALID.*is not a URL/ },
      { args: ['status', USER, '--redis', `${redis.url},`], message: /REDIS_URL_INVALID.*empty entry/ },
      {
        args: ['lock', USER, '--hours', '1', '--reason', 'x', '--redis', unreachableUrl],
        message: new RegExp(`cannot reach Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${closedPort} .*nothing was changed`),
      },
      { args: ['status', USER, '--redis', redis.url], env: { SHIELD_SECRET: undefined }, message: /no key: set SHIELD_SECRET or pass --secret-file/ },
      { args: ['status', USER, '--redis', redis.url], env: { SHIELD_SECRET: 'short' }, message: /WEAK_SECRET/ },
      { args: ['status', USER, '--redis', redis.url, '--secret-file', 'missing.key'], message: /cannot read secret file missing\.key/ },
    ];
    const check = (c: (typeof cases)[number], result: { code: number; stdout: string; stderr: string }) => {
      const label = `${c.args.join(' ')} → ${result.stderr}`;
      expect(result.code, label).toBe(2);
      expect(result.stderr, label).toMatch(c.message);
      expect(result.stdout, label).toBe('');
      // A password in the URL is never echoed back.
      expect(result.stderr, label).not.toMatch(/hunter2/);
    };
    // Every case through the command's own entry point (what the dispatcher returns as the exit
    // code), with the same environment a child would get...
    for (const c of cases) {
      const env: NodeJS.ProcessEnv = { SHIELD_SECRET: SECRET, USER: 'tester' };
      for (const [key, value] of Object.entries(c.env ?? {})) {
        if (value === undefined) delete env[key];
        else env[key] = value;
      }
      const out: string[] = [];
      const err: string[] = [];
      const io = { ...processIo, out: (line: string) => void out.push(line), err: (line: string) => void err.push(line), env };
      const [action, ...argv] = c.args as [('lock' | 'unlock' | 'status'), ...string[]];
      const code = await runLocks(action, argv, io);
      check(c, { code, stdout: out.join('\n'), stderr: err.join('\n') });
    }
    // ...and the kinds an operator meets most (a missing argument, a bad URL, an unreachable
    // Redis, no key) as real processes, two at a time on this shared machine.
    const real = [0, 10, 13, 14].map((i) => cases[i] as (typeof cases)[number]);
    const results: Result[] = [];
    for (let i = 0; i < real.length; i += 2) results.push(...(await Promise.all(real.slice(i, i + 2).map((c) => cli(c.args, c.env)))));
    for (const [i, c] of real.entries()) check(c, results[i] as Result);
    expect((results[2] as Result).ms, 'unreachable Redis is reported quickly').toBeLessThan(5000);
  });

  it('refuses to act under a secret that is not the servers\', and says what to do when no server recorded one', async () => {
    const other = 'another-secret-of-the-right-length-0123456789';
    const run = async (args: string[], secret: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const io = { ...processIo, out: (line: string) => void out.push(line), err: (line: string) => void err.push(line), env: { SHIELD_SECRET: secret, USER: 'tester' } };
      const [action, ...argv] = args as [('lock' | 'unlock' | 'status'), ...string[]];
      return { code: await runLocks(action, argv, io), stdout: out.join('\n'), stderr: err.join('\n') };
    };
    // What an operator with the wrong SHIELD_SECRET sees, as a real process: exit 2, no lock.
    const wrong = await cli(['lock', 'u_wrong_key', '--hours', '2', '--reason', 'x', '--redis', redis.url], { SHIELD_SECRET: other });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/this secret is not the one the servers on redis:\/\/127\.0\.0\.1:\d+ run with \(their key id [0-9a-f]{16}, this secret's [0-9a-f]{16}\); nothing was changed/);
    expect(wrong.stderr).not.toContain(other);
    expect(wrong.stderr).not.toContain(SECRET);
    expect((await shield.locks.status('u_wrong_key')).locked).toBe(false);
    expect((await run(['unlock', USER, '--redis', redis.url], other)).code).toBe(2);
    expect((await run(['status', USER, '--redis', redis.url], other)).stderr).toMatch(/not the one the servers/);

    // A store no shield has started on yet (or whose key id expired): exit 2 with the fix.
    expect(await store.delete('keyid')).toBe(true);
    const none = await run(['lock', USER, '--hours', '1', '--reason', 'x', '--redis', redis.url], SECRET);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no shield has recorded its key id in the store at redis:\/\/127\.0\.0\.1:\d+ yet.*nothing was changed.*start \(or restart\) one server on this store/s);
    expect((await shield.locks.status(USER)).locked).toBe(false);
    // Starting a server records it again, and the CLI acts.
    const restarted = createShield({ secret: SECRET, store });
    await restarted.ready;
    await restarted.close();
    const after = await run(['status', USER, '--redis', redis.url], SECRET);
    expect(after.code, after.stderr).toBe(0);
  });

  it('reports a paused Redis within a few seconds instead of hanging', async () => {
    redis.pause();
    try {
      const result = await cli(['status', USER, '--redis', redis.url]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
      expect(result.ms).toBeLessThan(8000);
    } finally {
      redis.resume();
    }
  });
});
