import type { Signal } from './signal.js';

/**
 * Facts about the account's password, learnt on the owner's own device (never from the attempt
 * being scored, which would turn the response into a validity oracle). Only registered accounts
 * have them, so on a login they only ever score a known device: a stranger's answer must not
 * depend on whether the address has an account.
 */
export const passwordQualitySignal: Signal = ({ passwordFlags, config, route, deviceKnown }) => {
  if (!passwordFlags || (route === 'login' && !deviceKnown)) return [];
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
