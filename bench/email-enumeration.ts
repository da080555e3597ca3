/**
 * Does the example's `POST /account/email` take longer for an address that has an account than
 * for a free one? Real HTTP against the example exchange (shield on, memory store), one request
 * at a time, free and taken addresses interleaved in random order so drift hits both alike.
 * Reports medians, means, Welch's z and a rank (Mann–Whitney) z of taken vs free; |z| < 3 is no
 * measurable difference. Then the same in process (`EmailChanges.start` alone, 20,000 pairs),
 * where the shared machine's scheduling noise is out of the way.
 *
 *   npx tsx bench/email-enumeration.ts [--samples 400]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSecret } from 'otplib';
import { createExchangeApp } from '../examples/exchange-server/app.js';
import { EmailChanges, MAX_STARTS_PER_HOUR } from '../examples/exchange-server/email-change.js';
import { Outbox } from '../examples/exchange-server/outbox.js';

const args = process.argv.slice(2);
const samples = Number(args[args.indexOf('--samples') + 1]) || 400;
const WARM_UP = 20;
// Each user may start 10 changes an hour: enough users for every sample.
const userCount = Math.ceil((samples * 2 + WARM_UP) / MAX_STARTS_PER_HOUR) + 1;
const users = Array.from({ length: userCount }, (_, i) => ({
  email: `bench-${i}@example.test`,
  password: `bench-${i}-Str0ng-pass-phrase-77`,
  totpSecret: generateSecret(),
}));

const exchange = await createExchangeApp({ secret: 'email-enumeration-bench-secret-0123456789', users, scryptCost: 1024, trustProxy: 'loopback' });
const server = createServer(exchange.app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, string> }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

const tokens: string[] = [];
for (const user of users) {
  const login = await post('/auth/login', { email: user.email, password: user.password });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  tokens.push(login.json.token!);
}

let sent = 0;
async function start(email: string): Promise<number> {
  const token = tokens[Math.floor(sent++ / MAX_STARTS_PER_HOUR)]!;
  const t0 = process.hrtime.bigint();
  const res = await post('/account/email', { email }, token);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 202) throw new Error(`start answered ${res.status}`);
  return ms;
}

for (let i = 0; i < WARM_UP; i++) await start(i % 2 ? users[0]!.email : `warm-${i}@example.test`);
const free: number[] = [];
const taken: number[] = [];
for (let i = 0; i < samples; i++) {
  const pair = [
    async () => free.push(await start(`free-${i}@example.test`)),
    async () => taken.push(await start(users[(i * 7) % users.length]!.email)),
  ];
  if (Math.random() < 0.5) pair.reverse();
  for (const run of pair) await run();
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { median: sorted[Math.floor(sorted.length / 2)]!, mean, variance, n: xs.length };
};
const f = stats(free);
const t = stats(taken);
const z = (t.mean - f.mean) / Math.sqrt(f.variance / f.n + t.variance / t.n);
/** Mann–Whitney U as a z score: rank-based, so the machine's heavy-tailed stalls weigh little. */
function rankZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  all.forEach((x, i) => {
    if (x.a) rankSumA += i + 1;
  });
  const u = rankSumA - (a.length * (a.length + 1)) / 2;
  const mean = (a.length * b.length) / 2;
  const sd = Math.sqrt((a.length * b.length * (a.length + b.length + 1)) / 12);
  return (u - mean) / sd;
}
const fmt = (x: number) => x.toFixed(3);
console.log(
  JSON.stringify({
    samples,
    free: { medianMs: fmt(f.median), meanMs: fmt(f.mean) },
    taken: { medianMs: fmt(t.median), meanMs: fmt(t.mean) },
    ratioOfMedians: (t.median / f.median).toFixed(3),
    welchZ: z.toFixed(2),
    rankZ: rankZ(taken, free).toFixed(2),
  }),
);
// In process: the handler's own work, free vs taken, without HTTP and its noise.
const me = exchange.users.findByEmail(users[0]!.email)!;
const inFree: number[] = [];
const inTaken: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const changes = new EmailChanges(exchange.users, new Outbox());
  // Fresh flat strings on both sides, as JSON.parse hands them to the handler.
  const pair: [string, number[]][] = [
    [JSON.parse(JSON.stringify(`free-in-${i}@example.test`)) as string, inFree],
    [JSON.parse(JSON.stringify(users[1 + (i % (users.length - 1))]!.email)) as string, inTaken],
  ];
  if (Math.random() < 0.5) pair.reverse();
  for (const [email, into] of pair) {
    const t0 = process.hrtime.bigint();
    changes.start(me, email);
    into.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const fi = stats(inFree);
const ti = stats(inTaken);
console.log(
  JSON.stringify({
    inProcess: { pairs: inFree.length, freeMedianUs: (fi.median * 1000).toFixed(2), takenMedianUs: (ti.median * 1000).toFixed(2), rankZ: rankZ(inTaken, inFree).toFixed(2) },
  }),
);
server.closeAllConnections();
server.close();
await exchange.close();
