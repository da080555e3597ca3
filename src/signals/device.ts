import type { Signal } from './signal.js';

/**
 * A device that has passed a second factor for this account lowers risk; anything else (no
 * cookie, a tampered cookie, or a cookie from another account's device) raises it. In the
 * strict posture such a device is always stepped up: leak lists are never complete, so a
 * password alone must never open a session from it.
 */
export const deviceSignal: Signal = ({ deviceKnown, config }) =>
  deviceKnown
    ? [{ signal: 'device.known', points: config.points.knownDevice, detail: 'device has passed a second factor for this account' }]
    : [
        {
          signal: 'device.new',
          points: config.points.newDevice,
          detail:
            config.posture === 'strict'
              ? 'device has not passed a second factor for this account (strict posture: step-up)'
              : 'device has not passed a second factor for this account',
          ...(config.posture === 'strict' ? { stepUp: true } : {}),
        },
      ];
