import type { Signal } from './signal.js';

/** Right after credentials change is when a takeover cashes out: new devices need more proof. */
export const recentChangeSignal: Signal = ({ recentChangeAt, deviceKnown, config }) =>
  recentChangeAt !== undefined && !deviceKnown
    ? [
        {
          signal: 'credential.recent-change',
          points: config.points.recentCredentialChange,
          detail: 'credentials changed recently and device is not known',
        },
      ]
    : [];
