/**
 * One login path, called CALLS times through the public middleware on the embedded store, for
 * bench/instructions.ts to count under valgrind (plain JavaScript on the compiled dist/: run
 * through `compiledScript`). Set-up (enrolment, a blocked source) is the same whatever CALLS
 * is, so the difference between a run with CALLS=0 and one with CALLS=n is n calls of PATH.
 *
 *   PATH=success     an enrolled account on its known device, from home, right password
 *   PATH=challenge   an account the shield never saw, no cookie, a new address per call: step-up
 *   PATH=blocked     no cookie, from an address over its per-IP limit: 429
 */
import { createShield, MemoryStore } from 'account-shield';
import type { Request } from 'express';
import { call } from './direct-call.js';

const CALLS = Number(process.env.CALLS ?? 0);
const PATH = process.env.PATH_NAME ?? 'success';
const ACCOUNTS = 50;
const CODE = '246810';

const password = (i: number) => `pw-${i}-ok`;
const email = (i: number) => `user${i}@bench.example`;
const home = (i: number) => `10.1.${i}.5`;

function request(ip: string, body: Record<string, unknown>, cookie?: string): Request {
  return { body, path: '/auth/login', ip, secure: false, headers: cookie ? { cookie } : {}, socket: { remoteAddress: ip } } as unknown as Request;
}

async function main(): Promise<void> {
  // The store's sweep runs on a wall-clock timer: under valgrind, 50 times slower and slower
  // still on a busy machine, a run would count as many sweeps as the machine's load allowed.
  // Sweeps are upkeep between decisions, not a decision's work: none runs here.
  const store = new MemoryStore({ sweepIntervalMs: 24 * 3_600_000 });
  const shield = createShield({ secret: 'bench-instructions-secret-0123456789abcdef', store });
  await shield.ready;
  const login = shield.login({ authenticate: (e, p) => (e.startsWith('user') && password(Number(e.slice(4, e.indexOf('@')))) === p ? { userId: e } : null) });
  const stepUp = shield.stepUp({ verifySecondFactor: (_userId, code) => code === CODE });
  const cookies: string[] = [];
  for (let u = 0; u < ACCOUNTS; u++) {
    const first = await call(login, request(home(u), { email: email(u), password: password(u) }));
    const verified = await call(stepUp, request(home(u), { challenge: (first.res.body as { challenge: string }).challenge, code: CODE }));
    cookies[u] = [verified.res.headers['set-cookie'] ?? ''].flat()[0]?.split(';')[0] as string;
  }
  // The first login on a known device scores its password with zxcvbn after the answer: wait
  // until every account's flags are stored, or the zxcvbn runs still pending would be counted
  // in whichever run they fell into. (`pwq:{account}`: see src/stores/key-layout.ts.)
  let account = '';
  shield.on('decision', (d) => {
    account = d.ids.account ?? '';
  });
  for (let u = 0; u < ACCOUNTS; u++) {
    await call(login, request(home(u), { email: email(u), password: password(u) }, cookies[u]));
    const flags = `pwq:{${account}}`;
    for (let attempt = 0; (await store.read({ counters: [], keys: [flags] })).values[0] === undefined; attempt++) {
      if (attempt > 600) throw new Error(`account ${u}'s password flags were never stored`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  for (let j = 0; j < 25; j++) await call(login, request('10.9.9.9', { email: `burn${j}@bench.example`, password: 'not-it' }));

  const paths: Record<string, { make: (i: number) => Request; expect: 'next' | number }> = {
    success: { make: (i) => request(home(i % ACCOUNTS), { email: email(i % ACCOUNTS), password: password(i % ACCOUNTS) }, cookies[i % ACCOUNTS]), expect: 'next' },
    challenge: { make: (i) => request(`${20 + (i % 200)}.${Math.floor(i / 200) % 256}.3.7`, { email: email(1000 + i), password: password(1000 + i) }), expect: 401 },
    blocked: { make: (i) => request('10.9.9.9', { email: email(5000 + i), password: 'x' }), expect: 429 },
  };
  const path = paths[PATH];
  if (!path) throw new Error(`PATH_NAME must be one of ${Object.keys(paths).join(', ')}`);
  // A full collection before and after the calls: the garbage the calls made is collected, and
  // counted, in every run, rather than whenever a collection happened to fall.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  let unexpected = 0;
  for (let i = 0; i < CALLS; i++) if ((await call(login, path.make(i))).outcome !== path.expect) unexpected++;
  gc();
  await shield.close();
  if (unexpected > 0) throw new Error(`${unexpected} of ${CALLS} ${PATH} calls got another answer than ${path.expect}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('[instruction-path] failed:', error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
