/**
 * `npx tsx examples/demo/main.ts [--serve]`: the demo's credential-stuffing wave against the
 * shield-guarded exchange (see run.ts). `npm run demo` starts it through bench/exchange/demo.ts,
 * which also honours PROTECTION.
 */
import { runDemoAndExit } from './run.js';

runDemoAndExit();
