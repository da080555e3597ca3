import zxcvbn from 'zxcvbn';

/**
 * zxcvbn's cost is superlinear in length and exponential in the number of distinct
 * l33t-substitutable characters (measured here: 20 characters drawn from `4@8(6#1!0$5+7%2`
 * take ~270 ms, the same 12 characters ~2 ms). An attacker chooses the input, so zxcvbn only
 * ever sees a bounded prefix: at most `maxLength` characters and at most `maxL33tChars`
 * distinct substitutable ones. Strength of a prefix is a lower bound for the whole password,
 * so the bound can only make the policy stricter, never let a weak password through.
 */
export const L33T_CHARS = new Set('4@8({[<3691!|07$5+%2');

export interface StrengthOptions {
  maxLength: number;
  maxL33tChars?: number;
}

export interface Strength {
  /** 0 (too guessable) – 4 (very unguessable). */
  readonly score: number;
  readonly warning: string;
  readonly suggestions: readonly string[];
  /** Characters zxcvbn actually looked at. */
  readonly scoredLength: number;
  readonly truncated: boolean;
}

export function boundedPrefix(password: string, options: StrengthOptions): string {
  const maxL33t = options.maxL33tChars ?? 4;
  const chars = Array.from(password); // code points, so a surrogate pair is never split
  const seen = new Set<string>();
  let end = 0;
  for (; end < chars.length && end < options.maxLength; end++) {
    const c = chars[end] as string;
    if (L33T_CHARS.has(c) && !seen.has(c)) {
      if (seen.size >= maxL33t) break;
      seen.add(c);
    }
  }
  return chars.slice(0, end).join('');
}

/** Score a password; `userInputs` (e.g. the address's parts) count as known words. */
export function passwordStrength(password: string, userInputs: readonly string[], options: StrengthOptions): Strength {
  const prefix = boundedPrefix(password, options);
  const inputs = userInputs
    .filter((s) => typeof s === 'string' && s.length > 0)
    .slice(0, 8)
    .map((s) => boundedPrefix(s, { maxLength: options.maxLength, maxL33tChars: 64 }));
  const result = zxcvbn(prefix, inputs);
  return {
    score: result.score,
    warning: result.feedback.warning,
    suggestions: result.feedback.suggestions,
    scoredLength: prefix.length,
    truncated: prefix.length < password.length,
  };
}

/** The address's parts as zxcvbn user inputs: `alice.smith@example.com` → alice, smith, example. */
export function addressInputs(address: string): string[] {
  const [local = '', domain = ''] = address.toLowerCase().split('@');
  return [address.toLowerCase(), local, ...local.split(/[._+-]/), ...domain.split('.').slice(0, -1)].filter(
    (part, i, all) => part.length >= 3 && all.indexOf(part) === i,
  );
}
