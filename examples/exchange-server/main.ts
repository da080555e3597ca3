import { exitOnStartupError, serveFromEnv } from './server.js';

/** The reference exchange, guarded by account-shield, configured from the environment (see README.md). */
serveFromEnv(process.env).catch(exitOnStartupError);
