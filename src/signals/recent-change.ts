import type { Signal } from './signal.js';

/**
 * Right after credentials change is when a takeover cashes out: a new device changing them
 * again needs more proof. Scored on signed-in credential changes only — on a login it would
 * tell a stranger that the address has an account whose credentials just changed.
 */
export const recentChangeSignal: Signal = ({ recentChangeAt, deviceKnown, config, route }) =>
  route === 'change' && recentChangeAt !== undefined && !deviceKnown
    ? [
        {
          signal: 'credential.recent-change',
          points: config.points.recentCredentialChange,
          detail: 'credentials changed recently and device is not known',
        },
      ]
    : [];
