import type { SeedUser } from './users.js';

/**
 * Built-in demo accounts, used when EXAMPLE_USERS is not set. Their TOTP secrets are fixed so a
 * developer can add them to an authenticator app (or compute codes with otplib) while trying the
 * server by hand; this file is the only place they appear, and nothing logs them.
 *
 * `alice` has a strong password; `bob` reuses one from a public breach list, the kind a stuffing
 * attack will hit; `carol` is there to show that a leaked address alone is not a takeover.
 */
export const DEMO_USERS: readonly SeedUser[] = [
  { email: 'alice@example.com', password: 'correct-horse-battery-staple-42', totpSecret: 'U75W2RZ6LKUOPKY6XQ4BYEQE3HLCT6G6' },
  { email: 'bob@example.com', password: 'Password123!', totpSecret: 'UFIFR4WAY6E54BJGQSY5FHXPA62UYBHU' },
  { email: 'carol@example.com', password: 'violet-umbrella-tangent-91', totpSecret: 'IUZUYLTIIIYOS5THVNIUN77BFWNL4UAX' },
];
