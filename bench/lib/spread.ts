/**
 * How a figure varied over interleaved rounds: on a shared, noisy machine one number hides
 * whether the rounds agreed, so every figure of the cost benches is reported as its spread.
 */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

/** `0.61 / 0.67 / 0.70` (min / median / max) with `digits` decimals. */
export function spreadText(s: Spread, digits = 2): string {
  return `${s.min.toFixed(digits)} / ${s.median.toFixed(digits)} / ${s.max.toFixed(digits)}`;
}

/** Round `value` to `digits` decimals for the JSON file (figures, not noise). */
export function rounded(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function roundedSpread(s: Spread, digits = 3): Spread {
  return { min: rounded(s.min, digits), median: rounded(s.median, digits), max: rounded(s.max, digits) };
}

/** Each variant's turn moves one place per round (A B C, B C A, C A B, ...), so drift hits all alike. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
