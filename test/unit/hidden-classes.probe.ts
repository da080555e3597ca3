/**
 * Run by hidden-classes.test.ts as `node --expose-gc --trace-deopt` (through tsx): login
 * decisions of the kinds an attack is made of — a returning user's success, a new device's
 * step-up answer, a guessed code, a blocked source's 429 — in cycles, each followed by full
 * collections with none of the decision's own objects alive. Prints MARK once the code is warm;
 * what --trace-deopt prints after it is what full collections threw away in steady state.
 */
import type { Request } from 'express';
import { call } from '../../bench/lib/direct-call.js';
import { createShield } from '../../src/index.js';

const MARK = '[hidden-classes probe] warm';
const CODE = '135790';
const ACCOUNTS = 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

// `call` keeps the last request and response of each outcome alive, as a server with requests
// of every kind in flight would: only the shield's own objects are left to die between cycles.
function request(ip: string, body: Record<string, unknown>, cookie?: string): Request {
  return { body, path: '/auth/login', ip, secure: false, headers: cookie ? { cookie } : {}, socket: { remoteAddress: ip } } as unknown as Request;
}

const shield = createShield({ secret: 'hidden-classes-probe-secret-0123456789abcdef' });
await shield.ready;
const login = shield.login({ authenticate: (email, password) => (password === `pw-${email}` ? { userId: email } : null) });
const stepUp = shield.stepUp({ verifySecondFactor: (_userId, code) => code === CODE });

const cookies: string[] = [];
for (let i = 0; i < ACCOUNTS; i++) {
  const email = `owner${i}@example.com`;
  const ip = `10.1.${i}.7`;
  const first = await call(login, request(ip, { email, password: `pw-${email}` }));
  const challenge = (first.res.body as { challenge?: string }).challenge;
  const verified = await call(stepUp, request(ip, { challenge, code: CODE }));
  const cookie = [verified.res.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
  if (verified.outcome !== 'next' || !cookie) throw new Error(`enrolment of ${email} failed`);
  cookies.push(cookie);
}
const blockedIp = '203.0.113.9';
for (let i = 0; i < 40; i++) await call(login, request(blockedIp, { email: `stranger${i}@example.net`, password: 'guess' }));

let fresh = 0;
async function cycle(): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    const user = i % ACCOUNTS;
    const email = `owner${user}@example.com`;
    const { outcome } = await call(login, request(`10.1.${user}.7`, { email, password: `pw-${email}` }, cookies[user]));
    if (outcome !== 'next') throw new Error(`a returning user got ${outcome}`);
  }
  for (let i = 0; i < 300; i++, fresh++) {
    const ip = `100.${(fresh >> 8) & 255}.${fresh & 255}.1`;
    const { outcome, res } = await call(login, request(ip, { email: `new${fresh}@example.org`, password: 'whatever' }));
    if (outcome !== 401) throw new Error(`a new device got ${outcome}`);
    // A third of them guess a code: the step-up route's wrong-code path.
    if (i % 3 !== 0) continue;
    const guess = await call(stepUp, request(ip, { challenge: (res.body as { challenge?: string }).challenge, code: '000000' }));
    if (guess.outcome === 'next' || guess.outcome >= 500) throw new Error(`a wrong code got ${guess.outcome}`);
  }
  for (let i = 0; i < 300; i++) {
    const { outcome } = await call(login, request(blockedIp, { email: `stranger${i}@example.net`, password: 'guess' }));
    if (outcome !== 429) throw new Error(`a blocked source got ${outcome}`);
  }
  // What the shield defers runs, then nothing of the decisions is left alive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc?.();
  gc?.();
}

for (let i = 0; i < 6; i++) await cycle();
process.stdout.write(`${MARK}\n`);
for (let i = 0; i < 6; i++) await cycle();
await shield.close();
process.stdout.write('[hidden-classes probe] done\n');
process.exit(0);
