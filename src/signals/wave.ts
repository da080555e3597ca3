import type { WaveOptions } from '../config/config.js';
import type { Signal } from './signal.js';

/**
 * While a stuffing run is on, every unknown device is riskier: the attacker's slow, distributed
 * attempts stay under every per-source limit, but not under this.
 */
export const waveSignal: Signal = ({ waveActive, deviceKnown, config }) =>
  waveActive && !deviceKnown
    ? [{ signal: 'wave', points: config.wave.points, detail: 'site-wide stuffing wave in progress and device is not known' }]
    : [];

/** What the global counters say, read in the same round trip as everything else. */
export interface WaveReading {
  /**
   * Evidence in the current and the previous bucket: failures from devices that never passed a
   * second factor for their account, plus attempts on accounts that do not exist. Successful
   * logins do not enter it, so an attacker cannot dilute it by adding traffic that works.
   */
  readonly evidence: number;
  readonly evidencePrevious: number;
  /** Learnt evidence per bucket outside waves; undefined before the first bucket completes. */
  readonly baseline: number | undefined;
}

/** Evidence per bucket at or above which a bucket is a wave, given the learnt baseline. */
export function surgeThreshold(baseline: number | undefined, options: Pick<WaveOptions, 'minFailures' | 'surge'>): number {
  return Math.max(options.minFailures, options.surge * (baseline ?? 0));
}

/**
 * A wave is a surge of evidence over the learnt baseline, in the previous (complete) bucket or
 * the current one. There is deliberately no "share of all attempts" rule: an attacker dilutes a
 * ratio by adding logins that work, and counting every attempt would cost returning users a
 * store write each.
 */
export function isWave(reading: WaveReading, options: Pick<WaveOptions, 'minFailures' | 'surge'>): boolean {
  return Math.max(reading.evidence, reading.evidencePrevious) >= surgeThreshold(reading.baseline, options);
}

/** The learnt baseline as stored: evidence per bucket, and how many buckets it has seen. */
export interface Baseline {
  readonly perBucket: number;
  readonly buckets: number;
}

/** Buckets over which the baseline is a plain mean before its rise is capped. */
export const BASELINE_WARMUP_BUCKETS = 60;

/**
 * The baseline after a bucket with `completed` evidence. During warm-up it is the plain mean of
 * the buckets seen; after that it follows the traffic down (10 % a bucket) but rises by at most
 * `baselineRise` a bucket. It never learns from a bucket that was itself a surge, so an attacker
 * who ramps up slowly teaches it at most (1 + baselineRise)^buckets — about 4× a day at the
 * default 0.1 % a minute.
 */
export function nextBaseline(
  current: Baseline | undefined,
  completed: number,
  options: Pick<WaveOptions, 'minFailures' | 'surge' | 'baselineRise'>,
): Baseline {
  if (current === undefined) return { perBucket: completed, buckets: 1 };
  const { perBucket, buckets } = current;
  if (completed >= surgeThreshold(perBucket, options)) return current;
  if (buckets < BASELINE_WARMUP_BUCKETS) {
    return { perBucket: perBucket + (completed - perBucket) / (buckets + 1), buckets: buckets + 1 };
  }
  const smoothed = perBucket + (completed - perBucket) * 0.1;
  const next = completed <= perBucket ? smoothed : Math.min(smoothed, perBucket * (1 + options.baselineRise) + 0.01);
  return { perBucket: next, buckets: buckets + 1 };
}

export function parseBaseline(raw: string | undefined): Baseline | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Baseline;
    return Number.isFinite(value?.perBucket) && Number.isFinite(value?.buckets) ? value : undefined;
  } catch {
    return undefined;
  }
}
