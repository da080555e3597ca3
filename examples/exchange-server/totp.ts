import { generate, verify } from 'otplib';

/**
 * Accept the code of the current 30-second step and of one step either side: enough for clock
 * drift and a user typing near a boundary, no wider (each step widened adds another valid code
 * an attacker could guess).
 */
export const TOTP_TOLERANCE_SEC = 30;
const CODE_PATTERN = /^\d{6}$/;

/** Whether `code` is a valid TOTP code for `secret` now. Never throws on odd input. */
export async function verifyTotp(secret: string, code: string): Promise<boolean> {
  if (!CODE_PATTERN.test(code)) return false;
  try {
    const result = await verify({ secret, token: code, epochTolerance: TOTP_TOLERANCE_SEC });
    return result.valid;
  } catch {
    return false;
  }
}

/**
 * Checked when a user has no TOTP secret (or there is no such user, as for the shield's decoy
 * id): the same otplib work as a real check, so the answer's timing says nothing about which.
 */
const DUMMY_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** A user's TOTP check that costs the same whether or not the user exists or has TOTP. */
export async function verifyUserTotp(totpSecret: string | undefined, code: string): Promise<boolean> {
  const valid = await verifyTotp(totpSecret ?? DUMMY_SECRET, code);
  return totpSecret !== undefined && valid;
}

/** The code an authenticator app would show (tests and the demo's simulated users). */
export function totpCode(secret: string | undefined, atMs = Date.now()): Promise<string> {
  if (secret === undefined) throw new TypeError('This user has no authenticator: its codes come by email (the outbox).');
  return generate({ secret, epoch: Math.floor(atMs / 1000) });
}
