import type { Server } from 'node:http';
import type { ExchangeApp } from '../exchange-server/app.js';
import { totpCode } from '../exchange-server/totp.js';
import type { SeedUser } from '../exchange-server/users.js';

/** `npm run demo -- --serve`: whether to keep the exchange up after the attack. */
export const serveRequested = (args: readonly string[]) => args.includes('--serve');

/**
 * After the demo's attack, keep its exchange listening so a person can open the sign-in page
 * and the operator console (which still holds the attack's decisions), until Ctrl-C.
 * The credentials printed are the demo's own simulated user's, generated for this run.
 */
export async function keepServing(server: Server, exchange: ExchangeApp, baseUrl: string, user: SeedUser): Promise<void> {
  const admin = exchange.admin;
  const lines: string[] = [
    '',
    'The exchange stays up (Ctrl-C to stop):',
    `  sign-in page      ${baseUrl}/`,
    admin
      ? `  operator console  ${baseUrl}/admin   user ${admin.user}, password ${admin.generated ? admin.password : '(your ADMIN_TOKEN)'}`
      : '  operator console  (none: these guards serve no console)',
    '  a demo user (new device in your browser, so expect the Code prompt):',
    `    email           ${user.email}`,
    `    password        ${user.password}`,
    user.totpSecret
      ? `    TOTP secret     ${user.totpSecret}   (add it to an authenticator app; code right now: ${await totpCode(user.totpSecret)})`
      : `    codes by email  read them at ${baseUrl}/dev/outbox`,
    '',
  ];
  console.log(lines.join('\n'));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
