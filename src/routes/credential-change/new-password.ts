import type { PasswordOptions } from '../../config/config.js';
import { addressInputs, passwordStrength } from '../../signals/password-strength.js';

export interface PasswordFeedback {
  readonly warning: string;
  readonly suggestions: readonly string[];
  readonly score?: number;
}

/**
 * Why a new password is refused (equal to the current one, too guessable with the address and
 * the current password as known words, or in the breach corpus); undefined when it is fine.
 */
export async function vetNewPassword(
  breached: { isBreached(password: string): Promise<boolean> },
  options: PasswordOptions,
  newPassword: string,
  currentPassword: string | undefined,
  email: string,
): Promise<PasswordFeedback | undefined> {
  if (currentPassword !== undefined && newPassword === currentPassword) {
    return { warning: 'The new password must differ from the current one.', suggestions: ['Choose a password you have not used here before.'] };
  }
  const inputs = [...addressInputs(email), ...(currentPassword ? [currentPassword] : [])];
  const strength = passwordStrength(newPassword, inputs, { maxLength: options.maxScoredLength });
  if (strength.score < options.minScore) {
    return {
      warning: strength.warning || 'This password is too easy to guess.',
      suggestions: strength.suggestions.length > 0 ? strength.suggestions : ['Add another word or two. Uncommon words are better.'],
      score: strength.score,
    };
  }
  if (await breached.isBreached(newPassword)) {
    return {
      warning: 'This password appears in a known data breach.',
      suggestions: ['Choose a password you have never used anywhere else.'],
      score: strength.score,
    };
  }
  return undefined;
}
