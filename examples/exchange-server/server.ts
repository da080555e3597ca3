import { createServer } from 'node:http';
import {
  type BreachedPasswordSource,
  anyBreached,
  createRedisStoreFromUrl,
  loadBreachedPasswords,
  PwnedPasswordsRangeClient,
  ShieldConfigError,
  StoreConfigError,
} from 'account-shield';
import { createExchangeApp } from './app.js';
import { ExchangeConfigError, type ExchangeOptions, optionsFromEnv, parsePort } from './options.js';

/**
 * The reference exchange server on PORT (default 3000), configured from the environment as its
 * README (examples/exchange-server/README.md) describes, until SIGINT or SIGTERM. `extra`
 * overrides what the environment gave (`main.ts` passes nothing).
 */
export async function serveFromEnv(env: Readonly<Record<string, string | undefined>>, extra: ExchangeOptions = {}): Promise<void> {
  const port = parsePort(env.PORT);
  const options: ExchangeOptions = { ...optionsFromEnv(env), ...extra };
  // One URL → a Redis server; a comma-separated list → Cluster seeds. Shared by every instance.
  const store = env.REDIS_URL?.trim() ? createRedisStoreFromUrl(env.REDIS_URL.trim()) : undefined;
  if (store) options.shieldOptions = { ...options.shieldOptions, store };
  // Optional breached-password checks (beyond the contract): a local corpus built with
  // `account-shield passwords build`, and/or a k-anonymity range API (fails open).
  const breached: BreachedPasswordSource[] = [];
  if (env.BREACHED_PASSWORDS?.trim()) {
    if (!env.SHIELD_SECRET) throw new ShieldConfigError('MISSING_SECRET', 'BREACHED_PASSWORDS needs the SHIELD_SECRET it was built with.', 'Set SHIELD_SECRET.');
    breached.push(await loadBreachedPasswords(env.BREACHED_PASSWORDS.trim(), { secret: env.SHIELD_SECRET }));
  }
  if (env.PWNED_PASSWORDS_URL?.trim()) breached.push(new PwnedPasswordsRangeClient({ baseUrl: env.PWNED_PASSWORDS_URL.trim() }));
  if (breached.length > 0) options.shieldOptions = { ...options.shieldOptions, breachedPasswords: anyBreached(...breached) };
  // Without SHIELD_SECRET the shield itself picks a random key and warns (and refuses to start
  // when NODE_ENV=production), so there is nothing to add here.
  const exchange = await createExchangeApp(options);

  // LOG_DECISIONS=1: one line per decision, for watching an attack live. Off by default so a
  // load test measures the server, not the terminal. Decisions carry no raw identifiers.
  if (env.LOG_DECISIONS === '1') {
    exchange.shield?.on('decision', (d) => {
      const reasons = d.reasons.map((r) => `${r.signal}${r.points >= 0 ? '+' : ''}${r.points}`).join(' ');
      console.log(`[decision] ${d.route} ${d.action}${d.monitor ? ' (monitor)' : ''} score=${d.score} outcome=${d.outcome ?? '-'} ${reasons}`);
    });
  }

  const server = createServer(exchange.app);
  server.listen(port, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const backend = store ? store.name : 'memory';
    console.log(`[exchange] listening on :${bound} (protection: ${exchange.protection}, store: ${backend}, users: ${exchange.users.size})`);
    console.log(`[exchange] sign-in page: http://localhost:${bound}/`);
    const admin = exchange.admin;
    if (admin) {
      const password = admin.generated ? `password ${admin.password} (random: set ADMIN_TOKEN to choose one; development only)` : 'password from ADMIN_TOKEN';
      console.log(`[exchange] operator console: http://localhost:${bound}/admin (user ${admin.user}, ${password})`);
    } else if (exchange.shield) {
      console.log('[exchange] operator console: off (NODE_ENV=production and no ADMIN_TOKEN)');
    }
  });

  const stop = () => {
    server.close(() => {
      exchange
        .close()
        .then(() => store?.close())
        .finally(() => process.exit(0));
    });
    // Keep-alive sockets could hold close() open forever.
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A configuration error is printed as it is (it names the variable and the fix) and exits 2. */
export function exitOnStartupError(error: unknown): never {
  if (error instanceof ShieldConfigError || error instanceof ExchangeConfigError || error instanceof StoreConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error('[exchange] failed to start:', error instanceof Error ? error.message : String(error));
  process.exit(1);
}
