/**
 * `npm run example`: the reference exchange (examples/exchange-server) with the guards PROTECTION
 * names — account-shield by default, or a baseline for side-by-side runs — and every other
 * variable of its HTTP contract read by the example itself. Outside tools (the attack bench,
 * load tests, bench/outside/) start the baselines this way.
 */
import { exitOnStartupError, serveFromEnv } from '../../examples/exchange-server/server.js';
import { guardsFor, parseProtection } from './protection.js';

try {
  await serveFromEnv(process.env, { guards: guardsFor(parseProtection(process.env.PROTECTION)) });
} catch (error) {
  exitOnStartupError(error);
}
