/**
 * `npm run demo [-- --serve]`: the example's demo (examples/demo) against the guards PROTECTION
 * names — the shield by default, or none | express-rate-limit | rlf-recipe for the same wave
 * against a baseline.
 */
import { runDemoAndExit } from '../../examples/demo/run.js';
import { guardsFor, parseProtection, type Protection } from './protection.js';

let protection: Protection;
try {
  protection = parseProtection(process.env.PROTECTION);
} catch (error) {
  console.error('[demo] failed:', error instanceof Error ? error.message : String(error));
  process.exit(2);
}
runDemoAndExit(guardsFor(protection));
