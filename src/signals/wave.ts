import type { Signal } from './signal.js';

/**
 * While failures site-wide spike (a stuffing run), every unknown device is riskier: the
 * attacker's slow, distributed attempts stay under every per-source limit, but not under this.
 */
export const waveSignal: Signal = ({ waveActive, deviceKnown, config }) =>
  waveActive && !deviceKnown
    ? [{ signal: 'wave', points: config.wave.points, detail: 'site-wide failure wave in progress and device is not known' }]
    : [];

/** Whether global counters describe a wave: enough failures, and a high enough share. */
export function isWave(
  failures: number,
  attempts: number,
  options: { minFailures: number; failureRatio: number },
): boolean {
  return failures >= options.minFailures && attempts > 0 && failures / attempts >= options.failureRatio;
}
