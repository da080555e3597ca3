import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis.js';
import { type Consumer, consumer, pack, type Packed, root, strictTsconfig } from './packed.js';

// The README's TypeScript, as a user pastes it: every ```ts block is type-checked under
// `strict` against the packed package in a fresh ESM app, and the quick start — the block
// that listens — is compiled and run, then driven over HTTP like the README's curl lines.

/**
 * Names the later blocks use from the quick start, or as the app's own code they stand for,
 * declared for blocks compiled on their own. A block that needs another name adds it here.
 */
const CONTEXT = `import type { Express, RequestHandler } from 'express';
import type { GetSessionUser, Shield, VerifySecondFactor } from 'account-shield';

declare global {
  const app: Express;
  const shield: Shield;
  const getUser: GetSessionUser;
  const verifySecondFactor: VerifySecondFactor;
  const issueSession: RequestHandler;
  const mailer: { sendCode(userId: string, code: string, purpose: string, expiresInSec: number): Promise<void> };
  const users: {
    check(email: string, password: string): Promise<{ id: string } | undefined>;
    exists(email: string): Promise<boolean>;
    byEmail(email: string): Promise<{ id: string; totpSecret?: string } | undefined>;
    secretOf(userId: string): string | undefined;
  };
  const totp: { check(secret: string, code: string): boolean };
  const DUMMY_SECRET: string;
}
`;

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

let packed: Packed;
let app: Consumer;
let blocks: string[];
let quickStart: number;

beforeAll(async () => {
  blocks = tsBlocks(await readFile(join(root, 'README.md'), 'utf8'));
  quickStart = blocks.findIndex((b) => b.includes('app.listen('));
  packed = await pack();
  const files: Record<string, string> = { 'src/readme-context.d.ts': CONTEXT, 'tsconfig.json': strictTsconfig('nodenext', ['src'], 'out') };
  // `export {}` keeps each block a module of its own, so blocks never collide.
  blocks.forEach((block, i) => (files[`src/readme-${i}.ts`] = `${block}\nexport {};\n`));
  app = await consumer(packed, 'readme-app', { type: 'module', deps: ['express@^5', '@types/express@^5', '@types/node@^20'], files });
}, 240_000);

afterAll(async () => {
  if (packed) await rm(packed.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A client with a cookie jar, as the README's curl lines use (`-c jar -b jar`). */
function client(base: string) {
  const jar = new Map<string, string>();
  return async (path: string, body: unknown, token?: string): Promise<Answer> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (jar.size > 0) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (token) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
}

/** Repeat a request with `challenge` and `code` when it was answered step_up_required. */
async function withStepUp(send: (extra: object) => Promise<Answer>, code: string): Promise<Answer> {
  const first = await send({});
  if (first.body['error'] !== 'step_up_required') return first;
  return send({ challenge: first.body['challenge'], code });
}

async function start(entry: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [entry], { cwd: app.dir, env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening')) ready();
    });
    child.once('exit', (code) => fail(new Error(`the quick start exited ${code} before listening:\n${output}`)));
  });
  return { child, output: () => output };
}

describe("the README's code", () => {
  it('has TypeScript blocks, one of them a quick start that listens', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(quickStart).toBeGreaterThanOrEqual(0);
    expect(blocks[quickStart]).toContain('app.use(express.json())');
    expect(blocks[quickStart]).toContain('await shield.ready');
    // The error handler comes after the routes, as its own comment says.
    const block = blocks[quickStart]!;
    expect(block.indexOf('shield.errorHandler()')).toBeGreaterThan(block.lastIndexOf('app.post('));
  });

  it('type-checks under strict against the packed package, every block', { timeout: 120_000 }, async () => {
    const checked = await app.typecheck();
    expect(checked.output).toBe('');
    expect(checked.ok).toBe(true);
  });

  it('runs the quick start as written: a login, a step-up, a password change, a locked withdrawal', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const server = await start(`out/readme-${quickStart}.js`, { PORT: String(port) });
    try {
      const post = client(`http://127.0.0.1:${port}`);
      const alice = { email: 'alice@example.com', password: 'correct horse battery staple' };

      // Three wrong passwords for the account from one address, as a stuffing run would: the
      // right password that follows is stepped up in every posture.
      for (let i = 0; i < 3; i++) {
        const wrong = await post('/auth/login', { ...alice, password: `not it ${i}` });
        expect(wrong.status).toBe(401);
        expect(wrong.body['token']).toBeUndefined();
      }
      const login = await post('/auth/login', alice);
      expect(login).toMatchObject({ status: 401, body: { error: 'step_up_required', challenge: expect.any(String) } });
      const badCode = await post('/auth/login/verify', { challenge: login.body['challenge'], code: '000000' });
      expect(badCode).toMatchObject({ status: 401, body: { error: 'invalid_code' } });
      const verified = await post('/auth/login/verify', { challenge: login.body['challenge'], code: '123456' });
      expect(verified).toMatchObject({ status: 200, body: { token: expect.any(String) } });
      const token = verified.body['token'] as string;

      // Before any change, withdrawals go through.
      const before = await post('/wallet/withdrawals', { amount: '1' }, token);
      expect(before.status).toBe(201);

      const weak = await withStepUp((extra) => post('/account/password', { currentPassword: alice.password, newPassword: 'password', ...extra }, token), '123456');
      expect(weak).toMatchObject({ status: 400, body: { error: 'weak_password' } });
      const changed = await withStepUp(
        (extra) => post('/account/password', { currentPassword: alice.password, newPassword: 'plum tractor sunlit harbour 42', ...extra }, token),
        '123456',
      );
      expect(changed).toEqual({ status: 200, body: { changed: true } });

      const locked = await post('/wallet/withdrawals', { amount: '1' }, token);
      expect(locked).toMatchObject({ status: 423, body: { error: 'withdrawals_locked' } });
      expect(Date.parse(String(locked.body['lockedUntil']))).toBeGreaterThan(Date.now() + 23 * 3_600_000);

      // The new password is the one that works now; no session, no withdrawal without one.
      expect((await post('/auth/login', alice)).body['token']).toBeUndefined();
      const fresh = await withStepUp(
        (extra) => ('challenge' in extra ? post('/auth/login/verify', extra) : post('/auth/login', { ...alice, password: 'plum tractor sunlit harbour 42' })),
        '123456',
      );
      expect(fresh).toMatchObject({ status: 200, body: { token: expect.any(String) } });
      expect((await post('/wallet/withdrawals', { amount: '1' })).status).toBe(401);
      const malformed = await fetch(`http://127.0.0.1:${port}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ error: 'bad_request' });
    } finally {
      server.child.kill();
    }
  });
});
