import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Consumer, consumer, installedClosure, pack, type Packed, strictTsconfig } from './packed.js';

// The packed tarball installed into fresh apps, as a user would: an ESM app on Express 5 and a
// TypeScript CommonJS app on Express 4. Nothing here imports from src/ or dist/.

let packed: Packed;
let esm: Consumer;
let cjs: Consumer;

/** A CommonJS app in TypeScript: `import` compiles to `require()` of the ESM package. */
const CJS_APP = `import express from 'express';
import { createShield, type Authenticate, type VerifySecondFactor } from 'account-shield';

const authenticate: Authenticate = async (email, password) => (email === 'alice@example.com' && password === 'pw' ? { userId: 'u1' } : null);
const verifySecondFactor: VerifySecondFactor = async (userId, code) => userId === 'u1' && code === '123456';
// @ts-expect-error -- the callback types infer their parameters: a code is a string
const misuse: VerifySecondFactor = async (userId, code: number) => code === 1;
void misuse;

async function main() {
  const app = express();
  app.use(express.json());
  // A leaked address on a new device: stepped up in every posture.
  const shield = createShield({ secret: 'consumer-test-secret-0123456789abcdefgh', app, leakedAddresses: ['alice@example.com'], logger: { warn() {}, error() {} } });
  const done = (req: express.Request, res: express.Response) => {
    const userId: string | undefined = req.shield?.userId; // typed on Express's own Request
    // @ts-expect-error -- a user id is a string: fails to compile if req.shield became \`any\`
    const wrong: number | undefined = req.shield?.userId;
    void wrong;
    res.json({ userId, steppedUp: req.shield?.steppedUp === true });
  };
  app.post('/login', shield.login({ authenticate }), done);
  app.post('/verify', shield.stepUp({ verifySecondFactor }), done);
  app.use(shield.errorHandler());
  await shield.ready;
  const server = app.listen(0);
  await new Promise((ok) => server.once('listening', ok));
  const base = 'http://127.0.0.1:' + (server.address() as { port: number }).port;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const login = await post('/login', { email: 'alice@example.com', password: 'pw' });
  const verify = await post('/verify', { challenge: login.body['challenge'], code: '123456' });
  const malformed = await fetch(base + '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
  console.log(JSON.stringify({ login, verify, malformed: { status: malformed.status, body: await malformed.json() } }));
  server.close();
  await shield.close();
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

beforeAll(async () => {
  packed = await pack();
  // Two installs from the same tarball; one at a time on a shared machine.
  esm = await consumer(packed, 'esm-app', { type: 'module', deps: ['express@^5'], files: {} });
  cjs = await consumer(packed, 'cjs-app', {
    type: 'commonjs',
    deps: ['express@^4.17', '@types/express@^4.17', '@types/node@^20'],
    files: { 'src/app.ts': CJS_APP, 'tsconfig.json': strictTsconfig('nodenext', ['src'], 'out') },
  });
}, 240_000);

afterAll(async () => {
  if (packed) await rm(packed.dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds only what a user needs: JavaScript, declarations, the console assets, README, LICENSE, CHANGELOG', () => {
    expect(packed.files).toContain('LICENSE');
    expect(packed.files).toContain('CHANGELOG.md');
    expect(packed.files).toContain('README.md');
    expect(packed.files).toContain('dist/index.js');
    expect(packed.files).toContain('dist/index.d.ts');
    expect(packed.files).toContain('dist/http/express-augment.d.ts');
    expect(packed.files).toContain('dist/cli/main.js');
    expect(packed.files).toContain('dist/console/assets/index.html');
    const unexpected = packed.files.filter(
      (f) => !/^dist\/.+\.(js|d\.ts)$/.test(f) && !/^dist\/console\/assets\/[\w-]+\.(html|css|js)$/.test(f) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f),
    );
    expect(unexpected).toEqual([]);
  });

  it('adds at most 20 packages to an app, and never a second express', async () => {
    const added = await installedClosure(esm.dir);
    expect(added.length, added.join('\n')).toBeLessThanOrEqual(20);
    expect(added.filter((p) => /(^|\/)(express|express-rate-limit|otplib)$/.test(p))).toEqual([]);
    expect(existsSync(join(cjs.dir, 'node_modules/account-shield/node_modules/express'))).toBe(false);
    expect(existsSync(join(esm.dir, 'node_modules/account-shield/node_modules'))).toBe(false);
  });

  it('imports from ESM and requires from CommonJS, with the same named exports', async () => {
    const imported = await esm.node(['--input-type=module', '-e', "const m = await import('account-shield'); console.log(JSON.stringify(Object.keys(m).sort()))"]);
    const required = await cjs.node(['-e', "console.log(JSON.stringify(Object.keys(require('account-shield')).filter((k) => k !== '__esModule' && k !== 'module.exports').sort()))"]);
    const names = JSON.parse(imported.stdout) as string[];
    expect(JSON.parse(required.stdout)).toEqual(names);
    expect(names).toEqual(expect.arrayContaining(['createShield', 'MemoryStore', 'RedisStore', 'shieldMetrics', 'ShieldConfigError', 'loadLeakedAddresses']));
    const createShield = await cjs.node(['-e', "const { createShield } = require('account-shield'); console.log(typeof createShield({ secret: 'x'.repeat(40) }).login)"]);
    expect(createShield.stdout.trim()).toBe('function');
    expect(required.stderr + createShield.stderr).not.toMatch(/ERR_|Error/);
  });

  it('runs the installed command line', async () => {
    const version = await esm.node(['node_modules/.bin/account-shield', '--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('type-checks a strict TypeScript CommonJS app on Express 4, with req.shield typed, and runs it', { timeout: 120_000 }, async () => {
    const checked = await cjs.typecheck();
    expect(checked.output).toBe('');
    expect(checked.ok).toBe(true);
    const { stdout } = await cjs.node(['out/app.js']);
    const result = JSON.parse(stdout) as Record<string, { status: number; body: Record<string, unknown> }>;
    // A new device steps up; the right code completes the login; a malformed body is a JSON 400.
    expect(result['login']).toMatchObject({ status: 401, body: { error: 'step_up_required' } });
    expect(result['verify']).toEqual({ status: 200, body: { userId: 'u1', steppedUp: true } });
    expect(result['malformed']).toMatchObject({ status: 400, body: { error: 'bad_request' } });
  });
});
