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

/** The code an authenticator app would show (tests and the demo's simulated users). */
export function totpCode(secret: string, atMs = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(atMs / 1000) });
}
