import type { GuardsFactory } from '../../examples/exchange-server/guards.js';
import { ExchangeConfigError } from '../../examples/exchange-server/options.js';
import { shieldGuards } from '../../examples/exchange-server/shield.js';
import { expressRateLimit, noProtection, rlfRecipe } from './baselines.js';

/**
 * PROTECTION, the one variable of the example's HTTP contract the example itself does not read:
 * which guards `npm run example` (and `npm run demo`) build the exchange with — the example's
 * own account-shield guards, or a baseline the benchmark compares them with.
 */
export const PROTECTIONS = ['shield', 'none', 'express-rate-limit', 'rlf-recipe'] as const;
export type Protection = (typeof PROTECTIONS)[number];

const GUARDS: Record<Protection, GuardsFactory> = {
  shield: shieldGuards,
  none: noProtection,
  'express-rate-limit': expressRateLimit,
  'rlf-recipe': rlfRecipe,
};

export const guardsFor = (protection: Protection): GuardsFactory => GUARDS[protection];

/** Unset or empty → `shield`; anything not listed is the example's start-up error (exit 2). */
export function parseProtection(value: string | undefined): Protection {
  if (value === undefined || value.trim() === '') return 'shield';
  const text = value.trim();
  if ((PROTECTIONS as readonly string[]).includes(text)) return text as Protection;
  throw new ExchangeConfigError(`PROTECTION must be one of ${PROTECTIONS.join(', ')}; got ${JSON.stringify(text.slice(0, 40))}.`);
}
