/**
 * `npm run bench:timing [-- --samples N]`: does anything an unauthenticated client can time
 * depend on whether the password was right, or whether the address has an account?
 *
 * Starts the example exchange (default posture, embedded store, real scrypt at the example's
 * default cost) on a loopback port and times, interleaved A/B/A/B over real HTTP:
 *   - login, right vs wrong password, registered account, new device (both stepped up);
 *   - the NEXT request after each of those (work left running after the response shows here);
 *   - login, registered vs unknown address, wrong password;
 *   - verify with a wrong code: challenge after a right password vs after a wrong one, and
 *     registered vs unknown address.
 * Prints medians and Welch's z for each pair (|z| < 3: no difference this many samples can see).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExchangeApp } from '../examples/exchange-server/app.js';

const args = process.argv.slice(2);
const samples = Number(args[args.indexOf('--samples') + 1]) || 200;
const SECRET = 'timing-bench-secret-0123456789abcdefghijkl';
const user = { email: 'timing-owner@example.test', password: 'Timing-owner-l0ng-passphrase-1', totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' };

interface Pair {
  readonly name: string;
  readonly a: () => Promise<number>;
  readonly b: () => Promise<number>;
  readonly labels: readonly [string, string];
}

async function main(): Promise<void> {
  // Generous velocity limits: this measures the answer's timing, not blocking.
  const limits = { limit: 1_000_000, windowSec: 900, points: 100 };
  const exchange = await createExchangeApp({
    secret: SECRET,
    users: [user],
    trustProxy: 'loopback',
    shieldOptions: {
      velocity: { ip: limits, subnet: limits, site: limits, ipAccount: limits, accountsPerIp: limits, account: limits, listedPasswords: limits },
      challenge: { ttlSec: 300, maxAttempts: 1_000_000 },
      secondFactor: { limit: 1_000_000, windowSec: 3600 },
    },
  });
  const server: Server = createServer(exchange.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  const ip = () => `100.${(n >> 16) & 255}.${(n >> 8) & 255}.${n++ & 255}`;
  const timed = async (path: string, body: unknown, forwarded = ip()): Promise<{ ms: number; json: Record<string, unknown> }> => {
    const started = performance.now();
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    return { ms: performance.now() - started, json };
  };
  const login = (email: string, password: string) => timed('/auth/login', { email, password });
  const ping = () => timed('/auth/login', { email: 'x', password: '' }).then((r) => r.ms); // a 400: no store, no scrypt
  const wrongCode = '000000';

  const pairs: Pair[] = [
    {
      name: 'login: right vs wrong password (registered, new device)',
      labels: ['right', 'wrong'],
      a: async () => (await login(user.email, user.password)).ms,
      b: async () => (await login(user.email, 'Wrong-password-for-timing-9')).ms,
    },
    {
      name: 'the next request after a right vs a wrong password',
      labels: ['after right', 'after wrong'],
      a: async () => {
        await login(user.email, user.password);
        return ping();
      },
      b: async () => {
        await login(user.email, 'Wrong-password-for-timing-9');
        return ping();
      },
    },
    {
      name: 'login: registered vs unknown address (wrong password)',
      labels: ['registered', 'unknown'],
      a: async () => (await login(user.email, 'Wrong-password-for-timing-9')).ms,
      b: async () => (await login(`nobody-${n}@example.test`, 'Wrong-password-for-timing-9')).ms,
    },
    {
      name: 'verify (wrong code): challenge after a right vs a wrong password',
      labels: ['live', 'doomed'],
      a: async () => {
        const forwarded = ip();
        const c = String((await timed('/auth/login', user, forwarded)).json.challenge);
        return (await timed('/auth/login/verify', { challenge: c, code: wrongCode }, forwarded)).ms;
      },
      b: async () => {
        const forwarded = ip();
        const c = String((await timed('/auth/login', { email: user.email, password: 'Wrong-password-for-timing-9' }, forwarded)).json.challenge);
        return (await timed('/auth/login/verify', { challenge: c, code: wrongCode }, forwarded)).ms;
      },
    },
    {
      name: 'verify (wrong code): registered vs unknown address',
      labels: ['registered', 'unknown'],
      a: async () => {
        const forwarded = ip();
        const c = String((await timed('/auth/login', { email: user.email, password: 'Wrong-password-for-timing-9' }, forwarded)).json.challenge);
        return (await timed('/auth/login/verify', { challenge: c, code: wrongCode }, forwarded)).ms;
      },
      b: async () => {
        const forwarded = ip();
        const c = String((await timed('/auth/login', { email: `nobody-${n}@example.test`, password: 'Wrong-password-for-timing-9' }, forwarded)).json.challenge);
        return (await timed('/auth/login/verify', { challenge: c, code: wrongCode }, forwarded)).ms;
      },
    },
  ];

  // Warm up every path (JIT, caches, zxcvbn's lists) before measuring.
  for (const pair of pairs) for (let i = 0; i < 20; i++) await Promise.all([pair.a(), pair.b()].map((p) => p.catch(() => 0)));

  const results = [];
  for (const pair of pairs) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Interleaved, order alternating, so drift on a shared machine falls on both sides.
      if (i % 2 === 0) {
        a.push(await pair.a());
        b.push(await pair.b());
      } else {
        b.push(await pair.b());
        a.push(await pair.a());
      }
    }
    results.push({ name: pair.name, labels: pair.labels, a: summary(a), b: summary(b), z: welchZ(trimmed(a), trimmed(b)) });
  }
  server.close();
  await exchange.close();

  console.log(`timing oracle bench: ${samples} samples per side, interleaved (node ${process.version})`);
  for (const r of results) {
    console.log(
      `${r.name}\n  ${r.labels[0]}: median ${r.a.median.toFixed(3)} ms (p10 ${r.a.p10.toFixed(3)}, p90 ${r.a.p90.toFixed(3)})` +
        `  ${r.labels[1]}: median ${r.b.median.toFixed(3)} ms (p10 ${r.b.p10.toFixed(3)}, p90 ${r.b.p90.toFixed(3)})  z = ${r.z.toFixed(2)}`,
    );
  }
  if (args.includes('--json')) console.log(JSON.stringify(results));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function summary(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: quantile(sorted, 0.5), p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9) };
}

/** Drop the slowest 5 % (GC pauses, scheduler hiccups) before comparing means. */
function trimmed(values: number[]): number[] {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.slice(0, Math.ceil(sorted.length * 0.95));
}

function welchZ(a: number[], b: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const variance = (v: number[], m: number) => v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1);
  const ma = mean(a);
  const mb = mean(b);
  return (ma - mb) / Math.sqrt(variance(a, ma) / a.length + variance(b, mb) / b.length);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
