import type { Signal } from './signal.js';

/**
 * A device that has passed a second factor for this account lowers risk; anything else (no
 * cookie, a tampered cookie, or a cookie from another account's device) raises it. In the
 * strict posture such a device is always stepped up: leak lists are never complete, so a
 * password alone must never open a session from it.
 */
export const deviceSignal: Signal = ({ deviceKnown, config }) => {
  if (deviceKnown) return [{ signal: 'device.known', points: config.points.knownDevice, detail: 'device has passed a second factor for this account' }];
  const points = config.points.newDevice;
  // Two literals, not a spread (see runtime/hidden-classes.ts).
  return config.posture === 'strict'
    ? [{ signal: 'device.new', points, detail: 'device has not passed a second factor for this account (strict posture: step-up)', stepUp: true }]
    : [{ signal: 'device.new', points, detail: 'device has not passed a second factor for this account' }];
};
