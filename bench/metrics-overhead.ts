/**
 * What attaching `shieldMetrics` costs: the cheap login route of `bench/lib/login-server.ts`
 * behind the shield on the memory store, without and with metrics (which time the app's
 * callbacks apart from the shield's own work through AsyncLocalStorage), each in its own
 * process, returning users from home (enrolled under the adaptive posture, so their first login
 * needs no step-up route), short windows in alternating order.
 *
 *   npx tsx bench/metrics-overhead.ts [--rounds N] [--seconds S]
 *
 * Prints each window and the with/without throughput ratio per round, its median and range.
 */
import autocannon from 'autocannon';
import { Target } from './lib/http.js';
import { enrolAccounts, rotatingLogin } from './lib/load.js';
import { startServer } from './lib/processes.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const rounds = option('rounds', 6);
const seconds = option('seconds', 4);
const ACCOUNTS = 2000;
const CONNECTIONS = 16;

const variants = ['without', 'with'] as const;
const servers = await Promise.all(
  variants.map((name) =>
    startServer({
      args: ['--import', 'tsx', 'bench/lib/login-server.ts'],
      env: { MODE: 'memory', POSTURE: 'adaptive', METRICS: name === 'with' ? '1' : '0', USERS: String(ACCOUNTS) },
      ready: /\[login-server\] listening on :(\d+)/,
      timeoutMs: 60_000,
    }),
  ),
);
try {
  const streams = await Promise.all(
    servers.map(async (server) => {
      const target = new Target(server.port, 16);
      const cookies = await enrolAccounts(target, ACCOUNTS).finally(() => target.close());
      return { users: ACCOUNTS, cookies, fromHome: true };
    }),
  );
  let offset = 0;
  const window = async (k: number) => {
    offset += 10_000_000;
    const r = await autocannon({ url: `http://127.0.0.1:${servers[k]!.port}`, connections: CONNECTIONS, duration: seconds, requests: [rotatingLogin(offset, streams[k]!)] });
    return (r['2xx'] + r.non2xx) / r.duration;
  };
  for (const k of [0, 1]) await window(k); // warm-up
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const rps: number[] = [];
    for (const k of order) rps[k] = await window(k);
    ratios.push(rps[1]! / rps[0]!);
    console.log(`round ${round + 1}: without ${rps[0]!.toFixed(0)} req/s, with ${rps[1]!.toFixed(0)} req/s, ratio ${ratios.at(-1)!.toFixed(3)}`);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  console.log(`with/without metrics: median ${median.toFixed(3)} (range ${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}, ${rounds} rounds of ${seconds} s)`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
