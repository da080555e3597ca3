import type { Signal } from './signal.js';

/**
 * Facts about the account's password, learnt when it last authenticated (never from the
 * attempt being scored, which would turn the response into a validity oracle).
 */
export const passwordQualitySignal: Signal = ({ passwordFlags, config }) => {
  if (!passwordFlags) return [];
  const reasons = [];
  if (passwordFlags.breached) {
    reasons.push({
      signal: 'password.breached',
      points: config.points.breachedPassword,
      detail: "account's password appears in a breach corpus",
    });
  }
  if (passwordFlags.score < config.password.weakBelow) {
    reasons.push({
      signal: 'password.weak',
      points: config.points.weakPassword,
      detail: `account's password is weak (zxcvbn score ${passwordFlags.score})`,
    });
  }
  return reasons;
};
